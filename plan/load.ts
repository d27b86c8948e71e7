// Loading a plan file: read it, find its runbook's plan kind, validate and normalize it.
import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { decodeScript, ScriptEncodingError } from '../activities/sqlcmd/read.js';
import type { PlanKind } from './kind.js';
import { KNOWN_RUNBOOKS, planKindFor, type AnyPlan } from './registry.js';
import { formatPath, readPlanSource, sortErrors, type PathSegment, type PlanError, type PlanSource } from './source.js';
import { closest, didYouMean } from './suggest.js';
import { MAX_SUBSCRIBERS } from './personalization-upgrade/schema.js';

export type LoadResult = { ok: true; plan: AnyPlan; kind: PlanKind<AnyPlan> } | { ok: false; errors: PlanError[] };

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
 * plan/personalization-upgrade/schema.ts) is about 0.3 MB of YAML; a file many times that is not a plan (a 50 MB file
 * made validation run minutes and run out of memory), so it is refused before it is parsed.
 */
export const MAX_PLAN_BYTES = 2_000_000;

/** The longest value an error message repeats; a longer one is cut to an excerpt with its length. */
export const MAX_ECHO_CHARS = 200;

/** A plan's name is a label (summaries, the Web UI, reports, `plan validate`'s answer): at most this long. */
export const MAX_NAME_CHARS = MAX_ECHO_CHARS;

/**
 * The longest value a plan takes. The longest real ones are host command templates (a PowerShell
 * line of a few hundred characters); a value of megabytes is a mistake and would be echoed by
 * `plan show` and carried into every activity's input.
 */
export const MAX_VALUE_CHARS = 10_000;

/**
 * The largest workflow input replup sends, in bytes. Temporal refuses a request whose payload is
 * over 2 MB ("The max payload for a single request is 2 MB",
 * https://docs.temporal.io/troubleshooting/blob-size-limit-error); the client then retries until
 * its deadline and reports only "Failed to start Workflow". `start` refuses a larger input before
 * anything starts (cli/lib/runs.ts checkInputSize), with room left for the request's other fields.
 */
export const MAX_INPUT_BYTES = 1_800_000;

/**
 * `plan validate` measures the input `start` sends ([{ plan, requestedBy }], the same for every
 * runbook) with this much kept for `requestedBy` (the operator's name), so a plan it passes is
 * never refused by `start` for its size.
 */
export const REQUESTER_ROOM_BYTES = 1_000;

/** The bytes of a workflow input as the client sends it (JSON). */
export const workflowInputBytes = (args: unknown[]): number => Buffer.byteLength(JSON.stringify(args));

/** Why a workflow input is too large, and the way out; `plan validate` and `start` say the same. */
export function inputTooLarge(bytes: number, what = 'the plan'): string {
  const mb = (n: number) => `${(n / 1_000_000).toFixed(1)} MB`;
  return (
    `${what} would be ${mb(bytes)} of workflow input, over the ${mb(MAX_INPUT_BYTES)} replup allows ` +
    `(Temporal refuses a request payload over 2 MB): ` +
    (`split the fleet into several plans with fewer subscribers each (at most ` +
      `${MAX_SUBSCRIBERS.toLocaleString('en-US')}, fewer when their entries are long) and start them one after ` +
      `another`)
  );
}

const tooLarge = (bytes: number): PlanError => ({
  path: '',
  line: 1,
  column: 1,
  message:
    `the plan is ${(bytes / 1_000_000).toFixed(1)} MB; replup reads plans up to ${MAX_PLAN_BYTES / 1_000_000} ` +
    `MB (a 2,000-subscriber plan is about 0.3 MB): check that this is the plan file, and split a larger fleet ` +
    `into several plans`,
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
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'EACCES'
            ? 'permission denied'
            : String((err as Error).message);
    throw new PlanFileUnreadable(file, reason);
  }
  return loadPlanText(text, path.resolve(file), { checkFolders: true });
}

/**
 * Cuts every quoted value longer than MAX_ECHO_CHARS in a message to an excerpt that says how long
 * it was: an error names the value, it never repeats a 20 MB scalar.
 */
