// Running Debian's Berkeley DB 5.3 utilities (package db5.3-util). With
// `set_verbose DB_VERB_REPLICATION on` every tool that opens a replicated environment prints
// "[sec:usec][pid/tid] tool: ..." lines to stdout (seen on loopback); `output` keeps them apart
// from the tool's own output.
import { spawn } from 'node:child_process';

/** Debian names the tools db5.3_*; another build may call them db_* (REPLUP_BDB_TOOL_PREFIX=db_). */
export function bdbTool(name: string): string {
  return `${process.env.REPLUP_BDB_TOOL_PREFIX ?? 'db5.3_'}${name}`;
}

export interface ToolResult {
  command: string;
  code: number | null;
  /** stdout without the verbose replication messages. */
  output: string;
  /** The verbose replication messages the tool printed. */
  messages: string;
  stderr: string;
}

const VERBOSE_LINE = /^\[\d+:\d+\]\[\d+\/\d+\] /;

/** Run a db5.3 tool to completion (bounded by timeoutMs), never throwing on a non-zero exit. */
export function runTool(
  name: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<ToolResult> {
  const file = bdbTool(name);
  const command = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new Error(
              `${file} not found: install Debian's db5.3-util (apt-get install -y db5.3-util) or set ` +
                `REPLUP_BDB_TOOL_PREFIX`,
            )
          : err,
      );
    });
    child.on('close', (code) => {
      const lines = stdout.split('\n');
      resolve({
        command,
        code,
        output: lines.filter((l) => !VERBOSE_LINE.test(l)).join('\n'),
        messages: lines.filter((l) => VERBOSE_LINE.test(l)).join('\n'),
        stderr,
      });
    });
    if (child.stdin) {
      // A tool that fails early closes its stdin: its exit code and stderr tell why, not EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** The tool's error lines (stderr without the "[...]" message prefix lines), for an error message. */
export function toolErrors(result: ToolResult): string {
  return result.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !VERBOSE_LINE.test(l))
    .join('; ');
}
