// The ports of the TapeTrack replicant runbook (workflows/bdb-replicant.ts): what it needs from
// the two machines, in the Berkeley DB administrator's words (DOMAIN.md §2). ./db53.ts implements
// them with Debian's db5.3 utilities; ./fake-ports.ts in memory, so the workflow can be run without
// them. Like activities/ports.ts for the SQL runbook: every mutating call observes first and is
// safe to repeat (activities run at least once). Errors are the classes of ./errors.ts.
import type { BdbRole, DbConfigOptions, ReplicationPair } from './db-config.js';
import type { BackupRecord, ReplicationRole, WipeResult, WriteDbConfigResult } from './env.js';
import type { BdbService, StartResult, StopResult } from './service.js';
import type { VerifyReplicationInput, VerifyReplicationResult } from './verify.js';

/** An environment home (TapeTrack's var/db: DB_CONFIG, databases, log and region files). */
export interface EnvironmentHomes {
  /**
   * A full, verified backup of the master's home into `backupDir` (a folder of this run's own).
   * A finished backup there is reused (`reused: true`); a half-made one is made again.
   * @throws BdbEnvError when the home is missing or empty, or `backupDir` holds something else
   */
  backup(envDir: string, backupDir: string): Promise<BackupRecord>;
  /** The home's DB_CONFIG text, or undefined when it has none. */
  readDbConfig(envDir: string): Promise<string | undefined>;
  /**
   * Uncomment (or write) the role's replication block; a no-op when it is already active.
   * @throws BdbEnvError when the file has errors replup cannot fix, or a master home is missing
   */
  writeDbConfig(
    envDir: string,
    role: BdbRole,
    pair: ReplicationPair,
    opts: DbConfigOptions,
  ): Promise<WriteDbConfigResult>;
  /**
   * The replicant's home emptied but for DB_CONFIG (and its log files cleared).
   * @throws BdbEnvError for a folder that is not a stopped Berkeley DB environment
   */
  wipeReplicant(envDir: string): Promise<WipeResult>;
  /**
   * Only the `__db.*` region files deleted, never log or data files.
   * @throws BdbEnvError for a folder that is not a stopped Berkeley DB environment
   */
  deleteRegionFiles(envDir: string): Promise<{ envDir: string; deleted: string[] }>;
  /** What `db5.3_stat -r` says the home is: a replication master, a client, or neither. */
  replicationRole(envDir: string): Promise<ReplicationRole>;
}

/** The replication service of a site (master or replicant) and its message log. */
export interface ReplicationServices {
  /** Stopped; a stopped service stays stopped (`wasRunning: false`). */
  stop(svc: BdbService): Promise<StopResult>;
  /**
   * Started and ready: a master once it says master, a replicant once its message log shows it
   * joined and finished start-up. A running service is only waited on.
   * @throws BdbServiceError, e.g. DB_REP_UNAVAIL (retryable) while the replicant's master does not answer
   */
  start(svc: BdbService, startupTimeoutMs: number): Promise<StartResult>;
}

/** The seed's "confirming functionality" between master and replicant. */
export interface ReplicationCheck {
  /**
   * A record written on the master is read on the replicant, and a write there is refused.
   * @throws ReplicationCheckError naming what did not hold
   */
  verify(input: VerifyReplicationInput): Promise<VerifyReplicationResult>;
}

export interface BdbPorts {
  homes: EnvironmentHomes;
  services: ReplicationServices;
  check: ReplicationCheck;
}
