// The convergence proof (issue #20 §1-2), pure: what a merge validation says about one
// subscription, and the messages that park a step when the copies differ or cannot be kept equal.
// Facts and their sources: docs/research/convergence-sources.md. Pending-change counts are not
// proof: sp_showpendingchanges "does not include rows in generation 0" and is "an approximation".
import type { DbRef } from '../plan/types.js';
import type { AddedRowGuidArticle, RowGuidPair, ValidationState } from './ports.js';

/** One subscription's validation: 'identical' (row counts and binary checksums match), 'differs', or 'not-validated' (the merge agent recorded none). */
export interface ValidationVerdict {
  outcome: 'identical' | 'differs' | 'not-validated';
  /** Tables (articles) the Merge Agent reported out of sync (alert 20574), when it named them. */
  tables: string[];
}

export interface SubscriptionValidation extends ValidationVerdict {
  publication: string;
  subscriber: DbRef;
}

/**
 * Judges the validation of one merge run by what changed between the state read before the mark
 * and after the run: a new 20574 alert names a failed article; a new last_validated (or a new
 * 20575 alert) is a pass; attempted_validate moving alone is a failure *(inferred: the
 * sysmergesubscriptions page does not describe the pair)*; nothing new = no validation happened.
 */
export function judgeValidation(before: ValidationState, after: ValidationState): ValidationVerdict {
  const seen = Math.max(0, ...before.alerts.map((a) => a.alertId));
  const fresh = after.alerts.filter((a) => a.alertId > seen);
  const tables = [...new Set(fresh.filter((a) => !a.passed).map((a) => a.article || '(article not named)'))];
  if (tables.length) return { outcome: 'differs', tables };
  const attempted = after.attempted !== undefined && after.attempted !== before.attempted;
  const validated = after.lastValidated !== undefined && after.lastValidated !== before.lastValidated;
  if (validated || fresh.some((a) => a.passed)) return { outcome: 'identical', tables: [] };
  if (attempted) return { outcome: 'differs', tables: [] };
  return { outcome: 'not-validated', tables: [] };
}

const where = (db: DbRef) => `${db.server}/${db.database}`;

/** When the proof is taken: before removal (replication still intact) or after the re-enable. */
export type ProofPoint = 'before-removal' | 'after-re-enable';

/**
 * The message that parks the step when a copy differs or was not validated; undefined when every
 * subscription validated identical. Names subscriptions and tables, then the remedies, safe way first.
 */
export function convergenceStopMessage(point: ProofPoint, results: SubscriptionValidation[]): string | undefined {
  const differs = results.filter((r) => r.outcome === 'differs');
  const unproven = results.filter((r) => r.outcome === 'not-validated');
  if (!differs.length && !unproven.length) return undefined;
  const parts: string[] = [];
  if (differs.length) {
    const list = differs.map((r) => `${r.publication} → ${where(r.subscriber)} (${r.tables.length ? `tables ${r.tables.join(', ')}` : 'tables not named: see the merge agent history'})`).join('; ');
    parts.push(
      `merge validation (row counts and binary checksums) found copies that differ ${point === 'before-removal' ? 'after the quiet rounds' : 'after the re-enable'}: ${list}. ` +
        "Pending-change counts said nothing was left, but they leave out generation-0 rows; a subscription without a snapshot never compares rows again, so a difference left now stays. " +
        'Validation does not say which rows: compare each table with the tablediff utility. ' +
        `The safe way first: make the copies identical by hand (tablediff -f writes the script that fixes the destination; apply it), then retry this step, which validates again${point === 'before-removal' ? '; replication is still intact' : ''}. ` +
        "The vendor's other ways: reinitialize the subscription with a new snapshot (sp_reinitmergesubscription @upload_first = 'true'), which deletes the subscriber's Archive data; " +
        "or initialize the subscriber from a backup of the publication database (Initialize a Subscription Manually), which replaces its Archive data too: save the Archive table first" +
        (point === 'after-re-enable' ? "; this run's copy-only backups are in the run's facts (backups)" : ''),
    );
  }
  if (unproven.length) {
    parts.push(
      `the merge agent ran but recorded no validation for ${unproven.map((r) => `${r.publication} → ${where(r.subscriber)}`).join(', ')} ` +
        '(sysmergesubscriptions.attempted_validate unchanged, no alert 20574/20575 in msdb.dbo.sysreplicationalerts): see the agent history in Replication Monitor, then retry this step',
    );
  }
  return parts.join('; ');
}

