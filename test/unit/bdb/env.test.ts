import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupEnvironment, deleteRegionFiles, wipeReplicantEnv } from '../../../activities/bdb-replicant/index.js';
import { records, scratch, SEED_DB_CONFIG, standaloneServer } from './helpers.js';

let root: string;
beforeAll(async () => {
  root = await scratch('bdb-env');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A replicant's var/db as the seed's screenshot shows it, plus region files and its logs. */
async function installedReplicant(name: string): Promise<string> {
  const envDir = path.join(root, name, 'db');
  await mkdir(envDir, { recursive: true });
  await mkdir(path.join(root, name, 'dblogs'), { recursive: true });
  await writeFile(path.join(envDir, 'DB_CONFIG'), await readFile(SEED_DB_CONFIG, 'utf8'));
  for (const f of [
    '$DB_Err.txt',
    'TMSS10.catalog',
    'TMSS10.catalog.dump',
    'TMSS10.catalog.save',
    '__db.001',
    '__db.rep.egen',
  ]) {
    await writeFile(path.join(envDir, f), 'old');
  }
  await writeFile(path.join(root, name, 'dblogs', 'log.0000000001'), 'old log');
  return envDir;
}

describe('wipeReplicantEnv', () => {
  it('deletes every file except DB_CONFIG, and the old log files in its log directory', async () => {
    const envDir = await installedReplicant('replicant');
    const result = await wipeReplicantEnv(envDir);
    expect(await readdir(envDir)).toEqual(['DB_CONFIG']);
    expect(await readdir(path.join(root, 'replicant', 'dblogs'))).toEqual([]);
    expect(result.kept).toEqual(['DB_CONFIG']);
    expect(result.deleted.sort()).toEqual(
      [
        '$DB_Err.txt',
        '../dblogs/log.0000000001',
        'TMSS10.catalog',
        'TMSS10.catalog.dump',
        'TMSS10.catalog.save',
        '__db.001',
        '__db.rep.egen',
      ].sort(),
    );
    expect(await readFile(path.join(envDir, 'DB_CONFIG'), 'utf8')).toBe(await readFile(SEED_DB_CONFIG, 'utf8'));
    // Running it again (an activity retried) is harmless.
    expect(await wipeReplicantEnv(envDir)).toEqual({ envDir, deleted: [], kept: ['DB_CONFIG'] });
  });

  it('refuses /, a home directory, a folder that is not an environment, and one with sub-folders', async () => {
    await expect(wipeReplicantEnv('/')).rejects.toThrow(
      'refusing to wipe /: it is a top-level directory, not a Berkeley DB environment; check envDir in the plan',
    );
    await expect(wipeReplicantEnv(homedir())).rejects.toThrow(
      `refusing to wipe ${homedir()}: it is a ` +
        `${homedir().split('/').filter(Boolean).length < 2 ? 'top-level' : 'home'} directory`,
    );

    const documents = path.join(root, 'documents');
    await mkdir(documents);
    await writeFile(path.join(documents, 'thesis.txt'), 'precious');
    await expect(wipeReplicantEnv(documents)).rejects.toThrow(
      `refusing to wipe ${documents}: it has neither DB_CONFIG nor __db.* region files, so it does not look ` +
        `like a Berkeley DB environment; check envDir in the plan`,
    );
    expect(await readdir(documents)).toEqual(['thesis.txt']);

    const withFolders = await installedReplicant('nested');
    await mkdir(path.join(withFolders, 'photos'));
    await expect(wipeReplicantEnv(withFolders)).rejects.toThrow(
      `refusing to wipe ${withFolders}: it contains folders (photos), which a Berkeley DB environment does not`,
    );
    expect(await readdir(withFolders)).toContain('TMSS10.catalog');

    await expect(wipeReplicantEnv(path.join(root, 'missing'))).rejects.toThrow(
      `cannot wipe ${path.join(root, 'missing')}: the directory does not exist; check envDir in the plan`,
    );
  });
});

describe('deleteRegionFiles', () => {
  it('deletes only the __db.* files: never log.* or data files', async () => {
    const envDir = await installedReplicant('master');
    await writeFile(path.join(envDir, 'log.0000000001'), 'a log inside the env');
    const result = await deleteRegionFiles(envDir);
    expect(result.deleted.sort()).toEqual(['__db.001', '__db.rep.egen']);
    expect((await readdir(envDir)).sort()).toEqual([
      '$DB_Err.txt',
      'DB_CONFIG',
      'TMSS10.catalog',
      'TMSS10.catalog.dump',
      'TMSS10.catalog.save',
      'log.0000000001',
    ]);
  });
});

describe('backupEnvironment (db5.3_hotbackup + db5.3_verify)', () => {
  it('makes a verified copy whose data equals the master, and keeps it when run again', async () => {
    const envDir = await standaloneServer(path.join(root, 'standalone'), { VOL001: 'slot 1', VOL002: 'slot 2' });
    const backupDir = path.join(root, 'backup');
    const first = await backupEnvironment(envDir, backupDir);
    expect(first.reused).toBe(false);
    expect(first.databases).toEqual(['tapes.db']);
    expect(first.files).toEqual(expect.arrayContaining(['DB_CONFIG.saved', 'tapes.db', 'log.0000000001']));
    expect(await records(backupDir, 'tapes.db')).toEqual({ VOL001: 'slot 1', VOL002: 'slot 2' });

    const second = await backupEnvironment(envDir, backupDir);
    expect(second).toMatchObject({ reused: true, finishedAt: first.finishedAt });
  }, 60_000);

  it('refuses a non-empty backup directory it did not make (db5.3_hotbackup would empty it)', async () => {
    const envDir = path.join(root, 'standalone', 'db');
    const busy = path.join(root, 'busy');
    await mkdir(busy);
    await writeFile(path.join(busy, 'yesterday.tar'), 'keep me');
    await expect(backupEnvironment(envDir, busy)).rejects.toThrow(
      `backup directory ${busy} is not empty and holds no replup backup of ${envDir}: db5.3_hotbackup would ` +
        `delete its files; name an empty directory in the plan's backupDir`,
    );
    expect(await readdir(busy)).toEqual(['yesterday.tar']);
  });
});