export function excerptValues(message: string): string {
  // An excerpt already followed by its length (longValues) is left as it is.
  const cut = message.replace(/"((?:[^"\\]|\\.)*)"(?! \(\d[\d,]* characters\))/g, (whole, inner: string) =>
    inner.length <= MAX_ECHO_CHARS
      ? whole
      : `"${inner.slice(0, MAX_ECHO_CHARS)}…" (${inner.length.toLocaleString('en-US')} characters)`,
  );
  // A value echoed without quotes: keep the message's start and its end (what to do).
  return cut.length <= 1_000
    ? cut
    : `${cut.slice(0, 400)} … (${(cut.length - 800).toLocaleString('en-US')} characters left out) … ${cut.slice(-400)}`;
}

/**
 * Validates plan text; `file` is its path, against which relative paths in the plan resolve.
 * `checkFolders`: the file is real, so a relative scripts folder must exist beside it.
 */
export function loadPlanText(text: string, file: string, opts: { checkFolders?: boolean } = {}): LoadResult {
  if (Buffer.byteLength(text) > MAX_PLAN_BYTES) return { ok: false, errors: [tooLarge(Buffer.byteLength(text))] };
  const r = validatePlanText(text, file, opts.checkFolders === true);
  if (r.ok) return r;
  return {
    ok: false,
    errors: r.errors.map((e) => ({ ...e, path: excerptValues(e.path), message: excerptValues(e.message) })),
  };
}

function validatePlanText(text: string, file: string, checkFolders: boolean): LoadResult {
  const source = readPlanSource(text);
  if (!source.ok) return source;
  const data = source.value.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    const found = Array.isArray(data) ? 'a list' : `${JSON.stringify(data)}`;
    return {
      ok: false,
      errors: [
        {
          path: '',
          ...source.value.locate([]),
          message: `a plan is a mapping of keys (name:, runbook:, …), found ${found}`,
        },
      ],
    };
  }
  const runbook = (data as Record<string, unknown>).runbook;
  const known = KNOWN_RUNBOOKS.map((r) => `"${r}"`).join(', ');
  if (runbook === undefined) {
    return {
      ok: false,
      errors: [
        {
          path: 'runbook',
          ...source.value.locate(['runbook']),
          message: `"runbook" is missing: it names the runbook this plan is for, one of ${known}`,
        },
      ],
    };
  }
  const kind = typeof runbook === 'string' ? planKindFor(runbook) : undefined;
  if (!kind) {
    // A suggestion compares spellings: only for a value short enough to be a misspelt name.
    const short = typeof runbook === 'string' && runbook.length <= 100;
    const suggestion = short ? didYouMean(runbook, KNOWN_RUNBOOKS) : '';
    // Every problem at once: with a likely runbook, the rest of the plan is read as that runbook's plan.
    const guess = short ? closest(runbook, KNOWN_RUNBOOKS) : undefined;
    const asGuess = guess ? planKindFor(guess)?.parse(text, file) : undefined;
    const others = asGuess && !asGuess.ok ? asGuess.errors.filter((e) => e.path !== 'runbook') : [];
    return {
      ok: false,
      errors: [
        {
          path: 'runbook',
          ...source.value.locate(['runbook']),
          message:
            `unknown runbook ${JSON.stringify(runbook)}; the known runbooks are ${known}${suggestion}` +
            (others.length ? ` (the problems below read it as a plan of ${guess})` : ''),
        },
        ...sortErrors(others),
      ],
    };
  }
  const parsed = kind.parse(text, file);
  const long = longValues(data, source.value);
  if (!parsed.ok) return { ok: false, errors: sortErrors([...long, ...parsed.errors]) };
  if (long.length > 0) return { ok: false, errors: long };
  // What `start` sends: refused here too, so validate never passes a plan start refuses.
  const bytes = workflowInputBytes([{ plan: parsed.value, requestedBy: '' }]) + REQUESTER_ROOM_BYTES;
  if (bytes > MAX_INPUT_BYTES)
    return { ok: false, errors: [{ path: '', line: 1, column: 1, message: inputTooLarge(bytes) }] };
  // Only a plan read from a file has a folder its relative paths resolve from on this machine.
  if (checkFolders) {
    const onDisk = kind.checkOnDisk?.(data as Record<string, unknown>, parsed.value) ?? [];
    if (onDisk.length > 0)
      return {
        ok: false,
        errors: onDisk.map((e) => ({ path: e.path.join('.'), ...source.value.locate(e.path), message: e.message })),
      };
    const missing = missingScriptsFolder(data as Record<string, unknown>, parsed.value);
    if (missing)
      return {
        ok: false,
        errors: [{ path: 'scripts.dir', ...source.value.locate(['scripts', 'dir']), message: missing }],
      };
    const scripts = unreadableScripts(data as Record<string, unknown>, parsed.value, kind, source.value);
    if (scripts.length > 0) return { ok: false, errors: scripts };
  }
  return { ok: true, plan: parsed.value, kind };
}

