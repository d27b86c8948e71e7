// The Berkeley DB ports (./ports.ts) in memory: two machines' environment homes, their replication
// services and message logs, with no db5.3 tool and no file touched. Tests run the real workflow
// on them (test/temporal/bdb-replicant-ports.test.ts). It keeps the rules the runbook relies on,
// as the db5.3 adapter enforces them: a wipe or region-file delete refuses a running service or a
// folder that is not an environment; a replicant whose master does not run fails DB_REP_UNAVAIL
// (retryable); the role `db5.3_stat -r` reports follows the active rep_set_priority of DB_CONFIG.
import { applyReplicationBlock, dbConfigOutcome, unfixableDbConfigMessage, type BdbRole } from './db-config.js';
import type { BackupRecord, ReplicationRole } from './env.js';
import { BdbEnvError, BdbServiceError, ReplicationCheckError } from './errors.js';
import type { BdbPorts } from './ports.js';
import type { BdbService } from './service.js';

/** One environment home: its file names, DB_CONFIG's text, and the records of its databases. */
export interface FakeHome {
  files: string[];
  dbConfig?: string;
  /** key → value, as db5.3_dump would list them. */
  records: Record<string, string>;
}

interface RunningService {
  role: BdbRole;
  pid: number;
  /** A replicant that has joined its master: it holds the master's records from then on. */
  joined: boolean;
}

export interface FakeBdb {
  ports: BdbPorts;
  /** The homes by envDir; tests change them as an administrator would. */
  homes: Map<string, FakeHome>;
  /** The running services by envDir. */
  running: Map<string, RunningService>;
  /** What each service wrote to its message log (by log file). */
  messageLogs: Map<string, string[]>;
  /** How many more replicant starts fail DB_REP_UNAVAIL though the master runs (its port not open yet). */
  masterUnanswered: number;
}

const REGION_FILE = /^__db\./;
const READ_ONLY = 'BDB0111 DBcursor->put: attempt to modify a read-only database';

/** What `db5.3_stat -r` reports for a running service: the active rep_set_priority says (1 master, 0 client). */
function configuredRole(home: FakeHome | undefined): ReplicationRole {
  const priority = /^\s*rep_set_priority\s+(\d+)\s*$/m.exec(home?.dbConfig ?? '')?.[1];
  if (priority === undefined) return 'none';
  return Number(priority) > 0 ? 'master' : 'client';
}

