// The sync-type rewrite (DOMAIN.md §1 step 5): re-adding subscribers must not deliver a snapshot,
// because a snapshot deletes the subscriber's archive data. So every call of a merge subscription
// procedure that takes a sync type ends up with @sync_type = N'none', whatever the original
// spelling, case, spacing or parameter order, and a call that leaves it out (default 'automatic' =
// snapshot) gets it added. Which procedures take @sync_type, and at which position, is read from
// Microsoft's pages:
//   sp_addmergesubscription, 7th: https://learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-addmergesubscription-transact-sql
//   sp_addmergepullsubscription, 6th: https://learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-addmergepullsubscription-transact-sql
//   (sp_addmergepullsubscription_agent and sp_addmergepushsubscription_agent take none:
//   https://learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-addmergepullsubscription-agent-transact-sql)
// What cannot be rewritten safely is refused with its line: a call assembled at run time (the
// procedure's name inside a string: EXEC(…), sp_executesql) and a sync type inside a string, and
// sp_changemergesubscription, which can change a subscription's sync type after it is created.
// Comments are never touched. Pure.

export interface SyncTypeChange {
  /** Line (1-based, in the original text) where the change starts. */
  line: number;
  /** The affected line(s) before and after. */
  before: string;
  after: string;
}

export interface SyncTypeRewrite {
  text: string;
  changes: SyncTypeChange[];
}

/** A call the rewrite cannot read safely: fix @sync_type there by hand. */
export class SyncTypeRewriteError extends Error {
  constructor(
    public readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'SyncTypeRewriteError';
  }
}

export const SYNC_TYPE_NONE = "@sync_type = N'none'";
/** The procedures that take @sync_type, and its position for calls written without names. */
export const SYNC_TYPE_PROCEDURES: Record<string, number> = {
  // @publication, @subscriber, @subscriber_db, @subscription_type, @subscriber_type, @subscription_priority, @sync_type
  sp_addmergesubscription: 7,
  // @publication, @publisher, @publisher_db, @subscriber_type, @subscription_priority, @sync_type
  sp_addmergepullsubscription: 6,
};
const CHANGE_PROCEDURE = 'sp_changemergesubscription';
const DYNAMIC = /\b(sp_addmergesubscription|sp_addmergepullsubscription|sp_changemergesubscription)\b|@sync_type\b/i;
// A word in these positions starts the next statement, not an argument.
const STATEMENT_WORDS = new Set([
  'alter',
  'begin',
  'commit',
  'create',
  'declare',
  'delete',
  'drop',
  'else',
  'end',
  'exec',
  'execute',
  'if',
  'insert',
  'print',
  'raiserror',
  'return',
  'rollback',
  'select',
  'set',
  'throw',
  'update',
  'use',
  'while',
  'with',
]);

type TokenKind = 'space' | 'comment' | 'string' | 'bracket' | 'word' | 'number' | 'variable' | 'sqlcmd' | 'punct';
interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  text: string;
}

interface Argument {
  name?: Token;
  valueStart: number;
  valueEnd: number;
  /** End of the argument including a trailing OUTPUT keyword. */
  end: number;
}

interface Edit {
  start: number;
  end: number;
  replacement: string;
}

/**
 * Rewrites every sync type of the script's merge subscription calls to none.
 * @throws SyncTypeRewriteError (with the line) for what cannot be rewritten safely
 */
export function rewriteSyncType(text: string): SyncTypeRewrite {
  const tokens = tokenize(text);
  refuseUnsafe(tokens, text);
  const edits: Edit[] = [];
  for (const call of calls(tokens, text)) {
    const edit = syncTypeEdit(call.args, call.name, call.position);
    if (edit && text.slice(edit.start, edit.end) !== edit.replacement) edits.push(edit);
  }
  return applyEdits(text, edits);
}

export interface SyncTypeCall {
  procedure: string;
  line: number;
  /** The sync type as written (quotes and N removed, lower case), or 'automatic' when left out (the default). */
  syncType: string;
}

/**
 * The merge subscription calls of a script and the sync type each one asks for: what prepare-scripts
 * verifies after the rewrite (every one must be none).
 */
