// The lab's side of the subscriber runbooks (add-subscriber, remove-subscriber): a database that
// is not subscribed yet, with rows of its own that a snapshot deletes and replaces; the merge
// metadata a dropped push subscription leaves in the subscription database until
// sp_mergesubscription_cleanup; the SubscriberPort over the lab's state file; and the invariants
// that fail when a subscriber is added or removed the wrong way.
import { resolve } from 'node:path';
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import type { PlannedDb, SubscriberPlanBase } from '../../plan/add-subscriber/types.js';
import { upgradePlanKind } from '../../plan/personalization-upgrade/schema.js';
import { initLab } from './index.js';
import type { Invariant } from './check.js';
import {
  REPLACEMENT_APPROVED,
  type SubscriberMetadata,
  type SubscriberPort,
  type TableRows,
} from '../subscribers/ports.js';
import { LabStateError, labFile, withLabMutex } from './store.js';
import {
  ARCHIVE_TABLE,
  TABLE_FOR_KIND,
  findDatabase,
  findServer,
  forgetSubscriptionIndex,
  rowKey,
  type LabDatabase,
  type LabInitOptions,
  type LabState,
  type LabSubscription,
} from './model.js';

/** What a dropped subscription leaves at its subscriber: `publisherKey|publication`. */
const leftover = (publisherKey: string, publication: string) => `${publisherKey}|${publication}`;

/**
 * sp_dropmergesubscription at the publisher: the subscription database keeps its merge metadata
 * (triggers, sysmergesubscriptions, sysmergearticles) until sp_mergesubscription_cleanup there
 * (sp-mergesubscription-cleanup-transact-sql, delete-a-push-subscription).
 */
export function leaveSubscriberMetadata(state: LabState, sub: LabSubscription): void {
  const db = state.databases[sub.subscriberKey];
  if (!db) return;
  const list = (db.subscriberLeftovers ??= []);
  const key = leftover(sub.publisherKey, sub.publication);
  if (!list.includes(key)) list.push(key);
}

/** sp_mergesubscription_cleanup at the subscriber: its metadata of `publication` (all when undefined) goes. */
export function cleanupSubscriberMetadata(db: LabDatabase, publication?: string, publisherKey?: string): void {
  if (!db.subscriberLeftovers) return;
  db.subscriberLeftovers = db.subscriberLeftovers.filter((k) => {
    const [pub = '', name = ''] = k.split('|');
    const matches =
      (publication === undefined || name.toLowerCase() === publication.toLowerCase()) &&
      (publisherKey === undefined || pub === publisherKey);
    return !matches;
  });
  if (db.subscriberLeftovers.length === 0) delete db.subscriberLeftovers;
}

export interface LabSubscriberDatabase extends DbRef {
  /** The server's edition when the lab adds the server (default Express: a typical branch subscriber). */
  edition?: string;
  version?: string;
  /** Rows of its own per table (default 10): what a snapshot deletes. */
  rows?: number;
}

/**
 * Adds a database that subscribes to nothing yet, with rows of its own in the Config and Data
 * tables and its archive (recorded in the ledger as written there), on its server (added when new).
 * Returns its key. Refused when the database exists.
 */
