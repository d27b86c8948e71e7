// Reading a plan file (YAML, or JSON which is YAML) and validating it against any zod schema, so
// that every problem comes back at once with its path, line and column and what to do about it.
// Generic: each runbook's plan kind supplies its schema and its rules beyond types.
import { z } from 'zod';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { didYouMean } from './suggest.js';

export type PathSegment = string | number;

/** One problem in a plan file. `path` is `subscribers[2].server`; line and column are 1-based. */
export interface PlanError {
  path: string;
  line: number;
  column: number;
  message: string;
}

/** A problem found by a plan kind's own rules. `at: 'key'` points at the key instead of its value. */
export interface RuleViolation {
  path: PathSegment[];
  message: string;
  at?: 'key';
}

/**
 * Rules beyond types. They read the raw document (not the parsed value) so that they report
 * together with type errors instead of after them; read it defensively.
 */
export type PlanRules = (raw: unknown) => RuleViolation[];

export type SourceResult<T> = { ok: true; value: T } | { ok: false; errors: PlanError[] };

export interface PlanSource {
  /** The document as plain data. */
  data: unknown;
  /** Line and column of the node at `path`, or of its nearest existing parent when it is missing. */
  locate(path: PathSegment[], at?: 'key'): { line: number; column: number };
}

export function readPlanSource(text: string): SourceResult<PlanSource> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((error) => ({
      path: '',
      ...position(error.pos[0]),
      message: `not valid YAML: ${error.message}`,
    }));
    return { ok: false, errors: sortErrors(errors) };
  }
  if (doc.contents === null) {
    return {
      ok: false,
      errors: [
        { path: '', line: 1, column: 1, message: 'the plan file is empty: start from one of the files in examples/' },
      ],
    };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  return { ok: true, value: { data, locate: (path, at) => position(offsetOf(doc, path, at)) } };
}

/** Validates a read document: schema issues and rule violations together, sorted by position. */
export function validatePlanSource<S extends z.ZodType>(
  source: PlanSource,
  schema: S,
  rules?: PlanRules,
): SourceResult<z.output<S>> {
  const result = schema.safeParse(source.data, { error: describeIssue, reportInput: true });
  const violations = result.success ? [] : result.error.issues.flatMap((issue) => toViolations(issue, []));
  if (rules) violations.push(...rules(source.data));
  if (violations.length === 0 && result.success) return { ok: true, value: result.data };
  const errors = violations.map((v) => ({
    path: formatPath(v.path),
    ...source.locate(v.path, v.at),
    message: v.message,
  }));
  const unique = errors.filter((e, i) => errors.findIndex((o) => o.path === e.path && o.message === e.message) === i);
  return { ok: false, errors: sortErrors(unique) };
}

/** Reads and validates plan text in one call. */
export function parsePlanSource<S extends z.ZodType>(
  text: string,
  schema: S,
  rules?: PlanRules,
): SourceResult<z.output<S>> {
  const source = readPlanSource(text);
  return source.ok ? validatePlanSource(source.value, schema, rules) : source;
}

/** `subscribers[2].server`; keys that are not plain words are quoted: `hosts["my key"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

export function sortErrors(errors: PlanError[]): PlanError[] {
  return [...errors].sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
}

/**
 * Schema params for a required field: its "missing" message names what to write, e.g.
 * `z.string(whenMissing('the SQL Server as HOST, HOST\\INSTANCE or HOST,PORT'))`. `otherwise` may word the
 * schema's other type errors (e.g. never echo a password).
 */
export function whenMissing(
  hint: string,
  otherwise?: (input: unknown) => string | undefined,
): { error: (issue: { input?: unknown }) => string | undefined } {
  return { error: (issue) => (issue.input === undefined ? `${MISSING}${hint}` : otherwise?.(issue.input)) };
}

// Messages that need the issue's final path (known only after parsing) travel as markers.
const MISSING = '\u0000missing:';
const UNKNOWN_KEYS = '\u0000unknown-keys:';

