import path from 'node:path';
import { loadPlanFile, loadPlanText } from '../../../plan/load.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';

export const EXAMPLES = path.resolve(import.meta.dirname, '../../../examples');

/** Loads examples/<name>, failing the test with the plan's errors when it is invalid. */
export async function loadExample(name: string): Promise<UpgradePlan> {
  const result = await loadPlanFile(path.join(EXAMPLES, name));
  if (!result.ok) throw new Error(`${name} is invalid: ${JSON.stringify(result.errors)}`);
  return result.plan as UpgradePlan;
}

/** A lab plan ending in `options:` (line 9), so the lines a test adds under it start at line 10. */
const WITH_OPTIONS = [
  'name: t', // 1
  'runbook: em-personalization-upgrade', // 2
  'from: 8.2.0.0', // 3
  'to: 10.4.0.0', // 4
  'target: { kind: lab, state: lab.json }', // 5
  'publisher: { server: PUB, sqlVersion: 15.0.2000.5 }', // 6
  'scripts: { dir: replication }', // 7
  'subscribers: [{ server: SUB1 }]', // 8
  'options:', // 9
];
/** Loads WITH_OPTIONS with these lines under `options:` (from line 10) as /plans/t.yaml. */
export const loadWithOptions = (options: string[]) =>
  loadPlanText([...WITH_OPTIONS, ...options].join('\n') + '\n', '/plans/t.yaml');

/**
 * The first 9 lines of a branch-office plan: HQ publishes centrally, LEEDS (line 8, SQL Server 2019)
 * is a branch; each test goes on with LEEDS's recovery database (line 10) in its own spelling.
 */
export const BRANCH_OFFICE_START = [
  'name: t', // 1
  'runbook: em-personalization-upgrade', // 2
  'from: 8.2.0.0', // 3
  'to: 10.4.0.0', // 4
  'target: { kind: lab, state: lab.json }', // 5
  'publisher: { server: HQ, sqlVersion: 16.0.1000.6 }', // 6
  'branches:', // 7
  '  - server: LEEDS', // 8
  '    sqlVersion: 15.0.2000.5', // 9
];
