// A server's `edition:` is one SERVERPROPERTY('Edition') can return (plan/edition.ts): a typo is refused at
// validate, located and with a suggestion, instead of passing as "valid" and never matching a server.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planValidate } from '../../../cli/commands/plan.js';

/** examples/<example> with the subscriber's `edition: Express` written as `edition` (paths made absolute). */
function withEdition(example: string, edition: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'replup-edition-'));
  const text = readFileSync(`examples/${example}`, 'utf8')
    .replace(/state: \.\.\//, `state: ${resolve('.')}/`)
    .replace(/dir: replication\b/, `dir: ${resolve('examples/replication')}`)
    .replace(/edition: Express\b/, `edition: ${edition}`);
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, text);
  return file;
}

describe("a plan's SQL Server edition", () => {
  it.each([
    [
      'lab-small.yaml',
      'Enterprize',
      ':34:14 subscribers[1].edition: "Enterprize" is not a SQL Server edition: did you mean Enterprise?',
    ],
    [
      'add-subscriber.yaml',
      'Expres',
      ':26:12 subscriber.edition: "Expres" is not a SQL Server edition: did you mean Express?',
    ],
    ['lab-small.yaml', 'Oracle', ':34:14 subscribers[1].edition: "Oracle" is not a SQL Server edition (SERVERPROPERTY'],
  ])('%s with %s: refused at its line, with what to write', async (example, edition, says) => {
    const file = withEdition(example, edition);
    const r = await planValidate(file);
    expect(r.exitCode).toBe(1);
    expect(r.text).toContain(`${file}${says}`);
  });

  it.each(['Express edition', 'express', 'Express Edition with Advanced Services (64-bit)', 'Business Intelligence'])(
    '%s is an edition',
    async (edition) => {
      const r = await planValidate(withEdition('lab-small.yaml', edition));
      expect(r.text).toContain('valid');
      expect(r.exitCode).toBe(0);
    },
  );
});