const excerpt = (value: string) =>
  `"${value.slice(0, MAX_ECHO_CHARS)}…" (${value.length.toLocaleString('en-US')} characters)`;

/**
 * Values longer than a plan takes (the name over MAX_NAME_CHARS, any other over MAX_VALUE_CHARS), named by an excerpt.
 */
function longValues(data: unknown, source: PlanSource): PlanError[] {
  const errors: PlanError[] = [];
  const walk = (value: unknown, at: PathSegment[]) => {
    if (errors.length >= 10) return;
    if (typeof value === 'string') {
      const isName = at.length === 1 && at[0] === 'name';
      const limit = isName ? MAX_NAME_CHARS : MAX_VALUE_CHARS;
      if (value.length <= limit) return;
      const what = isName
        ? `the name is ${value.length.toLocaleString('en-US')} characters; a plan's name is a label shown in ` +
          `summaries, the Web UI and reports, at most ${MAX_NAME_CHARS} characters: shorten it`
        : `this value is ${value.length.toLocaleString('en-US')} characters; a plan's values are at most ` +
          `${MAX_VALUE_CHARS.toLocaleString('en-US')} characters (the longest real ones are host command ` +
          `templates): check that it is the value you meant`;
      errors.push({ path: formatPath(at), ...source.locate(at), message: `${what} (it begins ${excerpt(value)})` });
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...at, i]));
    else if (value !== null && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, [...at, k]);
  };
  walk(data, []);
  return errors;
}

/**
 * The scripts a run reads (the four creation scripts, ConvertRowGuids.sql when its step applies),
 * read where this machine sees them (a relative scripts.dir, as missingScriptsFolder) through the
 * one decoder the worker uses (activities/sqlcmd/read.ts): a missing or undecodable script is
 * reported here rather than at preflight.
 */
function unreadableScripts(
  raw: Record<string, unknown>,
  plan: AnyPlan,
  kind: PlanKind<AnyPlan>,
  source: PlanSource,
): PlanError[] {
  const dir = (raw.scripts as { dir?: unknown } | undefined)?.dir;
  const scripts = (plan as { scripts?: { dir?: unknown; files?: Record<string, string | undefined> } }).scripts;
  if (typeof dir !== 'string' || typeof scripts?.dir !== 'string' || !scripts.files) return [];
  if (path.isAbsolute(dir) || path.win32.isAbsolute(dir)) return [];
  const rowGuids = kind.steps(plan).some((s) => s.id === 'convert-row-guids' && s.applies);
  const keys = [
    'createConfigPublication',
    'createDataPublication',
    'createConfigSubscription',
    'createDataSubscription',
    ...(rowGuids ? ['convertRowGuids'] : []),
  ];
  const given = (key: string) =>
    typeof ((raw.scripts as { files?: Record<string, unknown> }).files ?? {})[key] === 'string';
  const errors: PlanError[] = [];
  for (const key of keys) {
    const name = scripts.files[key];
    if (!name) continue;
    const file = path.resolve(scripts.dir, name);
    const at: PathSegment[] = ['scripts', 'files', key];
    let message: string | undefined;
    try {
      decodeScript(readFileSync(file), name);
    } catch (err) {
      if (err instanceof ScriptEncodingError) message = `script ${file}${err.message.slice(err.file.length)}`;
      else {
        const code = (err as NodeJS.ErrnoException).code;
        message =
          code === 'ENOENT'
            ? `script ${file} does not exist (scripts.files.${key} is "${name}"` +
              `${given(key) ? '' : ' by default'}): copy the vendor's script into ${scripts.dir}, or name the ` +
              `file under scripts.files.${key}`
            : `script ${file} cannot be read (${code ?? (err as Error).message}): make it readable by this ` +
              `account and the worker's`;
      }
    }
    if (message) errors.push({ path: formatPath(at), ...source.locate(at), message });
  }
  return errors;
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
  return (
    `the scripts folder ${resolved} does not exist (scripts.dir "${given}" is resolved from the plan's ` +
    `folder): point it at the vendor's Replication folder for the target version, e.g. an absolute path`
  );
}
