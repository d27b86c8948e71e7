// Keeping a lab on disk: one JSON file, written atomically (temp file, fsync, rename, fsync of the
// directory) so a worker killed mid-write leaves the previous state whole; an in-process mutex so
// concurrent activities in one worker take turns; and a lock file naming the owner's pid so a
// second process is refused, unless that pid is dead (a SIGKILLed worker), whose lock is stale.
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { LAB_FORMAT, type LabDatabase, type LabState } from './model.js';

/**
 * A lab file that cannot be used: says which file and what to do. An ApplicationFailure that is not
 * retryable: thrown in an activity, it parks the step at once with this message (a missing or
 * unreadable lab file stays so until a person acts), where a plain Error would be retried for minutes.
 */
export class LabStateError extends ApplicationFailure {
  constructor(message: string) {
    super(message, 'LabStateError', true);
    // ApplicationFailure's `name` is a read-only prototype property: give this error its own.
    Object.defineProperty(this, 'name', { value: 'LabStateError' });
  }
}

export function readLabState(path: string): LabState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new LabStateError(`no lab at ${path}: create it with \`replup lab init <plan>\``);
    throw err;
  }
  let state: LabState;
  try {
    state = JSON.parse(text) as LabState;
  } catch (err) {
    throw new LabStateError(
      `${path} is not a lab state file (${(err as Error).message}); recreate it with \`replup lab init ` +
        `<plan> --force\``,
    );
  }
  if (state?.format !== LAB_FORMAT)
    throw new LabStateError(
      `${path} has lab format ${String(state?.format)}, this replup reads format ${String(LAB_FORMAT)}; recreate it ` +
        `with \`replup lab init <plan> --force\``,
    );
  return state;
}

let tempCounter = 0;

/**
 * Writes a serialised state atomically (temp file, fsync, rename, fsync of the directory: a
 * worker killed mid-write leaves the previous state whole, and the rename itself reaches the
 * disk), on libuv's thread pool: the event loop keeps serving activities and the Temporal SDK
 * while a large lab reaches the disk. Resolves with the new file's stamp.
 */
