// The operators' utf16-scripts case (../shared/cases/2026-11-29): utf16-lab-plan.yaml beside its
// utf16-scripts folder, the example Replication folder with both publication scripts saved as UTF-16 LE
// with a byte-order mark. The fixture keeps only those two scripts (test/fixtures/cases/utf16-scripts/
// README.md); the other four are examples/replication byte for byte, so the folder is assembled here
// instead of being kept twice. test/unit/sqlcmd/utf16-scripts-case.test.ts pins those four to the case's
// bytes (sha256), so an edit to an example cannot change the case unnoticed.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const cases = join(root, 'test/fixtures/cases');
/** The case's own scripts: the two UTF-16 ones, and any example script restored here after the example changed. */
const CASE_SCRIPTS = join(cases, 'utf16-scripts');

/** The example scripts the case was made from (the repo's examples/replication). */
export const EXAMPLE_SCRIPTS = join(root, 'examples/replication');

/** The operators' original cases (plan and folder side by side), beside the checkout; absent in some CI clones. */
export const OPERATORS_CASES = join(root, '../shared/cases/2026-11-29');

/**
 * Where the case's script `file` (a name like 'CreateConfigSubscription.sql') is read from: the case's
 * own copy in test/fixtures/cases/utf16-scripts when it has one, else the example it was made from.
 * @returns an absolute path (the file need not exist: an unknown name gives the examples' path)
 */
export function caseScript(file: string): string {
  const own = join(CASE_SCRIPTS, file);
  return existsSync(own) ? own : join(EXAMPLE_SCRIPTS, file);
}

/** The names of the .sql files in `dir` (a README beside them is not a script of the case). */
const sqlFilesIn = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.sql'));

/**
 * The operators' case, assembled in a new temporary folder named `prefix`…: `plan` is a copy of
 * test/fixtures/cases/utf16-lab-plan.yaml, and `scripts` the utf16-scripts folder its relative
 * scripts.dir names, holding every .sql file of examples/replication with the case's two UTF-16
 * publication scripts over them. Each call makes a case of its own, for a test to run or edit.
 * @returns absolute paths of the plan file and of the scripts folder
 */
export function utf16Case(prefix = 'replup-utf16-case-'): { plan: string; scripts: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const scripts = join(dir, 'utf16-scripts');
  mkdirSync(scripts);
  for (const from of [EXAMPLE_SCRIPTS, CASE_SCRIPTS]) {
    for (const file of sqlFilesIn(from)) copyFileSync(join(from, file), join(scripts, file));
  }
  const plan = join(dir, 'utf16-lab-plan.yaml');
  copyFileSync(join(cases, 'utf16-lab-plan.yaml'), plan);
  return { plan, scripts };
}
