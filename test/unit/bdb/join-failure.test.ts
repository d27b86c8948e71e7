// A replicant with automatic internal initialisation off, on a master whose first log files are
// gone (the operators' case bdb-autoinit-off): real db5.3 processes on loopback. db5.3_replicate
// logs "join failure" once a second and never joins; replup must say so at once, naming
// DB_REP_JOIN_FAILURE and the DB_CONFIG line, and leave the replicant stopped.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyReplicationBlock, type ReplicationPair } from '../../../activities/bdb-replicant/db-config.js';
import {
  deleteRegionFiles,
  localServicePid,
  startService,
  writeDbConfig,
} from '../../../activities/bdb-replicant/index.js';
import { runTool } from '../../../activities/bdb-replicant/tools.js';
import { edited } from '../support/fixture-edits.js';
import { freePort, loopbackServices, putRecords, records, SEED_DB_CONFIG, startRefused } from './helpers.js';

const CASE_DB_CONFIG = path.resolve(import.meta.dirname, '../../fixtures/cases/bdb-autoinit-off.replicant.DB_CONFIG');
/** The case's line 22 as replup used to write it (the split "DB REP_CONF_AUTOINIT" corrected, as db5.3 accepts it). */
const AUTOINIT_LINE = 'rep_set_config DB_REP_CONF_AUTOINIT off';

const lab = loopbackServices('bdb-join');
const svc = lab.service;

/** A running master whose log.0000000001 is gone: small log files, enough writes, checkpoints and db_archive -d. */
async function masterWithoutEarlyLogs(dir: string, pair: ReplicationPair): Promise<string> {
  const envDir = path.join(dir, 'db');
  await mkdir(envDir, { recursive: true });
  await mkdir(path.join(dir, 'dblogs'));
  await writeFile(path.join(envDir, 'DB_CONFIG'), `${await readFile(SEED_DB_CONFIG, 'utf8')}set_lg_max 65536\n`);
  expect((await runTool('recover', ['-e', '-h', envDir])).code).toBe(0);
  await putRecords(
    envDir,
    'tapes.db',
    Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`VOL${i}`, `rack ${'x'.repeat(100)} ${i}`])),
  );
  // Before replication is configured: db5.3_checkpoint on the running repmgr master waits out its timeout.
  for (let i = 0; i < 2; i++) expect((await runTool('checkpoint', ['-1', '-h', envDir])).code).toBe(0);
  expect((await runTool('archive', ['-d', '-h', envDir])).code).toBe(0);
  await writeDbConfig(envDir, 'master', pair, { logDir: '../dblogs' });
  await deleteRegionFiles(envDir);
  await startService(svc('master', envDir), { startupTimeoutMs: 30_000 });
  return envDir;
}

describe('a replicant that cannot join (automatic initialisation off)', () => {
  // The replicant is left stopped until the line is fixed.
  it('fails fast with DB_REP_JOIN_FAILURE naming the DB_CONFIG line; fixed, it joins', async () => {
    const pair: ReplicationPair = {
      master: { host: '127.0.0.1', port: await freePort() },
      replicant: { host: '127.0.0.1', port: await freePort() },
    };
    const masterEnv = await masterWithoutEarlyLogs(path.join(lab.root, 'master'), pair);
    const logs = await readdir(path.join(lab.root, 'master', 'dblogs'));
    expect(logs).not.toContain('log.0000000001'); // the case's precondition

    // The operators' file, with the replicant block uncommented and the AUTOINIT line kept on line 22
    // (replup's configure-replicant refuses it; here it was put back after, as an operator might).
    const caseText = await readFile(CASE_DB_CONFIG, 'utf8');
    const configured = applyReplicationBlock(
      edited(caseText, [['rep_set_config DB REP_CONF_AUTOINIT off', '#']]),
      'replicant',
      pair,
      { logDir: '../dblogs' },
    ).text.split('\n');
    configured[21] = AUTOINIT_LINE;
    const replicantEnv = path.join(lab.root, 'replicant', 'db');
    await mkdir(replicantEnv, { recursive: true });
    const file = path.join(replicantEnv, 'DB_CONFIG');
    await writeFile(file, configured.join('\n'));

    const replicant = svc('replicant', replicantEnv);
    const failure = await startRefused(replicant);
    expect(failure.code).toBe('DB_REP_JOIN_FAILURE');
    expect(failure.retryable).toBe(false);
    expect(failure.message).toContain(
      `the replicant service on 127.0.0.1 (${replicantEnv}) cannot join its master: DB_REP_JOIN_FAILURE (its ` +
        `log says "`,
    );
    expect(failure.message).toContain('join failure');
    expect(failure.message).toContain(
      `automatic internal initialisation is off (${file}:22: "${AUTOINIT_LINE}"): delete that line or write ` +
        `"rep_set_config DB_REP_CONF_AUTOINIT on"`,
    );
    expect(failure.message).toContain('the replicant was stopped, retry start-replicant after the fix');
    expect(await localServicePid(replicantEnv)).toBeUndefined();

    // The fix the message names: the replicant is initialised from the master and has its tapes.
    configured[21] = 'rep_set_config DB_REP_CONF_AUTOINIT on';
    await writeFile(file, configured.join('\n'));
    for (const f of await readdir(replicantEnv))
      if (f !== 'DB_CONFIG') await rm(path.join(replicantEnv, f), { recursive: true, force: true });
    const joined = await startService(replicant, { startupTimeoutMs: 60_000 });
    expect(joined.evidence).toHaveLength(3);
    expect(Object.keys(await records(replicantEnv, 'tapes.db'))).toHaveLength(3000);
    expect(await records(replicantEnv, 'tapes.db')).toEqual(await records(masterEnv, 'tapes.db'));
  }, 150_000);
});
