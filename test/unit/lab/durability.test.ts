// The lab lives in one file that a worker rewrites on every operation. A worker killed at any
// moment (the durability tests SIGKILL it) must leave a file that loads, and a lock that the
// next worker may take over; a live worker's lock must keep a second process out.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLab, readLabState } from '../../../activities/lab/index.js';
import { freshLab, removeTempLabs } from './runbook.js';

afterAll(removeTempLabs);

const writer = resolve(import.meta.dirname, 'fixtures/keep-writing.ts');

function startWriter(statePath: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, statePath], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  const writing = new Promise<void>((r, reject) => {
    child.stdout.on('data', (d) => String(d).includes('writing') && r());
    void exited.then(() => reject(new Error(`writer exited before writing: ${stderr}`)));
  });
  writing.catch(() => undefined); // a writer meant to crash never says it is writing
  return { child, writing, exited, stderr: () => stderr };
}

describe('lab durability', () => {
  it(
    'survives the process that writes it being SIGKILLed mid-write, and the next process takes over its stale ' +
      'lock',
    async () => {
      const { lab, statePath } = await freshLab();
      lab.admin.close(); // let the child own it
      const w = startWriter(statePath);
      await w.writing;
      await new Promise((r) => setTimeout(r, 150));
      const before = readLabState(statePath).clock;
      w.child.kill('SIGKILL');
      expect((await w.exited).signal).toBe('SIGKILL');
      // left behind by the dead writer
      expect(readFileSync(`${statePath}.lock`, 'utf8').trim()).toBe(String(w.child.pid));
      const after = readLabState(statePath);
      expect(after.clock).toBeGreaterThanOrEqual(before);
      expect(after.calls.activeSessions).toBe(after.clock); // every tick the child made was saved whole
      const next = openLab(statePath, { latencyScale: 0 });
      await expect(next.sql.databaseVersion({ server: 'LAB-PUB', database: 'PersonalizationServer' })).resolves.toBe(
        '8.2.0.0',
      );
      expect(readFileSync(`${statePath}.lock`, 'utf8').trim()).toBe(String(process.pid));
      next.admin.close();
    },
    30_000,
  );

  it('refuses a second process while the owner is alive, naming it and the lock file', async () => {
    const { lab, statePath } = await freshLab();
    lab.admin.close();
    writeFileSync(`${statePath}.lock`, `${process.ppid}\n`); // a live process that is not us
    expect(() => openLab(statePath)).toThrow(
      `the lab ${statePath} is in use by process ${process.ppid} (lock file ${statePath}.lock)`,
    );
  });

  it(
    'REPLUP_LAB_CRASH_AT kills the worker at the nth ' + 'call, counted in the lab, after that call took ' + 'effect',
    async () => {
      const { lab, statePath } = await freshLab();
      lab.admin.close();
      const w = startWriter(statePath, { REPLUP_LAB_CRASH_AT: 'activeSessions:3' });
      const end = await w.exited;
      expect(end.signal).toBe('SIGKILL');
      expect(w.stderr()).toContain('REPLUP_LAB_CRASH_AT=activeSessions:3 reached');
      expect(readLabState(statePath).calls.activeSessions).toBe(3);
      // The restarted worker is past the crash point and keeps going.
      const again = startWriter(statePath, { REPLUP_LAB_CRASH_AT: 'activeSessions:3' });
      await again.writing;
      again.child.kill('SIGKILL');
      await again.exited;
      expect(readLabState(statePath).calls.activeSessions).toBeGreaterThan(3 + 5 - 1);
    },
    30_000,
  );
});
