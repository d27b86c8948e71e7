// Reading a plan for a command that acts on it: invalid plans stop here, with every error's place.
import { loadPlanFile, PlanFileUnreadable } from '../../plan/load.js';
import type { UpgradePlan } from '../../plan/types.js';
import { UserError } from '../errors.js';

export async function readPlanOrFail(file: string): Promise<UpgradePlan> {
  let r;
  try {
    r = await loadPlanFile(file);
  } catch (err) {
    if (err instanceof PlanFileUnreadable) throw new UserError(err.message);
    throw err;
  }
  if (!r.ok) {
    throw new UserError(
      `${file} is not a valid plan (${r.errors.length} problem${r.errors.length === 1 ? '' : 's'}); nothing was started`,
      r.errors.map((e) => `${file}:${e.line}:${e.column} ${e.path ? `${e.path}: ` : ''}${e.message}`),
    );
  }
  if (r.plan.runbook !== 'em-personalization-upgrade') throw new UserError(`${file}: runbook ${r.plan.runbook} cannot be started by this version of replup`);
  return r.plan as UpgradePlan;
}
