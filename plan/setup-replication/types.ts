// The normalized set-up plan (runbook `setup-replication`): the fleet in the upgrade plan's shape
// (sites, publications, distributors, scripts: plan/personalization-upgrade/types.ts), the
// read-committed-snapshot choice per database, and the run's options. Pure: the workflow reads it.
import type { GatePolicy } from '../approval.js';
import type { NotifySettings } from '../notify.js';
import type { UpgradePlan } from '../personalization-upgrade/types.js';

export const SETUP_RUNBOOK = 'setup-replication';

/** The fleet sections shared with the upgrade plan (same schema pieces, same normalization). */
export type SetupFleet = Pick<
  UpgradePlan,
  'name' | 'target' | 'publisher' | 'distributor' | 'sites' | 'publications' | 'scripts' | 'credentials'
>;

/** One database's read-committed-snapshot choice (the seed's SetMasterUp/AddSubscriber prompt). */
export interface RcsiChoice {
  /** Site key `server/database`. */
  site: string;
  on: boolean;
}

export interface SetupOptions {
  maxParallel: number;
  childWorkflowThreshold: number;
  /** Step ids that wait for `replup approve` (default subscribe-config: a subscriber's data is replaced). */
  approvals: string[];
  gates?: Record<string, GatePolicy>;
  /** How long each Snapshot Agent is waited for (minutes). */
  snapshotTimeoutMinutes: number;
  retry?: { initialSeconds: number; maximumSeconds: number; maximumAttempts: number };
}

export interface SetupPlan extends Omit<SetupFleet, 'name'> {
  name: string;
  runbook: typeof SETUP_RUNBOOK;
  /** The seed's snapshot folder: sp_adddistpublisher's @working_directory where the set-up installs a distributor. */
  snapshotFolder?: string;
  /** Every site's choice, in plan order. */
  readCommittedSnapshot: RcsiChoice[];
  notify?: NotifySettings;
  options: SetupOptions;
}

/** The set-up's steps, in the seed's order ("Performing the Setup", "Branch Office Replication Scenario"). */
export const SETUP_STEP_IDS = [
  'preflight',
  'configure-distributor',
  'read-committed-snapshot',
  'publish-config',
  'publish-data',
  'subscribe-config',
  'publish-branch-data',
  'subscribe-data',
  'verify-replication',
] as const;
export type SetupStepId = (typeof SETUP_STEP_IDS)[number];

/** Is this a branch-office plan (branches publish their own Data)? */
export function isBranchOffice(plan: Pick<SetupPlan, 'sites'>): boolean {
  return plan.sites.some((s) => s.role === 'publisher-subscriber');
}
