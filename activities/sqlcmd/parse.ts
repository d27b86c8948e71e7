// sqlcmd script parsing, as sqlcmd itself reads a script (DOMAIN.md §1 "sqlcmd script rules"):
// commands only at the start of a line and case-insensitive; `GO [count]` ends a batch unless it
// sits inside a string, a bracketed identifier or a block comment; `:setvar` and `$(NAME)`
// (case-insensitive, substituted inside string literals too but never inside comments); `:r`
// includes; `:on error exit|ignore`. Pure: file access comes in through `resolveInclude`, so the
// lab (and the workflow sandbox, if it ever needs to) can use it.
//
// Rules from https://learn.microsoft.com/en-us/sql/tools/sqlcmd/sqlcmd-utility ("sqlcmd Commands"):
// a command is on a line of its own and "cannot be followed by a Transact-SQL statement or another
// command"; the GO page (https://learn.microsoft.com/en-us/sql/t-sql/language-elements/sql-server-utilities-statements-go)
// says a GO line "can contain comments". Comments after `:setvar` values and `QUIT` are accepted by
// ODBC sqlcmd and SSMS (go-sqlcmd issue 546). Where the pages are silent (a block comment after a
// command, a comment after an unquoted `:r` path), replup takes the safe reading and refuses with a
// message rather than send text sqlcmd would not.
//
// Values that come from outside the script (the plan's variables, sqlcmd's predefined ones) are
// checked where they stand: sqlcmd pastes them as text, so `]` or `'` in a database name would end
// a `[bracketed]` name or a 'string' early, and a crafted name would become an extra statement.
// replup escapes them as their place requires (`]]` inside brackets, `''` inside '…', `""` inside
// "…", which is a string because sqlcmd runs with QUOTED_IDENTIFIER OFF) and refuses a value that
// stands bare unless it is a plain identifier or number. Values a script sets itself with :setvar
// are the script author's text and are pasted as sqlcmd pastes them.

export type OnError = 'exit' | 'ignore';

export interface SqlcmdBatch {
  /** The batch text after variable substitution, without its GO line. */
  sql: string;
  /** `GO 3` runs the batch 3 times. */
  repeat: number;
  /** Line (1-based) of the batch's first non-blank line, in `file`. Server error line N maps to line + N - 1. */
  line: number;
  /** The file the batch starts in (the script, or a file pulled in with `:r`). */
  file: string;
  /** The `:on error` setting in force when the batch ends. */
  onError: OnError;
}

/** Where a `$(NAME)` stands: what the server will read the value as. */
export type VariableContext = 'bracket' | 'string' | 'double-quoted' | 'bare' | 'command';

export interface VariableReference {
  /** The name as written in the script. */
  name: string;
  file: string;
  line: number;
  context: VariableContext;
  /** True when the value came from outside the script (ParseOptions.vars), not from its own :setvar. */
  external: boolean;
}

export interface ParsedScript {
  batches: SqlcmdBatch[];
  /** The `:on error` setting in force at the end of the script. */
  onError: OnError;
  /** Every substituted `$(NAME)`, in order (comments are never substituted). */
  references: VariableReference[];
  /** Every `:setvar` line, with the name it sets. */
  setvars: { name: string; file: string; line: number }[];
}

export interface IncludedFile {
  /** Name used in messages and for includes nested inside it. */
  file: string;
  text: string;
}

export interface ParseOptions {
  /** Script variables, as `sqlcmd -v NAME=value`. Names are case-insensitive. */
  vars?: Record<string, string>;
  /** Reads the file named by `:r path`, relative to the including file `from`. */
  resolveInclude?: (path: string, from: string) => IncludedFile;
  /** Script name for messages; default `script.sql`. */
  file?: string;
  /** Behaviour before any `:on error` line; sqlcmd's default (no -b) is ignore. */
  onError?: OnError;
}