export async function writeLabText(path: string, text: string): Promise<string> {
  const dir = dirname(resolve(path));
  await mkdir(dir, { recursive: true });
  const temp = resolve(dir, `.${basename(path)}.${process.pid}.${tempCounter++}.tmp`);
  const fh = await open(temp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(temp, path);
  const st = await stat(path);
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
  return stampOf(st);
}

const stampOf = (st: { ino: number; size: number; mtimeMs: number }) => `${st.ino}:${st.size}:${st.mtimeMs}`;

/**
 * A lab file as one process uses it: the parsed state is kept while the file on disk is the one
 * this process last read or wrote (same inode, size and mtime), so a 500-subscriber lab is not
 * re-parsed on every operation; and writes are group-committed: operations that finish while a
 * write is pending share it, and none returns before its effect is on disk.
 *
 * The state is serialised on the event loop between two operations (so the text is one
 * consistent state) and written by libuv's thread pool. An operation that changes the state while
 * a write is in flight joins the next write, which starts when the one in flight has finished.
 * While this process has a write pending or in flight, the in-memory state is newer than the
 * file, so `load` does not look at the disk.
 *
 * Most of a large lab is its databases' rows (every row has a copy in each of N + 1 databases),
 * and an operation changes one or two databases: each database's JSON text is kept and only the
 * databases an operation names as changed (`commit(changed)`) are serialised again.
 * REPLUP_LAB_CHECK_DIRTY=1 (the lab's unit tests) re-serialises every database on each write and
 * fails the write if one changed without being named.
 */
export class LabFile {
  private state: LabState | undefined;
  private stamp = '';
  /** The next write, not started yet: operations committing now join it. */
  private pendingWrite: Promise<void> | undefined;
  /** The write on its way to the disk, if any. */
  private inFlight: Promise<unknown> | undefined;
  /** Each database's JSON text as of the last serialisation, and the object it was made from. */
  private dbText = new Map<string, { db: LabDatabase; text: string }>();
  /** Databases changed since the last serialisation ('all' after a load or an unnamed change). */
  private dirty: Set<string> | 'all' = 'all';

  constructor(readonly path: string) {}

  private stampNow(): string {
    try {
      return stampOf(statSync(this.path));
    } catch {
      return '';
    }
  }

  /** The current state (call under the lab's mutex). */
  load(): LabState {
    // Our own writes pending or in flight: memory is ahead of the disk (and the disk may change
    // under us at the rename); the stamp is taken again once the write is done.
    if (this.state && (this.pendingWrite || this.inFlight)) return this.state;
    const stamp = this.stampNow();
    if (!this.state || stamp !== this.stamp || stamp === '') {
      this.state = readLabState(this.path);
      this.stamp = stamp;
      this.dirty = 'all';
    }
    return this.state;
  }

  /** The state as JSON, re-serialising only the databases changed since the last time. */
  private serialize(state: LabState): string {
    const dirty = this.dirty;
    this.dirty = new Set();
    const check = process.env.REPLUP_LAB_CHECK_DIRTY === '1';
    const parts: string[] = [];
    const seen = new Set<string>();
    for (const [key, db] of Object.entries(state.databases)) {
      seen.add(key);
      let cached = this.dbText.get(key);
      if (!cached || cached.db !== db || dirty === 'all' || dirty.has(key)) {
        cached = { db, text: JSON.stringify(db) };
        this.dbText.set(key, cached);
      } else if (check && JSON.stringify(db) !== cached.text) {
        throw new Error(
          `lab: database ${key} changed in an operation that did not name it as changed (LabFile.commit)`,
        );
      }
      parts.push(`${JSON.stringify(key)}:${cached.text}`);
    }
    for (const key of this.dbText.keys()) if (!seen.has(key)) this.dbText.delete(key);
    const { databases: _databases, accounting, mergeSessions, ...rest } = state;
    const head = JSON.stringify(rest);
    const logs =
      `"accounting":${this.logJson('accounting', accounting, check)},"mergeSessions":` +
      `${this.logJson('mergeSessions', mergeSessions, check)}`;
    return `${head.slice(0, -1)},${logs},"databases":{${parts.join(',')}}}`;
  }

  /** Each append-only log's JSON so far, and the entry it starts with. */
  private logText = new Map<string, { first: unknown; count: number; text: string }>();

  /**
   * An append-only log (its entries never change once pushed) as JSON: only the entries pushed
   * since the last write are serialised. At N = 200 the lab's accounting and merge sessions are
   * ~2 MB, written a few times a second: serialising them whole was the worker's biggest CPU cost.
   */
  private logJson(name: string, items: readonly object[], check: boolean): string {
    const cached = this.logText.get(name);
    const reuse = cached && cached.count > 0 && cached.count <= items.length && items[0] === cached.first;
    let text = reuse ? cached.text : '';
    for (let i = reuse ? cached.count : 0; i < items.length; i++) text += `${i ? ',' : ''}${JSON.stringify(items[i])}`;
    this.logText.set(name, { first: items[0], count: items.length, text });
    if (check && `[${text}]` !== JSON.stringify(items))
      throw new Error(`lab: an entry of the append-only ${name} changed after it was added (LabFile.commit)`);
    return `[${text}]`;
  }

  /**
   * Resolves once the state as it is now (and any change made before the write) is on disk.
   * `changed`: the keys of the databases the caller changed (default: any of them).
   */
  commit(changed: Iterable<string> | 'all' = 'all'): Promise<void> {
    if (changed === 'all') this.dirty = 'all';
    else if (this.dirty !== 'all') for (const key of changed) this.dirty.add(key);
    // Operations queued behind this one join the same write: it waits until the queue is empty,
    // or at most 50 ms, so a busy lab writes a few times a second, not once per operation; and it
    // starts only after the write in flight, whose text may predate this operation's change.
    const since = Date.now();
    this.pendingWrite ??= new Promise<void>((resolveWrite, rejectWrite) => {
      const attempt = () => {
        if (this.inFlight) {
          void this.inFlight.then(() => setImmediate(attempt));
          return;
        }
        if (queueDepth(this.path) > 0 && Date.now() - since < 50) {
          setImmediate(attempt);
          return;
        }
        this.pendingWrite = undefined;
        let text: string;
        try {
          text = this.serialize(this.state!);
        } catch (err) {
          this.dirty = 'all';
          this.logText.clear();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the serializer's own error
          rejectWrite(err);
          return;
        }
        const write = writeLabText(this.path, text).then(
          (stamp) => {
            this.inFlight = undefined;
            this.stamp = stamp;
            resolveWrite();
          },
          (err: unknown) => {
            this.inFlight = undefined;
            // Re-read what is really on disk next time, unless a later write will carry this
            // state (and the changes made since) to the disk anyway.
            if (!this.pendingWrite) this.state = undefined;
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the serializer's own error
            rejectWrite(err);
          },
        );
        this.inFlight = write;
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
        `the lab ${statePath} is in use by process ${owner} (lock file ${path}); stop that worker first, or ` +
          `remove the lock file if no such process is running replup`,
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