export function syncTypesOf(text: string): SyncTypeCall[] {
  const tokens = tokenize(text);
  return calls(tokens, text).map((call) => {
    const named = call.args.find((a) => a.name && a.name.text.toLowerCase() === '@sync_type');
    const positional = call.args.slice(0, call.position).every((a) => !a.name)
      ? call.args[call.position - 1]
      : undefined;
    const arg = named ?? positional;
    const raw = arg ? text.slice(arg.valueStart, arg.valueEnd) : 'automatic';
    const value = raw
      .replace(/^N?'(.*)'$/is, '$1')
      .replace(/''/g, "'")
      .toLowerCase();
    return {
      procedure: call.procedure,
      line: lineOf(text, call.name.start),
      syncType: value === 'default' ? 'automatic' : value,
    };
  });
}

interface Call {
  procedure: string;
  name: Token;
  position: number;
  args: Argument[];
}

function calls(tokens: Token[], text: string): Call[] {
  const out: Call[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const procedure = procedureAt(tokens, i, REWRITE_NAMES);
    if (!procedure || !Object.hasOwn(SYNC_TYPE_PROCEDURES, procedure)) continue;
    const args = readArguments(tokens, i + 1, (offset) => unreadable(text, offset, procedure));
    out.push({ procedure, name: tokens[i] as Token, position: SYNC_TYPE_PROCEDURES[procedure] as number, args });
  }
  return out;
}

/** One argument of a call as written: its @name (lower case) when named, and its value's text. */
export interface CallArgument {
  name?: string;
  value: string;
  /** What the value is: a literal, a bare word or [name], a T-SQL @variable (known only at run time). */
  kind: 'string' | 'word' | 'variable' | 'number' | 'other';
}

export interface ProcedureCall {
  /** The procedure, lower case. */
  procedure: string;
  /** Line (1-based) of the procedure's name in the text. */
  line: number;
  args: CallArgument[];
}

/**
 * Every call of one of `procedures` (lower case) in T-SQL text, with its arguments as written,
 * read with the same tokenizer as the sync-type rewrite (comments, strings, [names], any case).
 * @throws SyncTypeRewriteError (the line) when a call's arguments cannot be read
 */
export function procedureCalls(text: string, procedures: readonly string[]): ProcedureCall[] {
  const names = new Set(procedures);
  const tokens = tokenize(text);
  const out: ProcedureCall[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const procedure = procedureAt(tokens, i, names);
    if (!procedure) continue;
    const args = readArguments(
      tokens,
      i + 1,
      (offset) => new SyncTypeRewriteError(lineOf(text, offset), `cannot read the arguments of this ${procedure} call`),
    ).map((a): CallArgument => {
      const first = tokens.find((t) => t.start === a.valueStart) as Token;
      const kind =
        first.kind === 'string' || first.kind === 'variable' || first.kind === 'number'
          ? first.kind
          : first.kind === 'word' || first.kind === 'bracket'
            ? 'word'
            : 'other';
      return { ...(a.name && { name: a.name.text.toLowerCase() }), value: text.slice(a.valueStart, a.valueEnd), kind };
    });
    out.push({ procedure, line: lineOf(text, (tokens[i] as Token).start), args });
  }
  return out;
}

/** Lines where a string literal names one of `procedures` (a call assembled at run time: EXEC(…), sp_executesql). */
export function proceduresInStrings(text: string, procedures: readonly string[]): number[] {
  const pattern = new RegExp(`\\b(?:${procedures.join('|')})\\b`, 'i');
  return tokenize(text)
    .filter((t) => t.kind === 'string' && pattern.test(t.text))
    .map((t) => lineOf(text, t.start + (pattern.exec(t.text)?.index ?? 0)));
}

/** A literal's or a name's value as the server reads it: N'…' / '…' unquoted, [name] unbracketed. */
export function argumentText(arg: CallArgument): string {
  if (arg.kind === 'string') return arg.value.replace(/^N?'(.*)'$/is, '$1').replace(/''/g, "'");
  if (arg.kind === 'word' && arg.value.startsWith('[')) return arg.value.slice(1, -1).replace(/\]\]/g, ']');
  return arg.value;
}

