// The in-memory Berkeley DB ports answer as the db5.3 adapter does on real folders, for what the
// runbook reads from them: the DB_CONFIG writes (changes, line changes, warnings), what a wipe and a
// region-file delete remove, and the refusals of a folder that is not an environment or whose
// service runs.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplicationPair } from '../../../activities/bdb-replicant/db-config.js';
import { db53Ports } from '../../../activities/bdb-replicant/db53.js';
import { createFakeBdbPorts } from '../../../activities/bdb-replicant/fake-ports.js';
import type { EnvironmentHomes } from '../../../activities/bdb-replicant/ports.js';
import { PID_FILE } from '../../../activities/bdb-replicant/service.js';
import { loopbackServices, SEED_DB_CONFIG } from './helpers.js';

const lab = loopbackServices('bdb-fake');
const pair: ReplicationPair = {
  master: { host: '127.0.0.1', port: 15010 },
  replicant: { host: '127.0.0.1', port: 15011 },
};
const FILES = ['TMSS10.catalog', '__db.001', '__db.rep.egen'];

/** The same replicant home on disk (for the db5.3 adapter) and in memory (for the fake). */
async function bothHomes(name: string, opts: { dbConfig?: boolean } = {}) {
  const envDir = path.join(lab.root, name, 'db');
  await mkdir(envDir, { recursive: true });
  const dbConfig = opts.dbConfig === false ? undefined : await readFile(SEED_DB_CONFIG, 'utf8');
  if (dbConfig !== undefined) await writeFile(path.join(envDir, 'DB_CONFIG'), dbConfig);
  // Without DB_CONFIG, no region files either: a folder that is not an environment.
  const files = opts.dbConfig === false ? ['TMSS10.catalog'] : FILES;
  for (const f of files) await writeFile(path.join(envDir, f), 'x');
  const fake = createFakeBdbPorts({ [envDir]: { files, records: {}, ...(dbConfig !== undefined && { dbConfig }) } });
  return { envDir, fake, real: db53Ports().homes, memory: fake.ports.homes };
}

/** What a call gave: its value, or the message of what it threw. */
async function outcome(homes: EnvironmentHomes, call: (h: EnvironmentHomes) => Promise<unknown>): Promise<unknown> {
  return call(homes).catch((err: Error) => ({ error: err.name, message: err.message }));
}

describe('the in-memory Berkeley DB ports agree with the db5.3 adapter', () => {
  it("writes the replicant's DB_CONFIG alike, and reads back the same text", async () => {
    const { envDir, real, memory } = await bothHomes('write');
    const write = (h: EnvironmentHomes) => h.writeDbConfig(envDir, 'replicant', pair, { logDir: '../dblogs' });
    const written = await write(memory);
    expect(written).toEqual(await write(real));
    expect(written.changed).toBe(true);
    expect(await memory.readDbConfig(envDir)).toBe(await real.readDbConfig(envDir));
  });

  it('deletes the same region files, then wipes the same files, keeping DB_CONFIG', async () => {
    const { envDir, real, memory } = await bothHomes('wipe');
    const regions = await memory.deleteRegionFiles(envDir);
    expect(regions).toEqual(await real.deleteRegionFiles(envDir));
    expect(regions.deleted).toEqual(['__db.001', '__db.rep.egen']);
    const wiped = await memory.wipeReplicant(envDir);
    expect(wiped).toEqual(await real.wipeReplicant(envDir));
    expect(wiped).toEqual({ envDir, deleted: ['TMSS10.catalog'], kept: ['DB_CONFIG'] });
  });

  it('refuses alike a folder that is not an environment, and one whose service runs', async () => {
    const plain = await bothHomes('plain', { dbConfig: false });
    const wipe = (h: EnvironmentHomes) => h.wipeReplicant(plain.envDir);
    expect(await outcome(plain.memory, wipe)).toEqual(await outcome(plain.real, wipe));
    expect(await outcome(plain.memory, wipe)).toMatchObject({
      error: 'BdbEnvError',
      message: expect.stringContaining('neither DB_CONFIG'),
    });

    // A process named like db5.3_replicate on the folder stands for its service: the adapter finds it
    // by its pid file and command line (service.ts), the fake by its record.
    const running = await bothHomes('running');
    const stand = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', running.envDir], {
      argv0: 'db5.3_replicate',
      stdio: 'ignore',
    });
    try {
      await writeFile(path.join(running.envDir, PID_FILE), `${stand.pid}\n`);
      running.fake.running.set(running.envDir, { role: 'replicant', pid: stand.pid!, joined: true });
      const regions = (h: EnvironmentHomes) => h.deleteRegionFiles(running.envDir);
      const refused = await outcome(running.memory, regions);
      expect(refused).toEqual(await outcome(running.real, regions));
      expect(refused).toMatchObject({
        error: 'BdbEnvError',
        message: expect.stringContaining(`is running (pid ${stand.pid})`),
      });
    } finally {
      stand.kill('SIGKILL');
    }
  });
});