// sqlcmd's scripting variables that it sets itself and a script may only read ("R" in the table
// of https://learn.microsoft.com/en-us/sql/tools/sqlcmd/sqlcmd-use-scripting-variables).
const READ_ONLY_VARIABLES = new Set([
  'SQLCMDUSER',
  'SQLCMDPASSWORD',
  'SQLCMDSERVER',
  'SQLCMDWORKSTATION',
  'SQLCMDDBNAME',
  'SQLCMDPACKETSIZE',
  'SQLCMDINI',
]);
// replup never writes a credential into a script: the login is resolved by the worker.
const CREDENTIAL_VARIABLES = new Set(['SQLCMDUSER', 'SQLCMDPASSWORD']);
// A value that may stand bare in T-SQL: a regular identifier or a number.
const PLAIN_VALUE = /^(?:[\p{L}_][\p{L}\p{N}_]*|\d+(?:\.\d+)?)$/u;
const ESCAPES: Record<Exclude<VariableContext, 'bare' | 'command'>, [string, string]> = {
  bracket: [']', ']]'],
  string: ["'", "''"],
  'double-quoted': ['"', '""'],
};

/** A script that sqlcmd would refuse, with the file and line to fix. */
export class SqlcmdError extends Error {
  constructor(
    public readonly file: string,
    public readonly line: number,
    public readonly detail: string,
    /** The variable the problem is about, when it is one. */
    public readonly variable?: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'SqlcmdError';
  }
}

// Where the scanner is at the end of a line: code, or inside something that spans lines.
type Mode =
  | { kind: 'code' }
  | { kind: 'block-comment'; depth: number; file: string; line: number }
  | { kind: 'string'; quote: "'" | '"'; file: string; line: number; unicode: boolean }
  | { kind: 'bracket'; file: string; line: number };

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VARIABLE_REF = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)/;
// sqlcmd commands that only change where sqlcmd prints: nothing to do when replup runs the script.
const OUTPUT_ONLY_COMMANDS = new Set(['out', 'error', 'perftrace', 'list', 'listvar', 'help', 'serverlist', 'xml']);
const MAX_INCLUDE_DEPTH = 32;

export function parseSqlcmd(text: string, options: ParseOptions = {}): ParsedScript {
  return new SqlcmdParser(options).parse(text);
}

interface Variable {
  value: string;
  /** From outside the script, or built with such a value: checked and escaped where it stands. */
  external: boolean;
}

class SqlcmdParser {
  private readonly vars = new Map<string, Variable>();
  private readonly references: VariableReference[] = [];
  private readonly setvars: { name: string; file: string; line: number }[] = [];
  private readonly batches: SqlcmdBatch[] = [];
  private onError: OnError;
  private mode: Mode = { kind: 'code' };
  private lines: string[] = [];
  private batchStart: { file: string; line: number } | undefined;
  private readonly includeStack: string[] = [];
  private quit = false;

  constructor(private readonly options: ParseOptions) {
    for (const [name, value] of Object.entries(options.vars ?? {}))
      this.vars.set(name.toUpperCase(), { value, external: true });
    this.onError = options.onError ?? 'ignore';
  }

  parse(text: string): ParsedScript {
    const file = this.options.file ?? 'script.sql';
    const lastLine = this.readFile(text, file);
    if (!this.quit) {
      this.failIfOpen(file, lastLine);
      this.endBatch(1);
    }
    return { batches: this.batches, onError: this.onError, references: this.references, setvars: this.setvars };
  }

  /** Reads one file's lines into the batch buffer; returns its last line number. */
  private readFile(text: string, file: string): number {
    this.includeStack.push(file);
    const lines = text.split(/\r?\n/);
    let n = 0;
    for (const raw of lines) {
      n += 1;
      if (this.quit) break;
      if (this.mode.kind === 'code' && this.command(raw, file, n)) continue;
      this.append(this.scan(raw, file, n), file, n);
    }
    this.includeStack.pop();
    return n;
  }

