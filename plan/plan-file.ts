// A plan file's text parsed into a runbook's normalized plan, its relative paths resolved against the file's folder.
import type { z } from 'zod';
import { planFolderOf } from './plan-path.js';
import { parsePlanSource, type PlanRules, type SourceResult } from './source.js';

/**
 * Validates plan text (the schema, then the rules) and normalizes a valid plan with the folder of `file`.
 * @returns the normalized plan, or the located errors
 */
export function parsePlanFile<S extends z.ZodType, P>(
  text: string,
  file: string,
  schema: S,
  rules: PlanRules,
  normalize: (input: z.output<S>, planFolder: string) => P,
): SourceResult<P> {
  const result = parsePlanSource(text, schema, rules);
  return result.ok ? { ok: true, value: normalize(result.value, planFolderOf(file)) } : result;
}
