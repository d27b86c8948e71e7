// Reading a replication message log (the seed's $DB_Msg.txt; here db5.3_replicate's stdout and
// stderr). Read incrementally from an offset so that an old session's lines never count.
import { open, stat } from 'node:fs/promises';

export type LogPattern = string | RegExp;

/** What the seed's "check the message logs" looks for (verified on loopback with db5.3_replicate). */
export const REPLICANT_JOINED: LogPattern[] = ['connection established', 'Election done', 'Start-up is done'];

/**
 * What a replicant logs when it cannot join (DB_EVENT_REP_JOIN_FAILURE): seen on loopback with
 * db5.3_replicate, automatic initialisation off and the master's first log files removed, once a
 * second for as long as it runs ("repmgr fires join failure event", then "BDB5097 ignoring event 11").
 * It never joins by waiting: the wait ends at the first one.
 */
export const REPLICANT_JOIN_FAILURE: LogPattern = 'join failure';

export interface LogMatch {
  pattern: string;
  line: string;
}

export class LogWaitError extends Error {
  constructor(
    message: string,
    public readonly missing: string[],
    /** The last lines read, to show the operator what the service said instead. */
    public readonly tail: string[],
    /** Set when the wait ended because the process exited. */
    public readonly exited: boolean,
    /** Set when the wait ended because a `failOn` pattern appeared: that line. */
    public readonly failedOn?: LogMatch,
  ) {
    super(message);
    this.name = 'LogWaitError';
  }
}

export async function logSize(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

async function readFrom(file: string, offset: number): Promise<{ text: string; end: number }> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return { text: '', end: offset };
  try {
    const { size } = await handle.stat();
    if (size <= offset) return { text: '', end: offset };
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    return { text: buffer.toString('utf8'), end: size };
  } finally {
    await handle.close();
  }
}

const describe = (p: LogPattern): string => (typeof p === 'string' ? p : p.source);
const matches = (p: LogPattern, line: string): boolean => (typeof p === 'string' ? line.includes(p) : p.test(line));

export interface WaitForLogOptions {
  /** Only lines written after this byte offset count (the log's size when the service started). */
  fromOffset?: number;
  /** Stop early when this returns false (the service exited): the log will not change any more. */
  stillRunning?: () => boolean | Promise<boolean>;
  pollMs?: number;
  /** Lines that mean the wait cannot succeed: the first one ends it with LogWaitError.failedOn. */
  failOn?: LogPattern[];
}

/** Wait until every pattern has appeared in the log (in any order); throws LogWaitError otherwise. */
export async function waitForLog(
  logFile: string,
  patterns: LogPattern[],
  timeoutMs: number,
  opts: WaitForLogOptions = {},
): Promise<LogMatch[]> {
  const deadline = Date.now() + timeoutMs;
  const found = new Map<LogPattern, string>();
  let offset = opts.fromOffset ?? 0;
  let partial = '';
  const tail: string[] = [];
  for (;;) {
    const running = opts.stillRunning ? await opts.stillRunning() : true;
    const chunk = await readFrom(logFile, offset);
    offset = chunk.end;
    const lines = (partial + chunk.text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of partial === '' || running ? lines : [...lines, partial]) {
      tail.push(line);
      if (tail.length > 8) tail.shift();
      for (const p of patterns) if (!found.has(p) && matches(p, line)) found.set(p, line);
      const fatal = opts.failOn?.find((p) => matches(p, line));
      if (fatal !== undefined) {
        throw new LogWaitError(
          `${logFile} shows "${line.trim()}"`,
          patterns.filter((p) => !found.has(p)).map(describe),
          [...tail],
          false,
          { pattern: describe(fatal), line },
        );
      }
    }
    if (found.size === patterns.length)
      return patterns.map((p) => ({ pattern: describe(p), line: found.get(p) ?? '' }));
    const missing = patterns.filter((p) => !found.has(p)).map(describe);
    if (!running)
      throw new LogWaitError(`the process exited before ${logFile} showed: ${missing.join(', ')}`, missing, tail, true);
    if (Date.now() >= deadline)
      throw new LogWaitError(
        `${logFile} did not show ${missing.join(', ')} within ${Math.round(timeoutMs / 1000)} s`,
        missing,
        tail,
        false,
      );
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
}
