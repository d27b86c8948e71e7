// The convergence proof (issue #20 §1-2), pure: what a merge validation says about one
// subscription, and the messages that park a step when the copies differ or cannot be kept equal.
// Facts and their sources: docs/research/convergence-sources.md. Pending-change counts are not
// proof: sp_showpendingchanges "does not include rows in generation 0" and is "an approximation".
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import type { AddedRowGuidArticle, RowGuidPair, ValidationState } from '../ports.js';
import { count } from '../../common/count.js';

/**
 * One subscription's validation: 'identical' (row counts and binary checksums match), 'differs', or 'not-validated'
 * (the merge agent recorded none).
 */
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
    const list = differs
      .map(
        (r) =>
          `${r.publication} → ${where(r.subscriber)} (` +
          `${r.tables.length ? `tables ${r.tables.join(', ')}` : 'tables not named: see the merge agent history'}` +
          `)`,
      )
      .join('; ');
    parts.push(
      `merge validation (row counts and binary checksums) found copies that differ ` +
        `${point === 'before-removal' ? 'after the quiet rounds' : 'after the re-enable'}: ${list}. ` +
        ('Pending-change counts said nothing was left, but they leave out generation-0 rows; a subscription ' +
          'without a snapshot never compares rows again, so a difference left now stays. ') +
        'Validation does not say which rows: compare each table with the tablediff utility. ' +
        (`The safe way first: make the copies identical by hand (tablediff -f writes the script that fixes ` +
          `the destination; apply it), then retry this step, which validates again` +
          `${point === 'before-removal' ? '; replication is still intact' : ''}. `) +
        ("The vendor's other ways: reinitialize the subscription with a new snapshot " +
          "(sp_reinitmergesubscription @upload_first = 'true'), which deletes the subscriber's Archive data; ") +
        ('or initialize the subscriber from a backup of the publication database (Initialize a Subscription ' +
          'Manually), which replaces its Archive data too: save the Archive table first') +
        (point === 'after-re-enable' ? "; this run's copy-only backups are in the run's facts (backups)" : ''),
    );
  }
  if (unproven.length) {
    parts.push(
      `the merge agent ran but recorded no validation for ` +
        `${unproven.map((r) => `${r.publication} → ${where(r.subscriber)}`).join(', ')} ` +
        ('(sysmergesubscriptions.attempted_validate unchanged, no alert 20574/20575 in ' +
          'msdb.dbo.sysreplicationalerts): see the agent history in Replication Monitor, then retry this step'),
    );
  }
  return parts.join('; ');
}

