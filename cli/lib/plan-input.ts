// Reading a plan for a command that acts on it: invalid plans stop here, with every error's place.
import { loadPlanFile, PlanFileUnreadable, type LoadResult } from '../../plan/load.js';
import type { AnyPlan } from '../../plan/registry.js';
import { UserError } from '../errors.js';
import { count } from '../../common/count.js';

/**
 * The plan file loaded and checked (valid or not: the caller reports its errors its own way).
 * Errors: UserError with the reason (and `detail`) when the file cannot be read.
 */
export async function loadPlan(file: string, detail: string[] = []): Promise<LoadResult> {
  try {
    return await loadPlanFile(file);
  } catch (err) {
    if (err instanceof PlanFileUnreadable) throw new UserError(err.message, detail);
    throw err;
  }
}

/** A valid plan, or a UserError listing every problem as `file:line:column path: message`. */
export async function readPlanOrFail(file: string): Promise<AnyPlan> {
  const r = await loadPlan(file);
  if (!r.ok) {
    throw new UserError(
      `${file} is not a valid plan (${count(r.errors.length, 'problem')}); nothing was started`,
      r.errors.map((e) => `${file}:${e.line}:${e.column} ${e.path ? `${e.path}: ` : ''}${e.message}`),
    );
  }
  return r.plan;
}
