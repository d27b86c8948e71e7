// Reading a plan for a command that acts on it: invalid plans stop here, with every error's place.
import { loadPlanFile, PlanFileUnreadable } from '../../plan/load.js';
import type { AnyPlan } from '../../plan/registry.js';
import { UserError } from '../errors.js';

export async function readPlanOrFail(file: string): Promise<AnyPlan> {
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
  return r.plan;
}
