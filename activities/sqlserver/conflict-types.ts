// What a row of MSmerge_conflicts_info asks of an upgrade run. Pure; the SQL Server adapter and
// the lab both judge their conflicts with it, so the workflow cannot tell them apart.
//
// conflict_type, as Microsoft's page lists it
// (https://learn.microsoft.com/en-us/sql/relational-databases/system-tables/msmerge-conflicts-info-transact-sql):
// 1-4 update/update and update/delete conflicts the resolver decided (the loser is recorded);
// 5-10 failed changes (an insert, delete or update that could not be applied; reason_code holds
// the engine's error, e.g. 2627 for a primary key violation); 11 "Resolution"; 12-14 conflicts of
// logical records, related rows of several tables (parent and children joined by foreign keys)
// that merge applies as one unit
// (https://learn.microsoft.com/en-us/sql/relational-databases/replication/merge/group-changes-to-related-rows-with-logical-records).
//
// A failed change leaves a row that differs between the copies: replication does not fix it, so
// the run stops before it removes replication. A logical record conflict stops it too (issue #18
// §2: the vendor's PK/FK violations across the record's tables) *(inferred: the page records a
// winner for 12 and 14, but the losing record's child rows may be left violating their foreign
// keys, which only a person can judge)*. Every such row still in the table stops the run, recorded
// during the run or before: a person resolves one in the Replication Conflict Viewer (Remove /
// Submit Winner), after which it leaves the viewer
// (https://learn.microsoft.com/en-us/sql/relational-databases/replication/view-and-resolve-data-conflicts-for-merge-publications)
// *(inferred: and MSmerge_conflicts_info)*. Conflicts the resolver decided are kept for
// @conflict_retention days (default 14, sp_addmergepublication) whatever anyone does: they are
// reported, never a reason to stop.
import { count } from '../../common/count.js';

export type ConflictVerdict = 'needs-person' | 'settled';

interface ConflictType {
  name: string;
  verdict: ConflictVerdict;
  inferred?: string;
}

export const CONFLICT_TYPES: Readonly<Record<number, ConflictType>> = {
  1: { name: 'update conflict (row level)', verdict: 'settled' },
  2: { name: 'column update conflict', verdict: 'settled' },
  3: { name: 'update/delete conflict, the delete won', verdict: 'settled' },
  4: { name: 'update/delete conflict, the update won', verdict: 'settled' },
  5: { name: 'upload insert failed', verdict: 'needs-person' },
  6: { name: 'download insert failed', verdict: 'needs-person' },
  7: { name: 'upload delete failed', verdict: 'needs-person' },
  8: { name: 'download delete failed', verdict: 'needs-person' },
  9: { name: 'upload update failed', verdict: 'needs-person' },
  10: { name: 'download update failed', verdict: 'needs-person' },
  11: {
    name: 'resolution',
    verdict: 'settled',
    inferred: 'the page says only "Resolution": taken for a record of a conflict already resolved',
  },
  12: {
    name: 'logical record: the update won over a delete',
    verdict: 'needs-person',
    inferred: 'a logical record spans tables joined by foreign keys (see above)',
  },
  13: {
    name: 'logical record: an insert conflicts with an update',
    verdict: 'needs-person',
    inferred: 'the page names no winner',
  },
  14: {
    name: 'logical record: the delete won over an update',
    verdict: 'needs-person',
    inferred: 'a logical record spans tables joined by foreign keys (see above)',
  },
};

export interface ConflictJudgement {
  verdict: ConflictVerdict;
  /** Recorded before the run began (only when both times are known). */
  beforeRun: boolean;
}

/**
 * How the run treats one conflict row. `conflictType` is MSmerge_conflicts_info.conflict_type;
 * `createdAt` and `since` are ISO 8601 times (the row's MSrepl_create_time in UTC, the run's start).
 * A type the page does not list needs a person: nobody can say it was decided.
 */
export function judgeConflict(conflictType: number, createdAt?: string, since?: string): ConflictJudgement {
  const verdict = CONFLICT_TYPES[conflictType]?.verdict ?? 'needs-person';
  const created = createdAt ? Date.parse(createdAt) : NaN;
  const start = since ? Date.parse(since) : NaN;
  return { verdict, beforeRun: !Number.isNaN(created) && !Number.isNaN(start) && created < start };
}

/** The page's name for a conflict type, for messages. */
export function conflictTypeName(conflictType: number): string {
  return CONFLICT_TYPES[conflictType]?.name ?? `conflict type ${conflictType}`;
}

/** What summarizeConflicts reads of a conflict row (ports.ts Conflict). */
export interface JudgedConflict {
  publication: string;
  table: string;
  conflictType: number;
  reasonCode: number;
  /** Absent on rows recorded before verdicts existed: they stopped the run then, and still do. */
  verdict?: ConflictVerdict;
  beforeRun?: boolean;
}

export interface ConflictSummary {
  /** The rows that stop the run, for the operator; '' when none. */
  stop: string;
  /** The rows the resolver already decided, for the step note and the report; '' when none. */
  settled: string;
}

/** Sorts a publication's conflict rows into those that stop the run and those it only reports. */
export function summarizeConflicts(conflicts: readonly JudgedConflict[]): ConflictSummary {
  const stop = conflicts.filter((c) => (c.verdict ?? 'needs-person') === 'needs-person');
  const settled = conflicts.filter((c) => c.verdict === 'settled');
  return {
    stop: stop.length ? `${count(stop.length, 'conflict')} (${counted(stop, true)})` : '',
    settled: settled.length
      ? `${count(settled.length, 'conflict')} the resolver settled, kept for the conflict retention period; ` +
        `nothing to do (${counted(settled, false)})`
      : '',
  };
}

function counted(list: readonly JudgedConflict[], withReason: boolean): string {
  const byKind = new Map<string, number>();
  for (const c of list) {
    const k = `${c.publication}.${c.table} ${withReason ? `reason ${c.reasonCode}` : conflictTypeName(c.conflictType)}`;
    byKind.set(k, (byKind.get(k) ?? 0) + 1);
  }
  const before = list.filter((c) => c.beforeRun).length;
  return (
    [...byKind].map(([k, n]) => `${n}× ${k}`).join(', ') + (before ? `; ${before} recorded before the run began` : '')
  );
}

/**
 * The stop message: the safe way first (resolve the rows, then retry the step), then the two
 * ways out that cost data, with what they cost. A new snapshot reinitializes the subscribers and
 * replaces their data (DOMAIN.md: "adding a subscriber with a snapshot deletes all its data"); a publisher backup takes
 * the fleet back to when it was taken.
 */
export function conflictStopMessage(step: string, stop: string): string {
  return (
    `conflicting rows need a decision (failed changes merge cannot apply): ${stop}. ` +
    (`Resolve them first: in SQL Server Management Studio's Replication Conflict Viewer (or by correcting the ` +
      `rows at both copies), then \`replup retry --step ${step} --reason …\`; nothing is lost. `) +
    (`Only if they cannot be resolved: deliver a new snapshot (it reinitializes every subscriber and wipes ` +
      `their archives) or restore the publisher's backup (every change made since it was taken is lost), then ` +
      `retry`)
  );
}
