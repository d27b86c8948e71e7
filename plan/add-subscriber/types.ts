// The normalized plans of the two subscriber runbooks (seed 000: AddSubscriber, and removing a
// subscriber): one subscriber database joins or leaves an existing fleet's Config and Data
// publications. Pure types and step ids, shared by plan/, the workflows and the activities.
import type { Credentials, DbRef, Target } from '../personalization-upgrade/types.js';
import type { GatePolicy } from '../approval.js';
import type { NotifySettings } from '../notify.js';

export const ADD_SUBSCRIBER_RUNBOOK = 'add-subscriber';
export const REMOVE_SUBSCRIBER_RUNBOOK = 'remove-subscriber';

/** A server of the plan with what preflight expects of it (checked when given). */
export interface PlannedDb extends DbRef {
  sqlVersion?: string;
  edition?: string;
}

/** A publication the subscriber joins or leaves: Config (every 5 minutes) or Data (daily). */
export interface SubscriberPublication {
  name: string;
  kind: 'Config' | 'Data';
}

export interface SubscriberPlanOptions {
  /** Step ids that wait for `replup approve` (default: the step that deletes or drops). */
  approvals: string[];
  gates?: Record<string, GatePolicy>;
  /** How long preflight waits for a publication's snapshot to be ready (minutes). */
  snapshotTimeoutMinutes: number;
  retry?: { initialSeconds: number; maximumSeconds: number; maximumAttempts: number };
}

/** What both runbooks' plans hold. */
export interface SubscriberPlanBase {
  name: string;
  target: Target;
  credentials: Credentials;
  publisher: PlannedDb;
  /** The publisher's distributor (default: the publisher's server, database distribution). */
  distributor: DbRef;
  subscriber: PlannedDb;
  /** Config before Data, the seed's order. */
  publications: SubscriberPublication[];
  options: SubscriberPlanOptions;
  notify?: NotifySettings;
}

export interface AddSubscriberPlan extends SubscriberPlanBase {
  runbook: typeof ADD_SUBSCRIBER_RUNBOOK;
  /** The vendor's subscription scripts, run at the publisher through the sqlcmd runner (sync type automatic). */
  scripts: {
    dir: string;
    files: { createConfigSubscription: string; createDataSubscription: string };
    variables?: Record<string, string>;
  };
}

export interface RemoveSubscriberPlan extends SubscriberPlanBase {
  runbook: typeof REMOVE_SUBSCRIBER_RUNBOOK;
}

export const ADD_SUBSCRIBER_STEP_IDS = [
  'preflight',
  'create-subscriptions',
  'synchronize',
  'verify-subscription',
] as const;
export type AddSubscriberStepId = (typeof ADD_SUBSCRIBER_STEP_IDS)[number];

export const REMOVE_SUBSCRIBER_STEP_IDS = ['preflight', 'drop-subscriptions', 'verify-fleet'] as const;
export type RemoveSubscriberStepId = (typeof REMOVE_SUBSCRIBER_STEP_IDS)[number];

/** The gate before the subscriber's data is deleted and replaced by the snapshot. */
export const REPLACE_GATE: AddSubscriberStepId = 'create-subscriptions';
/** The gate before the subscriber's subscriptions are dropped. */
export const DROP_GATE: RemoveSubscriberStepId = 'drop-subscriptions';

export const DEFAULT_SNAPSHOT_WAIT_MINUTES = 30;

/** Editions that may only subscribe to merge publications (editions-and-components-of-sql-server-2016). */
export const SUBSCRIBE_ONLY_EDITIONS = /\b(express|web)\b/i;

/** `server/database` of a database, as messages name it. */
export const where = (db: DbRef) => `${db.server}/${db.database}`;