/** A procedure name in the script, or a sync type, that the rewrite cannot reach or vouch for. */
function refuseUnsafe(tokens: Token[], text: string): void {
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (token.kind === 'string' && DYNAMIC.test(token.text)) {
      throw new SyncTypeRewriteError(
        lineOf(text, token.start + (DYNAMIC.exec(token.text)?.index ?? 0)),
        `a merge subscription call or a sync type inside a string (dynamic SQL, run by EXEC(…) or ` +
          `sp_executesql) cannot be rewritten safely; write the call as a plain EXEC with @sync_type = N'none'`,
      );
    }
    if (procedureAt(tokens, i, REWRITE_NAMES) === CHANGE_PROCEDURE) {
      throw new SyncTypeRewriteError(
        lineOf(text, token.start),
        `${CHANGE_PROCEDURE} can change a subscription's sync type after it is created, which replup cannot ` +
          `vouch for; remove the call from the subscription script`,
      );
    }
  }
}

const REWRITE_NAMES: ReadonlySet<string> = new Set([...Object.keys(SYNC_TYPE_PROCEDURES), CHANGE_PROCEDURE]);

function procedureAt(tokens: Token[], i: number, names: ReadonlySet<string>): string | undefined {
  const token = tokens[i] as Token;
  if (token.kind !== 'word' && token.kind !== 'bracket') return undefined;
  const name = unquote(token).toLowerCase();
  if (!names.has(name)) return undefined;
  const next = nextSignificant(tokens, i + 1);
  // `x.sp_addmergesubscription.y` or `sp_addmergesubscription(` is not a call of the procedure.
  if (next && next.token.kind === 'punct' && (next.token.text === '.' || next.token.text === '(')) return undefined;
  return name;
}

function unquote(token: Token): string {
  return token.kind === 'bracket' ? token.text.slice(1, -1).replace(/\]\]/g, ']') : token.text;
}

function nextSignificant(tokens: Token[], from: number): { token: Token; index: number } | undefined {
  for (let i = from; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (token.kind !== 'space' && token.kind !== 'comment') return { token, index: i };
  }
  return undefined;
}

/** Reads `[@name =] value [OUTPUT]` arguments separated by commas. */
function readArguments(tokens: Token[], from: number, fail: (offset: number) => Error): Argument[] {
  const args: Argument[] = [];
  let at = from;
  for (;;) {
    const first = nextSignificant(tokens, at);
    if (!first) return args;
    if (args.length === 0 && !startsArgument(first.token)) return args;
    let valueAt = first;
    let name: Token | undefined;
    if (first.token.kind === 'variable') {
      const eq = nextSignificant(tokens, first.index + 1);
      if (eq && eq.token.text === '=') {
        name = first.token;
        const value = nextSignificant(tokens, eq.index + 1);
        if (!value) throw fail(first.token.start);
        valueAt = value;
      }
    }
    const value = readValue(tokens, valueAt.index);
    if (!value) throw fail(valueAt.token.start);
    let end = value.end;
    let last = value.lastIndex;
    const output = nextSignificant(tokens, last + 1);
    if (output && output.token.kind === 'word' && /^out(put)?$/i.test(output.token.text)) {
      end = output.token.end;
      last = output.index;
    }
    args.push({ name, valueStart: valueAt.token.start, valueEnd: value.end, end });
    const comma = nextSignificant(tokens, last + 1);
    if (!comma || comma.token.text !== ',') return args;
    at = comma.index + 1;
  }
}

function startsArgument(token: Token): boolean {
  if (token.kind === 'word') return !STATEMENT_WORDS.has(token.text.toLowerCase());
  return (
    token.kind === 'variable' ||
    token.kind === 'string' ||
    token.kind === 'number' ||
    token.kind === 'bracket' ||
    token.text === '-' ||
    token.text === '+'
  );
}

/** A parameter value: a literal, a variable, $(sqlcmd var), a bare word, or a signed number. */
function readValue(tokens: Token[], index: number): { end: number; lastIndex: number } | undefined {
  const token = tokens[index] as Token;
  if (token.text === '-' || token.text === '+') {
    const number = tokens[index + 1];
    return number && number.kind === 'number' ? { end: number.end, lastIndex: index + 1 } : undefined;
  }
  if (token.kind === 'punct' || token.kind === 'sqlcmd') return undefined;
  return { end: token.end, lastIndex: index };
}

function unreadable(text: string, offset: number, procedure: string): SyncTypeRewriteError {
  return new SyncTypeRewriteError(
    lineOf(text, offset),
    `cannot read the arguments of this ${procedure} call; set ${SYNC_TYPE_NONE} in it by hand`,
  );
}

