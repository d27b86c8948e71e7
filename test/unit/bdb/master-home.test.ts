// A master environment that is not there is named, with the way to create it, by `plan validate`
// (where this machine sees the folder) and by backup-master, the run's first step, instead of
// db5.3_archive's "BDB0061 PANIC ... DB_RUNRECOVERY"; databases made without an environment (a
// plain db5.3_load) are named with db5.3_recover -e instead of hotbackup's bare BDB5129. Real db5.3.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupEnvironment, writeDbConfig } from '../../../activities/bdb-replicant/env.js';
import type { ReplicationPair } from '../../../activities/bdb-replicant/db-config.js';
import { runTool } from '../../../activities/bdb-replicant/tools.js';
import { loadPlanFile } from '../../../plan/load.js';
import { putRecords, records, scratch, standaloneServer } from './helpers.js';

const pair: ReplicationPair = {
  master: { host: '127.0.0.1', port: 15010 },
  replicant: { host: '127.0.0.1', port: 15011 },
};
let root: string;
beforeAll(async () => {
  root = await scratch('bdb-home');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const example = await readFile(path.resolve(import.meta.dirname, '../../../examples/bdb/plan.yaml'), 'utf8');

/** The example plan in a folder of its own, its environments beside it (or where `swap` says). */
async function planIn(dir: string, swap: (text: string) => string = (t) => t): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'plan.yaml');
  await writeFile(file, swap(example.replaceAll('../../.replup/bdb/', '')));
  return file;
}

describe('plan validate: the master environment', () => {
  it(
    'a relative envDir that does not exist is an error at ' + 'its line, naming the folder and the set-up command',
    async () => {
      const file = await planIn(path.join(root, 'missing'));
      const r = await loadPlanFile(file);
      const envDir = path.join(root, 'missing', 'master/db');
      expect(r.ok ? [] : r.errors).toEqual([
        {
          path: 'master.envDir',
          line: 7,
          column: 11,
          message:
            `the master environment ${envDir} does not exist: envDir must be the master's Berkeley DB ` +
            `environment (TapeTrack's var/db: its DB_CONFIG, databases and log files); for the example plan, ` +
            `\`npx tsx examples/bdb/setup.ts init\` creates one (envDir "master/db")`,
        },
      ]);
    },
  );

  it('an empty one is an error too; a master with its databases is valid', async () => {
    const dir = path.join(root, 'empty');
    const file = await planIn(dir);
    await mkdir(path.join(dir, 'master/db'), { recursive: true });
    const empty = await loadPlanFile(file);
    expect(empty.ok ? '' : empty.errors[0]!.message).toMatch(
      /^the master environment \S+ is empty: there is nothing to back up or replicate/,
    );
    await standaloneServer(path.join(dir, 'master'), { VOL001: 'rack A slot 1' });
    expect((await loadPlanFile(file)).ok).toBe(true);
  });

  it(
    'an absolute envDir on a loopback master is checked; on another host it is left to the run (it may exist ' +
      'only there)',
    async () => {
      const gone = path.join(root, 'nowhere', 'db');
      const loopback = await planIn(path.join(root, 'abs-loopback'), (t) =>
        t.replace('envDir: master/db', `envDir: ${gone}`),
      );
      expect((await loadPlanFile(loopback)).ok).toBe(false);
      const remote = await planIn(path.join(root, 'abs-remote'), (t) =>
        t.replace('host: 127.0.0.1\n  envDir: master/db', `host: 192.0.2.10\n  envDir: ${gone}`),
      );
      expect(await loadPlanFile(remote)).toMatchObject({ ok: true });
    },
  );
});

describe('backup-master: the first step names a missing master instead of a PANIC', () => {
  it('a folder that does not exist: the message says how to create it, and nothing is made', async () => {
    const envDir = path.join(root, 'run', 'master', 'db');
    const backupDir = path.join(root, 'run', 'backup');
    // What the step ran before: db5.3_archive's own words for a missing folder.
    const archive = await runTool('archive', ['-s', '-h', envDir]);
    expect(archive.stderr).toContain('BDB0061 PANIC');
    await expect(backupEnvironment(envDir, backupDir)).rejects.toThrow(
      `the master environment ${envDir} does not exist: envDir must be the master's Berkeley DB environment ` +
        `(TapeTrack's var/db: its DB_CONFIG, databases and log files); for the example plan, \`npx tsx ` +
        `examples/bdb/setup.ts init\` creates one; nothing was changed`,
    );
    expect(await readdir(path.join(root, 'run')).catch(() => [])).toEqual([]);
    // backup-master skipped (a backup made otherwise): configure-master does not make an empty master either.
    await expect(writeDbConfig(envDir, 'master', pair, { logDir: '../dblogs' })).rejects.toThrow(
      `the master environment ${envDir} does not exist`,
    );
    expect(await readdir(path.join(root, 'run')).catch(() => [])).toEqual([]);
  });

  it(
    "databases loaded without an environment: hotbackup's " + 'BDB5129 comes with the way to make one, which works',
    async () => {
      const envDir = path.join(root, 'private', 'db');
      await mkdir(envDir, { recursive: true });
      await putRecords(envDir, 'tapes.db', { VOL001: 'rack A slot 1' });
      const failed = backupEnvironment(envDir, path.join(root, 'private', 'backup-1'));
      await expect(failed).rejects.toThrow('BDB5129 Cannot copy data from a PRIVATE environment');
      await expect(failed).rejects.toThrow(
        `create the environment first with \`db5.3_recover -e -h ${envDir}\` (it reads DB_CONFIG), then load ` +
          `the databases into it`,
      );
      // Following the message (the database loaded again, now into the environment) makes the backup hold the data.
      await rm(path.join(envDir, 'tapes.db'));
      expect((await runTool('recover', ['-e', '-h', envDir])).code).toBe(0);
      await putRecords(envDir, 'tapes.db', { VOL001: 'rack A slot 1' });
      const backup = await backupEnvironment(envDir, path.join(root, 'private', 'backup-2'));
      expect(backup.databases).toEqual(['tapes.db']);
      expect(await records(backup.backupDir, 'tapes.db')).toEqual({ VOL001: 'rack A slot 1' });
    },
  );
});
