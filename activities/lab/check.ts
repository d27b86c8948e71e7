// The lab's verdict after an upgrade ("nothing lost"), and its printable fleet summary. Pure.
import { BACKGROUND_SERVICE } from '../ports.js';
import {
  type LabState,
  type LabSubscription,
  ARCHIVE_TABLE,
  TABLE_FOR_KIND,
  differingTables,
  replicaSet,
  splitRowKey,
  labPublicationConfig,
} from './model.js';
import { judgeConflict } from '../sqlserver/conflict-types.js';
import { setupVerdict } from './setup-replication.js';
import { count } from '../../common/count.js';

export interface Invariant {
  name: string;
  /** What it promises, in the operator's words. */
  description: string;
  ok: boolean;
  detail: string;
}

const MAX_EXAMPLES = 5;

function summarize(problems: string[], okText: string): { ok: boolean; detail: string } {
  if (problems.length === 0) return { ok: true, detail: okText };
  const shown = problems.slice(0, MAX_EXAMPLES).join('; ');
  return {
    ok: false,
    detail: problems.length > MAX_EXAMPLES ? `${shown}; and ${problems.length - MAX_EXAMPLES} more` : shown,
  };
}

/**
 * Which writes the upgrade answers for: those made before replication was re-enabled or users
 * were admitted again, whichever came first. Later writes are ordinary traffic still on its way.
 */
export function checkCutoff(state: LabState): number {
  const marks = [state.timeline.reenabledAt, state.timeline.servingAgainAt].filter((x): x is number => x !== undefined);
  return marks.length ? Math.min(...marks) : state.clock;
}

/**
 * How far the lab's fleet went, read from its own timeline, and so what may be promised of it:
 * - `upgraded`: replication was re-enabled; every post-upgrade invariant applies.
 * - `removed`: replication was removed and never re-enabled (an abort after remove-replication):
 *   nothing lost up to the removal, and users kept out (they would write into a fleet that no
 *   longer replicates); the abort does not promise versions, replication or converted row GUIDs.
 * - `intact`: replication was never removed (never upgraded, or aborted before removal): nothing
 *   lost, replication intact, users admitted, services running.
 */
export type LabPhase = 'upgraded' | 'removed' | 'intact';

export interface LabVerdict {
  phase: LabPhase;
  /** One line saying which promise is checked and why. */
  title: string;
  invariants: Invariant[];
}

export function labPhase(state: LabState): LabPhase {
  if (state.timeline.reenabledAt !== undefined) return 'upgraded';
  return state.timeline.removedAt !== undefined ? 'removed' : 'intact';
}

export function labVerdict(state: LabState): LabVerdict {
  // A set-up lab promises what a set-up does (activities/lab/setup-replication.ts).
  if (state.setup) return setupVerdict(state);
  const phase = labPhase(state);
  if (phase === 'upgraded') {
    return {
      phase,
      title: 'replication was re-enabled: checking what a completed upgrade promises',
      invariants: checkLab(state),
    };
  }
  if (phase === 'removed') {
    return {
      phase,
      title:
        'replication was removed and not re-enabled (a run aborted after remove-replication, or one still ' +
        'going): checking what an abort there promises',
      // Not no-conflicting-rows: before ConvertRowGuids the subscribers' row GUIDs differ by design
      // (an 8.2 fleet), and an abort does not promise the conversion.
      invariants: [
        rowsEverywhere(state, state.timeline.removedAt),
        archivesIntact(state),
        usersKeptOut(state),
        backgroundServices(state),
      ],
    };
  }
  return {
    phase,
    title:
      'replication was never removed (not upgraded, or a run aborted before remove-replication): checking ' +
      'what an abort there promises',
    invariants: [
      rowsKept(state),
      archivesIntact(state),
      replicationIntact(state),
      backgroundServices(state),
      servingAgain(state),
    ],
  };
}

/** What a completed upgrade promises (the chaos runs and `lab check` of an upgraded lab hold it to this). */
export function checkLab(state: LabState): Invariant[] {
  return [
    rowsEverywhere(state),
    archivesIntact(state),
    noConflictingRows(state),
    copiesValidatedIdentical(state),
    versionsAtTarget(state),
    replicationEnabled(state),
    configurationPreserved(state),
    backgroundServices(state),
    servingAgain(state),
  ];
}

/**
 * The fleet's replication configuration survives the upgrade (issue #20 §5): each publication has
 * the articles, retention, conflict retention, compatibility level and article options it had when
 * the lab was made (what a DBA changed since set-up, which the vendor scripts do not know).
 */
