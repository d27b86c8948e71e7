// The TapeTrack replicant plan's shape, step ids and step rules (runbook `bdb-replicant`, seed
// 001, DOMAIN.md §2). Kept apart from the zod schema in bdb.ts: the workflow imports this file, and
// zod does not belong in the workflow bundle.
import type { StepView } from '../kind.js';
import type { NotifySettings } from '../notify.js';

export const BDB_RUNBOOK = 'bdb-replicant';
/** The seed's default replication port (the client port, usually 5000, is a different one). */
export const DEFAULT_REPLICATION_PORT = 5010;
/** Where log files go, relative to the environment: DOMAIN.md §2 keeps them out of the env dir. */
export const DEFAULT_LOG_DIR = '../dblogs';

/** The runbook's steps in seed order. */
export const BDB_STEP_IDS = [
  'trusted-network',
  'backup-master',
  'stop-replicant',
  'wipe-replicant',
  'configure-replicant',
  'stop-master',
  'configure-master',
  'delete-region-files',
  'start-master',
  'start-replicant',
  'verify-replication',
] as const;
export type BdbStepId = (typeof BDB_STEP_IDS)[number];

export type BdbServiceControl = { kind: 'local' } | { kind: 'command'; start: string; stop: string; status?: string };

export interface BdbSite {
  host: string;
  envDir: string;
  /** The replication (repmgr) port, not the client port. */
  port: number;
  service: BdbServiceControl;
  /** The message log (the seed's $DB_Msg.txt); with a local service, db5.3_replicate's output. */
  messageLog: string;
}

export interface BdbReplicantPlan {
  name: string;
  runbook: typeof BDB_RUNBOOK;
  master: BdbSite;
  replicant: BdbSite;
  backupDir: string;
  /** set_lg_dir written when DB_CONFIG has none (relative to each environment). */
  logDir: string;
  /** Replication traffic is not encrypted (seed 001): untrusted or unstated means an approval gate. */
  network: { trusted: boolean };
  options: {
    startupTimeoutSeconds: number;
    /** The replicant exits after ~10-15 s when its master does not answer: start it again this often. */
    replicantRetrySeconds: number;
    replicantStartAttempts: number;
    verifyTimeoutSeconds: number;
  };
  /** Notifications of the run (plan/notify.ts). */
  notify?: NotifySettings;
}

// resolveFrom was written here first; other plan modules import it from here.
export { resolveFrom } from '../plan-path.js';

const where = (s: BdbSite) => `${s.host}:${s.port} (${s.envDir})`;

export function bdbPlanSteps(plan: BdbReplicantPlan): StepView[] {
  const reasons: Record<BdbStepId, [boolean, string]> = {
    'trusted-network': [
      !plan.network.trusted,
      plan.network.trusted
        ? 'the plan says the network is trusted (network.trusted: true)'
        : 'replication traffic is not encrypted and the plan does not say the network is trusted: waits for ' +
          '`replup approve`',
    ],
    'backup-master': [
      true,
      `a full, verified backup of ${where(plan.master)} into ${plan.backupDir} before anything changes`,
    ],
    'stop-replicant': [true, `the replicant's files can only be replaced while its service is stopped`],
    'wipe-replicant': [
      true,
      `every file in ${plan.replicant.envDir} except DB_CONFIG goes: the replicant gets its data from the master`,
    ],
    'configure-replicant': [
      true,
      'uncomment the replicant block of DB_CONFIG (priority 0, bootstrap helper = the master)',
    ],
    'stop-master': [true, 'the master reads DB_CONFIG only at start-up'],
    'configure-master': [true, 'uncomment the master block of DB_CONFIG (priority 1, group creator)'],
    'delete-region-files': [
      true,
      `only the __db.* files of ${plan.master.envDir} (region files and old group membership); never log.* or data`,
    ],
    'start-master': [true, 'start the master and wait until db5.3_stat -r says "replication master"'],
    'start-replicant': [
      true,
      `start the replicant until its log shows it joined and finished start-up; retried every ` +
        `${plan.options.replicantRetrySeconds} s (up to ${plan.options.replicantStartAttempts} times) while ` +
        `the master does not answer`,
    ],
    'verify-replication': [
      true,
      'a record written on the master must appear on the replicant, and a write on the replicant must fail read-only',
    ],
  };
  return BDB_STEP_IDS.map((id) => ({ id, applies: reasons[id][0], reason: reasons[id][1] }));
}