/** The step note when every copy validated identical. */
export function convergenceNote(results: SubscriptionValidation[]): string {
  return `${results.length} subscriptions validated identical (merge validation, row counts and binary checksums)`;
}

/**
 * Preflight's stop when replication added a table's ROWGUIDCOL (sysmergearticles.preserve_rowguidcol
 * = 0): dropping the publication drops the column (KB 2646528), re-publishing adds a new one with
 * new GUIDs at the publisher that no subscriber has, and a no-snapshot subscription matches rows by
 * rowguid. No documented way keeps the column (docs/research/convergence-sources.md, open question 5).
 */
export function addedRowGuidStopMessage(publisher: DbRef, articles: AddedRowGuidArticle[]): string | undefined {
  if (!articles.length) return undefined;
  const byPublication = new Map<string, string[]>();
  for (const a of articles) byPublication.set(a.publication, [...(byPublication.get(a.publication) ?? []), a.article]);
  const list = [...byPublication].map(([p, tables]) => `publication ${p}: ${tables.join(', ')}`).join('; ');
  return (
    `on ${where(publisher)} replication added the rowguid column of these articles (sysmergearticles.preserve_rowguidcol = 0): ${list}. ` +
    'Removing replication drops that column (Microsoft KB 2646528: "If the table is dropped from the publication, the rowguid column is removed"), ' +
    'and publishing again adds a new one with new GUIDs at the publisher that no subscriber has: every row of these tables would differ after a re-enable without a snapshot. ' +
    'No documented way keeps the column, so replup stops before anything changes. ' +
    "Ask the vendor how to give these tables a ROWGUIDCOL column of their own (a column the table owns is kept, KB 2646528), or upgrade these publications with a new snapshot, which deletes the subscribers' Archive data"
  );
}

/** Rows whose rowguid differs between the publisher and a subscriber, keys found in both samples. */
export interface RowGuidDifference {
  table: string;
  subscriber: DbRef;
  keys: string[];
}

/**
 * Compares a subscriber's (primary key, rowguid) sample with the publisher's: a row with the same
 * key and another rowguid is a different row to merge (it matches rows by rowguid), so its changes
 * fail or duplicate. Keys in one sample only are left to the validation's row counts.
 */
export function rowGuidDifferences(table: string, subscriber: DbRef, atPublisher: RowGuidPair[], atSubscriber: RowGuidPair[]): RowGuidDifference | undefined {
  const reference = new Map(atPublisher.map((r) => [r.key, r.rowguid.toLowerCase()]));
  const keys = atSubscriber.filter((r) => reference.has(r.key) && reference.get(r.key) !== r.rowguid.toLowerCase()).map((r) => r.key);
  return keys.length ? { table, subscriber, keys } : undefined;
}

const MAX_KEYS_NAMED = 5;

/** The message that parks verify-replication when a sample differs; undefined when none does. */
export function rowGuidSampleStopMessage(publication: string, publisher: DbRef, differences: RowGuidDifference[]): string | undefined {
  if (!differences.length) return undefined;
  const list = differences
    .map((d) => `${d.table} at ${where(d.subscriber)}: ${d.keys.length} rows, keys ${d.keys.slice(0, MAX_KEYS_NAMED).join(', ')}${d.keys.length > MAX_KEYS_NAMED ? ', …' : ''}`)
    .join('; ');
  return (
    `publication ${publication}: rows with the same primary key carry another rowguid than at the publisher ${where(publisher)} (a sample by primary key): ${list}. ` +
    'Merge matches rows by rowguid, so a subscription without a snapshot treats these as different rows: their changes fail or duplicate. ' +
    'Was ConvertRowGuids.sql run on that subscriber, or did the publication get a new rowguid column? Fix the rowguids to the publisher\'s (tablediff shows the rows), then retry this step; ' +
    "otherwise reinitialize the subscription with a new snapshot, which deletes the subscriber's Archive data"
  );
}