export function addSubscriberDatabase(state: LabState, spec: LabSubscriberDatabase): string {
  const key = `${spec.server}/${spec.database}`;
  if (Object.values(state.databases).some((d) => d.key.toLowerCase() === key.toLowerCase())) {
    throw new LabStateError(`the lab already has a database ${key}`);
  }
  if (!findServer(state, spec.server)) {
    state.servers[spec.server] = {
      version: spec.version ?? '15.0.2000.5',
      edition: spec.edition ?? 'Express Edition (64-bit)',
      agentRunning: false,
    };
  }
  const siteIndex = Object.keys(state.databases).length;
  const db: LabDatabase = {
    key,
    server: spec.server,
    database: spec.database,
    role: 'subscriber',
    productVersion: state.from,
    tables: { [TABLE_FOR_KIND.Config]: {}, [TABLE_FOR_KIND.Data]: {}, [ARCHIVE_TABLE]: {} },
    mergePublished: false,
    publications: {},
    backgroundQueue: [],
    nextPk: 0,
    siteIndex,
  };
  const n = spec.rows ?? 10;
  for (const table of Object.keys(db.tables)) {
    for (let i = 0; i < n; i++) {
      const pk = `${siteIndex}-${db.nextPk++}`;
      const content = `${table} row ${i} of ${key} before it subscribed`;
      db.tables[table]![pk] = {
        rowguid: `${siteIndex.toString(16).padStart(8, '0')}-0000-4000-8000-${pk.replace('-', '').padStart(12, '0')}`,
        content,
        home: key,
      };
      if (table !== ARCHIVE_TABLE) state.ledger[rowKey(table, pk)] = { content, at: state.clock, home: key };
    }
  }
  state.archiveLedger[key] = Object.keys(db.tables[ARCHIVE_TABLE]!);
  state.databases[key] = db;
  return key;
}

/** Adds such a database to the lab at `statePath` (no worker may hold it). */
export async function addLabSubscriberDatabase(statePath: string, spec: LabSubscriberDatabase): Promise<string> {
  const file = labFile(statePath);
  return withLabMutex(statePath, async () => {
    const key = addSubscriberDatabase(file.load(), spec);
    await file.commit('all');
    return key;
  });
}

/** The SubscriberPort over a lab state file (each call under the lab's mutex, as the lab's own ports). */
export function labSubscriberPort(statePath: string): SubscriberPort {
  const file = labFile(statePath);
  const read = <T>(fn: (s: LabState) => T) => withLabMutex(statePath, () => fn(file.load()));
  const write = <T>(fn: (s: LabState) => T) =>
    withLabMutex(statePath, async () => {
      const result = fn(file.load());
      await file.commit('all');
      return result;
    });
  const exists = (s: LabState, db: DbRef) =>
    Object.values(s.databases).some(
      (d) =>
        d.server.toLowerCase() === db.server.toLowerCase() && d.database.toLowerCase() === db.database.toLowerCase(),
    );
  return {
    databaseExists: (db) => read((s) => exists(s, db)),
    tableRowCounts: (db) =>
      read((s): TableRows[] =>
        Object.entries(findDatabase(s, db).tables).map(([table, rows]) => ({
          table: `dbo.${table}`,
          rows: Object.keys(rows).length,
        })),
      ),
    markReplacementApproved: (db, value) =>
      write((s) => {
        const props = (findDatabase(s, db).extendedProperties ??= {});
        props[REPLACEMENT_APPROVED] ??= value;
      }),
    cleanupSubscription: (subscriber, publisher, publication) =>
      write((s) => {
        const subDb = findDatabase(s, subscriber);
        const pubDb = findDatabase(s, publisher);
        cleanupSubscriberMetadata(subDb, publication, pubDb.key);
        // A subscription still there at the publisher keeps its record there: cleanup is the subscriber's half.
        forgetSubscriptionIndex(s);
      }),
    subscriberMetadata: (subscriber) =>
      read((s): SubscriberMetadata[] => {
        const db = findDatabase(s, subscriber);
        const ref = (key: string) => ({
          server: s.databases[key]?.server ?? key.split('/')[0]!,
          database: s.databases[key]?.database ?? key.split('/')[1]!,
        });
        const live = Object.values(s.subscriptions)
          .filter((x) => x.subscriberKey === db.key)
          .map((x) => ({ publisher: ref(x.publisherKey), publication: x.publication }));
        const left = (db.subscriberLeftovers ?? []).map((k) => {
          const [pub = '', publication = ''] = k.split('|');
          return { publisher: ref(pub), publication };
        });
        return [...live, ...left];
      }),
  };
}

/** What the run meant to do, for the invariants: the database added, or the one removed. */
export interface SubscriberIntent {
  added?: DbRef;
  removed?: DbRef;
}

