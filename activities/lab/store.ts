// Keeping a lab on disk: one JSON file, written atomically (temp file, fsync, rename, fsync of the
// directory) so a worker killed mid-write leaves the previous state whole; an in-process mutex so
// concurrent activities in one worker take turns; and a lock file naming the owner's pid so a
// second process is refused, unless that pid is dead (a SIGKILLed worker), whose lock is stale.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
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

// One queue per lab file in this process: activities of one worker run one operation at a time.
const queues = new Map<string, Promise<unknown>>();

export function withLabMutex<T>(path: string, fn: () => Promise<T> | T): Promise<T> {
  const key = resolve(path);
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(fn, fn);
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