  /** Handles a sqlcmd command line; false when the line is T-SQL. */
  private command(raw: string, file: string, line: number): boolean {
    const text = raw.replace(/^\s+/, '');
    const go = /^go(?![\p{L}\p{N}_@#$])(.*)$/iu.exec(text);
    if (go) {
      this.endBatch(this.goCount(go[1] ?? '', file, line));
      return true;
    }
    // [:]RESET, [:]ED, [:]!!, [:]QUIT, [:]EXIT may be written without the colon, and (as ODBC
    // sqlcmd accepts, go-sqlcmd issue 546) be followed by a -- comment.
    const bare = /^(reset|ed|quit|exit)(?![\p{L}\p{N}_@#$])\s*(\(\s*\))?(.*)$/iu.exec(text);
    if (bare && this.isCommandEnd(bare[3] ?? '')) {
      this.commandComment(bare[3] ?? '', `${bare[1]}`, file, line);
      return this.run((bare[1] ?? '').toLowerCase(), bare[2] ? '()' : '', file, line);
    }
    if (text.startsWith('!!') || text.startsWith(':!!')) return this.run('!!', '', file, line);
    const colon = /^:([A-Za-z]+)(.*)$/.exec(text);
    if (colon) return this.run((colon[1] ?? '').toLowerCase(), (colon[2] ?? '').trim(), file, line);
    return false;
  }

  /** Whether what follows a bare QUIT/EXIT/RESET/ED ends the command (else the line is T-SQL). */
  private isCommandEnd(rest: string): boolean {
    return /^\s*($|--|\/\*)/.test(rest);
  }

  /**
   * What may follow a command: nothing, or a `--` comment. A block comment is refused: the pages
   * are silent, and an unclosed one would swallow the lines after it in SSMS but not in sqlcmd.
   */
  private commandComment(rest: string, command: string, file: string, line: number): void {
    const after = rest.trim();
    if (after === '' || after.startsWith('--')) return;
    if (after.startsWith('/*')) {
      throw new SqlcmdError(
        file,
        line,
        `'${command}' is followed by a /* block comment */: sqlcmd's documentation does not say how it reads ` +
          `one there, so replup refuses it; use a -- comment or put the comment on its own line`,
      );
    }
    throw new SqlcmdError(
      file,
      line,
      `'${command}' must be alone on its line (sqlcmd: "a command cannot be followed by a Transact-SQL ` +
        `statement or another command"), found '${after}'`,
    );
  }

  /** Splits `value -- comment` of a command whose argument is one word or a double-quoted text. */
  private argument(rest: string, command: string, file: string, line: number): string {
    if (rest.startsWith('"')) {
      const close = closingQuote(rest);
      if (close < 0) throw new SqlcmdError(file, line, `'${command}': the double quote is never closed`);
      this.commandComment(rest.slice(close + 1), command, file, line);
      return rest.slice(0, close + 1);
    }
    const m = /^(\S*)(.*)$/.exec(rest) as RegExpExecArray;
    const after = (m[2] ?? '').trim();
    if (after !== '' && !after.startsWith('--') && !after.startsWith('/*')) return rest; // the caller reports spaces
    this.commandComment(m[2] ?? '', command, file, line);
    return m[1] ?? '';
  }

  private run(name: string, rest: string, file: string, line: number): true {
    switch (name) {
      case 'setvar':
        this.setvar(rest, file, line);
        return true;
      case 'r':
        this.include(this.argument(rest, ':r', file, line), file, line);
        return true;
      case 'on': {
        const m = /^error\s+(exit|ignore)(?![A-Za-z])(.*)$/i.exec(rest);
        if (!m)
          throw new SqlcmdError(file, line, `':on ${rest}' is not valid: write ':on error exit' or ':on error ignore'`);
        this.commandComment(m[2] ?? '', `:on error ${m[1]}`, file, line);
        this.onError = (m[1] ?? '').toLowerCase() as OnError;
        return true;
      }
      case 'reset':
        this.lines = [];
        this.batchStart = undefined;
        return true;
      case 'quit':
        this.commandComment(rest.replace(/^\(\s*\)/, ''), ':quit', file, line);
        this.quit = true;
        return true;
      case 'exit': {
        const m = /^(\(\s*\))?(.*)$/.exec(rest) as RegExpExecArray;
        const after = (m[2] ?? '').trim();
        if (after === '' || after.startsWith('--') || after.startsWith('/*')) {
          this.commandComment(after, ':exit', file, line);
          // `:exit()` runs the current batch first; plain `:exit` drops it, like :quit.
          if (m[1]) this.endBatch(1);
          this.quit = true;
          return true;
        }
        throw new SqlcmdError(
          file,
          line,
          `':exit${rest}' with a query is not supported by replup: end the script with GO instead`,
        );
      }
      case 'connect':
        throw new SqlcmdError(
          file,
          line,
          `':connect' is not supported: replup runs each script on the database the plan names; remove the ` +
            `':connect' line`,
        );
      case 'ed':
      case '!!':
        throw new SqlcmdError(
          file,
          line,
          `'${name === 'ed' ? ':ed' : '!!'}' runs a program on the sqlcmd machine and is not supported by ` +
            `replup; remove the line`,
        );
      default:
        if (OUTPUT_ONLY_COMMANDS.has(name)) return true;
        throw new SqlcmdError(file, line, `unknown sqlcmd command ':${name}'`);
    }
  }

  private goCount(rest: string, file: string, line: number): number {
    // "The line can contain comments" (GO page): -- to the end, or block comments closed on the line.
    const m = /^\s*(\d+)?\s*((?:\/\*(?:(?!\*\/).)*\*\/\s*)*)(--.*)?$/.exec(rest);
    if (!m) {
      if (/\/\*/.test(rest)) {
        throw new SqlcmdError(
          file,
          line,
          `a block comment that starts on a GO line must end on it: close it with */ on this line or use a -- comment`,
        );
      }
      throw new SqlcmdError(
        file,
        line,
        `'GO' may only be followed by a repeat count (e.g. 'GO 3'), found '${rest.trim()}'`,
      );
    }
    if (m[1] === undefined) return 1;
    const count = Number(m[1]);
    if (count < 1 || !Number.isSafeInteger(count))
      throw new SqlcmdError(file, line, `'GO ${m[1]}': the repeat count must be 1 or more`);
    return count;
  }

  private setvar(rest: string, file: string, line: number): void {
    const m = /^(\S+)\s*(.*)$/.exec(rest);
    if (!m) throw new SqlcmdError(file, line, `':setvar' needs a variable name: ':setvar NAME "value"'`);
    const name = m[1] ?? '';
    if (!VARIABLE_NAME.test(name)) {
      throw new SqlcmdError(
        file,
        line,
        `':setvar ${name}': a variable name is letters, digits and '_', not starting with a digit`,
      );
    }
    if (READ_ONLY_VARIABLES.has(name.toUpperCase())) {
      throw new SqlcmdError(
        file,
        line,
        `':setvar ${name}': ${name.toUpperCase()} is set by sqlcmd at start-up and cannot be changed by a ` +
          `script; remove the line`,
        name,
      );
    }
    this.setvars.push({ name, file, line });
    const before = this.references.length;
    const valueText = this.substitute(m[2] ?? '', file, line);
    const external = this.references.slice(before).some((r) => r.external);
    // `:setvar NAME` alone drops the variable; a comment alone counts as no value.
    if (valueText === '' || /^--/.test(valueText)) {
      this.vars.delete(name.toUpperCase());
      return;
    }
    this.vars.set(name.toUpperCase(), { value: this.setvarValue(valueText, name, file, line), external });
  }

  private setvarValue(text: string, name: string, file: string, line: number): string {
    if (!text.startsWith('"')) {
      const value = this.argument(text, `:setvar ${name}`, file, line);
      if (/\s/.test(value)) {
        throw new SqlcmdError(
          file,
          line,
          `':setvar ${name} ${text}': a value with spaces must be in double quotes, e.g. :setvar ${name} "${text}"`,
        );
      }
      return value;
    }
    const close = closingQuote(text);
    if (close < 0) throw new SqlcmdError(file, line, `':setvar ${name}': the value's double quote is never closed`);
    // A -- comment may follow the closing quote (ODBC sqlcmd and SSMS accept it; go-sqlcmd issue 546).
    const after = text.slice(close + 1).trim();
    if (after !== '' && !after.startsWith('--') && !after.startsWith('/*')) {
      throw new SqlcmdError(
        file,
        line,
        `':setvar ${name}': unexpected text after the closing quote: '${after}' (only a -- comment may follow)`,
      );
    }
    this.commandComment(after, `:setvar ${name}`, file, line);
    return text.slice(1, close).replace(/""/g, '"'); // "" inside a quoted value is one "
  }

  private include(rest: string, file: string, line: number): void {
    let path = this.substitute(rest, file, line);
    const quoted = /^"(.*)"$/.exec(path);
    if (quoted) path = quoted[1] ?? '';
    else if (/\s/.test(path)) {
      throw new SqlcmdError(file, line, `':r ${path}': a path with spaces must be in double quotes, e.g. :r "${path}"`);
    }
    if (path === '') throw new SqlcmdError(file, line, `':r' needs a file name: ':r other.sql'`);
    const resolve = this.options.resolveInclude;
    if (!resolve)
      throw new SqlcmdError(
        file,
        line,
        `':r ${path}': this script is read without a folder, so it cannot include other files`,
      );
    let included: IncludedFile;
    try {
      included = resolve(path, file);
    } catch (err) {
      throw new SqlcmdError(
        file,
        line,
        `':r ${path}': cannot read the file (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    if (this.includeStack.includes(included.file)) {
      throw new SqlcmdError(
        file,
        line,
        `':r ${path}' includes ${included.file}, which is already being read (` +
          `${[...this.includeStack, included.file].join(' → ')})`,
      );
    }
    if (this.includeStack.length >= MAX_INCLUDE_DEPTH) {
      throw new SqlcmdError(file, line, `':r ${path}': includes nest deeper than ${MAX_INCLUDE_DEPTH} files`);
    }
    this.readFile(included.text, included.file);
  }

  /** Substitutes $(NAME) everywhere in a command argument (as text: the command reads it, not the server). */
  private substitute(text: string, file: string, line: number): string {
    let out = '';
    for (let i = 0; i < text.length;) {
      if (text.startsWith('$(', i)) {
        const [value, length] = this.variable(text, i, file, line, 'command');
        out += value;
        i += length;
      } else {
        out += text[i];
        i += 1;
      }
    }
    return out;
  }

  /**
   * The value of the reference at `at`, made safe for where it stands when it came from outside
   * the script. `before` is the line's text so far (a '[' just before, inside a string, is a name
   * in dynamic SQL: `]` is doubled there too).
   */
  private variable(
    text: string,
    at: number,
    file: string,
    line: number,
    context: VariableContext,
    before = '',
    unicode = false,
  ): [string, number] {
    const m = VARIABLE_REF.exec(text.slice(at));
    if (!m)
      throw new SqlcmdError(
        file,
        line,
        `'$(' must start a variable reference such as $(DatabaseName), found '${text.slice(at, at + 20)}'`,
      );
    const name = m[1] ?? '';
    const variable = this.vars.get(name.toUpperCase());
    if (variable === undefined) {
      if (CREDENTIAL_VARIABLES.has(name.toUpperCase())) {
        throw new SqlcmdError(
          file,
          line,
          `$(${name}) is not provided: replup never puts a login or password into a script (the worker ` +
            `resolves the plan's credentials); remove the reference`,
          name,
        );
      }
      throw new SqlcmdError(
        file,
        line,
        `variable $(${name}) is not defined: add ':setvar ${name} "value"' before this line or pass it as a ` +
          `script variable (the plan's scripts.variables)`,
        name,
      );
    }
    this.references.push({ name, file, line, context, external: variable.external });
    if (!variable.external || context === 'command') return [variable.value, m[0].length];
    if (context === 'bare') {
      if (!PLAIN_VALUE.test(variable.value)) {
        throw new SqlcmdError(
          file,
          line,
          `$(${name}) stands bare in the script (not inside [brackets] or quotes), and its value '` +
            `${variable.value}' is not a plain name or number: sqlcmd would paste it as T-SQL, so it could end ` +
            `the statement or add one. Put the reference inside [brackets] or N'quotes' in the script, or use ` +
            `a value of letters, digits and '_'`,
          name,
        );
      }
      return [variable.value, m[0].length];
    }
    // "Without the N prefix, the string is converted to the default code page of the database"
    // (https://learn.microsoft.com/en-us/sql/t-sql/data-types/nchar-and-nvarchar-transact-sql): a
    // letter outside ASCII could arrive as '?', naming another object than the fleet's.
    // eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL on purpose
    if (context !== 'bracket' && !unicode && /[^\x00-\x7f]/.test(variable.value)) {
      throw new SqlcmdError(
        file,
        line,
        `$(${name}) stands in a string without the N prefix, and its value '${variable.value}' has letters ` +
          `outside ASCII, which SQL Server converts to the database's code page (they may arrive as '?'). ` +
          `Write N'$(${name})' in the script`,
        name,
      );
    }
    let value = variable.value.split(ESCAPES[context][0]).join(ESCAPES[context][1]);
    if (context !== 'bracket' && /\[\s*$/.test(before)) value = value.split(']').join(']]');
    return [value, m[0].length];
  }

  /**
   * Scans one T-SQL line: tracks strings, bracketed identifiers and comments across lines, and
   * substitutes variables everywhere except in comments.
   */
  private scan(raw: string, file: string, line: number): string {
    let out = '';
    let i = 0;
    while (i < raw.length) {
      const c = raw[i] as string;
      const next = raw[i + 1];
      const mode = this.mode;
      if (mode.kind === 'block-comment') {
        // T-SQL block comments nest.
        if (c === '/' && next === '*') {
          mode.depth += 1;
          out += '/*';
          i += 2;
        } else if (c === '*' && next === '/') {
          mode.depth -= 1;
          if (mode.depth === 0) this.mode = { kind: 'code' };
          out += '*/';
          i += 2;
        } else {
          out += c;
          i += 1;
        }
        continue;
      }
      if (c === '$' && next === '(') {
        const context: VariableContext =
          mode.kind === 'bracket'
            ? 'bracket'
            : mode.kind === 'string'
              ? mode.quote === "'"
                ? 'string'
                : 'double-quoted'
              : 'bare';
        const [value, length] = this.variable(raw, i, file, line, context, out, mode.kind === 'string' && mode.unicode);
        out += value;
        i += length;
        continue;
      }
      if (mode.kind === 'string' || mode.kind === 'bracket') {
        const close = mode.kind === 'string' ? mode.quote : ']';
        if (c === close && next === close) {
          out += c + c; // doubled quote or ]] stays inside
          i += 2;
          continue;
        }
        if (c === close) this.mode = { kind: 'code' };
        out += c;
        i += 1;
        continue;
      }
      if (c === '-' && next === '-') return out + raw.slice(i); // line comment: verbatim to the end
      if (c === '/' && next === '*') {
        this.mode = { kind: 'block-comment', depth: 1, file, line };
        out += '/*';
        i += 2;
        continue;
      }
      // N'…' is an nvarchar constant; any other string is converted to the database's code page.
      if (c === "'" || c === '"')
        this.mode = {
          kind: 'string',
          quote: c,
          file,
          line,
          unicode: c === "'" && /(?:^|[^\p{L}\p{N}_@#$])[Nn]$/u.test(out),
        };
      else if (c === '[') this.mode = { kind: 'bracket', file, line };
      out += c;
      i += 1;
    }
    return out;
  }

  private append(text: string, file: string, line: number): void {
    if (this.batchStart === undefined) {
      if (text.trim() === '') return; // leading blank lines: start the batch at its first real line
      this.batchStart = { file, line };
    }
    this.lines.push(text);
  }

  private endBatch(repeat: number): void {
    const start = this.batchStart;
    const sql = this.lines.join('\n').replace(/\s+$/, '');
    this.lines = [];
    this.batchStart = undefined;
    if (start === undefined || sql === '') return;
    this.batches.push({ sql, repeat, line: start.line, file: start.file, onError: this.onError });
  }

  private failIfOpen(file: string, lastLine: number): void {
    const mode = this.mode;
    if (mode.kind === 'code') return;
    const what =
      mode.kind === 'block-comment'
        ? `the block comment opened at ${mode.file}:${mode.line} is never closed with */`
        : mode.kind === 'bracket'
          ? `the bracketed identifier opened at ${mode.file}:${mode.line} is never closed with ]`
          : `the string opened at ${mode.file}:${mode.line} is never closed with ${mode.quote}`;
    throw new SqlcmdError(file, lastLine, `end of script: ${what}`);
  }
}

/**
 * `resolveInclude` over files read beforehand (Script.includes), keyed by the path as the script
 * writes it: the runner and the lab read exactly the include text the activity read.
 */
export function includesFrom(files: Readonly<Record<string, IncludedFile>>): (path: string) => IncludedFile {
  return (path) => {
    const found = Object.hasOwn(files, path) ? files[path] : undefined;
    if (!found) throw new Error(`${path} was not read with the script; run the step again`);
    return found;
  };
}

/** Index of the double quote closing a value that starts with one (`""` is a quote inside), or -1. */
function closingQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] !== '"') continue;
    if (text[i + 1] === '"') {
      i++;
      continue;
    }
    return i;
  }
  return -1;
}