function configurationPreserved(state: LabState): Invariant {
  const problems: string[] = [];
  let checked = 0;
  for (const [dbKey, pubs] of Object.entries(state.configAtStart ?? {})) {
    const db = state.databases[dbKey];
    for (const [name, before] of Object.entries(pubs)) {
      checked += 1;
      const pub = db && Object.values(db.publications).find((p) => p.name.toLowerCase() === name.toLowerCase());
      if (!pub) {
        problems.push(`publication ${name} missing on ${dbKey}`);
        continue;
      }
      const now = labPublicationConfig(pub);
      for (const field of ['retentionDays', 'conflictRetentionDays', 'compatibilityLevel'] as const) {
        if (now[field] !== before[field])
          problems.push(`${name} on ${dbKey}: ${field} ${now[field]}, was ${before[field]}`);
      }
      const missing = before.articles.filter((a) => !now.articles.includes(a));
      if (missing.length) problems.push(`${name} on ${dbKey}: articles ${missing.join(', ')} missing`);
      if (JSON.stringify(now.articleOptions) !== JSON.stringify(before.articleOptions)) {
        problems.push(
          `${name} on ${dbKey}: article options ${JSON.stringify(now.articleOptions)}, were ` +
            `${JSON.stringify(before.articleOptions)}`,
        );
      }
    }
  }
  // The merge agent jobs' schedules (#20 §5): when each subscription's job runs, as the DBA had it.
  for (const [key, before] of Object.entries(state.schedulesAtStart ?? {})) {
    const sub = state.subscriptions[key];
    const now = sub?.schedule?.timing;
    if (sub && now && (Object.keys(before) as (keyof typeof before)[]).some((k) => now[k] !== before[k])) {
      const at = (t: typeof now) =>
        `freq_type ${t.freqType}, subday ${t.freqSubdayType}/${t.freqSubdayInterval}, from ` +
        `${t.activeStartTime} to ${t.activeEndTime}`;
      problems.push(`${sub.publication} → ${sub.subscriberKey}: agent schedule ${at(now)}, was ${at(before)}`);
    }
  }
  return {
    name: 'configuration-preserved',
    description:
      'replication configuration preserved (articles, retention, conflict retention, compatibility level, ' +
      'article options, agent schedules)',
    ...summarize(problems, `${checked} publications configured as before`),
  };
}

/**
 * What merge validation would find now (issue #20 §1): every subscription's tables identical to the
 * publisher's (keys, rowguids, content), rows still on their way (pending either way) left out.
 * A subscription without a snapshot never compares rows again: a difference here stays.
 */
function copiesValidatedIdentical(state: LabState): Invariant {
  const problems: string[] = [];
  const subs = Object.values(state.subscriptions);
  for (const sub of subs) {
    const inFlight = new Set([...Object.keys(sub.pending.upload), ...Object.keys(sub.pending.download)]);
    const tables = differingTables(state, sub, inFlight);
    if (tables.length)
      problems.push(`${sub.publication} → ${sub.subscriberKey}: ${tables.join(', ')} differ from ${sub.publisherKey}`);
  }
  return {
    name: 'copies-validated-identical',
    description:
      "every subscriber's copy of each published table identical to the publisher's (what merge validation checks)",
    ...summarize(problems, `${subs.length} subscriptions hold the publisher's rows`),
  };
}

/** Nothing lost while replication is intact: every row users wrote holds its content where it was written. */
function rowsKept(state: LabState): Invariant {
  const problems: string[] = [];
  let checked = 0;
  for (const [key, truth] of Object.entries(state.ledger)) {
    checked += 1;
    const { table, pk } = splitRowKey(key);
    const row = state.databases[truth.home]?.tables[table]?.[pk];
    if (truth.content === null && row) problems.push(`${key} deleted on ${truth.home} but back there`);
    else if (truth.content !== null && !row) problems.push(`${key} missing on ${truth.home}, where it was written`);
    else if (truth.content !== null && row && row.content !== truth.content)
      problems.push(`${key} on ${truth.home} holds "${row.content}", not "${truth.content}"`);
  }
  return {
    name: 'nothing-lost',
    description: 'every row users wrote is where they wrote it, with its content (replication carries it on)',
    ...summarize(problems, `${checked} rows kept where they were written`),
  };
}

/**
 * Every publication of the plan missing on its publisher and every subscription of it missing;
 * `subscriptionProblem` says what is wrong with one found (its label: "<publication> subscription for <subscriber>").
 */
