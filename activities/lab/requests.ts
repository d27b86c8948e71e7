// An operator's change to a lab that a worker holds: the DBA resolving conflicts in the conflict
// viewer while the run is parked, as on a real fleet. The lab has one writer (the process holding
// its lock), so another process hands the change over as a request file and waits for the answer;
// the holder applies it under its mutex. Without a live holder the change is made directly.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabStateError } from './store.js';

export type LabChange =
  | { kind: 'resolve-conflicts' }
  | { kind: 'add-conflicts'; n: number }
  | { kind: 'fix-generation-zero' }
  | { kind: 'confirm-rowguid-conversions' }
  | { kind: 'manual-upgrade' };

export const requestDir = (statePath: string) => `${statePath}.requests`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Writes a request and waits for the holder's answer; undefined when the holder died meanwhile. */
export async function requestChange(
  statePath: string,
  change: LabChange,
  holder: number,
  timeoutMs = 15_000,
): Promise<number | undefined> {
  const dir = requestDir(statePath);
  mkdirSync(dir, { recursive: true });
  const id = `${Date.now()}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const temp = join(dir, `.${id}.tmp`);
  writeFileSync(temp, JSON.stringify(change));
  renameSync(temp, join(dir, `${id}.json`));
  const answer = join(dir, `${id}.done`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(answer)) {
      const result = JSON.parse(readFileSync(answer, 'utf8')) as { ok: boolean; value?: number; error?: string };
      unlinkSync(answer);
      if (!result.ok) throw new LabStateError(result.error ?? 'the worker could not apply the change');
      return result.value ?? 0;
    }
    if (!alive(holder)) {
      try {
        unlinkSync(join(dir, `${id}.json`));
        return undefined; // nobody will answer: the caller makes the change itself
      } catch {
        /* it was taken just before the holder died: wait for its answer */
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    unlinkSync(join(dir, `${id}.json`));
  } catch {
    /* taken after all: its answer will be left unread */
  }
  throw new LabStateError(
    `the worker (pid ${holder}) holding the lab ${statePath} did not take the change within ` +
      `${Math.round(timeoutMs / 1000)} s; is it stuck? stop it and try again`,
  );
}

/** The holder's side: answers every waiting request with `apply`. */
export async function serveRequests(statePath: string, apply: (change: LabChange) => Promise<number>): Promise<void> {
  const dir = requestDir(statePath);
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const file = join(dir, name);
    let change: LabChange;
    try {
      change = JSON.parse(readFileSync(file, 'utf8')) as LabChange;
      unlinkSync(file);
    } catch {
      continue; // another turn took it
    }
    let result: { ok: boolean; value?: number; error?: string };
    try {
      result = { ok: true, value: await apply(change) };
    } catch (err) {
      result = { ok: false, error: (err as Error).message };
    }
    const id = name.replace(/\.json$/, '');
    writeFileSync(join(dir, `.${id}.done.tmp`), JSON.stringify(result));
    renameSync(join(dir, `.${id}.done.tmp`), join(dir, `${id}.done`));
  }
}