function syncTypeEdit(args: Argument[], procedure: Token, position: number): Edit | undefined {
  const named = args.find((a) => a.name && a.name.text.toLowerCase() === '@sync_type');
  if (named && named.name) return { start: named.name.start, end: named.valueEnd, replacement: SYNC_TYPE_NONE };
  // Positional arguments come first (T-SQL allows no positional one after a named one).
  const leading = args.slice(0, position);
  const positional = leading.length === position && leading.every((a) => !a.name) ? leading[position - 1] : undefined;
  if (positional) return { start: positional.valueStart, end: positional.valueEnd, replacement: "N'none'" };
  const last = args[args.length - 1];
  if (!last) return { start: procedure.end, end: procedure.end, replacement: ` ${SYNC_TYPE_NONE}` };
  return { start: last.end, end: last.end, replacement: `, ${SYNC_TYPE_NONE}` };
}

function applyEdits(text: string, edits: Edit[]): SyncTypeRewrite {
  let out = '';
  let from = 0;
  const placed: { edit: Edit; newStart: number; newEnd: number }[] = [];
  for (const edit of edits) {
    out += text.slice(from, edit.start);
    const newStart = out.length;
    out += edit.replacement;
    placed.push({ edit, newStart, newEnd: out.length });
    from = edit.end;
  }
  out += text.slice(from);
  const changes = placed.map(({ edit, newStart, newEnd }) => ({
    line: lineOf(text, edit.start),
    before: linesAround(text, edit.start, edit.end),
    after: linesAround(out, newStart, newEnd),
  }));
  return { text: out, changes };
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function linesAround(text: string, start: number, end: number): string {
  const from = text.lastIndexOf('\n', start - 1) + 1;
  const newline = text.indexOf('\n', end);
  return text.slice(from, newline === -1 ? text.length : newline).replace(/\r$/, '');
}

// Token patterns, tried in order at each position (sticky: they match only where the scanner is).
const TOKEN_PATTERNS: [TokenKind, RegExp][] = [
  ['space', /[^\S\n]+|\n/y],
  ['comment', /--[^\n]*/y],
  ['string', /[Nn]?'(?:[^']|'')*'?/y],
  ['string', /"(?:[^"]|"")*"?/y],
  ['bracket', /\[(?:[^\]]|\]\])*\]?/y],
  ['word', /\$\([^)\n]*\)?/y], // a sqlcmd $(variable) standing for a value
  ['variable', /@@?[\p{L}\p{N}_@#$]*/uy],
  ['number', /0x[0-9a-f]*|\d+(?:\.\d*)?(?:e[+-]?\d+)?/iy],
  ['word', /[\p{L}_#][\p{L}\p{N}_@#$]*/uy],
];
// A sqlcmd command line (GO, :setvar, :r, !!): one token, never part of a call.
const SQLCMD_LINE = /[ \t]*(?::|!!|go(?![\p{L}\p{N}_@#$]))[^\n]*/iuy;

/** T-SQL tokens, plus sqlcmd command lines as single tokens. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, start: i, end, text: text.slice(i, end) });
    i = end;
  };
  while (i < text.length) {
    if (i === 0 || text[i - 1] === '\n') {
      SQLCMD_LINE.lastIndex = i;
      if (SQLCMD_LINE.exec(text)) {
        push('sqlcmd', SQLCMD_LINE.lastIndex);
        continue;
      }
    }
    if (text.startsWith('/*', i)) {
      push('comment', i + blockCommentLength(text.slice(i)));
      continue;
    }
    const match = matchToken(text, i);
    if (match) push(match.kind, match.end);
    else push('punct', i + 1);
  }
  return tokens;
}

function matchToken(text: string, at: number): { kind: TokenKind; end: number } | undefined {
  for (const [kind, pattern] of TOKEN_PATTERNS) {
    pattern.lastIndex = at;
    if (pattern.exec(text) && pattern.lastIndex > at) return { kind, end: pattern.lastIndex };
  }
  return undefined;
}

/** Length of a (nesting) block comment at the start of text, or all of it when unclosed. */
function blockCommentLength(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length - 1; i++) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth++;
      i++;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}