/** The step note when every copy validated identical. */
export function convergenceNote(results: SubscriptionValidation[]): string {
  return (
    `${count(results.length, 'subscription')} validated identical (merge validation, row counts and binary ` +
    `checksums)`
  );
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
    `on ${where(publisher)} replication added the rowguid column of these articles ` +
    `(sysmergearticles.preserve_rowguidcol = 0): ${list}. ` +
    ('Removing replication drops that column (Microsoft KB 2646528: "If the table is dropped from the ' +
      'publication, the rowguid column is removed"), ') +
    ('and publishing again adds a new one with new GUIDs at the publisher that no subscriber has: every row ' +
      'of these tables would differ after a re-enable without a snapshot. ') +
    'No documented way keeps the column, so replup stops before anything changes. ' +
    ('Ask the vendor how to give these tables a ROWGUIDCOL column of their own (a column the table owns is ' +
      "kept, KB 2646528), or upgrade these publications with a new snapshot, which deletes the subscribers' " +
      'Archive data')
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
export function rowGuidDifferences(
  table: string,
  subscriber: DbRef,
  atPublisher: RowGuidPair[],
  atSubscriber: RowGuidPair[],
): RowGuidDifference | undefined {
  const reference = new Map(atPublisher.map((r) => [r.key, r.rowguid.toLowerCase()]));
  const keys = atSubscriber
    .filter((r) => reference.has(r.key) && reference.get(r.key) !== r.rowguid.toLowerCase())
    .map((r) => r.key);
  return keys.length ? { table, subscriber, keys } : undefined;
}

const MAX_KEYS_NAMED = 5;

/** The message that parks verify-replication when a sample differs; undefined when none does. */
export function rowGuidSampleStopMessage(
  publication: string,
  publisher: DbRef,
  differences: RowGuidDifference[],
): string | undefined {
  if (!differences.length) return undefined;
  const list = differences
    .map(
      (d) =>
        `${d.table} at ${where(d.subscriber)}: ${d.keys.length} rows, keys ` +
        `${d.keys.slice(0, MAX_KEYS_NAMED).join(', ')}${d.keys.length > MAX_KEYS_NAMED ? ', …' : ''}`,
    )
    .join('; ');
  return (
    `publication ${publication}: rows with the same primary key carry another rowguid than at the publisher ` +
    `${where(publisher)} (a sample by primary key): ${list}. ` +
    ('Merge matches rows by rowguid, so a subscription without a snapshot treats these as different rows: ' +
      'their changes fail or duplicate. ') +
    ('Was ConvertRowGuids.sql run on that subscriber, or did the publication get a new rowguid column? Fix ' +
      "the rowguids to the publisher's (tablediff shows the rows), then retry this step; ") +
    "otherwise reinitialize the subscription with a new snapshot, which deletes the subscriber's Archive data"
  );
}

/**
 * The legacy form of a row GUID (issue #20 §4): what a pre-8.3.253.0 subscriber stores for the
 * publisher's GUID. ConvertRowGuids.sql (examples/replication) reverses bytes 1-4, 5-6 and 7-8 of
 * the binary(16) and keeps 9-16; in the text form those are the first three groups, each read
 * backwards by byte. The swap is its own inverse *(inferred: DOMAIN.md "Row GUIDs" says only that
 * the byte order differs; the example script and the lab model this order)*.
 */
export function legacyRowGuid(guid: string): string {
  const [a = '', b = '', c = '', ...rest] = guid.toLowerCase().split('-');
  const rev = (s: string) => (s.match(/../g) ?? []).reverse().join('');
  return [rev(a), rev(b), rev(c), ...rest].join('-');
}

/** One table's samples for the conversion check: the subscriber's and its publishers'. */
export interface ConversionSample {
  table: string;
  atSubscriber: RowGuidPair[];
  /** One sample per publisher the subscriber takes this database's publications from. */
  atPublishers: RowGuidPair[][];
}

/** What the samples say about an uncertain ConvertRowGuids.sql on one subscriber. */
export interface ConversionEvidence {
  /**
   * 'converted': every compared row carries the publisher's GUID; 'not-converted': every one its legacy form; 'unknown'
   * otherwise.
   */
  outcome: 'converted' | 'not-converted' | 'unknown';
  converted: number;
  legacy: number;
  /** Rows whose GUID is neither (another row, or half a conversion that swapped some bytes). */
  other: number;
  /** A sentence for the step note or the park message. */
  summary: string;
}

/** Keys (per table) whose row carried the legacy form of the publisher's GUID just before the script ran. */
export type LegacyRows = Record<string, string[]>;

/**
 * The rows the script is about to convert, as far as the sample shows: at most `maxChars` of JSON,
 * so they fit in the started mark *(inferred: an extended property's value is a sql_variant, 8,000
 * bytes at most; 1,000 characters of nvarchar stay well inside it)*.
 */
export function legacyRowsBefore(samples: ConversionSample[], maxChars = 1000): LegacyRows {
  const out: LegacyRows = {};
  for (const t of samples) {
    for (const key of rowsByForm(t).legacy) {
      const next = { ...out, [t.table]: [...(out[t.table] ?? []), key] };
      if (JSON.stringify(next).length > maxChars) return out;
      out[t.table] = next[t.table]!;
    }
  }
  return out;
}

const LEGACY_TAG = '; legacy rows before: ';

/** The started mark's value: who started it, and the legacy rows the check compares after a lost reply. */
export function startedMarkValue(label: string, before?: LegacyRows): string {
  return before ? `${label}${LEGACY_TAG}${JSON.stringify(before)}` : label;
}

/** Reads a started mark back (one written before the check existed has the label only). */
export function readStartedMark(value: string): { label: string; before?: LegacyRows } {
  const at = value.indexOf(LEGACY_TAG);
  if (at < 0) return { label: value };
  try {
    return { label: value.slice(0, at), before: JSON.parse(value.slice(at + LEGACY_TAG.length)) as LegacyRows };
  } catch {
    return { label: value };
  }
}

/** The subscriber's rows of one table by the form of their GUID against the publishers' rows of the same key. */
function rowsByForm(t: ConversionSample): { converted: string[]; legacy: string[]; other: string[] } {
  const reference = new Map<string, string[]>();
  for (const sample of t.atPublishers)
    for (const r of sample) reference.set(r.key, [...(reference.get(r.key) ?? []), r.rowguid.toLowerCase()]);
  const out = { converted: [] as string[], legacy: [] as string[], other: [] as string[] };
  for (const r of t.atSubscriber) {
    const guids = reference.get(r.key);
    if (!guids) continue;
    const mine = r.rowguid.toLowerCase();
    if (guids.includes(mine)) out.converted.push(r.key);
    else if (guids.some((g) => legacyRowGuid(g) === mine)) out.legacy.push(r.key);
    else out.other.push(r.key);
  }
  return out;
}

/**
 * Decides from (primary key, rowguid) samples whether ConvertRowGuids.sql ran on a subscriber:
 * only rows whose key is in a publisher's sample count, and with `before` (recorded in the started
 * mark) only the rows that were legacy then: rows that arrived by merge already carry the
 * publisher's GUID, and a script that swaps every row would turn those into the legacy form. All
 * publisher's → converted; all legacy → not converted (its transaction rolled back); a mix,
 * another GUID or no row to compare → unknown, and a person decides.
 */
export function judgeRowGuidConversion(samples: ConversionSample[], before?: LegacyRows): ConversionEvidence {
  let converted = 0;
  let legacy = 0;
  let other = 0;
  for (const t of samples) {
    const only = before ? new Set(before[t.table] ?? []) : undefined;
    const forms = rowsByForm(t);
    const count = (keys: string[]) => (only ? keys.filter((k) => only.has(k)).length : keys.length);
    converted += count(forms.converted);
    legacy += count(forms.legacy);
    other += count(forms.other);
  }
  const tables = samples.map((t) => t.table).join(', ') || 'none';
  const scope = before ? 'of the rows legacy before the script, ' : '';
  const counts =
    `${scope}${converted} rows with the publisher's GUID, ${legacy} in the legacy byte order, ${other} with ` +
    `another GUID (tables sampled by primary key: ${tables})`;
  if (converted + legacy + other === 0)
    return {
      outcome: 'unknown',
      converted,
      legacy,
      other,
      summary: `no row to compare (${scope}tables sampled by primary key: ${tables})`,
    };
  if (legacy === 0 && other === 0) return { outcome: 'converted', converted, legacy, other, summary: counts };
  if (converted === 0 && other === 0) return { outcome: 'not-converted', converted, legacy, other, summary: counts };
  return { outcome: 'unknown', converted, legacy, other, summary: counts };
}
