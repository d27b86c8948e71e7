// Loading a plan file: read it, find its runbook's plan kind, validate and normalize it.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
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

/**
 * The largest plan file replup reads. A plan of 2,000 subscribers (the most one run takes, see
 * plan/upgrade.ts) is about 0.3 MB of YAML; a file many times that is not a plan (a 50 MB file
 * made validation run minutes and run out of memory), so it is refused before it is parsed.
 */
export const MAX_PLAN_BYTES = 2_000_000;

/** The longest value an error message repeats; a longer one is cut to an excerpt with its length. */
export const MAX_ECHO_CHARS = 200;

const tooLarge = (bytes: number): PlanError => ({
  path: '',
  line: 1,
  column: 1,
  message: `the plan is ${(bytes / 1_000_000).toFixed(1)} MB; replup reads plans up to ${MAX_PLAN_BYTES / 1_000_000} MB (a 2,000-subscriber plan is about 0.3 MB): check that this is the plan file, and split a larger fleet into several plans`,
});

/** Reads and validates a plan file. Invalid plans come back as errors; an unreadable file throws PlanFileUnreadable. */
export async function loadPlanFile(file: string): Promise<LoadResult> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_PLAN_BYTES) return { ok: false, errors: [tooLarge(size)] };
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : String((err as Error).message);
    throw new PlanFileUnreadable(file, reason);
  }
  return loadPlanText(text, path.resolve(file), { checkFolders: true });
}

/**
 * Cuts every quoted value longer than MAX_ECHO_CHARS in a message to an excerpt that says how long
 * it was: an error names the value, it never repeats a 20 MB scalar.
 */
export function excerptValues(message: string): string {
  const cut = message.replace(/"((?:[^"\\]|\\.)*)"/g, (whole, inner: string) =>
    inner.length <= MAX_ECHO_CHARS ? whole : `"${inner.slice(0, MAX_ECHO_CHARS)}…" (${inner.length.toLocaleString('en-US')} characters)`,
  );
  // A value echoed without quotes: keep the message's start and its end (what to do).
  return cut.length <= 1_000 ? cut : `${cut.slice(0, 400)} … (${(cut.length - 800).toLocaleString('en-US')} characters left out) … ${cut.slice(-400)}`;
}

/**
 * Validates plan text; `file` is its path, against which relative paths in the plan resolve.
 * `checkFolders`: the file is real, so a relative scripts folder must exist beside it.
 */
export function loadPlanText(text: string, file: string, opts: { checkFolders?: boolean } = {}): LoadResult {
  if (Buffer.byteLength(text) > MAX_PLAN_BYTES) return { ok: false, errors: [tooLarge(Buffer.byteLength(text))] };
  const r = validatePlanText(text, file, opts.checkFolders === true);
  if (r.ok) return r;
  return { ok: false, errors: r.errors.map((e) => ({ ...e, path: excerptValues(e.path), message: excerptValues(e.message) })) };
}

function validatePlanText(text: string, file: string, checkFolders: boolean): LoadResult {
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
    // A suggestion compares spellings: only for a value short enough to be a misspelt name.
    const suggestion = typeof runbook === 'string' && runbook.length <= 100 ? didYouMean(runbook, KNOWN_RUNBOOKS) : '';
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
  if (!parsed.ok) return parsed;
  // Only a plan read from a file has a folder its relative paths resolve from on this machine.
  if (checkFolders) {
    const missing = missingScriptsFolder(data as Record<string, unknown>, parsed.value);
    if (missing) return { ok: false, errors: [{ path: 'scripts.dir', ...source.value.locate(['scripts', 'dir']), message: missing }] };
  }
  return { ok: true, plan: parsed.value, kind };
}

/**
 * A relative `scripts.dir` is resolved from the plan's folder, so it is a folder this machine
 * sees: one that does not exist is reported here (a copied example plan would otherwise validate
 * and park at preflight). An absolute path may name a folder on the worker's machine: not checked.
 */
function missingScriptsFolder(raw: Record<string, unknown>, plan: AnyPlan): string | undefined {
  const given = (raw.scripts as { dir?: unknown } | undefined)?.dir;
  const resolved = (plan as { scripts?: { dir?: unknown } }).scripts?.dir;
  if (typeof given !== 'string' || typeof resolved !== 'string') return undefined;
  if (path.isAbsolute(given) || path.win32.isAbsolute(given)) return undefined;
  if (existsSync(resolved)) return undefined;
  return `the scripts folder ${resolved} does not exist (scripts.dir "${given}" is resolved from the plan's folder): point it at the vendor's Replication folder for the target version, e.g. an absolute path`;
}
