// The lab's simulation model: a merge-replication fleet as plain data, and the pure state
// transitions the ports drive. No I/O here (persistence is store.ts): every transition is a
// function of the state and its seeded PRNG, so a lab replays identically for a seed.
//
// What it models, after DOMAIN.md §1: one publisher database with Config and Data merge
// publications, subscriber databases (each with a local Archive table that only exists there),
// personalization servers whose users keep writing rows until the servers are drained (at the
// sites the operations touch, see `tick`), pending changes per subscription and direction, merge
// agent sessions, conflicts, versions, the background service, backups, and side-effect counters
// for the chaos suite.
import type { DbRef, UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import type { BackupRecord, Conflict, MergeSession, ScheduleTiming } from '../ports.js';
import { ROWGUID_MARKS, SqlError } from '../ports.js';
import { isEarlierThan } from '../../plan/version.js';
import { distributorOf, publishingSites } from '../../plan/personalization-upgrade/schema.js';

export const LAB_FORMAT = 1;

/** One replicated table per publication kind; the example scripts name the same tables. */
export const TABLE_FOR_KIND = { Config: 'PersonalizationGroup', Data: 'ProfileData' } as const;
/** Subscriber-local archive: never an article (seed 000, "Add Archives to Replication"). */
export const ARCHIVE_TABLE = 'Archive';
/** Row GUIDs of subscribers upgraded from before this version need ConvertRowGuids.sql (DOMAIN.md §1 step 6). */
export const ROWGUID_THRESHOLD = '8.3.253.0';
/** From before 8.3 the background service upgrades every user after the database upgrade (DOMAIN.md §1 step 7). */
export const BACKGROUND_UPGRADE_THRESHOLD = '8.3';

export interface Row {
  rowguid: string;
  content: string;
  /** Key of the site whose users own the row: only they update or delete it. */
  home: string;
  /** A subscriber copy still carrying its pre-8.3.253.0 GUID (byte-swapped against the publisher's). */
  legacyGuid?: true;
  /** Converted by ConvertRowGuids.sql (kept only under conditions.rowGuidScriptToggles: a second run swaps it back). */
  convertedGuid?: true;
}

export interface LabPublication {
  name: string;
  /** Tables added with sp_addmergearticle: only these replicate. */
  articles: string[];
  /** sysmergepublications.retention in days (default 14, sp_addmergepublication's default). */
  retentionDays?: number;
  /** sysmergepublications.conflict_retention in days (absent: 14, sp_addmergepublication's default). */
  conflictRetentionDays?: number;
  /** sysmergepublications.backward_comp_level (absent: 100 *(inferred: the lab's SQL Server 2008 and later)*). */
  compatibilityLevel?: number;
  /** Article options a DBA changed since set-up (sp_changemergearticle), by article; absent: the defaults. */
  articleOptions?: Record<string, { columnTracking?: boolean }>;
  /**
   * The publication's snapshot (sysmergepublications.snapshot_ready): ready from the lab tick
   * `readyAt`, or its Snapshot Agent failed. Absent: ready (publications from before the run).
   */
  snapshot?: { readyAt: number } | { failed: string };
  /** sysmergearticles.preserve_rowguidcol = 0 for its articles: replication added their rowguid column (KB 2646528). */
  addedRowGuids?: boolean;
  /** The lab tick its script created it (set-up order invariants, activities/lab/setup-replication.ts). */
  createdAt?: number;
}

export interface LabDatabase extends DbRef {
  key: string;
  role: 'publisher' | 'subscriber' | 'publisher-subscriber';
  productVersion: string;
  tables: Record<string, Record<string, Row>>;
  /** sys.databases.is_merge_published */
  mergePublished: boolean;
  /** sys.databases.is_read_committed_snapshot_on (absent: off). */
  readCommittedSnapshot?: boolean;
  publications: Record<string, LabPublication>;
  /** ProfileData keys the background service still has to upgrade (pre-8.3 upgrades only). */
  backgroundQueue: string[];
  /** replup's database-level extended properties (ConvertRowGuids marks), name → value. */
  extendedProperties?: Record<string, string>;
  /**
   * Merge metadata of dropped push subscriptions until sp_mergesubscription_cleanup (activities/lab/subscribers.ts).
   */
  subscriberLeftovers?: string[];
  /** Next number for primary keys of rows inserted here (`<site index>-<n>`). */
  nextPk: number;
  siteIndex: number;
}

/** 'change' moves content; 'touch' is the background service rewriting a row without changing it. */
export type PendingKind = 'change' | 'touch';

export interface LabSubscription {
  key: string;
  publication: string;
  publisherKey: string;
  subscriberKey: string;
  /** sysmergesubscriptions.sync_type */
  syncType: 'automatic' | 'none';
  status: 'inactive' | 'active';
  /** The push agent job exists (sp_addmergepushsubscription_agent). */
  agent: boolean;
  /** How the subscriber got its rows: from a snapshot (merge knows both copies) or not (rows matched by rowguid). */
  baseline: 'snapshot' | 'nosync';
  snapshotPending: boolean;
  /** sysmergesubscriptions.last_sync_date (wall clock, ISO 8601); absent = merged just now. */
  lastSyncAt?: string;
  /** The push agent job's schedule (msdb.dbo.sysschedules): fires every `everyTicks` lab ticks while enabled. */
  schedule?: {
    scheduleId: number;
    name: string;
    enabled: boolean;
    everyTicks: number;
    lastFiredAt: number;
    timing?: ScheduleTiming;
  };
  /** Row keys (`table/pk`) changed since the last merge: upload at the subscriber, download at the publisher. */
  pending: { upload: Record<string, PendingKind>; download: Record<string, PendingKind> };
  /**
   * Merge validation (issue #20 §1): marked by sp_validatemergesubscription, done by the next merge;
   * sysmergesubscriptions.last_validated / attempted_validate as lab clock stamps (ISO 8601).
   */
  validation?: { requested?: boolean; lastValidated?: string; attempted?: string };
  /** The lab tick its script created it (set-up order invariants). */
  createdAt?: number;
}

export interface LabHost {
  name: string;
  site: string;
  productVersion: string;
  drained: boolean;
  backgroundService: 'running' | 'stopped';
  users: number;
}

export interface LabSession {
  sessionId: number;
  host: string;
  db: string;
  login: string;
  user: number;
  /** A replication agent's connection (its program name): it reconnects when KILLed. */
  agent?: string;
}

export interface LabConflict extends Conflict {
  publisherKey: string;
  rowKey: string;
}

export interface LabFaults {
  /** Probability that a SQL operation fails with a transient error (1205, -2 timeout, 10054). */
  transient: number;
  /** Probability that an operation is slow, and by how much. */
  slow: number;
  slowMs: number;
  seed: number;
}

export interface SideEffectCounters {
  backups: number;
  scriptRuns: number;
  subscriptionCreations: number;
  snapshotDeliveries: number;
  replicationRemovals: number;
  rowGuidConversions: number;
  mergeRuns: number;
}

export interface AccountingEntry {
  op: string;
  target: string;
  /** ms since the epoch */
  start: number;
  end: number;
  outcome: 'ok' | 'error';
}

export interface LabState {
  format: typeof LAB_FORMAT;
  name: string;
  from: string;
  to: string;
  seed: number;
  /** msdb.dbo.sysreplicationalerts rows of merge validations: 20574 failed (per article), 20575 passed. */
  validationAlerts?: { alertId: number; subscription: string; code: 20574 | 20575; article: string; text: string }[];
  /** Rows in generation 0 (conditions.generationZeroRows): at one copy only, never counted as pending, never merged. */
  generationZero?: { db: string; table: string; pk: string }[];
  /** PRNG state of the fleet's own behaviour (users, GUIDs). */
  rng: number;
  /** PRNG state of fault injection, kept apart so faults do not change what users do. */
  faultRng: number;
  /** The lab's clock: one tick per port operation. */
  clock: number;
  latencyMs: number;
  faults: LabFaults;
  /** Plan publications (the replica sets rows must reach). */
  plan: {
    publisher: string;
    publications: { name: string; kind: 'Config' | 'Data'; publisher: string; subscribers: string[] }[];
  };
  /** agentAccount: the account Agent runs as (absent: the lab's domain account, LAB\\svc-sqlagent). */
  servers: Record<string, { version: string; edition: string; agentRunning: boolean; agentAccount?: string }>;
  /**
   * Other names that reach a server (a DNS name, an IP address, an alias) → the server's own name, its @@SERVERNAME.
   */
  aliases?: Record<string, string>;
  databases: Record<string, LabDatabase>;
  hosts: Record<string, LabHost>;
  sessions: LabSession[];
  nextSessionId: number;
  subscriptions: Record<string, LabSubscription>;
  conflicts: LabConflict[];
  mergeSessions: (MergeSession & { subscription: string })[];
  backups: Record<string, BackupRecord>;
  /** The truth: the latest content users wrote to each row (null = deleted) and when. */
  ledger: Record<string, { content: string | null; at: number; home: string }>;
  /** Archive row keys each subscriber must keep. */
  archiveLedger: Record<string, string[]>;
  timeline: { drainedAt?: number; removedAt?: number; reenabledAt?: number; servingAgainAt?: number };
  counters: Record<string, SideEffectCounters>;
  /** Calls per operation name, across processes (REPLUP_LAB_CRASH_AT counts these). */
  calls: Record<string, number>;
  accounting: AccountingEntry[];
  /** The distributor's server (absent in labs made before it was recorded: the publisher's). */
  distributor?: string;
  /**
   * Each publishing server's distributor as the server itself knows it (sp_get_distributor), null
   * when none is installed; absent in labs made before it was recorded: `distributor` for all.
   */
  distributors?: Record<string, string | null>;
  conditions?: LabConditions;
  /** Each publication's configuration when the lab was made (by publisher key and name): the fleet's, to keep. */
  configAtStart?: Record<string, Record<string, LabPublicationConfig>>;
  /** Each subscription's agent schedule timing when the lab was made (by subscription key): the DBA's, to keep. */
  schedulesAtStart?: Record<string, ScheduleTiming>;
  nextScheduleId?: number;
  /**
   * The scheduled merge that ran at each subscriber in the current tick: a merge of its other publication now
   * deadlocks.
   */
  scheduledNow?: Record<string, { publication: string; at: number }>;
  /** A set-up lab (`lab init` of a setup-replication plan): what the set-up must make (lab/setup-replication.ts). */
  setup?: LabSetup;
}

/** What a set-up lab holds the run to: the planned publications and each database's read committed snapshot. */
export interface LabSetup {
  central: string;
  publications: { name: string; kind: 'Config' | 'Data'; publisher: string; subscribers: string[] }[];
  readCommittedSnapshot: Record<string, boolean>;
  /** Each publishing server → the distributor's server the plan gives it (absent in set-up labs made before it). */
  distributors?: Record<string, string>;
}

/**
 * Ways a real fleet differs from a clean one, each off by default (issue #18 §5). A runbook that
 * does not look for them loses time or data here where it would in production.
 */
export interface LabConditions {
  /** This many subscriptions last merged longer ago than the retention period: their merges fail "has expired". */
  expiredSubscriptions?: number;
  /** This many subscriptions whose retention period runs out within the next 2 hours. */
  expiringSubscriptions?: number;
  /** The distributor's SQL Server Agent is stopped: no merge agent job can start. */
  distributorAgentStopped?: boolean;
  /**
   * The first branch publisher (a site publishing to its own recovery database) as its own
   * distributor with its SQL Server Agent stopped, or with no distributor installed: its Data
   * subscription's merge agent cannot run (issue #18 §3, a distributor per publishing site).
   */
  branchDistributor?: 'agentStopped' | 'missing';
  /** Merge agent jobs run on their schedules between replup's operations (Config every 7 ticks, Data every 40). */
  scheduledJobs?: boolean;
  /** A new publication's snapshot is ready only this many lab ticks after the publication script. */
  snapshotTicks?: number;
  /** A new publication's Snapshot Agent fails with this message. */
  snapshotFails?: string;
  /** Every database with a subscription has a merge agent session open (it reconnects when KILLed). */
  agentSessions?: boolean;
  /**
   * Update conflicts the resolver settled before the run, still in MSmerge_conflicts_info (kept
   * @conflict_retention days, 14 by default): reported, never a reason to stop (issue #18 §2).
   */
  settledConflicts?: number;
  /**
   * Failed changes (download insert failed, PK violation) recorded before the run and never resolved: a person must.
   */
  unsettledConflicts?: number;
  /**
   * Rows in generation 0 at the first subscriber of the Data publication (issue #20 §1):
   * sp_showpendingchanges "does not include rows in generation 0", and the lab's merges leave them
   * too *(inferred: no page defines generation 0)*, so "0 pending" says quiet while the copies differ.
   */
  generationZeroRows?: number;
  /**
   * Replication added the Data publication's rowguid column (preserve_rowguidcol = 0): dropping the publication drops
   * it (KB 2646528).
   */
  replicationAddedRowGuids?: boolean;
  /**
   * ConvertRowGuids.sql swaps every row's GUID bytes, converted or not, so a second run undoes the
   * first (issue #20 §4: "a conversion run twice may undo itself"). Absent: it converts legacy rows only.
   */
  rowGuidScriptToggles?: boolean;
  /**
   * Lost replies (issue #20 §4): the first `times` calls of operation `op` whose target contains
   * `match` do their work, then the connection drops (10054) before the caller hears of it.
   */
  lostReplies?: { op: string; match?: string; times: number };
  /**
   * What a DBA changed on every publication since set-up (issue #20 §5): the vendor scripts create
   * them again with their own values (retention 14 days, conflict retention 14, level 100, no column tracking).
   */
  customisedPublications?: {
    retentionDays?: number;
    conflictRetentionDays?: number;
    compatibilityLevel?: number;
    columnTracking?: boolean;
  };
  /**
   * Scripts that fail half-way (issue #20 §3): the first `times` runs of a script whose name contains
   * `match` stop with an error after creating the publication but before its articles, or after
   * the subscription but before its push agent job.
   */
  halfBuiltScripts?: { match: string; times: number };
  /**
   * A DBA's schedule (issue #20 §5): every Data merge agent job runs daily at this time (hhmmss, e.g.
   * 20000 = 02:00) instead of the vendor's midnight; the re-created job has the vendor's again.
   */
  customisedDataScheduleTime?: number;
}

/** A publication's configuration as the lab compares it before and after the upgrade. */
export interface LabPublicationConfig {
  retentionDays: number;
  conflictRetentionDays: number;
  compatibilityLevel: number;
  articles: string[];
  articleOptions: Record<string, { columnTracking?: boolean }>;
}

export function labPublicationConfig(pub: LabPublication): LabPublicationConfig {
  return {
    retentionDays: pub.retentionDays ?? LAB_RETENTION_DAYS,
    conflictRetentionDays: pub.conflictRetentionDays ?? LAB_RETENTION_DAYS,
    compatibilityLevel: pub.compatibilityLevel ?? 100,
    articles: [...pub.articles].sort(),
    articleOptions: Object.fromEntries(
      Object.entries(pub.articleOptions ?? {}).filter(([, o]) => Object.keys(o).length > 0),
    ),
  };
}

/**
 * conditions.customisedPublications applied, then every publication's configuration recorded as the fleet's to keep.
 */
function applyPublicationCustomisations(state: LabState, c: LabConditions): void {
  const custom = c.customisedPublications;
  for (const db of Object.values(state.databases)) {
    for (const pub of Object.values(db.publications)) {
      if (custom?.retentionDays !== undefined) pub.retentionDays = custom.retentionDays;
      if (custom?.conflictRetentionDays !== undefined) pub.conflictRetentionDays = custom.conflictRetentionDays;
      if (custom?.compatibilityLevel !== undefined) pub.compatibilityLevel = custom.compatibilityLevel;
      if (custom?.columnTracking !== undefined && pub.articles[0])
        pub.articleOptions = { [pub.articles[0]]: { columnTracking: custom.columnTracking } };
    }
  }
  if (c.customisedDataScheduleTime !== undefined) {
    for (const sub of Object.values(state.subscriptions)) {
      if (sub.schedule?.timing && sub.schedule.timing.freqSubdayType === 1)
        sub.schedule.timing = { ...sub.schedule.timing, activeStartTime: c.customisedDataScheduleTime };
    }
  }
  state.schedulesAtStart = Object.fromEntries(
    Object.values(state.subscriptions).flatMap((sub) => (sub.schedule?.timing ? [[sub.key, sub.schedule.timing]] : [])),
  );
  state.configAtStart = Object.fromEntries(
    Object.values(state.databases)
      .filter((db) => Object.keys(db.publications).length > 0)
      .map((db) => [
        db.key,
        Object.fromEntries(Object.values(db.publications).map((p) => [p.name, labPublicationConfig(p)])),
      ]),
  );
}

/** The lab's default publication retention: sp_addmergepublication's @retention default, 14 days. */
export const LAB_RETENTION_DAYS = 14;
const DAY_MS = 86_400_000;
/** Merge retention has a 24-hour grace period (Microsoft, "Set the Expiration Period for Subscriptions", ms151199). */
export const RETENTION_GRACE_MS = DAY_MS;
/** The merge agent's message for an expired subscription *(wording inferred; issue #18 names "has expired")*. */
export const expiredMessage = (publication: string) =>
  `The subscription to publication '${publication}' has expired and does not exist. Reinitialize the ` +
  `subscription or drop it and create it again.`;
/** The merge agent's message when the publication has no snapshot yet *(wording inferred)*. */
export const snapshotNotReadyMessage = (publication: string) =>
  `The initial snapshot for publication '${publication}' is not yet available. Start the Snapshot Agent to ` +
  `generate the snapshot for this publication.`;

export interface LabInitOptions {
  /** Rows per replicated table at the start. */
  rows?: number;
  seed?: number;
  /** PK-violation conflicts present from the start. */
  conflicts?: number;
  faults?: Partial<LabFaults>;
  latencyMs?: number;
  usersPerHost?: number;
  conditions?: LabConditions;
  /**
   * Other names that reach a lab server (alias → the server as the plan names it): the server still answers
   * @@SERVERNAME with its own.
   */
  aliases?: Record<string, string>;
}

export const NO_FAULTS: LabFaults = { transient: 0, slow: 0, slowMs: 0, seed: 1 };

// ---------------------------------------------------------------------------------------------
// PRNG (mulberry32): the state is one 32-bit integer stored in the lab file.

export function nextRandom(state: LabState, which: 'rng' | 'faultRng' = 'rng'): number {
  let t = (state[which] = (state[which] + 0x6d2b79f5) | 0);
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function pick<T>(state: LabState, items: readonly T[]): T | undefined {
  if (items.length === 0) return undefined;
  return items[Math.floor(nextRandom(state) * items.length)];
}

function newGuid(state: LabState): string {
  let hex = '';
  for (let i = 0; i < 4; i++)
    hex += Math.floor(nextRandom(state) * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The legacy row GUID of a pre-8.3.253.0 subscriber: the same 16 bytes read in the other byte
 * order for the first three groups (uniqueidentifier vs binary(16)). *(Inferred: DOMAIN.md §1
 * "Row GUIDs" — the lab needs some concrete difference; ConvertRowGuids swaps it back.)*
 */
export function swapGuidBytes(guid: string): string {
  const [a = '', b = '', c = '', ...rest] = guid.split('-');
  const rev = (s: string) => (s.match(/../g) ?? []).reverse().join('');
  return [rev(a), rev(b), rev(c), ...rest].join('-');
}

// ---------------------------------------------------------------------------------------------
// Names and lookups

export const dbKey = (db: DbRef) => `${db.server}/${db.database}`;
export const rowKey = (table: string, pk: string) => `${table}/${pk}`;
export function splitRowKey(key: string): { table: string; pk: string } {
  const i = key.indexOf('/');
  return { table: key.slice(0, i), pk: key.slice(i + 1) };
}
/**
 * A subscription's key in the lab's state (merge sessions, subscriptions): `publisherKey:publication->subscriberKey`.
 */
export const subscriptionKey = (publisherKey: string, publication: string, subscriberKey: string) =>
  `${publisherKey}:${publication}->${subscriberKey}`;

/**
 * The parts of a subscriptionKey. A publication name has no `:` (SQL Server refuses it in one), so
 * the publication is the first `:`-free part between a `:` and a `->`; site keys may hold `:` (`tcp:HOST`).
 * @throws Error for a text that is not a subscription key
 */
export function parseSubscriptionKey(key: string): {
  publisherKey: string;
  publication: string;
  subscriberKey: string;
} {
  const m = /^(.*?):([^:]*?)->(.*)$/s.exec(key);
  if (!m) throw new Error(`not a lab subscription key (publisher:publication->subscriber): ${key}`);
  return { publisherKey: m[1]!, publication: m[2]!, subscriberKey: m[3]! };
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The database a port call names; SQL Server answers 4060 when the login cannot open it. */
export function findDatabase(state: LabState, db: DbRef): LabDatabase {
  const found = Object.values(state.databases).find(
    (d) => sameName(d.server, db.server) && sameName(d.database, db.database),
  );
  if (found) return found;
  if (!findServer(state, db.server)) throw unknownServer(db.server);
  throw new SqlError(
    4060,
    `Cannot open database "${db.database}" requested by the login. The login failed. (lab: no database ` +
      `${dbKey(db)} in the fleet)`,
  );
}

/** @@SERVERNAME of the server a connection reaches under this name: an alias's server, else the name as given. */
export function serverNameOf(state: LabState, server: string): string {
  const alias = Object.keys(state.aliases ?? {}).find((a) => sameName(a, server));
  return alias === undefined ? server : state.aliases![alias]!;
}

export function findServer(state: LabState, server: string) {
  const name = Object.keys(state.servers).find((s) => sameName(s, server));
  return name === undefined ? undefined : { name, ...state.servers[name]! };
}

export function unknownServer(server: string): SqlError {
  return new SqlError(
    53,
    `A network-related or instance-specific error occurred while establishing a connection to SQL Server '` +
      `${server}'. (lab: no such server in the fleet)`,
  );
}

export function findHost(state: LabState, host: string): LabHost {
  const found = Object.values(state.hosts).find((h) => sameName(h.name, host));
  if (!found)
    throw new Error(
      `personalization server ${host} is not in the lab fleet (known: ${Object.keys(state.hosts).join(', ')})`,
    );
  return found;
}

export function findSubscription(
  state: LabState,
  publisher: DbRef,
  publication: string,
  subscriber: DbRef,
): LabSubscription | undefined {
  const pub = findDatabase(state, publisher);
  const sub = findDatabase(state, subscriber);
  return Object.values(state.subscriptions).find(
    (s) => s.publisherKey === pub.key && s.subscriberKey === sub.key && sameName(s.publication, publication),
  );
}

export function findPublication(db: LabDatabase, name: string): LabPublication | undefined {
  return Object.values(db.publications).find((p) => sameName(p.name, name));
}

export function counters(state: LabState, key: string): SideEffectCounters {
  return (state.counters[key] ??= {
    backups: 0,
    scriptRuns: 0,
    subscriptionCreations: 0,
    snapshotDeliveries: 0,
    replicationRemovals: 0,
    rowGuidConversions: 0,
    mergeRuns: 0,
  });
}

/** The databases that must hold a row: the plan publication carrying its table from its home site. */
export function replicaSet(state: LabState, table: string, home: string): string[] {
  for (const p of state.plan.publications) {
    const members = [p.publisher, ...p.subscribers];
    if (TABLE_FOR_KIND[p.kind] === table && members.includes(home)) return members;
  }
  return [home];
}

// ---------------------------------------------------------------------------------------------
// Creating a lab from a plan

/** The plan's publications as the lab records them (a copy: the lab state is written to disk). */
export function plannedPublications(
  publications: readonly { name: string; kind: 'Config' | 'Data'; publisher: string; subscribers: readonly string[] }[],
) {
  return publications.map((p) => ({
    name: p.name,
    kind: p.kind,
    publisher: p.publisher,
    subscribers: [...p.subscribers],
  }));
}

export function createLabState(plan: UpgradePlan, opts: LabInitOptions = {}): LabState {
  const seed = opts.seed ?? 1;
  const rows = opts.rows ?? 40;
  const state: LabState = {
    format: LAB_FORMAT,
    name: plan.name,
    from: plan.from,
    to: plan.to,
    seed,
    rng: seed | 0,
    faultRng: (opts.faults?.seed ?? seed) | 0,
    clock: 0,
    latencyMs: opts.latencyMs ?? 20,
    faults: { ...NO_FAULTS, seed, ...opts.faults },
    plan: {
      publisher: plan.publisher.key,
      publications: plannedPublications(plan.publications),
    },
    servers: {},
    ...(opts.aliases && { aliases: opts.aliases }),
    databases: {},
    hosts: {},
    sessions: [],
    nextSessionId: 51, // user spids start above the system sessions
    subscriptions: {},
    conflicts: [],
    mergeSessions: [],
    backups: {},
    ledger: {},
    archiveLedger: {},
    timeline: {},
    counters: {},
    calls: {},
    accounting: [],
    distributor: plan.distributor.server,
    distributors: Object.fromEntries(
      publishingSites(plan).map((site) => [site.server, distributorOf(plan, site).server]),
    ),
    ...(opts.conditions && { conditions: opts.conditions }),
  };
  const legacyGuids = isEarlierThan(plan.from, ROWGUID_THRESHOLD);
  const distributorServers = publishingSites(plan).map((site) => distributorOf(plan, site).server);
  for (const server of new Set([...plan.sites.map((s) => s.server), plan.distributor.server, ...distributorServers])) {
    const site = plan.sites.find((s) => s.server === server);
    state.servers[server] = {
      version: site?.sqlVersion ?? '15.0.2000.5',
      edition: site?.edition ?? 'Enterprise Edition (64-bit)',
      agentRunning: true,
    };
  }
  plan.sites.forEach((site, siteIndex) => {
    const kinds = plan.publications
      .filter((p) => p.publisher === site.key || p.subscribers.includes(site.key))
      .map((p) => p.kind);
    const tables: Record<string, Record<string, Row>> = {};
    for (const kind of new Set(kinds)) tables[TABLE_FOR_KIND[kind]] = {};
    const subscribes = plan.publications.some((p) => p.subscribers.includes(site.key));
    if (subscribes) tables[ARCHIVE_TABLE] = {};
    state.databases[site.key] = {
      key: site.key,
      server: site.server,
      database: site.database,
      role: site.role,
      productVersion: plan.from,
      tables,
      mergePublished: plan.publications.some((p) => p.publisher === site.key),
      publications: {},
      backgroundQueue: [],
      nextPk: 0,
      siteIndex,
    };
    for (const host of site.personalizationServers) {
      state.hosts[host] = {
        name: host,
        site: site.key,
        productVersion: plan.from,
        drained: false,
        backgroundService: 'running',
        users: opts.usersPerHost ?? 2,
      };
    }
  });
  // The fleet before the upgrade: publications set up by the vendor scripts (with a snapshot),
  // every copy converged, the Archive tables filled.
  for (const p of plan.publications) {
    const table = TABLE_FOR_KIND[p.kind];
    const publisher = state.databases[p.publisher]!;
    publisher.publications[p.name] = { name: p.name, articles: [table] };
    const members = [p.publisher, ...p.subscribers];
    for (let i = 0; i < rows; i++) {
      const home = state.databases[members[i % members.length]!]!;
      const pk = `${home.siteIndex}-${home.nextPk++}`;
      const rowguid = newGuid(state);
      const content = `initial ${p.kind.toLowerCase()} row ${i}`;
      for (const member of members) {
        const copy: Row = { rowguid, content, home: home.key };
        if (legacyGuids && member !== p.publisher) {
          copy.rowguid = swapGuidBytes(rowguid);
          copy.legacyGuid = true;
        }
        state.databases[member]!.tables[table]![pk] = copy;
      }
      state.ledger[rowKey(table, pk)] = { content, at: 0, home: home.key };
    }
    for (const subscriber of p.subscribers) {
      const key = subscriptionKey(p.publisher, p.name, subscriber);
      state.subscriptions[key] = {
        key,
        publication: p.name,
        publisherKey: p.publisher,
        subscriberKey: subscriber,
        syncType: 'automatic',
        status: 'active',
        agent: true,
        baseline: 'snapshot',
        snapshotPending: false,
        lastSyncAt: new Date(Date.now() - 3600_000).toISOString(),
        pending: { upload: {}, download: {} },
      };
      addSchedule(state, state.subscriptions[key]);
      forgetSubscriptionIndex(state);
    }
  }
  for (const db of Object.values(state.databases)) {
    const archive = db.tables[ARCHIVE_TABLE];
    if (!archive) continue;
    const keys: string[] = [];
    for (let i = 0; i < Math.max(1, Math.floor(rows / 2)); i++) {
      const pk = `a-${i}`;
      archive[pk] = { rowguid: newGuid(state), content: `archived profile ${i} of ${db.key}`, home: db.key };
      keys.push(pk);
    }
    state.archiveLedger[db.key] = keys;
  }
  if (opts.conflicts) addConflicts(state, opts.conflicts);
  applyConditions(state, opts.conditions ?? {});
  connectUsers(state);
  return state;
}

function applyConditions(state: LabState, c: LabConditions): void {
  const subs = Object.values(state.subscriptions);
  const now = Date.now();
  // The expired ones first, then the expiring ones, in subscription order.
  subs.slice(0, c.expiredSubscriptions ?? 0).forEach((sub) => {
    sub.lastSyncAt = new Date(now - (LAB_RETENTION_DAYS + 3) * DAY_MS).toISOString();
    // Users went on writing at the subscriber since its last merge: changes that can no longer merge.
    const db = state.databases[sub.subscriberKey]!;
    const table = findPublication(state.databases[sub.publisherKey]!, sub.publication)?.articles.find(
      (t) => db.tables[t],
    );
    for (let i = 0; table && i < 3; i++)
      writeRow(state, db, table, `${db.siteIndex}-${db.nextPk++}`, `written at ${db.key} after its last merge`);
  });
  subs
    .slice(c.expiredSubscriptions ?? 0, (c.expiredSubscriptions ?? 0) + (c.expiringSubscriptions ?? 0))
    .forEach((sub) => {
      sub.lastSyncAt = new Date(now - LAB_RETENTION_DAYS * DAY_MS + 2 * 3600_000).toISOString();
    });
  if (c.distributorAgentStopped) {
    const name = distributorServer(state);
    if (state.servers[name]) state.servers[name].agentRunning = false;
  }
  if (c.branchDistributor) {
    const branch = Object.values(state.databases).find((d) => d.role === 'publisher-subscriber' && d.mergePublished);
    if (!branch) throw new Error('conditions.branchDistributor needs a plan with branches (a branch publisher)');
    if (c.branchDistributor === 'missing') state.distributors = { ...state.distributors, [branch.server]: null };
    else {
      const own = distributorOfServer(state, branch.server);
      if (own && state.servers[own]) state.servers[own].agentRunning = false;
    }
  }
  addHistoryConflicts(
    state,
    c.settledConflicts ?? 0,
    c.unsettledConflicts ?? 0,
    new Date(now - 3 * DAY_MS).toISOString(),
  );
  applyPublicationCustomisations(state, c);
  addGenerationZeroRows(state, c.generationZeroRows ?? 0);
  if (c.replicationAddedRowGuids) {
    for (const p of state.plan.publications.filter((x) => x.kind === 'Data')) {
      const pub = findPublication(state.databases[p.publisher]!, p.name);
      if (pub) pub.addedRowGuids = true;
    }
  }
}

/**
 * Rows a bulk load wrote at one subscriber without merge tracking them (generation 0): in the ledger, in no pending
 * list.
 */
function addGenerationZeroRows(state: LabState, n: number): void {
  const p = state.plan.publications.find((x) => x.kind === 'Data' && x.subscribers.length > 0);
  if (!p || n <= 0) return;
  const db = state.databases[p.subscribers[0]!]!;
  const table = TABLE_FOR_KIND.Data;
  for (let i = 0; i < n; i++) {
    const pk = `${db.siteIndex}-${db.nextPk++}`;
    const content = `bulk-loaded at ${db.key} in generation 0 (${i})`;
    db.tables[table]![pk] = { rowguid: newGuid(state), content, home: db.key };
    state.ledger[rowKey(table, pk)] = { content, at: 0, home: db.key };
    (state.generationZero ??= []).push({ db: db.key, table, pk });
  }
}

/**
 * The DBA's fix for rows merge does not carry (tablediff's fix script, applied at each copy that
 * lacks them): every generation-0 row copied, rowguid and content, to the other copies of its
 * replica set. Returns how many copies were written.
 */
export function confirmRowGuidConversions(state: LabState): number {
  let settled = 0;
  for (const db of Object.values(state.databases)) {
    const props = db.extendedProperties;
    if (!props || props[ROWGUID_MARKS.started] === undefined || props[ROWGUID_MARKS.done] !== undefined) continue;
    const legacy = Object.values(db.tables)
      .flatMap((t) => Object.values(t))
      .filter((r) => r.legacyGuid).length;
    // No legacy GUID left: it ran, say so. Legacy GUIDs left: the lab's script converts a table in
    // one statement, so it did not run: take the started mark away and let the step run it.
    if (legacy === 0) props[ROWGUID_MARKS.done] = 'checked by the DBA';
    else delete props[ROWGUID_MARKS.started];
    settled += 1;
  }
  return settled;
}

export function fixGenerationZeroRows(state: LabState): number {
  let written = 0;
  for (const g of state.generationZero ?? []) {
    const row = state.databases[g.db]?.tables[g.table]?.[g.pk];
    if (!row) continue;
    for (const member of replicaSet(state, g.table, g.db)) {
      const rows = state.databases[member]?.tables[g.table];
      if (!rows || member === g.db || rows[g.pk]) continue;
      rows[g.pk] = { ...row };
      written += 1;
    }
  }
  state.generationZero = [];
  return written;
}

/**
 * A row as merge validation's binary checksum sees it *(inferred)*: a legacy GUID is the same 16 bytes in another byte
 * order.
 */
function validatedRow(row: Row): string {
  return `${row.legacyGuid ? swapGuidBytes(row.rowguid) : row.rowguid}\u0000${row.content}`;
}

/**
 * The tables of a subscription's publication whose copies differ between publisher and subscriber
 * (row count, or any row's key, rowguid or content), leaving out rows still on their way (pending
 * either way in `inFlight`). Merge validation reports per table, never per row.
 */
export function differingTables(
  state: LabState,
  sub: LabSubscription,
  inFlight: ReadonlySet<string> = new Set(),
): string[] {
  const pubDb = state.databases[sub.publisherKey]!;
  const subDb = state.databases[sub.subscriberKey]!;
  const out: string[] = [];
  for (const table of findPublication(pubDb, sub.publication)?.articles ?? []) {
    const a = pubDb.tables[table] ?? {};
    const b = subDb.tables[table] ?? {};
    const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((pk) => !inFlight.has(rowKey(table, pk))));
    for (const pk of keys) {
      const x = a[pk];
      const y = b[pk];
      if (!x || !y || validatedRow(x) !== validatedRow(y)) {
        out.push(table);
        break;
      }
    }
  }
  return out;
}

/** The lab clock as a datetime: validation stamps differ whenever the clock moved. */
const stamp = (state: LabState) => new Date(Date.UTC(2026, 0, 1) + state.clock * 1000).toISOString();

/**
 * Merge validation at the end of a merge session: row counts and checksums per article, recorded like SQL Server does.
 */
function validateAfterMerge(state: LabState, sub: LabSubscription): void {
  if (!sub.validation?.requested) return;
  const subDb = state.databases[sub.subscriberKey]!;
  const at = stamp(state);
  const differs = differingTables(state, sub);
  sub.validation = {
    ...sub.validation,
    requested: false,
    attempted: at,
    ...(differs.length === 0 && { lastValidated: at }),
  };
  const alerts = (state.validationAlerts ??= []);
  const next = () => (alerts[alerts.length - 1]?.alertId ?? 0) + 1;
  for (const table of findPublication(state.databases[sub.publisherKey]!, sub.publication)?.articles ?? []) {
    const failed = differs.includes(table);
    alerts.push({
      alertId: next(),
      subscription: sub.key,
      code: failed ? 20574 : 20575,
      article: table,
      text:
        `Subscriber '${subDb.server}', subscription to article '${table}' in publication '${sub.publication}' ` +
        `${failed ? 'failed' : 'passed'} data validation.`,
    });
  }
}

/** Conflict rows from before the run, recorded at createdAt: settled update conflicts first, then failed changes. */
function addHistoryConflicts(state: LabState, settled: number, unsettled: number, createdAt: string): void {
  const subs = Object.values(state.subscriptions);
  for (let i = 0; i < settled + unsettled; i++) {
    const sub = subs[i % Math.max(1, subs.length)];
    if (!sub) throw new Error('the lab has no subscriptions to put conflicts on');
    const pubDb = state.databases[sub.publisherKey]!;
    const subDb = state.databases[sub.subscriberKey]!;
    const table = findPublication(pubDb, sub.publication)?.articles[0] ?? TABLE_FOR_KIND.Data;
    const pk = pick(state, Object.keys(pubDb.tables[table] ?? {})) ?? `${pubDb.siteIndex}-${pubDb.nextPk++}`;
    const origin = `${subDb.server}.${subDb.database}`;
    if (i < settled) {
      state.conflicts.push({
        publication: sub.publication,
        publisherKey: sub.publisherKey,
        rowKey: rowKey(table, pk),
        table,
        conflictType: 1,
        reasonCode: 1,
        reasonText:
          `The same row was updated at both '${pubDb.server}.${pubDb.database}' and '${origin}'. The resolved ` +
          `version at the publisher was chosen.`,
        origin,
        rowguid: pubDb.tables[table]?.[pk]?.rowguid ?? newGuid(state),
        createdAt,
      });
    } else {
      state.conflicts.push({
        ...pkViolation(sub, table, pk, 'download', `${pubDb.server}.${pubDb.database}`, newGuid(state)),
        createdAt,
      });
    }
  }
}

export function distributorServer(state: LabState): string {
  return state.distributor ?? state.databases[state.plan.publisher]?.server ?? state.plan.publisher.split('/')[0]!;
}

/** A server's distributor as it knows it (sp_get_distributor); undefined when none is installed. */
export function distributorOfServer(state: LabState, server: string): string | undefined {
  if (!state.distributors) {
    // Labs made before each server knew its own: every publisher used the one distributor.
    const publishes = state.plan.publications.some((p) => sameName(state.databases[p.publisher]?.server ?? '', server));
    return publishes ? distributorServer(state) : undefined;
  }
  const name = Object.keys(state.distributors).find((x) => sameName(x, server));
  return (name !== undefined && state.distributors[name]) || undefined;
}

/** Where a subscription's push merge agent job runs: its publisher's distributor (undefined: none installed). */
export function distributorOfSubscription(state: LabState, sub: LabSubscription): string | undefined {
  const publisher = state.databases[sub.publisherKey];
  return publisher ? distributorOfServer(state, publisher.server) : distributorServer(state);
}

/** The agent job's schedule the vendor scripts give a push subscription (Config every 5 minutes, Data daily). */
export function addSchedule(state: LabState, sub: LabSubscription): void {
  if (sub.schedule) return;
  const kind =
    state.plan.publications.find((p) => p.publisher === sub.publisherKey && sameName(p.name, sub.publication))?.kind ??
    'Data';
  const scheduleId = (state.nextScheduleId ??= 1);
  state.nextScheduleId += 1;
  sub.schedule = {
    scheduleId,
    name: `${sub.publication} ${sub.subscriberKey} schedule`,
    enabled: true,
    everyTicks: kind === 'Config' ? 7 : 40,
    lastFiredAt: state.clock,
    timing: vendorScheduleTiming(kind),
  };
}

/**
 * The vendor's schedules as sysschedules holds them: Config daily every 5 minutes (freq_subday_type 4
 * = minutes), Data daily once at midnight (freq_subday_type 1 = at the specified time). The lab's
 * ticks stay the clock that fires them (everyTicks); the dates are the lab's own.
 */
export function vendorScheduleTiming(kind: 'Config' | 'Data'): ScheduleTiming {
  const daily = {
    freqType: 4,
    freqInterval: 1,
    freqRelativeInterval: 0,
    freqRecurrenceFactor: 0,
    activeStartDate: 20260101,
    activeEndDate: 99991231,
    activeStartTime: 0,
  };
  return kind === 'Config'
    ? { ...daily, freqSubdayType: 4, freqSubdayInterval: 5, activeEndTime: 235959 }
    : { ...daily, freqSubdayType: 1, freqSubdayInterval: 0, activeEndTime: 235959 };
}

/** When a subscription's retention runs out: last merge + retention + the 24-hour grace period. */
export function expiresAt(state: LabState, sub: LabSubscription): number | undefined {
  if (!sub.lastSyncAt) return undefined;
  const pub = findPublication(state.databases[sub.publisherKey]!, sub.publication);
  const days = pub?.retentionDays ?? LAB_RETENTION_DAYS;
  return days === 0 ? undefined : Date.parse(sub.lastSyncAt) + days * DAY_MS + RETENTION_GRACE_MS;
}

/**
 * A scheduled merge of the subscriber's other publication running right now (this tick): Config and
 * Data merges of one subscriber at once deadlock (seed 000), as replup's own do in the lab.
 */
export function scheduledBeside(state: LabState, sub: LabSubscription): string | undefined {
  const now = state.scheduledNow?.[sub.subscriberKey];
  return now && now.at === state.clock && !sameName(now.publication, sub.publication) ? now.publication : undefined;
}

/** Why a merge agent run of this subscription fails before it merges anything, if it does. */
export function mergeBlocked(state: LabState, sub: LabSubscription): string | undefined {
  const expiry = expiresAt(state, sub);
  if (expiry !== undefined && Date.now() > expiry) return expiredMessage(sub.publication);
  const snapshot = findPublication(state.databases[sub.publisherKey]!, sub.publication)?.snapshot;
  if (snapshot && ('failed' in snapshot || state.clock < snapshot.readyAt))
    return snapshotNotReadyMessage(sub.publication);
  return undefined;
}

/** A merge agent run that failed before merging: recorded in MSmerge_sessions with its message. */
export function failedMerge(
  state: LabState,
  sub: LabSubscription,
  agent: string,
  message: string,
  startTime: string,
  endTime: string,
): MergeSession {
  const none = { inserts: 0, updates: 0, deletes: 0, conflicts: 0 };
  return recordSession(state, sub, {
    agent,
    status: 'failed',
    startTime,
    endTime,
    upload: { ...none },
    download: { ...none },
    message,
  });
}

/** Records a merge agent run in MSmerge_sessions (numbered in order) and returns it as the port reports it. */
function recordSession(state: LabState, sub: LabSubscription, run: Omit<MergeSession, 'sessionId'>): MergeSession {
  const session = { subscription: sub.key, sessionId: state.mergeSessions.length + 1, ...run };
  state.mergeSessions.push(session);
  const { subscription: _omit, ...result } = session;
  return result;
}

/**
 * Scheduled merge agent runs (conditions.scheduledJobs): every subscription whose job schedule is
 * enabled runs when its period has passed, delivering a pending snapshot like any merge. Returns
 * the databases they changed.
 */
function runSchedules(state: LabState): string[] {
  if (!state.conditions?.scheduledJobs) return [];
  const changed: string[] = [];
  for (const sub of Object.values(state.subscriptions)) {
    const sch = sub.schedule;
    if (!sch?.enabled || !sub.agent || state.clock - sch.lastFiredAt < sch.everyTicks) continue;
    // Its job runs on its publisher's distributor's SQL Server Agent.
    const distributor = distributorOfSubscription(state, sub);
    if (distributor === undefined || !state.servers[distributor]?.agentRunning) continue;
    sch.lastFiredAt = state.clock;
    const now = new Date().toISOString();
    if (mergeBlocked(state, sub)) continue;
    mergeSubscription(state, sub, `${sub.key} (scheduled)`, now, now);
    (state.scheduledNow ??= {})[sub.subscriberKey] = { publication: sub.publication, at: state.clock };
    changed.push(sub.publisherKey, sub.subscriberKey);
  }
  return changed;
}

/** Replication agents' sessions (conditions.agentSessions): one per database with a subscription, back after a KILL. */
function connectAgents(state: LabState, sites: ReadonlySet<string>): void {
  if (!state.conditions?.agentSessions) return;
  for (const site of sites) {
    if (state.sessions.some((x) => x.db === site && x.agent)) continue;
    const sub = Object.values(state.subscriptions).find((x) => x.subscriberKey === site || x.publisherKey === site);
    if (!sub) continue;
    const agent = `${sub.publisherKey.replace('/', '-')}-${sub.publication}-${sub.subscriberKey.split('/')[0]}-1`;
    state.sessions.push({
      sessionId: state.nextSessionId++,
      host: distributorServer(state),
      db: site,
      login: 'FLEET\\sqlagent',
      user: -1,
      agent,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The clock: what happens in the fleet between two operations

/**
 * One tick: the fleet's clock advances, and at the sites the operation touches (`sites`, database
 * keys), users on serving personalization servers write (their rows show up as pending changes
 * wherever replication tracks them); sessions of drained servers linger, may finish one last
 * request, and end; users of serving servers reconnect; background services upgrade users.
 *
 * Users act at a rate per unit of time *at their own site*, not per operation fleet-wide: the lab
 * measures a site's time by the operations on it, so a 200-subscriber fan-out (200 operations in
 * parallel, one per site) makes each site's users write as often as a one-subscriber run does,
 * and the rows written grow with the work per site, not with N per operation. An operation with
 * no site (an unknown server or database) only advances the clock.
 */
export function tick(state: LabState, sites: readonly string[] = []): string[] {
  state.clock += 1;
  const scheduled = runSchedules(state);
  const here = new Set(sites.filter((k) => state.databases[k] !== undefined));
  if (here.size === 0) return scheduled;
  // At most TICK_SESSIONS sessions per site per operation, so a site with many users costs the
  // same per operation as a small one.
  for (const site of here) {
    for (const session of sampleSessions(state, site)) {
      if (session.agent) continue; // replication's own connection: it neither writes nor ends
      const host = state.hosts[session.host]!;
      const roll = nextRandom(state);
      if (!host.drained) {
        if (roll < 0.5) userWrite(state, session);
      } else if (roll < 0.25) {
        state.sessions = state.sessions.filter((s) => s !== session); // the user's request ended
      } else if (roll < 0.4) {
        userWrite(state, session); // an in-flight request completing after the drain
      }
    }
  }
  connectUsers(state, here);
  connectAgents(state, here);
  runBackgroundServices(state, here);
  return scheduled;
}

const TICK_SESSIONS = 8;

function sampleSessions(state: LabState, site: string): LabSession[] {
  const at = state.sessions.filter((s) => s.db === site);
  if (at.length <= TICK_SESSIONS) return at;
  const picked = new Set<LabSession>();
  while (picked.size < TICK_SESSIONS) picked.add(at[Math.floor(nextRandom(state) * at.length)]!);
  return [...picked];
}

/** The site (database key) a port call names, or none when the fleet has no such database. */
export function siteOfDb(state: LabState, db: DbRef): string | undefined {
  return Object.values(state.databases).find((d) => sameName(d.server, db.server) && sameName(d.database, db.database))
    ?.key;
}

/** The sites whose databases live on a SQL Server. */
export function sitesOfServer(state: LabState, server: string): string[] {
  return Object.values(state.databases)
    .filter((d) => sameName(d.server, server))
    .map((d) => d.key);
}

/** The site a personalization server serves, or none when it is not in the fleet. */
export function siteOfHost(state: LabState, host: string): string | undefined {
  return Object.values(state.hosts).find((h) => sameName(h.name, host))?.site;
}

function connectUsers(state: LabState, sites?: ReadonlySet<string>): void {
  const connected = new Set(state.sessions.map((s) => `${s.host}\u0000${s.user}`));
  for (const host of Object.values(state.hosts)) {
    if (host.drained || (sites && !sites.has(host.site))) continue;
    for (let user = 0; user < host.users; user++) {
      if (connected.has(`${host.name}\u0000${user}`)) continue;
      state.sessions.push({
        sessionId: state.nextSessionId++,
        host: host.name,
        db: host.site,
        login: `FLEET\\user${user}-${host.name}`,
        user,
      });
    }
  }
}

function userWrite(state: LabState, session: LabSession): void {
  const db = state.databases[session.db]!;
  const tables = Object.keys(db.tables).filter((t) => t !== ARCHIVE_TABLE);
  const table =
    tables.includes(TABLE_FOR_KIND.Data) && nextRandom(state) < 0.8 ? TABLE_FOR_KIND.Data : pick(state, tables);
  if (!table) return;
  const own = Object.entries(db.tables[table]!)
    .filter(([, r]) => r.home === db.key)
    .map(([pk]) => pk);
  const roll = nextRandom(state);
  const content = `${session.login} at tick ${state.clock}`;
  if (roll < 0.35 || own.length === 0) writeRow(state, db, table, `${db.siteIndex}-${db.nextPk++}`, content);
  else if (roll < 0.95) writeRow(state, db, table, pick(state, own)!, content);
  else writeRow(state, db, table, pick(state, own)!, null);
}

/** A local write (content null = delete): recorded in the ledger and tracked where replication is set up. */
export function writeRow(state: LabState, db: LabDatabase, table: string, pk: string, content: string | null): void {
  const rows = db.tables[table]!;
  if (content === null) delete rows[pk];
  else if (rows[pk]) rows[pk] = { ...rows[pk], content };
  else rows[pk] = { rowguid: newGuid(state), content, home: db.key };
  state.ledger[rowKey(table, pk)] = { content, at: state.clock, home: db.key };
  trackChange(state, db.key, rowKey(table, pk), 'change');
}

/**
 * Merge change tracking: a change at a database becomes pending for every subscription that
 * carries its table, downwards when the database publishes it, upwards when it subscribes.
 * Without replication nothing tracks it: that change will never reach the other copies.
 */
/**
 * Subscriptions by the sites they connect, kept while the set of subscriptions is unchanged: a
 * merge downloading 400 rows to one of 200 subscribers would otherwise look at all 400
 * subscriptions per row. Whatever adds or deletes a subscription calls forgetSubscriptionIndex.
 */
const subscriptionIndex = new WeakMap<LabState['subscriptions'], Map<string, LabSubscription[]>>();

export function forgetSubscriptionIndex(state: LabState): void {
  subscriptionIndex.delete(state.subscriptions);
}

function subscriptionsAt(state: LabState, site: string): LabSubscription[] {
  let index = subscriptionIndex.get(state.subscriptions);
  if (!index) {
    index = new Map();
    for (const sub of Object.values(state.subscriptions)) {
      for (const k of new Set([sub.publisherKey, sub.subscriberKey])) index.set(k, [...(index.get(k) ?? []), sub]);
    }
    subscriptionIndex.set(state.subscriptions, index);
  }
  return index.get(site) ?? [];
}

export function trackChange(state: LabState, at: string, key: string, kind: PendingKind, except?: string): void {
  const { table } = splitRowKey(key);
  for (const sub of subscriptionsAt(state, at)) {
    if (sub.key === except) continue;
    const side =
      sub.publisherKey === at ? sub.pending.download : sub.subscriberKey === at ? sub.pending.upload : undefined;
    if (!side || side[key] === 'change') continue;
    if (findPublication(state.databases[sub.publisherKey]!, sub.publication)?.articles.includes(table))
      side[key] = kind;
  }
}

function runBackgroundServices(state: LabState, sites: ReadonlySet<string>): void {
  const runningBySite = new Map<string, number>();
  for (const h of Object.values(state.hosts)) {
    if (h.backgroundService === 'running' && sites.has(h.site))
      runningBySite.set(h.site, (runningBySite.get(h.site) ?? 0) + 1);
  }
  for (const key of sites) {
    const db = state.databases[key]!;
    if (db.backgroundQueue.length === 0) continue;
    const running = runningBySite.get(db.key) ?? 0;
    for (const pk of db.backgroundQueue.splice(0, running)) {
      // The per-user upgrade rewrites the row in place; on every copy it comes out the same, so
      // the lab models it as a touch: tracked if replication is on, no content change.
      if (db.tables[TABLE_FOR_KIND.Data]?.[pk]) trackChange(state, db.key, rowKey(TABLE_FOR_KIND.Data, pk), 'touch');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Operations the ports drive

export function addConflicts(state: LabState, n: number): void {
  const subs = Object.values(state.subscriptions);
  for (let i = 0; i < n; i++) {
    const sub = pick(state, subs);
    if (!sub) throw new Error('the lab has no subscriptions to put conflicts on');
    const pubDb = state.databases[sub.publisherKey]!;
    const table = findPublication(pubDb, sub.publication)?.articles[0] ?? TABLE_FOR_KIND.Data;
    const pk = pick(state, Object.keys(pubDb.tables[table] ?? {})) ?? `${pubDb.siteIndex}-${pubDb.nextPk++}`;
    const subDb = state.databases[sub.subscriberKey]!;
    state.conflicts.push(pkViolation(sub, table, pk, 'upload', `${subDb.server}.${subDb.database}`, newGuid(state)));
  }
}

function pkViolation(
  sub: LabSubscription,
  table: string,
  pk: string,
  direction: 'upload' | 'download',
  origin: string,
  rowguid: string,
): LabConflict {
  return {
    publication: sub.publication,
    publisherKey: sub.publisherKey,
    rowKey: rowKey(table, pk),
    table,
    conflictType: direction === 'upload' ? 5 : 6, // upload / download insert failed
    reasonCode: 2627,
    reasonText:
      `Violation of PRIMARY KEY constraint 'PK_${table}'. Cannot insert duplicate key in object 'dbo.${table}` +
      `'. The duplicate key value is (${pk}).`,
    origin,
    rowguid,
  };
}

export function drainHost(state: LabState, host: string, drained: boolean): void {
  const h = findHost(state, host);
  if (h.drained === drained) return;
  h.drained = drained;
  const all = Object.values(state.hosts);
  if (drained && all.every((x) => x.drained)) state.timeline.drainedAt ??= state.clock;
  if (!drained && state.timeline.drainedAt !== undefined) state.timeline.servingAgainAt ??= state.clock;
}

export function killSessions(state: LabState, db: DbRef, ids: number[]): number {
  const d = findDatabase(state, db);
  const before = state.sessions.length;
  state.sessions = state.sessions.filter((s) => !(s.db === d.key && ids.includes(s.sessionId)));
  return before - state.sessions.length;
}

/**
 * One push merge agent run: delivers a pending snapshot, then uploads and downloads the pending
 * changes. A nosync subscription matches rows by rowguid: a row whose GUID differs between the
 * copies is a different row with the same key, so applying it fails with 2627 (DOMAIN.md §1 "Row GUIDs").
 */
export function mergeSubscription(
  state: LabState,
  sub: LabSubscription,
  agent: string,
  startTime: string,
  endTime: string,
): MergeSession {
  const pubDb = state.databases[sub.publisherKey]!;
  const subDb = state.databases[sub.subscriberKey]!;
  const articles = findPublication(pubDb, sub.publication)?.articles ?? [];
  const upload = { inserts: 0, updates: 0, deletes: 0, conflicts: 0 };
  const download = { inserts: 0, updates: 0, deletes: 0, conflicts: 0 };
  if (sub.snapshotPending) {
    // Snapshot delivery: the subscriber's copy is dropped and replaced with the publisher's, and
    // its archive data is cleared (DOMAIN.md §1: "Adding a subscriber with a snapshot deletes all its data").
    for (const table of articles) {
      const copy: Record<string, Row> = {};
      for (const [pk, row] of Object.entries(pubDb.tables[table] ?? {}))
        copy[pk] = { rowguid: row.rowguid, content: row.content, home: row.home };
      subDb.tables[table] = copy;
      download.inserts += Object.keys(copy).length;
    }
    if (subDb.tables[ARCHIVE_TABLE]) subDb.tables[ARCHIVE_TABLE] = {};
    sub.snapshotPending = false;
    sub.status = 'active';
    sub.pending = { upload: {}, download: {} };
    counters(state, subDb.key).snapshotDeliveries += 1;
  }
  const { upload: up, download: down } = sub.pending;
  sub.pending = { upload: {}, download: {} };
  for (const [key, kind] of Object.entries(up)) {
    const other = down[key];
    const { table, pk } = splitRowKey(key);
    if (other === 'change' && kind === 'touch') continue; // the real change wins over a rewrite
    if (
      other === 'change' &&
      kind === 'change' &&
      pubDb.tables[table]?.[pk]?.content !== subDb.tables[table]?.[pk]?.content
    ) {
      // Both sides changed the row: the default resolver keeps the publisher's version.
      upload.conflicts += 1;
      state.conflicts.push({
        publication: sub.publication,
        publisherKey: sub.publisherKey,
        rowKey: key,
        table,
        conflictType: 1,
        reasonCode: 1, // update-update conflicts carry their conflict type as reason code
        reasonText:
          `The same row was updated at both '${pubDb.server}.${pubDb.database}' and '${subDb.server}.` +
          `${subDb.database}'. The resolved version at the publisher was chosen.`,
        origin: `${subDb.server}.${subDb.database}`,
        rowguid: pubDb.tables[table]?.[pk]?.rowguid,
      });
      continue;
    }
    if (applyRow(state, sub, subDb, pubDb, table, pk, 'upload', upload))
      trackChange(state, pubDb.key, key, kind, sub.key);
  }
  for (const [key, kind] of Object.entries(down)) {
    if (kind === 'touch' && up[key] === 'change') continue;
    const { table, pk } = splitRowKey(key);
    if (applyRow(state, sub, pubDb, subDb, table, pk, 'download', download))
      trackChange(state, subDb.key, key, kind, sub.key);
  }
  counters(state, subDb.key).mergeRuns += 1;
  validateAfterMerge(state, sub);
  sub.lastSyncAt = new Date().toISOString();
  return recordSession(state, sub, { agent, status: 'succeeded', startTime, endTime, upload, download });
}

function applyRow(
  state: LabState,
  sub: LabSubscription,
  from: LabDatabase,
  to: LabDatabase,
  table: string,
  pk: string,
  direction: 'upload' | 'download',
  counts: { inserts: number; updates: number; deletes: number; conflicts: number },
): boolean {
  const source = from.tables[table]?.[pk];
  const target = to.tables[table];
  if (!target) return false;
  const existing = target[pk];
  if (sub.baseline === 'nosync' && source && existing && source.rowguid !== existing.rowguid) {
    counts.conflicts += 1;
    state.conflicts.push(pkViolation(sub, table, pk, direction, `${from.server}.${from.database}`, source.rowguid));
    return false;
  }
  if (!source) {
    if (!existing) return false;
    delete target[pk];
    counts.deletes += 1;
    return true;
  }
  if (!existing) {
    counts.inserts += 1;
    target[pk] = { rowguid: source.rowguid, content: source.content, home: source.home };
  } else {
    // An update changes the content; the row keeps its identity (and its GUID) on this side.
    counts.updates += 1;
    existing.content = source.content;
  }
  return true;
}

/** Drops what replication a database has (publications and their subscriptions, its own subscriptions). */
export function removeReplication(state: LabState, db: LabDatabase): boolean {
  const doomed = Object.values(state.subscriptions).filter(
    (s) => s.publisherKey === db.key || s.subscriberKey === db.key,
  );
  const had = doomed.length > 0 || Object.keys(db.publications).length > 0 || db.mergePublished;
  // Pending changes live in the merge metadata: removing it forgets every change not merged yet.
  for (const s of doomed) delete state.subscriptions[s.key];
  forgetSubscriptionIndex(state);
  // A rowguid column replication added goes with the publication (KB 2646528); the next publication
  // adds a new one, whose newsequentialid() default gives the publisher's rows new GUIDs *(lab: at once)*.
  for (const pub of Object.values(db.publications).filter((p) => p.addedRowGuids)) {
    for (const table of pub.articles)
      for (const row of Object.values(db.tables[table] ?? {})) row.rowguid = newGuid(state);
  }
  db.publications = {};
  db.mergePublished = false;
  // sp_removedbreplication removes the subscription database's merge metadata too.
  delete db.subscriberLeftovers;
  if (had) {
    counters(state, db.key).replicationRemovals += 1;
    state.timeline.removedAt = state.clock;
  }
  return had;
}

/** The configuration utility's schema upgrade: refused while a table is still replicated (4929). */
export function upgradeDatabase(state: LabState, db: LabDatabase, to: string): void {
  if (db.productVersion === to) return;
  const replicated =
    Object.keys(db.publications).length > 0 ||
    Object.values(state.subscriptions).some((s) => s.subscriberKey === db.key);
  if (replicated) {
    const table = Object.keys(db.tables).find((t) => t !== ARCHIVE_TABLE) ?? TABLE_FOR_KIND.Data;
    throw new SqlError(
      4929,
      `Cannot alter the table 'dbo.${table}' because it is being published for replication. (lab: remove ` +
        `replication from ${db.key} before upgrading it)`,
    );
  }
  const wasPre83 = isEarlierThan(db.productVersion, BACKGROUND_UPGRADE_THRESHOLD);
  db.productVersion = to;
  if (wasPre83 && !isEarlierThan(to, BACKGROUND_UPGRADE_THRESHOLD)) {
    db.backgroundQueue = Object.keys(db.tables[TABLE_FOR_KIND.Data] ?? {});
  }
}

export function backupDatabase(
  state: LabState,
  db: LabDatabase,
  dir: string,
  runId: string,
  finishedAt: string,
): BackupRecord {
  const id = `${runId}|${db.key}`;
  const existing = state.backups[id];
  if (existing) return existing;
  const rows = Object.values(db.tables).reduce((n, t) => n + Object.keys(t).length, 0);
  const record: BackupRecord = {
    db: { server: db.server, database: db.database },
    file: `${dir.replace(/[\\/]+$/, '')}/${db.database}_${runId}.bak`,
    bytes: 3 * 1024 * 1024 + rows * 2048, // an empty database's pages plus its rows
    copyOnly: true,
    checksum: true,
    finishedAt,
  };
  state.backups[id] = record;
  counters(state, db.key).backups += 1;
  return record;
}

export const canaryKey = (token: string) => `replup-canary-${token}`;

export function writeCanary(state: LabState, db: LabDatabase, token: string): void {
  const table =
    Object.values(db.publications)[0]?.articles[0] ?? Object.keys(db.tables).find((t) => t !== ARCHIVE_TABLE);
  if (!table) throw new SqlError(208, `Invalid object name 'dbo.${TABLE_FOR_KIND.Config}'.`);
  if (db.tables[table]![canaryKey(token)]) return;
  writeRow(state, db, table, canaryKey(token), `canary ${token}`);
}

export function readCanary(db: LabDatabase, token: string): boolean {
  return Object.values(db.tables).some((rows) => rows[canaryKey(token)] !== undefined);
}

/** ConvertRowGuids on one table of a subscriber: legacy GUIDs get the publisher's byte order; converted rows stay. */
export function convertRowGuids(state: LabState, db: LabDatabase, table: string): number {
  let converted = 0;
  const toggles = state.conditions?.rowGuidScriptToggles === true;
  for (const row of Object.values(db.tables[table] ?? {})) {
    if (toggles && row.convertedGuid) {
      // Converted by an earlier run: the swap makes it legacy again.
      row.rowguid = swapGuidBytes(row.rowguid);
      row.legacyGuid = true;
      delete row.convertedGuid;
      converted += 1;
      continue;
    }
    if (!row.legacyGuid) continue;
    if (toggles) row.convertedGuid = true;
    row.rowguid = swapGuidBytes(row.rowguid);
    delete row.legacyGuid;
    converted += 1;
  }
  counters(state, db.key).rowGuidConversions += 1;
  return converted;
}
