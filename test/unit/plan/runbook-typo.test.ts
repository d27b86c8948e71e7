// `plan validate` says every problem at once, also when `runbook:` itself is misspelt: the rest of the plan is
// read as the runbook it probably means (a tester fixed a runbook typo only to be shown the next problem).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { planValidate } from '../../../cli/commands/plan.js';

it('a misspelt runbook and a misspelt target kind: both reported, located, in one run', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'replup-runbook-typo-')), 'plan.yaml');
  const text = readFileSync('examples/lab-small.yaml', 'utf8')
    .replace(/^runbook: em-personalization-upgrade$/m, 'runbook: em-personalisation-upgrade')
    .replace(/^ {2}kind: lab$/m, '  kind: lap')
    .replace(/dir: replication\b/, `dir: ${resolve('examples/replication')}`);
  writeFileSync(file, text);
  const r = await planValidate(file);
  expect(r.exitCode).toBe(1);
  expect(r.text).toContain(
    `${file}:11:10 runbook: unknown runbook "em-personalisation-upgrade"; the known runbooks are `,
  );
  expect(r.text).toContain(
    'did you mean "em-personalization-upgrade"? (the problems below read it as a plan of em-personalization-upgrade)',
  );
  expect(r.text).toContain(`${file}:16:9 target.kind: must be "lab" or "sqlserver", found "lap"; did you mean "lab"?`);
  expect(r.text).toContain(`2 problems in ${file}`);
});