const keyOf = (s: LabState, db: DbRef) => findDatabase(s, db).key;

/**
 * The subscriber runbooks' invariants: rows a database wrote before it subscribed are gone only
 * with a recorded approval; a removed subscriber has no subscription at the publisher and no merge
 * metadata at its own end; every other subscription of the fleet is still there, active, with its agent.
 */
export function subscriberInvariants(state: LabState, intent: SubscriberIntent): Invariant[] {
  const out: Invariant[] = [];
  const lost: string[] = [];
  for (const db of Object.values(state.databases)) {
    const approved = db.extendedProperties?.[REPLACEMENT_APPROVED];
    let missing = 0;
    for (const [key, truth] of Object.entries(state.ledger)) {
      if (truth.home !== db.key || truth.content === null) continue;
      const [table = '', ...pk] = key.split('/');
      if (!db.tables[table]?.[pk.join('/')]) missing += 1;
    }
    const archive = db.tables[ARCHIVE_TABLE] ?? {};
    if (db.role === 'subscriber' && !state.plan.publications.some((p) => p.subscribers.includes(db.key)))
      missing += (state.archiveLedger[db.key] ?? []).filter((pk) => !archive[pk]).length;
    if (missing > 0 && approved === undefined)
      lost.push(`${db.key} lost ${missing} rows of its own without an approval`);
  }
  out.push({
    name: 'subscriber-data-approved',
    description: "a snapshot deletes a subscriber's own rows only after a person approved it",
    ok: lost.length === 0,
    detail: lost.length ? lost.join('; ') : 'no database lost rows without an approval',
  });
  if (intent.added) {
    const key = keyOf(state, intent.added);
    const subs = Object.values(state.subscriptions).filter((x) => x.subscriberKey === key);
    const problems =
      subs.length === 0
        ? [`${key} has no subscription`]
        : subs
            .filter((x) => x.status !== 'active' || x.snapshotPending)
            .map((x) => `${x.publication} → ${key} is ${x.snapshotPending ? 'waiting for its snapshot' : x.status}`);
    out.push({
      name: 'subscriber-added',
      description: 'the new subscriber is subscribed and synchronized',
      ok: problems.length === 0,
      detail: problems.join('; ') || `${subs.length} active subscriptions of ${key}`,
    });
  }
  if (intent.removed) {
    const db = findDatabase(state, intent.removed);
    const problems = [
      ...Object.values(state.subscriptions)
        .filter((x) => x.subscriberKey === db.key)
        .map((x) => `${x.publisherKey} still has its ${x.publication} subscription`),
      ...(db.subscriberLeftovers ?? []).map(
        (k) => `${db.key} still holds merge metadata of ${k.replace('|', ' ')} (no sp_mergesubscription_cleanup)`,
      ),
    ];
    out.push({
      name: 'subscriber-removed',
      description: 'a removed subscriber has no subscription at either end',
      ok: problems.length === 0,
      detail: problems.join('; ') || `${db.key} is subscribed to nothing`,
    });
  }
  const removedKey = intent.removed ? keyOf(state, intent.removed) : undefined;
  const broken: string[] = [];
  for (const p of state.plan.publications) {
    for (const subscriber of p.subscribers) {
      if (subscriber === removedKey) continue;
      const found = Object.values(state.subscriptions).find(
        (x) =>
          x.publisherKey === p.publisher &&
          x.subscriberKey === subscriber &&
          x.publication.toLowerCase() === p.name.toLowerCase(),
      );
      if (!found) broken.push(`${p.name} → ${subscriber} is gone`);
      else if (found.status !== 'active' || !found.agent)
        broken.push(`${p.name} → ${subscriber} is ${found.agent ? found.status : 'without its merge agent'}`);
    }
  }
  out.push({
    name: 'fleet-replicating',
    description: 'every other subscription of the fleet still replicates',
    ok: broken.length === 0,
    detail: broken.join('; ') || 'every other subscription is active with its agent',
  });
  return out;
}

