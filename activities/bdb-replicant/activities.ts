// The TapeTrack replicant runbook's activities (workflows/bdb-replicant.ts): thin wrappers over
// the runbook's ports (./ports.ts; db5.3 in ./db53.ts), which observe before they act, so running one twice is
// harmless (Temporal runs an activity at least once). Errors leave here as ApplicationFailures:
// retryable only when the error says a later try can succeed (the replicant's master not
// answering yet: DB_REP_UNAVAIL), non-retryable otherwise, so the step parks for an operator with
// the error's own words. Long waits heartbeat, so a killed worker is noticed within seconds.
import { heartbeating } from '../heartbeat.js';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { BdbSite } from '../../plan/bdb-replicant/schema.js';
import {
  applyReplicationBlock,
  dbConfigOutcome,
  formatIssues,
  type BdbRole,
  type DbConfigOptions,
  type DbConfigOutcome,
  type ReplicationPair,
} from './db-config.js';
import { db53Ports } from './db53.js';
import type { BackupRecord, ReplicationRole, WipeResult, WriteDbConfigResult } from './env.js';
import { BdbEnvError, BdbServiceError, ReplicationCheckError } from './errors.js';
import type { BdbPorts } from './ports.js';
import type { BdbService, StartResult, StopResult } from './service.js';
import type { VerifyReplicationInput, VerifyReplicationResult } from './verify.js';
import { BdbFailure } from '../../common/failures.js';

/**
 * Failure types the workflow tells apart (common/failures.ts); BdbServiceError codes (DB_REP_UNAVAIL, ...) pass through
 * as their own type.
 */
export { BdbFailure };

function toFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof BdbServiceError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.code,
      nonRetryable: !err.retryable,
      details: err.logTail.length ? [err.logTail] : undefined,
    });
  }
  const type =
    err instanceof BdbEnvError
      ? BdbFailure.environment
      : err instanceof ReplicationCheckError
        ? BdbFailure.verification
        : BdbFailure.other;
  // Anything else (a missing tool, a permission) needs a person before another try can succeed.
  return ApplicationFailure.create({
    message: err instanceof Error ? err.message : String(err),
    type,
    nonRetryable: true,
  });
}

/** Runs the work with a heartbeat every 2 s and turns its errors into classified failures. */
function guarded<T>(what: string, work: () => Promise<T>): Promise<T> {
  return heartbeating(work, toFailure, what);
}

/** The service of one site as the runbook controls it. */
export function serviceOf(role: BdbRole, site: BdbSite): BdbService {
  return { role, host: site.host, envDir: site.envDir, control: site.service, messageLog: site.messageLog };
}

/** A write previewed: `changed` says whether it would change the file. */
export interface DbConfigPreview extends DbConfigOutcome {
  /** What replup cannot fix: the write would be refused. */
  errors: string[];
}

/**
 * The runbook's activities over its ports (./ports.ts): Debian's db5.3 utilities by default, the
 * in-memory fake of ./fake-ports.ts in tests that run the workflow without them.
 */
export function createBdbActivities(opts: { ports?: BdbPorts } = {}) {
  const { homes, services, check } = opts.ports ?? db53Ports();
  return {
    /**
     * backup-master: db5.3_hotbackup into backupRoot/<run id>, every database checked with
     * db5.3_verify. The folder belongs to this run alone: a finished backup in it is reused (the
     * activity ran twice); one without replup's marker is what a killed worker left half-done,
     * and is made again (env.ts refuses any other non-empty folder).
     */
    bdbBackupEnvironment(envDir: string, backupRoot: string, runId: string): Promise<BackupRecord> {
      return guarded(`backing up ${envDir}`, async () => {
        if (!/^[A-Za-z0-9-]+$/.test(runId))
          throw new BdbEnvError(`"${runId}" is not a run id: the backup folder is named by it`);
        return homes.backup(envDir, path.join(backupRoot, runId));
      });
    },

    /** stop-replicant, stop-master: a stopped service stays stopped (wasRunning: false). */
    bdbStopService(svc: BdbService): Promise<StopResult> {
      return guarded(`stopping the ${svc.role} service`, () => services.stop(svc));
    },

    /** wipe-replicant: everything but DB_CONFIG; refuses a directory that is not a stopped Berkeley DB environment. */
    bdbWipeReplicant(envDir: string): Promise<WipeResult> {
      return guarded(`wiping ${envDir}`, () => homes.wipeReplicant(envDir));
    },

    /**
     * What writing this role's block would do to DB_CONFIG, without writing: the workflow names it in the write's
     * summary.
     */
    async bdbPreviewDbConfig(
      envDir: string,
      role: BdbRole,
      pair: ReplicationPair,
      opts: DbConfigOptions,
    ): Promise<DbConfigPreview> {
      return guarded(`reading ${envDir}/DB_CONFIG`, async () => {
        const file = `${envDir}/DB_CONFIG`;
        const update = applyReplicationBlock(await homes.readDbConfig(envDir), role, pair, opts);
        return { ...dbConfigOutcome(file, update), errors: formatIssues(file, update.errors) };
      });
    },

    /**
     * configure-replicant, configure-master: uncomment (or write) the role's block; the seed's typos are corrected and
     * returned as warnings.
     */
    bdbWriteDbConfig(
      envDir: string,
      role: BdbRole,
      pair: ReplicationPair,
      opts: DbConfigOptions,
    ): Promise<WriteDbConfigResult> {
      return guarded(`writing ${envDir}/DB_CONFIG`, () => homes.writeDbConfig(envDir, role, pair, opts));
    },

    /** delete-region-files: only __db.* (never log.* or data); refuses while the service runs. */
    bdbDeleteRegionFiles(envDir: string): Promise<{ envDir: string; deleted: string[] }> {
      return guarded(`deleting region files in ${envDir}`, () => homes.deleteRegionFiles(envDir));
    },

    /**
     * start-master, start-replicant: start and wait until ready (master: db5.3_stat -r says master;
     * replicant: its message log shows it joined and finished start-up). A replicant whose master
     * does not answer fails with DB_REP_UNAVAIL, retryable.
     */
    bdbStartService(svc: BdbService, startupTimeoutSeconds: number): Promise<StartResult> {
      return guarded(`starting the ${svc.role} service`, () => services.start(svc, startupTimeoutSeconds * 1000));
    },

    /** What `db5.3_stat -r` says the environment is: master, client or none. */
    bdbReplicationRole(envDir: string): Promise<ReplicationRole> {
      return guarded(`db5.3_stat -r -h ${envDir}`, () => homes.replicationRole(envDir));
    },

    /**
     * verify-replication: a record written on the master is read on the replicant, and a write there fails read-only.
     */
    bdbVerifyReplication(input: VerifyReplicationInput): Promise<VerifyReplicationResult> {
      return guarded('verifying replication', () => check.verify(input));
    },
  };
}

export type BdbActivities = ReturnType<typeof createBdbActivities>;
