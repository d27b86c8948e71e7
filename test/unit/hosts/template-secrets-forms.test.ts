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

describe('a credential written out in a hosts: command is refused, never repeated', () => {
  it.each([
    [
      'net use \\\\{host}\\c$ Hunter2secret /user:CORP\\admin',
      'net use \\\\{host}\\c$ ******',
      'net use \\\\{host}\\c$ {env:REPLUP_HOSTS_PASSWORD}',
    ],
    [
      'net use X: \\\\{host}\\c$ Hunter2secret',
      'net use \\\\{host}\\c$ ******',
      'net use \\\\{host}\\c$ {env:REPLUP_HOSTS_PASSWORD}',
    ],
    ['plink -pw Hunter2secret admin@{host} iisreset /stop', '-pw ******', '-pw {env:REPLUP_HOSTS_PASSWORD}'],
    ['curl -u admin:Hunter2secret https://{host}/drain', '-u admin:******', '-u admin:{env:REPLUP_HOSTS_PASSWORD}'],
    [
      'curl --user=admin:Hunter2secret https://{host}/drain',
      '--user=admin:******',
      '--user=admin:{env:REPLUP_HOSTS_PASSWORD}',
    ],
    [
      'curl https://admin:Hunter2secret@{host}/drain',
      'https://admin:******@',
      'https://admin:{env:REPLUP_HOSTS_PASSWORD}@',
    ],
    [
      'curl -H "Authorization: Bearer Hunter2secret" https://{host}/drain',
      'Authorization: Bearer ******',
      '"Authorization: Bearer "{env:REPLUP_HOSTS_TOKEN}',
    ],
    [
      'curl -H "Authorization: Basic Hunter2secret" https://{host}/drain',
      'Authorization: Basic ******',
      '"Authorization: Basic "{env:REPLUP_HOSTS_TOKEN}',
    ],
    ['drain-tool -p Hunter2secret {host}', '-p ******', '-p {env:REPLUP_HOSTS_PASSWORD}'],
    ['sqlcmd -S {host} -U sa -P Hunter2secret -Q "select 1"', '-P ******', '-P {env:REPLUP_HOSTS_PASSWORD}'],
    ['drain-tool --password=Hunter2secret {host}', '--password=******', '--password={env:REPLUP_HOSTS_PASSWORD}'],
    ['drain-tool --password Hunter2secret {host}', '--password ******', '--password {env:REPLUP_HOSTS_PASSWORD}'],
    [
      'msdeploy -verb:sync -dest:auto,computerName={host} /p:Hunter2secret',
      '/p:******',
      '/p:{env:REPLUP_HOSTS_PASSWORD}',
    ],
    ['PASSWORD=Hunter2secret ./drain.sh {host}', 'PASSWORD=******', 'PASSWORD={env:REPLUP_HOSTS_PASSWORD}'],
    ['MYSQL_PWD=Hunter2secret ./drain.sh {host}', 'MYSQL_PWD=******', 'MYSQL_PWD={env:REPLUP_HOSTS_PASSWORD}'],
    [
      'drain.exe "Server={host};User Id=sa;Password=Hunter2secret;"',
      'Password=******',
      'Password={env:REPLUP_HOSTS_PASSWORD}',
    ],
    ['drain.exe "Server={host};Uid=sa;Pwd=Hunter2secret;"', 'Pwd=******', 'Pwd={env:REPLUP_HOSTS_PASSWORD}'],
  ])('%s', (cmd, shown, fix) => {
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