/**
 * A lab for an add-subscriber or remove-subscriber plan (`replup lab init`): the publisher with
 * Config and Data, the fleet's other subscriber OTHER-SUB (Express), and the plan's subscriber:
 * subscribed for a removal; for an addition, a database not subscribed yet with rows of its own.
 */
export function initSubscriberLab(
  plan: SubscriberPlanBase & { runbook: string },
  opts: LabInitOptions & { statePath?: string; force?: boolean } = {},
) {
  const statePath = opts.statePath ?? (plan.target.kind === 'lab' ? plan.target.state : undefined);
  if (!statePath) throw new LabStateError(`plan ${plan.name} targets SQL Server, not a lab: give --state`);
  const adding = plan.runbook === 'add-subscriber';
  const site = (db: PlannedDb, hosts: string[], edition?: string) => ({
    server: db.server,
    database: db.database,
    personalizationServers: hosts,
    ...((db.edition ?? edition) && { edition: db.edition ?? edition }),
    ...(db.sqlVersion && { sqlVersion: db.sqlVersion }),
  });
  const other = { server: 'OTHER-SUB', database: plan.subscriber.database };
  const fleet = {
    name: plan.name,
    runbook: 'em-personalization-upgrade',
    from: '10.3.0.0',
    to: '10.4.0.0',
    target: { kind: 'lab', state: statePath },
    publisher: site(plan.publisher, ['ps-pub-1'], 'Standard'),
    subscribers: [...(adding ? [] : [site(plan.subscriber, ['ps-sub-1'])]), site(other, ['ps-other-1'], 'Express')],
    scripts: { dir: '.' },
    hosts: { upgrade: 'manual' },
  };
  const parsed = upgradePlanKind.parse(JSON.stringify(fleet), resolve(statePath));
  if (!parsed.ok) throw new LabStateError(`cannot build the lab's fleet: ${JSON.stringify(parsed.errors)}`);
  return initLab(parsed.value, {
    ...opts,
    statePath,
    ...(adding && {
      shape: (state: LabState) => {
        addSubscriberDatabase(state, {
          ...plan.subscriber,
          ...(plan.subscriber.edition && { edition: plan.subscriber.edition }),
        });
      },
    }),
  });
}

/**
 * `replup lab check <subscriber plan>`: the subscriber runbook's invariants for what the plan adds or removes.
 * What is checked follows what the lab went through, as for the upgrade: a subscriber with no subscription yet
 * (add-subscriber not run, or aborted at or before its gate) or with every subscription still there
 * (remove-subscriber likewise) is held to what such an abort promises: no row lost without an approval and
 * the whole fleet still replicating, the plan's subscriber included when it was to be removed. Anything in
 * between (some subscriptions made or dropped) is held to the whole promise, and fails.
 */
export function subscriberVerdict(state: LabState, plan: SubscriberPlanBase & { runbook: string }) {
  const adding = plan.runbook === 'add-subscriber';
  const where = `${plan.subscriber.server}/${plan.subscriber.database}`;
  const key = keyOf(state, plan.subscriber);
  const has = Object.values(state.subscriptions).filter((x) => x.subscriberKey === key).length;
  const planned = state.plan.publications.filter((p) => p.subscribers.includes(key)).length;
  if (adding ? has === 0 : has > 0 && has === planned)
    return {
      phase: adding ? 'subscriber not added' : 'subscriber not removed',
      title:
        `${plan.runbook} of ${where}: nothing ${adding ? 'subscribed' : 'dropped'} yet (not run, or aborted ` +
        `before ${adding ? 'create-subscriptions' : 'drop-subscriptions'}): checking what an abort there promises`,
      invariants: subscriberInvariants(state, {}),
    };
  return {
    phase: adding ? 'subscriber added' : 'subscriber removed',
    title: `${plan.runbook} of ${where}: checking what it promises`,
    invariants: subscriberInvariants(state, adding ? { added: plan.subscriber } : { removed: plan.subscriber }),
  };
}
