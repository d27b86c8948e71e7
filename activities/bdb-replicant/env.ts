// Side effects on a Berkeley DB environment directory (DOMAIN.md §2). Each function observes
// first and is safe to run twice: activities are at-least-once.
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import {
  applyReplicationBlock,
  dbConfigOutcome,
  logDirOrRefuse,
  unfixableDbConfigMessage,
  type BdbRole,
  type DbConfigOptions,
  type DbConfigOutcome,
  type ReplicationPair,
} from './db-config.js';
import { EXAMPLE_SETUP, masterHomeProblem } from './home.js';
import { localServicePid } from './service.js';
import { runTool, toolErrors } from './tools.js';
import { BdbEnvError } from './errors.js';

export const DB_CONFIG = 'DB_CONFIG';
/** Region and replication system files: `__db.001`, `__db.rep.gen`, ... (the seed's "_db." is a typo). */
export const REGION_FILE = /^__db\./;
/** Berkeley DB log files: log.0000000001. */
export const LOG_FILE = /^log\.\d{10}$/;
const BACKUP_MARKER = 'replup-backup.json';
const SAVED_DB_CONFIG = 'DB_CONFIG.saved';

export { BdbEnvError };

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export async function readDbConfig(envDir: string): Promise<string | undefined> {
  return readFile(path.join(envDir, DB_CONFIG), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

/**
 * The environment's log directory (set_lg_dir resolved against the env), or the env itself.
 * A set_lg_dir line with a trailing comment is refused (BdbEnvError naming file:line and the fix):
 * Berkeley DB would read the comment as part of the path.
 */
export async function logDirectory(envDir: string): Promise<string> {
  const dir = logDirOrRefuse(
    await readDbConfig(envDir),
    path.join(envDir, DB_CONFIG),
    (problem) => new BdbEnvError(`${problem}; nothing was changed`),
  );
  return dir === undefined ? envDir : path.resolve(envDir, dir);
}

/** Refuse a directory that a wipe or delete must never touch: /, a home, a top-level folder. */
function refuseDangerous(dir: string, what: string): void {
  const resolved = path.resolve(dir);
  const depth = resolved.split(path.sep).filter(Boolean).length;
  const homes = [homedir(), process.env.HOME].filter((h): h is string => !!h).map((h) => path.resolve(h));
  if (depth < 2 || homes.includes(resolved)) {
    throw new BdbEnvError(
      `refusing to ${what} ${resolved}: it is ${depth < 2 ? 'a top-level directory' : 'a home directory'}, ` +
        `not a Berkeley DB environment; check envDir in the plan`,
    );
  }
}

/**
 * A Berkeley DB environment has a DB_CONFIG or region files (__db.001...), and only files: a
 * directory holding anything else is refused rather than emptied.
 */
async function assertLooksLikeEnv(envDir: string, what: string): Promise<string[]> {
  refuseDangerous(envDir, what);
  const entries = await readdir(envDir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new BdbEnvError(
      `cannot ${what} ${envDir}: ${err.code === 'ENOENT' ? 'the directory does not exist' : err.message}; ` +
        `check envDir in the plan`,
    );
  });
  const names = entries.map((e) => e.name);
  if (!names.includes(DB_CONFIG) && !names.some((n) => REGION_FILE.test(n))) {
    throw new BdbEnvError(
      `refusing to ${what} ${envDir}: it has neither DB_CONFIG nor __db.* region files, so it does not look ` +
        `like a Berkeley DB environment; check envDir in the plan`,
    );
  }
  const logDir = await logDirectory(envDir);
  const folders = entries.filter((e) => e.isDirectory() && path.join(envDir, e.name) !== logDir).map((e) => e.name);
  if (folders.length > 0) {
    throw new BdbEnvError(
      `refusing to ${what} ${envDir}: it contains folders (${folders.join(', ')}), which a Berkeley DB ` +
        `environment does not; check envDir in the plan`,
    );
  }
  const pid = await localServicePid(envDir);
  if (pid !== undefined) {
    throw new BdbEnvError(
      `refusing to ${what} ${envDir}: its replication service is running (pid ${pid}); stop the service first`,
    );
  }
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

export interface WipeResult {
  envDir: string;
  deleted: string[];
  kept: string[];
}

/**
 * The seed's "delete all database files on the replicant except DB_CONFIG": everything in the
 * environment, and the log files in its log directory (they are database files too, kept
 * elsewhere only because DOMAIN.md §2 says to keep logs out of the env dir).
 */
export async function wipeReplicantEnv(envDir: string): Promise<WipeResult> {
  const files = await assertLooksLikeEnv(envDir, 'wipe');
  const logDir = await logDirectory(envDir);
  const deleted: string[] = [];
  for (const name of files.filter((n) => n !== DB_CONFIG)) {
    await rm(path.join(envDir, name), { force: true });
    deleted.push(name);
  }
  if (logDir !== envDir && (await exists(logDir))) {
    refuseDangerous(logDir, 'clear the logs of');
    for (const name of (await readdir(logDir)).filter((n) => LOG_FILE.test(n))) {
      await rm(path.join(logDir, name), { force: true });
      deleted.push(path.relative(envDir, path.join(logDir, name)));
    }
  }
  return { envDir, deleted, kept: files.includes(DB_CONFIG) ? [DB_CONFIG] : [] };
}

/** The seed's master step: delete only the `__db.*` files, never log.* or data files. */
export async function deleteRegionFiles(envDir: string): Promise<{ envDir: string; deleted: string[] }> {
  const files = await assertLooksLikeEnv(envDir, 'delete region files in');
  const deleted: string[] = [];
  for (const name of files.filter((n) => REGION_FILE.test(n))) {
    await rm(path.join(envDir, name), { force: true });
    deleted.push(name);
  }
  return { envDir, deleted };
}

export type WriteDbConfigResult = DbConfigOutcome;

/** Uncomment (or write) this role's block in the environment's DB_CONFIG; refuses a file that still has errors. */
export async function writeDbConfig(
  envDir: string,
  role: BdbRole,
  pair: ReplicationPair,
  opts: DbConfigOptions,
): Promise<WriteDbConfigResult> {
  const file = path.join(envDir, DB_CONFIG);
  // A master is never made here (a skipped backup-master must not let configure-master create an empty one).
  const missing = role === 'master' ? masterHomeProblem(envDir) : undefined;
  if (missing) throw new BdbEnvError(`${missing}; nothing was changed`);
  const existing = await readDbConfig(envDir);
  const update = applyReplicationBlock(existing, role, pair, opts);
  if (update.errors.length > 0) throw new BdbEnvError(unfixableDbConfigMessage(file, update.errors));
  if (update.changed) {
    await mkdir(envDir, { recursive: true });
    const tmp = `${file}.replup-tmp`;
    await writeFile(tmp, update.text);
    await rename(tmp, file);
  }
  return dbConfigOutcome(file, update);
}

export type ReplicationRole = 'master' | 'client' | 'none';

/** `db5.3_stat -r` says "Environment configured as a replication master|client" (or "not configured"). */
export async function replicationRole(envDir: string): Promise<ReplicationRole> {
  const result = await runTool('stat', ['-r', '-h', envDir], { timeoutMs: 15_000 });
  const match = /Environment configured as a replication (master|client)/.exec(result.output);
  if (match) return match[1] as 'master' | 'client';
  if (
    /Environment not configured for replication|requires an environment configured for the replication/.test(
      result.output + result.stderr,
    )
  )
    return 'none';
  throw new BdbEnvError(`${result.command} failed: ${toolErrors(result) || `exit ${result.code}`}`);
}

export interface BackupRecord {
  envDir: string;
  backupDir: string;
  /** The database files db5.3_archive -s names, each checked with db5.3_verify in the backup. */
  databases: string[];
  files: string[];
  finishedAt: string;
  /** true when an earlier verified backup of the same environment was found and kept. */
  reused: boolean;
}

/**
 * Full backup with db5.3_hotbackup (it copies data and log files of a live environment and
 * recovers the copy), then db5.3_verify of every database in the copy. Seen on loopback: hotbackup
 * deletes the files already in backup_dir, so a non-empty directory it did not make is refused.
 */
export async function backupEnvironment(envDir: string, backupDir: string): Promise<BackupRecord> {
  const marker = path.join(backupDir, BACKUP_MARKER);
  const previous = await readFile(marker, 'utf8').then(
    (t) => JSON.parse(t) as BackupRecord,
    () => undefined,
  );
  if (previous && path.resolve(previous.envDir) === path.resolve(envDir)) {
    await verifyBackup(backupDir, previous.databases);
    return { ...previous, reused: true };
  }
  const present = await readdir(backupDir).catch(() => [] as string[]);
  if (present.length > 0) {
    throw new BdbEnvError(
      `backup directory ${backupDir} is not empty and holds no replup backup of ${envDir}: db5.3_hotbackup ` +
        `would delete its files; name an empty directory in the plan's backupDir`,
    );
  }
  const missing = masterHomeProblem(envDir);
  if (missing) throw new BdbEnvError(`${missing}; nothing was changed`);
  await mkdir(backupDir, { recursive: true });
  const archive = await runTool('archive', ['-s', '-h', envDir], { timeoutMs: 60_000 });
  if (archive.code !== 0)
    throw new BdbEnvError(`${archive.command} failed: ${toolErrors(archive) || `exit ${archive.code}`}`);
  const databases = archive.output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

  const hot = await runTool('hotbackup', ['-h', path.resolve(envDir), '-b', path.resolve(backupDir)], {
    timeoutMs: 30 * 60_000,
  });
  if (hot.code !== 0) {
    // Seen on db5.3: databases loaded without an environment (a plain db5.3_load) make a private one.
    // `db5.3_recover -e` keeps the environment (its regions) after recovery, made from DB_CONFIG:
    // https://manpages.ubuntu.com/manpages/focal/man1/db_recover.1.html
    const privateEnv = /BDB5129/.test(hot.stderr)
      ? `; ${envDir} holds databases made without a shared environment (no __db.* region files; e.g. a plain ` +
        `db5.3_load), which are not in its logs: ` +
        (`create the environment first with \`db5.3_recover -e -h ${envDir}\` (it reads DB_CONFIG), then load ` +
          `the databases into it (\`db5.3_load -h ${envDir} …\`); for the example, \`${EXAMPLE_SETUP}\` does ` +
          `both`)
      : '';
    throw new BdbEnvError(`${hot.command} failed: ${toolErrors(hot) || `exit ${hot.code}`}${privateEnv}`);
  }
  // Not named DB_CONFIG: opening the copy with db_init_rep would fail ("replication requires locking support").
  if (await exists(path.join(envDir, DB_CONFIG)))
    await copyFile(path.join(envDir, DB_CONFIG), path.join(backupDir, SAVED_DB_CONFIG));
  await verifyBackup(backupDir, databases);

  const files = (await readdir(backupDir)).filter((n) => n !== BACKUP_MARKER).sort();
  const record: BackupRecord = {
    envDir: path.resolve(envDir),
    backupDir: path.resolve(backupDir),
    databases,
    files,
    finishedAt: new Date().toISOString(),
    reused: false,
  };
  await writeFile(marker, JSON.stringify(record, null, 2));
  return record;
}

async function verifyBackup(backupDir: string, databases: string[]): Promise<void> {
  for (const db of databases) {
    if (!(await exists(path.join(backupDir, db))))
      throw new BdbEnvError(
        `backup ${backupDir} is missing database ${db}; delete the directory and run the backup again`,
      );
    const v = await runTool('verify', ['-h', backupDir, db], { timeoutMs: 10 * 60_000 });
    if (v.code !== 0) throw new BdbEnvError(`backup ${backupDir}: db5.3_verify ${db} failed: ${toolErrors(v)}`);
  }
}
