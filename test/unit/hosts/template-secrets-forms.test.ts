// The forms a password takes in a `hosts:` command (issue #21 follow-up): each written out is
// refused by `plan validate` without the secret in the output, with the place masked and the
// reference to write instead; the same places holding a reference, and look-alikes that hold no
// secret, pass. A reference inside quotes is refused: the worker quotes the value itself.
import { describe, expect, it } from 'vitest';
import { withDrain } from './with-drain.js';

const errorsOf = (drain: string) => {
  const r = withDrain(drain);
  return r.ok ? [] : r.errors.filter((e) => e.path === 'hosts.drain').map((e) => e.message);
};

const SECRET = 'Hunter2secret';

// The reference to write instead: the place shown with a password variable where the secret was.
const PASSWORD_REF = '{env:REPLUP_HOSTS_PASSWORD}';
const TOKEN_REF = '{env:REPLUP_HOSTS_TOKEN}';

describe('a credential written out in a hosts: command is refused, never repeated', () => {
  // [command, the place as the message shows it, the fix it suggests when not the place with PASSWORD_REF]
  it.each<[string, string, string?]>([
    ['net use \\\\{host}\\c$ Hunter2secret /user:CORP\\admin', 'net use \\\\{host}\\c$ ******'],
    ['net use X: \\\\{host}\\c$ Hunter2secret', 'net use \\\\{host}\\c$ ******'],
    ['plink -pw Hunter2secret admin@{host} iisreset /stop', '-pw ******'],
    ['curl -u admin:Hunter2secret https://{host}/drain', '-u admin:******'],
    ['curl --user=admin:Hunter2secret https://{host}/drain', '--user=admin:******'],
    ['curl https://admin:Hunter2secret@{host}/drain', 'https://admin:******@'],
    [
      'curl -H "Authorization: Bearer Hunter2secret" https://{host}/drain',
      'Authorization: Bearer ******',
      `"Authorization: Bearer "${TOKEN_REF}`,
    ],
    [
      'curl -H "Authorization: Basic Hunter2secret" https://{host}/drain',
      'Authorization: Basic ******',
      `"Authorization: Basic "${TOKEN_REF}`,
    ],
    ['drain-tool -p Hunter2secret {host}', '-p ******'],
    ['sqlcmd -S {host} -U sa -P Hunter2secret -Q "select 1"', '-P ******'],
    ['drain-tool --password=Hunter2secret {host}', '--password=******'],
    ['drain-tool --password Hunter2secret {host}', '--password ******'],
    ['msdeploy -verb:sync -dest:auto,computerName={host} /p:Hunter2secret', '/p:******'],
    ['PASSWORD=Hunter2secret ./drain.sh {host}', 'PASSWORD=******'],
    ['MYSQL_PWD=Hunter2secret ./drain.sh {host}', 'MYSQL_PWD=******'],
    ['drain.exe "Server={host};User Id=sa;Password=Hunter2secret;"', 'Password=******'],
    ['drain.exe "Server={host};Uid=sa;Pwd=Hunter2secret;"', 'Pwd=******'],
  ])('%s', (cmd, shown, fix = shown.replace('******', PASSWORD_REF)) => {
    const r = withDrain(cmd);
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain(SECRET);
    expect(errorsOf(cmd)).toEqual([
      `this command seems to hold a credential written out ("${shown}"): the plan travels in workflow ` +
        `history, so a secret must not be in it. ` +
        (`Write {env:NAME} (a variable of the worker's environment) or {file:PATH} (a file only the worker ` +
          `can read) in its place, e.g. ${fix}`),
    ]);
  });
});

describe('references and look-alikes are accepted', () => {
  it.each([
    'net use \\\\{host}\\c$ {env:SHARE_PW} /user:CORP\\admin',
    'net use \\\\{host}\\c$ /user:CORP\\admin *',
    'net use \\\\{host}\\c$ /delete',
    'plink -pw {env:PLINK_PW} admin@{host} iisreset /stop',
    'curl -u admin:{env:CURL_PW} https://{host}/drain',
    'curl -u admin https://{host}/drain',
    'curl -H "Authorization: Bearer "{env:DRAIN_TOKEN} https://{host}/drain',
    'curl -H "Authorization: Bearer $DRAIN_TOKEN" https://{host}/drain',
    'drain-tool --password-file {file:/etc/replup/pw} {host}',
    'drain-tool --password {env:PW} {host}',
    'drain-tool --password={env:PW} {host}',
    'drain-tool --token {file:/etc/replup/token} {host}',
    'PASSWORD={env:PW} ./drain.sh {host}',
    'drain.exe Server={host}";Uid=sa;Pwd="{env:PW}";"',
    'ssh -p 22 admin@{host} iisreset /stop',
    'mkdir -p /var/tmp/replup && ssh {host} drain',
    'drain-tool --pass-through {host}',
    'powershell -Command "Stop-WebAppPool -Name PS -ComputerName {host}"',
  ])('%s', (cmd) => {
    expect(errorsOf(cmd)).toEqual([]);
    expect(withDrain(cmd).ok).toBe(true);
  });
});

describe('a reference inside quotes is refused: the worker quotes the value itself (README: do not quote them)', () => {
  it.each([
    ['drain-tool --password "{env:PW}" {host}', '{env:PW}', 'double'],
    ["drain-tool --password '{env:PW}' {host}", '{env:PW}', 'single'],
    ['drain.exe "Server={host};Uid=sa;Pwd={file:/etc/replup/pw};"', '{file:/etc/replup/pw}', 'double'],
  ])('%s', (cmd, ref, kind) => {
    expect(errorsOf(cmd)).toEqual([
      `${ref} is written inside ${kind} quotes: the worker puts the secret in as one quoted shell word ` +
        `itself, so these quotes would become part of it. ` +
        (`Write the reference outside the quotes, closing them before it if the word goes on, e.g. --password ` +
          `${ref} or "Authorization: Bearer "${ref}`),
    ]);
  });
});
