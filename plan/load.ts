// Loading a plan file: read it, find its runbook's plan kind, validate and normalize it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PlanKind } from './kind.js';
import { KNOWN_RUNBOOKS, planKindFor, type AnyPlan } from './registry.js';
import { readPlanSource, type PlanError } from './source.js';
import { didYouMean } from './suggest.js';

export type LoadResult =
  | { ok: true; plan: AnyPlan; kind: PlanKind<AnyPlan> }
  | { ok: false; errors: PlanError[] };

/** The plan file could not be read at all (missing, a folder, no permission). */
export class PlanFileUnreadable extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`cannot read plan file ${file}: ${reason}`);
    this.name = 'PlanFileUnreadable';
  }
}

/** Reads and validates a plan file. Invalid plans come back as errors; an unreadable file throws PlanFileUnreadable. */
export async function loadPlanFile(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : String((err as Error).message);
    throw new PlanFileUnreadable(file, reason);
  }
  return loadPlanText(text, path.resolve(file));
}

/** Validates plan text; `file` is its path, against which relative paths in the plan resolve. */
export function loadPlanText(text: string, file: string): LoadResult {
  const source = readPlanSource(text);
  if (!source.ok) return source;
  const data = source.value.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    const found = Array.isArray(data) ? 'a list' : `${JSON.stringify(data)}`;
    return {
      ok: false,
      errors: [{ path: '', ...source.value.locate([]), message: `a plan is a mapping of keys (name:, runbook:, …), found ${found}` }],
    };
  }
  const runbook = (data as Record<string, unknown>).runbook;
  const known = KNOWN_RUNBOOKS.map((r) => `"${r}"`).join(', ');
  if (runbook === undefined) {
    return {
      ok: false,
      errors: [{ path: 'runbook', ...source.value.locate(['runbook']), message: `"runbook" is missing: it names the runbook this plan is for, one of ${known}` }],
    };
  }
  const kind = typeof runbook === 'string' ? planKindFor(runbook) : undefined;
  if (!kind) {
    const suggestion = typeof runbook === 'string' ? didYouMean(runbook, KNOWN_RUNBOOKS) : '';
    return {
      ok: false,
      errors: [
        {
          path: 'runbook',
          ...source.value.locate(['runbook']),
          message: `unknown runbook ${JSON.stringify(runbook)}; the known runbooks are ${known}${suggestion}`,
        },
      ],
    };
  }
  const parsed = kind.parse(text, file);
  return parsed.ok ? { ok: true, plan: parsed.value, kind } : parsed;
}
