// What the subscriber runbooks need beyond the upgrade's SqlFleetPort (activities/ports.ts): a
// narrow port of their own, implemented by the lab (activities/lab/subscribers.ts) and by SQL
// Server (activities/sqlserver/subscribers.ts). Every mutating call is safe to repeat.
import type { DbRef } from '../../plan/personalization-upgrade/types.js';

/** One user table's rows, from sys.dm_db_partition_stats: approximate, as Microsoft says. */
export interface TableRows {
  table: string;
  rows: number;
}

/** A publication the subscription database still holds merge metadata for. */
export interface SubscriberMetadata {
  /** The publisher as replication names it (@@SERVERNAME) and its publication database. */
  publisher: DbRef;
  publication: string;
}

/** The extended property that records, in the subscriber database, the approval of its data's replacement. */
export const REPLACEMENT_APPROVED = 'replup.subscriberDataReplacement.approved';

export interface SubscriberPort {
  /** Does the database exist on its server (sys.databases)? */
  databaseExists(db: DbRef): Promise<boolean>;
  /** Row counts of every user table, approximate (sys.dm_db_partition_stats.row_count). */
  tableRowCounts(db: DbRef): Promise<TableRows[]>;
  /** Records that a person approved replacing the database's data (kept when already there). */
  markReplacementApproved(db: DbRef, value: string): Promise<void>;
  /** sp_mergesubscription_cleanup at the subscriber for one publication; nothing left = done. */
  cleanupSubscription(subscriber: DbRef, publisher: DbRef, publication: string): Promise<void>;
  /** The publications of other databases this subscription database still holds merge metadata for. */
  subscriberMetadata(subscriber: DbRef): Promise<SubscriberMetadata[]>;
}
