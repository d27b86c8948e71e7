// The normalized plan: what plan/ produces from a YAML/JSON file and what every other part reads.
// It never holds a secret: credentials are references (`env:NAME`, `file:PATH`) resolved by the
// worker at activity time, so the plan can travel in workflow inputs and history.
import type { GatePolicy } from '../approval.js';
import type { MaintenanceWindow } from '../window.js';
import type { NotifySettings } from '../notify.js';

/** A SQL Server database in the fleet. `server` is `HOST`, `HOST\INSTANCE` or `HOST,PORT`. */
export interface DbRef {
  server: string;
  database: string;
}

/** A database site: one database plus the personalization servers (IIS hosts) in front of it. */
export interface Site extends DbRef {
  /** Stable key used in ids, lab state and reports: `server/database`. */
  key: string;
  role: 'publisher' | 'subscriber' | 'publisher-subscriber';
  personalizationServers: string[];
  /** Expected SQL Server version (e.g. 15.0.2000.5) and edition, checked at preflight when given. */
  sqlVersion?: string;
  edition?: string;
  /**
   * A publishing site's distributor (the central publisher: the plan's `distributor`; a branch:
   * its own `distributor`, by default the branch itself). Absent on subscribers, and in plans
   * normalized before it existed: read it with distributorOf() in plan/personalization-upgrade/schema.ts.
   */
  distributor?: DbRef;
}

/** One merge publication and the databases that subscribe to it. */
export interface Publication {
  /** Vendor publication name: `Config` or `Data` (or a custom name). */
  name: string;
  kind: 'Config' | 'Data';
  /** Key of the publishing site. */
  publisher: string;
  /** Keys of the subscribing sites. */
  subscribers: string[];
}

export type CredentialRef = string; // 'env:NAME' | 'file:PATH'
export type Credentials = { kind: 'windows' } | { kind: 'sql'; user: CredentialRef; password: CredentialRef };

/**
 * verify-replication's canary on a real fleet: T-SQL the worker runs with `@token` bound (a unique
 * text per run). `write` runs at each publisher and must change a row of a replicated table;
 * `read` runs at each subscriber and returns at least one row once that change has arrived.
 */
export interface CanaryQueries {
  write: string;
  read: string;
}

/** A Windows account for NTLM, as references: a Linux worker has no logged-on Windows identity. */
export interface WindowsAccount {
  /** Resolves to `DOMAIN\user`. */
  user: CredentialRef;
  password: CredentialRef;
}

/**
 * Where the plan runs. The sqlserver settings sit in the target because the target travels with
 * every activity call (FleetContext): the worker builds the SQL Server adapter from it.
 */
export type Target =
  | { kind: 'lab'; state: string }
  | {
      kind: 'sqlserver';
      /** Required by validation for a sqlserver plan: verify-replication cannot check without it. */
      canary?: CanaryQueries;
      /** With `credentials: windows`; default env:REPLUP_WINDOWS_USER and env:REPLUP_WINDOWS_PASSWORD. */
      windowsAccount?: WindowsAccount;
    };

export interface ScriptFiles {
  createConfigPublication: string;
  createDataPublication: string;
  createConfigSubscription: string;
  createDataSubscription: string;
  convertRowGuids: string;
  removeReplication?: string;
}

export interface HostCommands {
  /** Command templates run by the worker, with {host} (and {service}) placeholders. */
  drain?: string;
  undrain?: string;
  stopService?: string;
  startService?: string;
  /** A command template, or 'manual': an operator confirms the upgrade with `replup confirm`. */
  upgrade: string;
}

export interface PlanOptions {
  maxParallel: number;
  sync: { quietRounds: number; maxRounds: number };
  /** Step ids that wait for `replup approve` before they run. */
  approvals: string[];
  /** Who may approve a gate and how many must, for gates the plan says more about than their id (#23). */
  gates?: Record<string, GatePolicy>;
  /** The maintenance window, UTC instants (plan/window.ts). */
  window?: MaintenanceWindow;
  /** How long drain-users waits for sessions to end before asking an operator (seconds). */
  drainTimeoutSeconds: number;
  /** Subscriber count from which per-subscriber work runs in child workflows. */
  childWorkflowThreshold: number;
  /** Activity retry for transient errors (default 2 s doubling to 60 s, 8 attempts). */
  retry?: { initialSeconds: number; maximumSeconds: number; maximumAttempts: number };
  /** How long the run is expected to take (hours): preflight warns of subscriptions expiring within it. Default 8. */
  expectedRunHours?: number;
  /** How long enable-replication waits for each publication's snapshot (minutes). Default 30. */
  snapshotTimeoutMinutes?: number;
}

export interface UpgradePlan {
  name: string;
  runbook: 'em-personalization-upgrade';
  from: string;
  to: string;
  target: Target;
  /** The central publisher (Config publisher in the branch-office form). */
  publisher: Site;
  distributor: DbRef;
  /** Every site in the fleet, publisher first, in plan order. */
  sites: Site[];
  publications: Publication[];
  scripts: {
    dir: string;
    files: ScriptFiles;
    /** sqlcmd variable name → template over the fleet (`{subscriber.database}` …); default DEFAULT_SCRIPT_VARIABLES. */
    variables?: Record<string, string>;
    /** A failed batch before the script's own `:on error`: stop the script (default) or go on as plain sqlcmd does. */
    onError?: 'exit' | 'ignore';
  };
  credentials: Credentials;
  hosts: HostCommands;
  backup: { dir: string; copyOnly: true };
  /** Query returning the product schema version of a database (configurable: vendor specific). */
  versionQuery?: string;
  /** Notifications of the run (plan/notify.ts): targets hold URL references, never the URLs. */
  notify?: NotifySettings;
  options: PlanOptions;
}

/** The steps of the Personalization Server upgrade, in runbook order. */
export const UPGRADE_STEP_IDS = [
  'preflight',
  'drain-users',
  'sync-until-quiet',
  'backup',
  'remove-replication',
  'upgrade',
  'stop-background-services',
  'convert-row-guids',
  'prepare-scripts',
  'enable-replication',
  'verify-replication',
  'restore-service',
] as const;
export type UpgradeStepId = (typeof UPGRADE_STEP_IDS)[number];

export interface PlannedStep {
  id: UpgradeStepId;
  applies: boolean;
  /** Why it applies or not, in the operator's words. */
  reason: string;
}

/**
 * Where a publishing site's publications are distributed: its own distributor, else the plan's (plans normalized before
 * sites had one).
 */
export function distributorOf(plan: Pick<UpgradePlan, 'distributor'>, site: Site): DbRef {
  return site.distributor ?? plan.distributor;
}

/** The sites that publish something, in plan order. */
export function publishingSites(plan: Pick<UpgradePlan, 'sites' | 'publications'>): Site[] {
  const keys = new Set(plan.publications.map((p) => p.publisher));
  return plan.sites.filter((s) => keys.has(s.key));
}
