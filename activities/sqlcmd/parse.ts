// sqlcmd script parsing, as sqlcmd itself reads a script (DOMAIN.md §1 "sqlcmd script rules"):
// commands only at the start of a line and case-insensitive; `GO [count]` ends a batch unless it
// sits inside a string, a bracketed identifier or a block comment; `:setvar` and `$(NAME)`
// (case-insensitive, substituted inside string literals too but never inside comments); `:r`
// includes; `:on error exit|ignore`. Pure: file access comes in through `resolveInclude`, so the
// lab (and the workflow sandbox, if it ever needs to) can use it.

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

export interface ParsedScript {
  batches: SqlcmdBatch[];
  /** The `:on error` setting in force at the end of the script. */
  onError: OnError;
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

/** A script that sqlcmd would refuse, with the file and line to fix. */
export class SqlcmdError extends Error {
  constructor(
    public readonly file: string,
    public readonly line: number,
    public readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'SqlcmdError';
  }
}

// Where the scanner is at the end of a line: code, or inside something that spans lines.
type Mode =
  | { kind: 'code' }
  | { kind: 'block-comment'; depth: number; file: string; line: number }
  | { kind: 'string'; quote: "'" | '"'; file: string; line: number }
  | { kind: 'bracket'; file: string; line: number };

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VARIABLE_REF = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)/;
// sqlcmd commands that only change where sqlcmd prints: nothing to do when replup runs the script.
const OUTPUT_ONLY_COMMANDS = new Set(['out', 'error', 'perftrace', 'list', 'listvar', 'help', 'serverlist', 'xml']);
const MAX_INCLUDE_DEPTH = 32;

export function parseSqlcmd(text: string, options: ParseOptions = {}): ParsedScript {
  return new SqlcmdParser(options).parse(text);
}

class SqlcmdParser {
  private readonly vars = new Map<string, string>();
  private readonly batches: SqlcmdBatch[] = [];
  private onError: OnError;
  private mode: Mode = { kind: 'code' };
  private lines: string[] = [];
  private batchStart: { file: string; line: number } | undefined;
  private readonly includeStack: string[] = [];
  private quit = false;

  constructor(private readonly options: ParseOptions) {
    for (const [name, value] of Object.entries(options.vars ?? {})) this.vars.set(name.toUpperCase(), value);
    this.onError = options.onError ?? 'ignore';
  }

  parse(text: string): ParsedScript {
    const file = this.options.file ?? 'script.sql';
    const lastLine = this.readFile(text, file);
    if (!this.quit) {
      this.failIfOpen(file, lastLine);
      this.endBatch(1);
    }
    return { batches: this.batches, onError: this.onError };
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
    // [:]RESET, [:]ED, [:]!!, [:]QUIT, [:]EXIT may be written without the colon.
    const bare = /^(reset|ed|quit|exit)\s*(\(\s*\))?\s*$/i.exec(text);
    if (bare) return this.run((bare[1] ?? '').toLowerCase(), bare[2] ? '()' : '', file, line);
    if (text.startsWith('!!') || text.startsWith(':!!')) return this.run('!!', '', file, line);
    const colon = /^:([A-Za-z]+)(.*)$/.exec(text);
    if (colon) return this.run((colon[1] ?? '').toLowerCase(), (colon[2] ?? '').trim(), file, line);
    return false;
  }

  private run(name: string, rest: string, file: string, line: number): true {
    switch (name) {
      case 'setvar':
        this.setvar(rest, file, line);
        return true;
      case 'r':
        this.include(rest, file, line);
        return true;
      case 'on': {
        const m = /^error\s+(exit|ignore)$/i.exec(rest);
        if (!m) throw new SqlcmdError(file, line, `':on ${rest}' is not valid: write ':on error exit' or ':on error ignore'`);
        this.onError = (m[1] ?? '').toLowerCase() as OnError;
        return true;
      }
      case 'reset':
        this.lines = [];
        this.batchStart = undefined;
        return true;
      case 'quit':
        this.quit = true;
        return true;
      case 'exit':
        if (rest === '' || /^\(\s*\)$/.test(rest)) {
          // `:exit()` runs the current batch first; plain `:exit` drops it, like :quit.
          if (rest !== '') this.endBatch(1);
          this.quit = true;
          return true;
        }
        throw new SqlcmdError(file, line, `':exit${rest}' with a query is not supported by replup: end the script with GO instead`);
      case 'connect':
        throw new SqlcmdError(file, line, `':connect' is not supported: replup runs each script on the database the plan names; remove the ':connect' line`);
      case 'ed':
      case '!!':
        throw new SqlcmdError(file, line, `'${name === 'ed' ? ':ed' : '!!'}' runs a program on the sqlcmd machine and is not supported by replup; remove the line`);
      default:
        if (OUTPUT_ONLY_COMMANDS.has(name)) return true;
        throw new SqlcmdError(file, line, `unknown sqlcmd command ':${name}'`);
    }
  }

