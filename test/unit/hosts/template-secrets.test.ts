// Secrets in the plan's host command templates (issue #21): a literal credential is refused at
// validation without being repeated; {env:NAME} and {file:PATH} are resolved by the worker, quoted
// as one shell word, and never appear in the log or in an error.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCommandHosts } from '../../../activities/hosts/commands.js';
import { withDrain } from './with-drain.js';

describe('credentials in host command templates', () => {
  it.each([
    ['appcmd /server:{host} /password:Winter2026!', '/password:******'],
    ['ssh {host} drain --password Winter2026!', '--password ******'],
    ['Invoke-Command -ComputerName {host} -Credential (New-Object pscred u, pwd=Winter2026!)', 'pwd=******'],
  ])('a literal credential is refused, masked: %s', (cmd, shown) => {
    const r = withDrain(cmd);
    expect(r.ok).toBe(false);
    const text = JSON.stringify(r);
    expect(text).not.toContain('Winter2026');
    expect(text).toContain(`this command seems to hold a credential written out (\\"${shown}\\")`);
    expect(text).toContain('Write {env:NAME}');
  });

  it.each([
    'drain {host} --password {env:IIS_PASSWORD}',
    'drain {host} --token {file:/etc/replup/iis-token}',
    'drain {host} --password "$IIS_PASSWORD"',
  ])('a reference is accepted: %s', (cmd) => {
    expect(withDrain(cmd).ok).toBe(true);
  });
});

describe('the worker resolves secret references', () => {
  const saved = process.env.REPLUP_TEST_SECRET;
  afterEach(() => {
    if (saved === undefined) delete process.env.REPLUP_TEST_SECRET;
    else process.env.REPLUP_TEST_SECRET = saved;
  });
  const dir = mkdtempSync(join(tmpdir(), 'replup-secrets-'));

  it(
    '{env:NAME} and {file:PATH} reach the command as one ' + 'word, whatever they hold; the log keeps the reference',
    async () => {
      const secret = `it's "a $ecret"; rm -rf /`;
      process.env.REPLUP_TEST_SECRET = secret;
      const file = join(dir, 'token');
      writeFileSync(file, 'tok en\n');
      const out = join(dir, 'out');
      const log: string[] = [];
      const hosts = createCommandHosts({
        commands: {
          drain: `printf '%s|%s|%s' {host} {env:REPLUP_TEST_SECRET} {file:${file}} > ${out}`,
          upgrade: 'manual',
        },
        log: (l) => log.push(l),
      });
      await hosts.drain('ps-1');
      expect(readFileSync(out, 'utf8')).toBe(`ps-1|${secret}|tok en`);
      expect(log.join('\n')).toContain('{env:REPLUP_TEST_SECRET}');
      expect(log.join('\n')).not.toContain('$ecret');
    },
  );

  it('a variable the worker lacks is an error naming it and where to set it', async () => {
    delete process.env.REPLUP_TEST_SECRET;
    const hosts = createCommandHosts({
      commands: { drain: 'true {env:REPLUP_TEST_SECRET}', upgrade: 'manual' },
    });
    await expect(hosts.drain('ps-1')).rejects.toThrow(
      "hosts.drain uses {env:REPLUP_TEST_SECRET}, but REPLUP_TEST_SECRET is not set in the worker's " +
        'environment: set it where the worker starts (replup worker), then retry',
    );
  });

  it('a failing command: its error shows the template, and its output with the secret masked', async () => {
    process.env.REPLUP_TEST_SECRET = 'Winter2026!';
    const hosts = createCommandHosts({
      commands: {
        drain: 'echo "login failed for {host} with" {env:REPLUP_TEST_SECRET} >&2; exit 3',
        upgrade: 'manual',
      },
    });
    const err = (await hosts.drain('ps-1').catch((e: Error) => e)) as Error;
    expect(err.message).toBe(
      'hosts.drain command exited with 3: echo "login failed for ps-1 with" {env:REPLUP_TEST_SECRET} >&2; ' +
        'exit 3\nlogin failed for ps-1 with ******',
    );
  });
});
