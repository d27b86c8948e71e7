// The fleet's replication configuration across the upgrade (issue #20 §3, §5): what replup compares
// between the publications as they were before remove-replication and as the vendor's scripts made
// them again, what it puts back itself, and what it leaves to a person. Pure.
//
// Put back (sp_changemergepublication, none of them needs a new snapshot or a reinitialization on
// its page: docs/research/convergence-sources.md §5.3): retention_period_unit, retention,
// conflict_retention, publication_compatibility_level (90RTM / 100RTM, the only values the page
// lists). Left to a person: conflict logging (changing centralized_conflicts needs every Subscriber
// reinitialized; the mapping back to conflict_logging is not documented), articles missing
// (whether sp_addmergearticle then needs a snapshot for subscriptions created without one is not
// documented), and article options (column_tracking, subset_filterclause, subscriber_upload_options
// need a reinitialization; sp_changemergearticle page).
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import type { PublicationConfig } from '../ports.js';

export type ChangeableProperty =
  'retention' | 'retention_period_unit' | 'conflict_retention' | 'publication_compatibility_level';

export interface ConfigDifference {
  publication: string;
  /** What differs, in the DBA's words (`retention`, `article server`, `ProfileData column_tracking`). */
  what: string;
  before: string;
  after: string;
  /** Set when replup puts it back itself. */
  reapply?: { property: ChangeableProperty; value: string };
}

/** sysmergepublications.backward_comp_level → sp_changemergepublication publication_compatibility_level. */
const COMPATIBILITY: Record<number, string> = { 90: '90RTM', 100: '100RTM' };

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Every difference between the configuration before removal and now, in the order to put them back
 * (the retention unit before the retention). Articles the scripts add that the fleet did not have
 * are the new version's, not a loss: not listed.
 */
export function compareConfigs(before: PublicationConfig[], after: PublicationConfig[]): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  for (const b of before) {
    const a = after.find((x) => same(x.name, b.name));
    if (!a) {
      out.push({ publication: b.name, what: 'publication', before: 'present', after: 'missing' });
      continue;
    }
    const diff = (
      what: string,
      bv: string | number | boolean,
      av: string | number | boolean,
      reapply?: ConfigDifference['reapply'],
    ) => {
      if (String(bv) !== String(av))
        out.push({ publication: b.name, what, before: String(bv), after: String(av), ...(reapply && { reapply }) });
    };
    diff('retention_period_unit', b.retentionUnit, a.retentionUnit, {
      property: 'retention_period_unit',
      value: b.retentionUnit,
    });
    diff('retention', b.retention, a.retention, { property: 'retention', value: String(b.retention) });
    diff('conflict_retention', b.conflictRetentionDays, a.conflictRetentionDays, {
      property: 'conflict_retention',
      value: String(b.conflictRetentionDays),
    });
    const level = COMPATIBILITY[b.compatibilityLevel];
    diff(
      'backward_comp_level',
      b.compatibilityLevel,
      a.compatibilityLevel,
      level ? { property: 'publication_compatibility_level', value: level } : undefined,
    );
    diff('centralized_conflicts', b.centralizedConflicts, a.centralizedConflicts);
    diff('decentralized_conflicts', b.decentralizedConflicts, a.decentralizedConflicts);
    for (const art of b.articles) {
      const now = a.articles.find((x) => same(x.name, art.name));
      if (!now) {
        out.push({ publication: b.name, what: `article ${art.name}`, before: 'published', after: 'missing' });
        continue;
      }
      for (const key of [
        'columnTracking',
        'subsetFilter',
        'uploadOptions',
        'processingOrder',
        'identityRange',
        'deleteTracking',
        'compensateForErrors',
      ] as const) {
        diff(`article ${art.name} ${ARTICLE_COLUMN[key]}`, art[key], now[key]);
      }
    }
  }
  return out;
}

const ARTICLE_COLUMN = {
  columnTracking: 'column_tracking',
  subsetFilter: 'subset_filterclause',
  uploadOptions: 'upload_options',
  processingOrder: 'processing_order',
  identityRange: 'identity_support',
  deleteTracking: 'delete_tracking',
  compensateForErrors: 'compensate_for_errors',
} as const;

/**
 * The articles a publication had before removal that it lacks now: a publication left half-built
 * by a failed script (issue #20 §3) is missing some.
 */
export function missingArticles(before: PublicationConfig[] | undefined, publication: string, now: string[]): string[] {
  const b = before?.find((x) => same(x.name, publication));
  return (b?.articles ?? []).map((a) => a.name).filter((name) => !now.some((x) => same(x, name)));
}

/** The park message for differences replup does not put back itself: each one, and the documented ways on. */
export function configParkMessage(publisher: DbRef, left: ConfigDifference[]): string {
  const lines = left.map((d) => `${d.publication}: ${d.what} was ${d.before}, is ${d.after}`);
  return (
    `the replication configuration of ${publisher.server}/${publisher.database} differs from before removal ` +
    `where replup does not put it back itself: ${lines.join('; ')}. ` +
    (`A missing article: sp_addmergearticle (whether subscriptions created without a snapshot then need one ` +
      `is not documented); an article option or conflict logging: `) +
    (`sp_changemergearticle / sp_changemergepublication, which for these need the subscriptions reinitialized ` +
      `(a snapshot, which would wipe the archives). `) +
    `Make the change you accept by hand and retry the step (it compares again), or abort`
  );
}

/**
 * Preflight (#20 §4): the articles with automatic identity range management (identity_support), and
 * what reseeding they need once re-published. Microsoft documents no procedure for a publication
 * dropped and created again over existing data (docs/research/convergence-sources.md §7); the note
 * names the closest documented ones ("Replicate Identity Columns"), marked as inferred.
 */
export function identityRangeNote(publisher: DbRef, configs: PublicationConfig[]): string | undefined {
  const articles = configs.flatMap((p) => p.articles.filter((a) => a.identityRange).map((a) => `${p.name}.${a.name}`));
  if (!articles.length) return undefined;
  return (
    `${articles.length} articles on ${publisher.server}/${publisher.database} use automatic identity range ` +
    `management (identity_support): ${articles.join(', ')}. ` +
    (`After re-enable, give each node its range as Microsoft documents for subscriptions initialized without ` +
      `a snapshot and after a restore `) +
    (`(inferred: no page covers re-publishing): at each subscriber read IDENT_CURRENT('<table>'), reseed the ` +
      `publisher above the highest with DBCC CHECKIDENT, `) +
    (`then run sp_adjustpublisheridentityrange for the publication ` +
      `(learn.microsoft.com/sql/relational-databases/replication/publish/replicate-identity-columns)`)
  );
}
