// The runbook's sequence by hand on real db5.3 processes on loopback (DOMAIN.md §2).
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplicationPair } from '../../../activities/bdb-replicant/db-config.js';
import {
  backupEnvironment,
  deleteRegionFiles,
  replicationRole,
  startService,
  stopService,
  verifyReplication,
  wipeReplicantEnv,
  writeDbConfig,
} from '../../../activities/bdb-replicant/index.js';
import { freePort, loopbackServices, records, SEED_DB_CONFIG, standaloneServer, startRefused } from './helpers.js';

const lab = loopbackServices('bdb-pair');
const service = lab.service;
const opts = { logDir: '../dblogs' };

async function loopbackPair(): Promise<ReplicationPair> {
  return {
    master: { host: '127.0.0.1', port: await freePort() },
    replicant: { host: '127.0.0.1', port: await freePort() },
  };
}

/** A replicant machine after "install the TapeTrack server": the seed's DB_CONFIG and its own old files. */
async function installedReplicant(dir: string): Promise<string> {
  const envDir = path.join(dir, 'db');
  await mkdir(envDir, { recursive: true });
  await writeFile(path.join(envDir, 'DB_CONFIG'), await readFile(SEED_DB_CONFIG, 'utf8'));
  await writeFile(path.join(envDir, 'TMSS10.catalog'), 'data of the fresh install');
  return envDir;
}

describe('bdb replicant, step by step on loopback', () => {
  it(
    'turns a standalone master with data into a working ' + 'pair: data on the replicant, replicant read-only',
    async () => {
      const pair = await loopbackPair();
      const tapes = { VOL001: 'rack A slot 1', VOL002: 'rack A slot 2', VOL003: 'offsite vault' };
      const masterEnv = await standaloneServer(path.join(lab.root, 'one', 'master'), tapes);
      const replicantEnv = await installedReplicant(path.join(lab.root, 'one', 'replicant'));
      const master = service('master', masterEnv);
      const replicant = service('replicant', replicantEnv);

      const backup = await backupEnvironment(masterEnv, path.join(lab.root, 'one', 'backup'));
      expect(backup.databases).toEqual(['tapes.db']);

      expect(await stopService(replicant)).toEqual({ wasRunning: false });
      expect((await wipeReplicantEnv(replicantEnv)).deleted).toEqual(['TMSS10.catalog']);
      const replicantConfig = await writeDbConfig(replicantEnv, 'replicant', pair, opts);
      expect(replicantConfig.changes[0]).toBe("uncommented the replicant block at lines 25-28 with the plan's sites");
      // The seed's commented block had two typos: named with their lines as it is uncommented.
      expect(replicantConfig.warnings.map((w) => w.replace(/(corrected to "[^"]+"): .*$/, '$1'))).toEqual([
        `${replicantEnv}/DB_CONFIG:25: "rep-set-priority" corrected to "rep_set_priority"`,
        `${replicantEnv}/DB_CONFIG:28: "DB REP_CONF_BULK" corrected to "DB_REP_CONF_BULK"`,
      ]);

      expect(await stopService(master)).toEqual({ wasRunning: false });
      await writeDbConfig(masterEnv, 'master', pair, opts);
      const regions = await deleteRegionFiles(masterEnv);
      expect(regions.deleted.length).toBeGreaterThan(0);
      expect(regions.deleted.every((f) => f.startsWith('__db.'))).toBe(true);
      expect(await readdir(path.join(lab.root, 'one', 'master', 'dblogs'))).toContain('log.0000000001');

      const masterStart = await startService(master, { startupTimeoutMs: 30_000 });
      expect(masterStart.alreadyRunning).toBe(false);
      expect(await replicationRole(masterEnv)).toBe('master');

      const replicantStart = await startService(replicant, { startupTimeoutMs: 60_000 });
      expect(replicantStart.evidence).toEqual([
        expect.stringContaining('connection established'),
        expect.stringContaining('Election done'),
        expect.stringContaining('Start-up is done'),
      ]);
      expect(await replicationRole(replicantEnv)).toBe('client');
      expect(await records(replicantEnv, 'tapes.db')).toEqual(tapes);

      const check = await verifyReplication({ masterEnv, replicantEnv, token: 'run-1', timeoutMs: 30_000 });
      expect(check.readOnlyError).toBe('BDB0111 DBcursor->put: attempt to modify a read-only database');

      // Starting an already running service is harmless (activities are at-least-once).
      expect(await startService(replicant, { startupTimeoutMs: 30_000 })).toMatchObject({
        alreadyRunning: true,
        evidence: [],
      });
      const stopped = await stopService(replicant);
      expect(stopped).toMatchObject({ wasRunning: true, signal: 'SIGTERM' });
    },
    120_000,
  );

  it(
    'a replicant started before its master reports ' + 'DB_REP_UNAVAIL, and starts when retried after the ' + 'master',
    async () => {
      const pair = await loopbackPair();
      const masterEnv = await standaloneServer(path.join(lab.root, 'two', 'master'), { VOL100: 'first' });
      const replicantEnv = await installedReplicant(path.join(lab.root, 'two', 'replicant'));
      await cp(SEED_DB_CONFIG, path.join(replicantEnv, 'DB_CONFIG'));
      await wipeReplicantEnv(replicantEnv);
      await writeDbConfig(replicantEnv, 'replicant', pair, opts);
      await writeDbConfig(masterEnv, 'master', pair, opts);
      await deleteRegionFiles(masterEnv);
      const master = service('master', masterEnv);
      const replicant = service('replicant', replicantEnv);

      const error = await startRefused(replicant);
      expect(error.code).toBe('DB_REP_UNAVAIL');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(
        `the replicant service on 127.0.0.1 (${replicantEnv}) exited with DB_REP_UNAVAIL: it could not reach ` +
          `its master`,
      );
      expect(error.message).toContain(`Connection refused' (111) on connection to site 127.0.0.1:${pair.master.port}`);
      expect(error.message).toContain('start the master and check the replication port is open, then retry');

      await startService(master, { startupTimeoutMs: 30_000 });
      const retried = await startService(replicant, { startupTimeoutMs: 60_000 });
      expect(retried.evidence).toHaveLength(3);
      expect(await records(replicantEnv, 'tapes.db')).toEqual({ VOL100: 'first' });
    },
    120_000,
  );
});
