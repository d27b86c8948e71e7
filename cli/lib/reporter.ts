// How every command writes (modelled on yarn berry's StreamReport): text for people, or with
// --json one JSON document and nothing else on stdout; warnings, errors and progress notes on
// stderr in either mode, so `replup … --json | jq` always reads a whole document. The streams are
// injected: main() passes the process's, tests and the demo their own.
import { EXIT } from '../errors.js';

/** Where a reporter writes: anything with write(string) (process.stdout, a test's buffer). */
export interface Output {
  write(chunk: string): unknown;
}

export interface Streams {
  stdout: Output;
  stderr: Output;
}

/** The process's own streams, read at the call (a test may have replaced them by then). */
export const processStreams = (): Streams => ({ stdout: process.stdout, stderr: process.stderr });

/** What a command that tests call directly returns: its stdout text and its exit code (README: Exit codes). */
export interface CommandOutput {
  /** What to print on stdout (ends with a newline). */
  text: string;
  exitCode: number;
}

export interface DocumentOptions {
  /** One line (`{"resolved":2}`) instead of the indented document. */
  compact?: boolean;
}

export class Reporter {
  readonly streams: Streams;

  /** `json`: the command's --json; `streams`: default the process's stdout and stderr. */
  constructor(
    readonly json = false,
    streams?: Streams,
  ) {
    this.streams = streams ?? processStreams();
  }

  /** Text for people, written as given (the caller ends its lines); nothing under --json. */
  text(text: string): void {
    if (!this.json) this.streams.stdout.write(text);
  }

  /** One line for people; nothing under --json. */
  line(line: string): void {
    this.text(`${line}\n`);
  }

  /** The JSON document, under --json only: indented by 2 (or compact), ending in a newline. */
  document(value: unknown, opts: DocumentOptions = {}): void {
    if (this.json) this.streams.stdout.write(`${JSON.stringify(value, null, opts.compact ? undefined : 2)}\n`);
  }

  /** What the command found: `value` as the document under --json, else `text()` (only then rendered). */
  result(value: unknown, text: () => string, opts: DocumentOptions = {}): void {
    if (this.json) this.document(value, opts);
    else this.text(text());
  }

  /**
   * stdout as given, in either mode: a result rendered already for this mode (a CommandOutput's
   * text), or what a script reads either way (the paths `report --out` wrote).
   */
  print(text: string): void {
    this.streams.stdout.write(text);
  }

  /** `replup: warning: …` on stderr, in either mode: the operator must read it, scripts must not parse it. */
  warning(message: string): void {
    this.streams.stderr.write(`replup: warning: ${message}\n`);
  }

  /** `replup: …` on stderr, then each detail line indented by two spaces. */
  error(message: string, detail: readonly string[] = []): void {
    this.streams.stderr.write(`replup: ${message}\n${detail.map((d) => `  ${d}\n`).join('')}`);
  }

  /** A note on what is happening (a server starting, a worker serving): stderr, as written, plus a newline. */
  note(line: string): void {
    this.streams.stderr.write(`${line}\n`);
  }
}

/**
 * Runs `fill` with a reporter whose stdout is a string, for the commands whose functions tests call
 * (plan validate, lab check, …): returns that text with the exit code `fill` returns (default 0).
 * Warnings and errors still go to the process's stderr.
 */
export function captureReport(json: boolean | undefined, fill: (report: Reporter) => number | void): CommandOutput {
  let text = '';
  const report = new Reporter(json === true, { stdout: { write: (s: string) => (text += s) }, stderr: process.stderr });
  const exitCode = fill(report) ?? EXIT.ok;
  return { text, exitCode };
}
