// Keeping a lab on disk: one JSON file, written atomically (temp file, fsync, rename, fsync of the
// directory) so a worker killed mid-write leaves the previous state whole; an in-process mutex so
// concurrent activities in one worker take turns; and a lock file naming the owner's pid so a
// second process is refused, unless that pid is dead (a SIGKILLed worker), whose lock is stale.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { LAB_FORMAT, type LabState } from './model.js';

/** A lab file that cannot be used: says which file and what to do. */
export class LabStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabStateError';
  }
}

export function readLabState(path: string): LabState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LabStateError(`no lab at ${path}: create it with \`replup lab init <plan>\``);
    throw err;
  }
  let state: LabState;
  try {
    state = JSON.parse(text) as LabState;
  } catch (err) {
    throw new LabStateError(`${path} is not a lab state file (${(err as Error).message}); recreate it with \`replup lab init <plan> --force\``);
  }
  if (state?.format !== LAB_FORMAT) throw new LabStateError(`${path} has lab format ${String(state?.format)}, this replup reads format ${LAB_FORMAT}; recreate it with \`replup lab init <plan> --force\``);
  return state;
}

let tempCounter = 0;

export function writeLabState(path: string, state: LabState): void {
  const dir = dirname(resolve(path));
  mkdirSync(dir, { recursive: true });
  const temp = resolve(dir, `.${basename(path)}.${process.pid}.${tempCounter++}.tmp`);
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  // The rename itself must reach the disk, or a power cut could bring back the old name.
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/**
 * A lab file as one process uses it: the parsed state is kept while the file on disk is the one
 * this process last read or wrote (same inode, size and mtime), so a 500-subscriber lab is not
 * re-parsed on every operation; and writes are group-committed: operations that finish while a
 * write is pending share it, and none returns before its effect is on disk.
 */
export class LabFile {
  private state: LabState | undefined;
  private stamp = '';
  private pendingWrite: Promise<void> | undefined;

  constructor(readonly path: string) {}

  private stampNow(): string {
    try {
      const st = statSync(this.path);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return '';
    }
  }

  /** The current state (call under the lab's mutex). */
  load(): LabState {
    const stamp = this.stampNow();
    if (!this.state || stamp !== this.stamp || stamp === '') {
      this.state = readLabState(this.path);
      this.stamp = stamp;
    }
    return this.state;
  }

  /** Resolves once the state as it is now (and any change made before the write) is on disk. */
  commit(): Promise<void> {
    // Operations queued behind this one join the same write: it waits until the queue is empty,
    // or at most 50 ms, so a busy lab writes a few times a second, not once per operation.
    const since = Date.now();
    this.pendingWrite ??= new Promise<void>((resolveWrite, rejectWrite) => {
      const attempt = () => {
        if (queueDepth(this.path) > 0 && Date.now() - since < 50) {
          setImmediate(attempt);
          return;
        }
        this.pendingWrite = undefined;
        try {
          writeLabState(this.path, this.state!);
          this.stamp = this.stampNow();
          resolveWrite();
        } catch (err) {
          this.state = undefined; // re-read what is really on disk next time
          rejectWrite(err);
        }
      };
      setImmediate(attempt);
    });
    return this.pendingWrite;
  }
}

const labFiles = new Map<string, LabFile>();
export function labFile(path: string): LabFile {
  const key = resolve(path);
  let f = labFiles.get(key);
  if (!f) labFiles.set(key, (f = new LabFile(key)));
  return f;
}

// One queue per lab file in this process: activities of one worker run one operation at a time.
const queues = new Map<string, Promise<unknown>>();
const depths = new Map<string, number>();

/** Operations waiting for or holding the lab's mutex in this process. */
export function queueDepth(path: string): number {
  return depths.get(resolve(path)) ?? 0;
}

export function withLabMutex<T>(path: string, fn: () => Promise<T> | T): Promise<T> {
  const key = resolve(path);
  const previous = queues.get(key) ?? Promise.resolve();
  // Each turn starts on a fresh event-loop turn, so a long queue of operations never starves the
  // worker's timers (activity heartbeats) the way a chain of microtasks would.
  depths.set(key, (depths.get(key) ?? 0) + 1);
  const turn = () =>
    new Promise<void>((r) => setImmediate(r)).then(fn).finally(() => {
      depths.set(key, (depths.get(key) ?? 1) - 1);
    });
  const next = previous.then(turn, turn);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}

export const lockPath = (statePath: string) => `${resolve(statePath)}.lock`;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live process other than this one holding the lab, if any. */
export function lockOwner(statePath: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockPath(statePath), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

const held = new Map<string, number>();

/** Takes the lab's lock file for this process (reentrant). A dead owner's lock is taken over. */
export function acquireLabLock(statePath: string): void {
  const path = lockPath(statePath);
  const count = held.get(path);
  if (count !== undefined) {
    held.set(path, count + 1);
    return;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      held.set(path, 1);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = lockOwner(statePath);
    if (owner !== undefined) {
      throw new LabStateError(
        `the lab ${statePath} is in use by process ${owner} (lock file ${path}); stop that worker first, or remove the lock file if no such process is running replup`,
      );
    }
    // Stale: its owner died (or it is ours from a previous life with the same pid).
    try {
      unlinkSync(path);
    } catch {
      /* another process took it over first: try again */
    }
  }
  throw new LabStateError(`could not take the lock ${path} for the lab ${statePath}: another process keeps taking it`);
}

export function releaseLabLock(statePath: string): void {
  const path = lockPath(statePath);
  const count = held.get(path);
  if (count === undefined) return;
  if (count > 1) {
    held.set(path, count - 1);
    return;
  }
  held.delete(path);
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
  } catch {
    /* already gone */
  }
}

process.on('exit', () => {
  for (const path of held.keys()) {
    try {
      if (existsSync(path) && readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
    } catch {
      /* best effort on the way out */
    }
  }
});