  private goCount(rest: string, file: string, line: number): number {
    const m = /^\s*(\d+)?\s*(--.*)?$/.exec(rest);
    if (!m) throw new SqlcmdError(file, line, `'GO' may only be followed by a repeat count (e.g. 'GO 3'), found '${rest.trim()}'`);
    if (m[1] === undefined) return 1;
    const count = Number(m[1]);
    if (count < 1 || !Number.isSafeInteger(count)) throw new SqlcmdError(file, line, `'GO ${m[1]}': the repeat count must be 1 or more`);
    return count;
  }

  private setvar(rest: string, file: string, line: number): void {
    const m = /^(\S+)\s*(.*)$/.exec(rest);
    if (!m) throw new SqlcmdError(file, line, `':setvar' needs a variable name: ':setvar NAME "value"'`);
    const name = m[1] ?? '';
    if (!VARIABLE_NAME.test(name)) {
      throw new SqlcmdError(file, line, `':setvar ${name}': a variable name is letters, digits and '_', not starting with a digit`);
    }
    const valueText = this.substitute(m[2] ?? '', file, line);
    if (valueText === '') {
      this.vars.delete(name.toUpperCase()); // sqlcmd: `:setvar NAME` with no value drops the variable
      return;
    }
    this.vars.set(name.toUpperCase(), this.setvarValue(valueText, name, file, line));
  }

  private setvarValue(text: string, name: string, file: string, line: number): string {
    if (!text.startsWith('"')) {
      if (/\s/.test(text)) {
        throw new SqlcmdError(file, line, `':setvar ${name} ${text}': a value with spaces must be in double quotes, e.g. :setvar ${name} "${text}"`);
      }
      return text;
    }
    let value = '';
    for (let i = 1; i < text.length; i++) {
      const c = text[i];
      if (c !== '"') {
        value += c;
        continue;
      }
      if (text[i + 1] === '"') {
        value += '"'; // "" inside a quoted value is one "
        i++;
        continue;
      }
      if (text.slice(i + 1).trim() !== '') {
        throw new SqlcmdError(file, line, `':setvar ${name}': unexpected text after the closing quote: '${text.slice(i + 1).trim()}'`);
      }
      return value;
    }
    throw new SqlcmdError(file, line, `':setvar ${name}': the value's double quote is never closed`);
  }

  private include(rest: string, file: string, line: number): void {
    let path = this.substitute(rest, file, line);
    const quoted = /^"(.*)"$/.exec(path);
    if (quoted) path = quoted[1] ?? '';
    if (path === '') throw new SqlcmdError(file, line, `':r' needs a file name: ':r other.sql'`);
    const resolve = this.options.resolveInclude;
    if (!resolve) throw new SqlcmdError(file, line, `':r ${path}': this script is read without a folder, so it cannot include other files`);
    let included: IncludedFile;
    try {
      included = resolve(path, file);
    } catch (err) {
      throw new SqlcmdError(file, line, `':r ${path}': cannot read the file (${err instanceof Error ? err.message : String(err)})`);
    }
    if (this.includeStack.includes(included.file)) {
      throw new SqlcmdError(file, line, `':r ${path}' includes ${included.file}, which is already being read (${[...this.includeStack, included.file].join(' → ')})`);
    }
    if (this.includeStack.length >= MAX_INCLUDE_DEPTH) {
      throw new SqlcmdError(file, line, `':r ${path}': includes nest deeper than ${MAX_INCLUDE_DEPTH} files`);
    }
    this.readFile(included.text, included.file);
  }

  /** Substitutes $(NAME) everywhere in a command argument. */
  private substitute(text: string, file: string, line: number): string {
    let out = '';
    for (let i = 0; i < text.length; ) {
      if (text.startsWith('$(', i)) {
        const [value, length] = this.variable(text, i, file, line);
        out += value;
        i += length;
      } else {
        out += text[i];
        i += 1;
      }
    }
    return out;
  }

  private variable(text: string, at: number, file: string, line: number): [string, number] {
    const m = VARIABLE_REF.exec(text.slice(at));
    if (!m) throw new SqlcmdError(file, line, `'$(' must start a variable reference such as $(DatabaseName), found '${text.slice(at, at + 20)}'`);
    const name = m[1] ?? '';
    const value = this.vars.get(name.toUpperCase());
    if (value === undefined) {
      throw new SqlcmdError(file, line, `variable $(${name}) is not defined: add ':setvar ${name} "value"' before this line or pass it as a script variable`);
    }
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
        const [value, length] = this.variable(raw, i, file, line);
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
      if (c === "'" || c === '"') this.mode = { kind: 'string', quote: c, file, line };
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