/** The per-parse error map: zod's issues in the operator's words. Schema-level messages win over it. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return MISSING;
      return `expected ${expectedWords(issue.expected)}, found ${describeValue(issue.input)}`;
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      return (
        `must be ${oneOf(allowed)}, found ${describeValue(issue.input)}` +
        `${didYouMean(String(issue.input), issue.values.map(String))}`
      );
    }
    case 'too_small':
      return tooSmall(issue.origin, Number(issue.minimum), issue.inclusive !== false);
    case 'too_big':
      return tooBig(issue.origin, Number(issue.maximum), issue.inclusive !== false);
    case 'unrecognized_keys': {
      const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def
        ?.shape;
      return `${UNKNOWN_KEYS}${JSON.stringify(Object.keys(shape ?? {}))}`;
    }
    case 'invalid_union': {
      const discriminator = (issue as { discriminator?: string }).discriminator;
      const values = (issue.inst as { _zod?: { propValues?: Record<string, Set<unknown>> } } | undefined)?._zod
        ?.propValues;
      if (discriminator === undefined || !values?.[discriminator])
        return 'does not match any of the forms allowed here';
      const allowed = [...values[discriminator]].map(String);
      const given = (issue.input as Record<string, unknown> | undefined)?.[discriminator];
      if (given === undefined) return `${MISSING}one of ${oneOf(allowed.map((v) => `"${v}"`))}`;
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a scalar from YAML, shown as written
      const suggestion = didYouMean(String(given), allowed);
      return `must be ${oneOf(allowed.map((v) => `"${v}"`))}, found ${describeValue(given)}${suggestion}`;
    }
    default:
      return undefined;
  }
}

/** Turns one finished zod issue into violations with full paths (a union picks the branch the input was meant for). */
function toViolations(issue: z.core.$ZodIssue, prefix: PathSegment[]): RuleViolation[] {
  const path = [...prefix, ...(issue.path as PathSegment[])];
  if (issue.message.startsWith(UNKNOWN_KEYS) && issue.code === 'unrecognized_keys') {
    const allowed = JSON.parse(issue.message.slice(UNKNOWN_KEYS.length)) as string[];
    return issue.keys.map((key) => ({ path: [...path, key], at: 'key' as const, message: unknownKey(key, allowed) }));
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // The branch whose type the input has (a mapping for the mapping form, text for the text form)
    // is the one the user meant: report its problems rather than "matches nothing".
    const meant = issue.errors.filter(
      (branch) => !branch.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')),
    );
    if (meant.length === 1 && meant[0]) return meant[0].flatMap((i) => toViolations(i, path));
  }
  if (issue.message.startsWith(MISSING)) {
    const key = path[path.length - 1];
    const hint = issue.message.slice(MISSING.length);
    const what = key === undefined ? 'a value' : typeof key === 'number' ? `entry ${key}` : `"${key}"`;
    return [{ path, message: hint ? `${what} is missing: ${hint}` : `${what} is missing` }];
  }
  return [{ path, message: issue.message }];
}

function unknownKey(key: string, allowed: string[]): string {
  const suggestion = didYouMean(key, allowed);
  if (suggestion) return `unknown key "${key}"${suggestion}`;
  return `unknown key "${key}"; the keys allowed here are ${allowed.map((k) => `"${k}"`).join(', ')}`;
}

function expectedWords(expected: string): string {
  const words: Record<string, string> = {
    string: 'text',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping (key: value)',
  };
  return words[expected] ?? expected;
}

function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 60 ? `${value.slice(0, 57)}...` : value}"`;
  const kind = typeof value === 'number' ? 'the number' : typeof value === 'boolean' ? 'the value' : typeof value;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a scalar: objects returned above
  return `${kind} ${String(value)}`;
}

function oneOf(values: string[]): string {
  if (values.length <= 1) return values.join('');
  return `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

function tooSmall(origin: string, minimum: number, inclusive: boolean): string {
  if (origin === 'string') return minimum <= 1 ? 'must not be empty' : `must be at least ${minimum} characters`;
  if (origin === 'array') return `must list at least ${minimum} ${minimum === 1 ? 'entry' : 'entries'}`;
  return inclusive ? `must be at least ${minimum}` : `must be more than ${minimum}`;
}

function tooBig(origin: string, maximum: number, inclusive: boolean): string {
  if (origin === 'string') return `must be at most ${maximum} characters`;
  if (origin === 'array') return `must list at most ${maximum} entries`;
  return inclusive ? `must be at most ${maximum}` : `must be less than ${maximum}`;
}

/** Offset of the node at `path`; for a missing node, of its nearest existing parent's key. */
function offsetOf(doc: Document, path: readonly PathSegment[], at?: 'key'): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
      if (!pair) break;
      const keyOffset = startOf(pair.key) ?? offset;
      node = pair.value;
      offset = last && at !== 'key' ? (startOf(node) ?? keyOffset) : keyOffset;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      node = item;
      offset = startOf(item) ?? offset;
    } else break;
  }
  return offset;
}

function startOf(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
}