/** Two machines' homes, as given (each envDir a key); nothing runs at first. */
export function createFakeBdbPorts(homes: Record<string, FakeHome>): FakeBdb {
  const fake: Omit<FakeBdb, 'ports'> = {
    homes: new Map(Object.entries(homes).map(([dir, h]) => [dir, structuredClone(h)])),
    running: new Map(),
    messageLogs: new Map(),
    masterUnanswered: 0,
  };
  const backups = new Map<string, BackupRecord>();
  let nextPid = 4100;

  const log = (svc: BdbService, line: string) => {
    const file = svc.messageLog ?? `${svc.envDir}/DB_Msg.txt`;
    fake.messageLogs.set(file, [...(fake.messageLogs.get(file) ?? []), line]);
    return line;
  };
  /** The home of a stopped Berkeley DB environment, or a BdbEnvError saying why not. */
  const stoppedEnv = (envDir: string, what: string): FakeHome => {
    const home = fake.homes.get(envDir);
    if (!home)
      throw new BdbEnvError(`cannot ${what} ${envDir}: the directory does not exist; check envDir in the plan`);
    if (home.dbConfig === undefined && !home.files.some((f) => REGION_FILE.test(f))) {
      throw new BdbEnvError(
        `refusing to ${what} ${envDir}: it has neither DB_CONFIG nor __db.* region files, so it does not look like a ` +
          'Berkeley DB environment; check envDir in the plan',
      );
    }
    const svc = fake.running.get(envDir);
    if (svc)
      throw new BdbEnvError(
        `refusing to ${what} ${envDir}: its replication service is running (pid ${svc.pid}); stop the service first`,
      );
    return home;
  };

  const ports: BdbPorts = {
    homes: {
      async backup(envDir, backupDir) {
        const done = backups.get(backupDir);
        if (done?.envDir === envDir) return { ...done, reused: true };
        const home = fake.homes.get(envDir);
        if (!home || home.files.length === 0)
          throw new BdbEnvError(`the master environment ${envDir} is missing or empty; nothing was changed`);
        const databases = home.files.filter((f) => f.endsWith('.db'));
        const record = {
          envDir,
          backupDir,
          databases,
          files: [...home.files],
          finishedAt: new Date().toISOString(),
          reused: false,
        };
        backups.set(backupDir, record);
        return record;
      },
      async readDbConfig(envDir) {
        return fake.homes.get(envDir)?.dbConfig;
      },
      async writeDbConfig(envDir, role, pair, opts) {
        const file = `${envDir}/DB_CONFIG`;
        const home = fake.homes.get(envDir);
        if (role === 'master' && !home)
          throw new BdbEnvError(`the master environment ${envDir} does not exist; nothing was changed`);
        const update = applyReplicationBlock(home?.dbConfig, role, pair, opts);
        if (update.errors.length > 0) throw new BdbEnvError(unfixableDbConfigMessage(file, update.errors));
        if (update.changed) fake.homes.set(envDir, { files: [], records: {}, ...home, dbConfig: update.text });
        return dbConfigOutcome(file, update);
      },
      async wipeReplicant(envDir) {
        const home = stoppedEnv(envDir, 'wipe');
        const deleted = [...home.files];
        home.files = [];
        home.records = {};
        return { envDir, deleted, kept: home.dbConfig === undefined ? [] : ['DB_CONFIG'] };
      },
      async deleteRegionFiles(envDir) {
        const home = stoppedEnv(envDir, 'delete region files in');
        const deleted = home.files.filter((f) => REGION_FILE.test(f));
        home.files = home.files.filter((f) => !REGION_FILE.test(f));
        return { envDir, deleted };
      },
      async replicationRole(envDir) {
        return fake.running.has(envDir) ? configuredRole(fake.homes.get(envDir)) : 'none';
      },
    },
    services: {
      async stop(svc) {
        const was = fake.running.get(svc.envDir);
        if (!was) return { wasRunning: false };
        fake.running.delete(svc.envDir);
        log(svc, `service stopped (pid ${was.pid})`);
        return { wasRunning: true, pid: was.pid, signal: 'SIGTERM' };
      },
      async start(svc) {
        const already = fake.running.get(svc.envDir);
        if (already) return { alreadyRunning: true, pid: already.pid, evidence: [] };
        const home = fake.homes.get(svc.envDir);
        if (!home)
          throw new BdbServiceError(
            'EXITED',
            `the ${svc.role} service on ${svc.host} (${svc.envDir}) exited: no environment`,
            false,
          );
        if (svc.role === 'master') {
          fake.running.set(svc.envDir, { role: 'master', pid: nextPid++, joined: false });
          return { alreadyRunning: false, pid: nextPid - 1, evidence: [] };
        }
        const master = [...fake.running.entries()].find(([, s]) => s.role === 'master');
        if (!master || fake.masterUnanswered > 0) {
          fake.masterUnanswered = Math.max(0, fake.masterUnanswered - 1);
          const tail = [log(svc, 'BDB3611 Connection refused'), log(svc, 'DB_REP_UNAVAIL: Unable to elect a master')];
          throw new BdbServiceError(
            'DB_REP_UNAVAIL',
            `the replicant service on ${svc.host} (${svc.envDir}) exited with DB_REP_UNAVAIL: ` +
              `it could not reach its master (${tail.join(' | ')}); ` +
              'start the master and check the replication port is open, then retry',
            true,
            tail,
          );
        }
        home.records = { ...fake.homes.get(master[0])?.records };
        fake.running.set(svc.envDir, { role: 'replicant', pid: nextPid++, joined: true });
        const evidence = ['connection established', 'Election done', 'Start-up is done'].map((l) => log(svc, l));
        return { alreadyRunning: false, pid: nextPid - 1, evidence };
      },
    },
    check: {
      async verify(input) {
        const { masterEnv, replicantEnv, token } = input;
        const key = `replup-check-${token}`;
        const master = fake.homes.get(masterEnv);
        if (!master || !fake.running.has(masterEnv))
          throw new ReplicationCheckError(`writing the check record on the master (${masterEnv}) failed: not running`);
        master.records[key] = new Date().toISOString();
        const replicant = fake.running.get(replicantEnv);
        if (!replicant?.joined) {
          throw new ReplicationCheckError(
            `the record ${key} written on the master (${masterEnv}) did not reach the replicant (${replicantEnv}) ` +
              `within ${Math.round((input.timeoutMs ?? 60_000) / 1000)} s; check both message logs`,
          );
        }
        const home = fake.homes.get(replicantEnv)!;
        home.records[key] = master.records[key];
        return { token, seenAfterMs: 0, readOnlyError: READ_ONLY };
      },
    },
  };
  // The same object, so a test's change to masterUnanswered is seen by the ports.
  return Object.assign(fake, { ports });
}