function publicationProblems(
  state: LabState,
  subscriptionProblem: (sub: LabSubscription, label: string) => string | undefined,
): string[] {
  const problems: string[] = [];
  for (const p of state.plan.publications) {
    const db = state.databases[p.publisher]!;
    if (!Object.values(db.publications).some((x) => x.name.toLowerCase() === p.name.toLowerCase()))
      problems.push(`publication ${p.name} missing on ${p.publisher}`);
    for (const s of p.subscribers) {
      const sub = Object.values(state.subscriptions).find(
        (x) =>
          x.publisherKey === p.publisher &&
          x.subscriberKey === s &&
          x.publication.toLowerCase() === p.name.toLowerCase(),
      );
      const problem = sub
        ? subscriptionProblem(sub, `${p.name} subscription for ${s}`)
        : `no ${p.name} subscription for ${s}`;
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

/** Replication as it was: every publication of the plan, every subscription active (whatever its sync type). */
function replicationIntact(state: LabState): Invariant {
  const problems = publicationProblems(state, (sub, label) =>
    sub.status !== 'active' ? `${label} is ${sub.status}` : undefined,
  );
  return {
    name: 'replication-intact',
    description: 'every publication and subscription still there and active',
    ...summarize(problems, `${state.plan.publications.length} publications and their subscriptions intact`),
  };
}

/** After removal, users must stay out: their writes would no longer replicate. */
function usersKeptOut(state: LabState): Invariant {
  const serving = Object.values(state.hosts).filter((h) => !h.drained);
  return {
    name: 'users-kept-out',
    description: 'personalization servers still drained (users would write into a fleet that no longer replicates)',
    ...summarize(
      serving.map((h) => `${h.name} admits users`),
      'every server keeps users out',
    ),
  };
}

function rowsEverywhere(state: LabState, upTo?: number): Invariant {
  const cutoff = upTo ?? checkCutoff(state);
  const problems: string[] = [];
  let checked = 0;
  for (const [key, truth] of Object.entries(state.ledger)) {
    if (truth.at > cutoff) continue;
    checked += 1;
    const { table, pk } = splitRowKey(key);
    for (const member of replicaSet(state, table, truth.home)) {
      const row = state.databases[member]?.tables[table]?.[pk];
      const where = `written at tick ${truth.at} on ${truth.home}`;
      if (truth.content === null && row) problems.push(`${key} deleted (${where}) but still on ${member}`);
      else if (truth.content !== null && !row) problems.push(`${key} (${where}) missing on ${member}`);
      else if (truth.content !== null && row && row.content !== truth.content)
        problems.push(`${key} on ${member} holds "${row.content}", not "${truth.content}" (${where})`);
    }
  }
  return {
    name: 'rows-replicated',
    description:
      'every row written before the drain exists with identical content on the publisher and every subscriber',
    ...summarize(problems, `${checked} rows written up to tick ${cutoff} are identical on every copy`),
  };
}

function archivesIntact(state: LabState): Invariant {
  const problems: string[] = [];
  for (const [db, keys] of Object.entries(state.archiveLedger)) {
    const archive = state.databases[db]?.tables[ARCHIVE_TABLE] ?? {};
    const missing = keys.filter((k) => !archive[k]).length;
    if (missing) problems.push(`${db} lost ${missing} of ${keys.length} archive rows`);
  }
  return {
    name: 'archives-intact',
    description: 'subscriber archives intact',
    ...summarize(problems, `every subscriber keeps its ${ARCHIVE_TABLE} rows`),
  };
}

function noConflictingRows(state: LabState): Invariant {
  const problems: string[] = [];
  // Update conflicts the resolver settled before the run (createdAt set) are history, not damage;
  // failed changes, and any conflict the run caused, are (conflict-types.ts).
  const conflicts = state.conflicts.filter(
    (c) => !(c.createdAt && judgeConflict(c.conflictType).verdict === 'settled'),
  );
  if (conflicts.length) {
    const byReason = new Map<string, number>();
    for (const c of conflicts)
      byReason.set(
        `${c.publication} reason ${c.reasonCode}`,
        (byReason.get(`${c.publication} reason ${c.reasonCode}`) ?? 0) + 1,
      );
    problems.push(
      `${count(conflicts.length, 'conflict')} in MSmerge_conflicts_info (` +
        `${[...byReason].map(([k, n]) => `${n} ${k}`).join(', ')}); first: ${conflicts[0]!.reasonText}`,
    );
  }
  // Same key, different rowguid: merge sees two rows (DOMAIN.md §1 "Row GUIDs").
  let mismatched = 0;
  const examples: string[] = [];
  for (const p of state.plan.publications) {
    const publisher = state.databases[p.publisher];
    const table = TABLE_FOR_KIND[p.kind];
    if (!publisher) continue;
    for (const s of p.subscribers) {
      const rows = state.databases[s]?.tables[table] ?? {};
      for (const [pk, row] of Object.entries(rows)) {
        const ref = publisher.tables[table]?.[pk];
        if (ref && ref.rowguid !== row.rowguid) {
          mismatched += 1;
          if (examples.length < 2) examples.push(`${table}/${pk} on ${s}`);
        }
      }
    }
  }
  if (mismatched)
    problems.push(
      `${mismatched} rows have a different rowguid on a subscriber than on the publisher (e.g. ` +
        `${examples.join(', ')}): ConvertRowGuids.sql was not run`,
    );
  return {
    name: 'no-conflicting-rows',
    description: 'no duplicate or conflicting rows',
    ...summarize(problems, "no conflicts recorded; every copy of a row carries the publisher's rowguid"),
  };
}

function versionsAtTarget(state: LabState): Invariant {
  const problems = [
    ...Object.values(state.databases)
      .filter((d) => d.productVersion !== state.to)
      .map((d) => `database ${d.key} is at ${d.productVersion}`),
    ...Object.values(state.hosts)
      .filter((h) => h.productVersion !== state.to)
      .map((h) => `personalization server ${h.name} is at ${h.productVersion}`),
  ];
  return {
    name: 'versions-at-target',
    description: `every database and personalization server at ${state.to}`,
    ...summarize(problems, `all at ${state.to}`),
  };
}

function replicationEnabled(state: LabState): Invariant {
  const problems = publicationProblems(state, (sub, label) =>
    sub.syncType !== 'none'
      ? `${label} has sync type ${sub.syncType}`
      : sub.status !== 'active'
        ? `${label} is ${sub.status}`
        : undefined,
  );
  return {
    name: 'replication-enabled',
    description: 'replication enabled for every publication and subscription, with sync type none',
    ...summarize(
      problems,
      `${state.plan.publications.length} publications and their subscriptions are active with sync type none`,
    ),
  };
}

function backgroundServices(state: LabState): Invariant {
  const stopped = Object.values(state.hosts).filter((h) => h.backgroundService !== 'running');
  return {
    name: 'background-services-running',
    description: `the ${BACKGROUND_SERVICE} runs on every personalization server`,
    ...summarize(
      stopped.map((h) => `stopped on ${h.name}`),
      'running everywhere',
    ),
  };
}

function servingAgain(state: LabState): Invariant {
  const drained = Object.values(state.hosts).filter((h) => h.drained);
  return {
    name: 'serving-again',
    description: 'personalization servers serving users again',
    ...summarize(
      drained.map((h) => `${h.name} is still drained`),
      'every server admits users',
    ),
  };
}

/** The fleet, for `replup lab show`. */
export function showLab(state: LabState): string {
  const out: string[] = [`Lab ${state.name}: ${state.from} → ${state.to}, seed ${state.seed}, tick ${state.clock}`];
  out.push('SQL Servers:');
  for (const [name, s] of Object.entries(state.servers))
    out.push(`  ${name}  ${s.version}  ${s.edition}  Agent ${s.agentRunning ? 'running' : 'stopped'}`);
  out.push('Databases:');
  for (const db of Object.values(state.databases)) {
    const tables = Object.entries(db.tables)
      .map(([t, rows]) => `${t} ${Object.keys(rows).length}`)
      .join(', ');
    const pubs = Object.values(db.publications)
      .map((p) => p.name)
      .join(', ');
    const legacy = Object.values(db.tables).some((rows) => Object.values(rows).some((r) => r.legacyGuid));
    out.push(
      `  ${db.key}  ${db.role}  v${db.productVersion}  rows: ${tables}${pubs ? `  publishes: ${pubs}` : ''}` +
        `${legacy ? '  row GUIDs: legacy' : ''}` +
        `${db.backgroundQueue.length ? `  background upgrade: ${db.backgroundQueue.length} users left` : ''}`,
    );
  }
  out.push('Subscriptions:');
  const subs = Object.values(state.subscriptions);
  if (subs.length === 0) out.push('  (none)');
  for (const s of subs) {
    const up = Object.keys(s.pending.upload).length;
    const down = Object.keys(s.pending.download).length;
    out.push(
      `  ${s.publication} ${s.publisherKey} → ${s.subscriberKey}  sync type ${s.syncType}  ${s.status}` +
        `${s.snapshotPending ? '  snapshot pending' : ''}  pending ↑${up} ↓${down}`,
    );
  }
  out.push('Personalization servers:');
  for (const h of Object.values(state.hosts)) {
    const sessions = state.sessions.filter((x) => x.host === h.name).length;
    out.push(
      `  ${h.name}  (${h.site})  v${h.productVersion}  ${h.drained ? 'drained' : 'serving'}  background ` +
        `service ${h.backgroundService}  ${sessions} sessions`,
    );
  }
  out.push(
    `Conflicts: ${state.conflicts.length}   Merge sessions: ${state.mergeSessions.length}   Backups: ` +
      `${Object.keys(state.backups).length}`,
  );
  return `${out.join('\n')}\n`;
}
