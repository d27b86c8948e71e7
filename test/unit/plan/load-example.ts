import path from 'node:path';
import { loadPlanFile } from '../../../plan/load.js';
import type { UpgradePlan } from '../../../plan/types.js';

export const EXAMPLES = path.resolve(import.meta.dirname, '../../../examples');

/** Loads examples/<name>, failing the test with the plan's errors when it is invalid. */
export async function loadExample(name: string): Promise<UpgradePlan> {
  const result = await loadPlanFile(path.join(EXAMPLES, name));
  if (!result.ok) throw new Error(`${name} is invalid: ${JSON.stringify(result.errors)}`);
  return result.plan as UpgradePlan;
}
