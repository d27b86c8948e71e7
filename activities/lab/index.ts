// The lab: a simulated merge-replication fleet behind the same ports as the real SQL Server and
// host adapters (activities/ports.ts). Every operation reloads the state from disk under the
// lock (the worker may have been restarted), lets the fleet's clock tick, acts, and writes the
// state back atomically. The simulation itself is in model.ts (pure); this file is the plumbing:
// persistence, latency, fault injection, crash points, and the lab's own accounting.
import { existsSync } from 'node:fs';
import type { DbRef, UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import {
  BACKGROUND_SERVICE,
  SqlError,
  type ArticleConfig,
  type HostPort,
  type ServiceState,
  type SqlFleetPort,
  type SubscriptionRef,
} from '../ports.js';
import { type Invariant, checkLab, showLab } from './check.js';
import {
  type AccountingEntry,
  type LabFaults,
  type LabInitOptions,
  type LabState,
  type LabSubscription,
  type SideEffectCounters,
  addConflicts,
  addSchedule,
  backupDatabase,
  distributorOfServer,
  distributorOfSubscription,
  failedMerge,
  mergeBlocked,
  scheduledBeside,
  createLabState,
  drainHost,
  findDatabase,
  findHost,
  findPublication,
  forgetSubscriptionIndex,
  labPublicationConfig,
  findServer,
  serverNameOf,
  LAB_RETENTION_DAYS,
  findSubscription,
  fixGenerationZeroRows,
  confirmRowGuidConversions,
  killSessions,
  mergeSubscription,
  nextRandom,
  readCanary,
  siteOfDb,
  siteOfHost,
  sitesOfServer,
  removeReplication,
  tick,
  unknownServer,
  upgradeDatabase,
  writeCanary,
} from './model.js';
import { runLabScript } from './script.js';
import { labAgentJobs } from './agent-schedules.js';
import { requestChange, serveRequests, type LabChange } from './requests.js';
import { judgeConflict } from '../sqlserver/conflict-types.js';
import { ROWGUID_MARKS } from '../ports.js';
import { leaveSubscriberMetadata } from './subscribers.js';

export type { LabChange } from './requests.js';
import {
  LabStateError,
  acquireLabLock,
  labFile,
  lockOwner,
  readLabState,
  releaseLabLock,
  withLabMutex,
  writeLabText,
} from './store.js';

export { type Invariant, checkLab, showLab } from './check.js';
export type {
  AccountingEntry,
  LabConditions,
  LabFaults,
  LabInitOptions,
  LabState,
  SideEffectCounters,
} from './model.js';
export { LabStateError, readLabState } from './store.js';
export { parseSubscriptionKey, subscriptionKey } from './model.js';

export interface LabAdmin {
  /** The invariants after an upgrade, each pass/fail with detail. */
  check(): Promise<Invariant[]>;
  /** A printable fleet summary. */
  show(): Promise<string>;
  /** A copy of the whole state, for tests and `lab show --json`. */
  state(): Promise<LabState>;
  /** Adds PK-violation conflicts (reason 2627) that merging does not clear. */
  addConflicts(n: number): Promise<void>;
  /** What a DBA does in the conflict viewer; returns how many were resolved. */
  resolveConflicts(): Promise<number>;
  /**
   * What a DBA does after a failed validation: tablediff's fix script for the generation-0 rows; returns the copies
   * written.
   */
  fixGenerationZeroRows(): Promise<number>;
  /**
   * What an operator does by hand for `hosts.upgrade: manual`: the setup on every personalization
   * server, then the configuration utility on every database, publishers first, to the lab's
   * target version. Refused (4929) on a database still replicated. Returns how many it upgraded.
   */
  manualUpgrade(): Promise<number>;
  /**
   * What a DBA does after ConvertRowGuids parked on an unknown outcome: checks the GUIDs, marks it done or takes the
   * started mark away; returns how many.
   */
  confirmRowGuidConversions(): Promise<number>;
  setFaults(faults: Partial<LabFaults>): Promise<void>;
  /** Side effects per database (backups, script runs, subscription creations, …). */
  counters(): Promise<Record<string, SideEffectCounters>>;
  /** Start and end of every operation, for benchmark critical paths. */
  accounting(): Promise<AccountingEntry[]>;
  /** Releases this process's lock on the lab. */
  close(): void;
}

export interface Lab {
  sql: SqlFleetPort;
  hosts: HostPort;
  admin: LabAdmin;
}

export interface OpenLabOptions {
  /** Multiplies every latency (default REPLUP_LAB_LATENCY_SCALE, else 1). */
  latencyScale?: number;
  /** Overrides the state's faults (default REPLUP_LAB_FAULTS, e.g. `transient=0.1,seed=7`). */
  faults?: Partial<LabFaults>;
  /** Kill this process at the nth call of an operation (default REPLUP_LAB_CRASH_AT, `runMergeAgent:3`). */
  crashAt?: { op: string; n: number };
}

/** `transient=0.1,seed=7,slow=0.05,slowMs=500` → faults. */
export function parseFaults(text: string): Partial<LabFaults> {
  const out: Partial<LabFaults> = {};
  const known = ['transient', 'slow', 'slowMs', 'seed'] as const;
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name = '', value = ''] = part.split('=').map((x) => x.trim());
    const key = known.find((k) => k.toLowerCase() === name.toLowerCase());
    const n = Number(value);
    if (!key || value === '' || !Number.isFinite(n)) {
      throw new LabStateError(
        `REPLUP_LAB_FAULTS: cannot read "${part}"; write name=number pairs of ${known.join(', ')}, e.g. ` +
          `transient=0.1,seed=7`,
      );
    }
    if ((key === 'transient' || key === 'slow') && (n < 0 || n > 1))
      throw new LabStateError(`REPLUP_LAB_FAULTS: ${key}=${value} is a probability, between 0 and 1`);
    out[key] = n;
  }
  return out;
}

/** `runMergeAgent:3` → the 3rd call of runMergeAgent, counted across processes. */
export function parseCrashAt(text: string): { op: string; n: number } {
  const m = /^\s*(\w+)\s*:\s*(\d+)\s*$/.exec(text);
  if (!m || Number(m[2]) < 1)
    throw new LabStateError(`REPLUP_LAB_CRASH_AT: "${text}" should be <operation>:<n>, e.g. runMergeAgent:3`);
  return { op: m[1]!, n: Number(m[2]) };
}

/** `shape`: another runbook's starting point, made from the fleet createLabState builds (a set-up lab). */
export type InitLabOptions = LabInitOptions & {
  statePath?: string;
  force?: boolean;
  shape?: (state: LabState) => void;
};

/** Creates the lab's state file from a plan: at `opts.statePath`, else the plan's `target.state`. */
export async function initLab(
  plan: UpgradePlan,
  opts: InitLabOptions = {},
): Promise<{ statePath: string; state: LabState }> {
  const statePath = opts.statePath ?? (plan.target.kind === 'lab' ? plan.target.state : undefined);
  if (!statePath)
    throw new LabStateError(
      `plan ${plan.name} targets SQL Server, not a lab: give the lab's state file path (--state)`,
    );
  const owner = lockOwner(statePath);
  if (owner !== undefined)
    throw new LabStateError(
      `the lab ${statePath} is in use by process ${owner}; stop that worker before re-creating the lab`,
    );
  if (existsSync(statePath) && !opts.force)
    throw new LabStateError(`a lab already exists at ${statePath}; pass --force to replace it`);
  const state = createLabState(plan, opts);
  // Another runbook's starting point (a set-up lab: the fleet without replication).
  opts.shape?.(state);
  await withLabMutex(statePath, () => writeLabText(statePath, JSON.stringify(state)));
  return { statePath, state };
}

const TRANSIENT_ERRORS: [number, string][] = [
  [
    1205,
    'Transaction (Process ID 63) was deadlocked on lock resources with another process and has been chosen ' +
      'as the deadlock victim. Rerun the transaction.',
  ],
  [
    -2,
    'Timeout expired. The timeout period elapsed prior to completion of the operation or the server is not responding.',
  ],
  [
    10054,
    'A transport-level error has occurred when receiving results from the server. (provider: TCP Provider, ' +
      'error: 0 - An existing connection was forcibly closed by the remote host.)',
  ],
];

// Merge agents in flight in this process, per lab and subscriber: Config and Data of one
// subscriber at once deadlock (seed 000: "config and data publications are not run in parallel").
/** The account the lab's SQL Server Agents run as unless a server's state names another (a domain account). */
export const LAB_AGENT_ACCOUNT = 'LAB\\svc-sqlagent';

/** The options every lab article has (the vendor scripts'): only column tracking is modelled. */
export const LAB_ARTICLE_OPTIONS: Omit<ArticleConfig, 'name' | 'columnTracking'> = {
  subsetFilter: '',
  uploadOptions: 0,
  processingOrder: 0,
  identityRange: false,
  deleteTracking: true,
  compensateForErrors: false,
};

const mergesInFlight = new Map<string, Set<string>>();

const lower = (db: DbRef) => `${db.server}/${db.database}`.toLowerCase();
const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

/** A push agent job's schedule by its schedule_id; SQL Server's error 14262 when no subscription has it. */
function scheduleById(s: LabState, scheduleId: number): NonNullable<LabSubscription['schedule']> {
  const sub = Object.values(s.subscriptions).find((x) => x.schedule?.scheduleId === scheduleId);
  if (!sub) throw new SqlError(14262, `The specified @schedule_id ('${scheduleId}') does not exist.`);
  return sub.schedule!;
}

export function openLab(statePath: string, opts: OpenLabOptions = {}): Lab {
  const first = readLabState(statePath); // fails early, with the path, when there is no lab
  acquireLabLock(statePath);
  const runtime = new LabRuntime(statePath, first, opts);
  const admin = runtime.adminPort();
  // Operators' changes from other processes (`replup lab resolve-conflicts`), while this one holds the lab.
  const timer = setInterval(() => {
    void serveRequests(statePath, (change) => applyChange(admin, change));
  }, 250);
  timer.unref();
  const close = admin.close.bind(admin);
  admin.close = () => {
    clearInterval(timer);
    close();
  };
  return { sql: runtime.sqlPort(), hosts: runtime.hostPort(), admin };
}

function applyChange(admin: LabAdmin, change: LabChange): Promise<number> {
  if (change.kind === 'resolve-conflicts') return admin.resolveConflicts();
  if (change.kind === 'fix-generation-zero') return admin.fixGenerationZeroRows();
  if (change.kind === 'manual-upgrade') return admin.manualUpgrade();
  if (change.kind === 'confirm-rowguid-conversions') return admin.confirmRowGuidConversions();
  return admin.addConflicts(change.n).then(() => change.n);
}

/**
 * An operator's change to a lab, from any process: made directly when no worker holds the lab,
 * else handed to the worker that does. Returns how many conflicts were resolved or added.
 */
export async function changeLab(statePath: string, change: LabChange): Promise<number> {
  const holder = lockOwner(statePath);
  if (holder !== undefined) {
    const answer = await requestChange(statePath, change, holder);
    if (answer !== undefined) return answer;
  }
  const lab = openLab(statePath);
  try {
    return await applyChange(lab.admin, change);
  } finally {
    lab.admin.close();
  }
}

class LabRuntime {
  private readonly scale: number;
  private readonly envFaults?: Partial<LabFaults>;
  private readonly crashAt?: { op: string; n: number };
  private faultsApplied = false;
  private slowRng: number;
  private closed = false;

  constructor(
    private readonly path: string,
    private cached: LabState,
    opts: OpenLabOptions,
  ) {
    const scaleEnv = process.env.REPLUP_LAB_LATENCY_SCALE;
    this.scale = opts.latencyScale ?? (scaleEnv ? Number(scaleEnv) : 1);
    if (!Number.isFinite(this.scale) || this.scale < 0)
      throw new LabStateError(`REPLUP_LAB_LATENCY_SCALE=${scaleEnv} should be a number ≥ 0 (0 = no latency)`);
    this.envFaults =
      opts.faults ?? (process.env.REPLUP_LAB_FAULTS ? parseFaults(process.env.REPLUP_LAB_FAULTS) : undefined);
    this.crashAt =
      opts.crashAt ?? (process.env.REPLUP_LAB_CRASH_AT ? parseCrashAt(process.env.REPLUP_LAB_CRASH_AT) : undefined);
    this.slowRng = cached.faults.seed | 0;
  }

  /** Latency before the operation acts: the time the server takes. Slow operations take longer. */
  private delay(): number {
    const f = this.cached.faults;
    this.slowRng = (this.slowRng + 0x9e3779b9) | 0;
    const slow = f.slow > 0 && ((this.slowRng >>> 0) % 10000) / 10000 < f.slow;
    return (this.cached.latencyMs + (slow ? f.slowMs : 0)) * this.scale;
  }

  private rollFault(s: LabState): { error: SqlError; after: boolean } | undefined {
    if (s.faults.transient <= 0) return undefined;
    if (nextRandom(s, 'faultRng') >= s.faults.transient) return undefined;
    const [number, message] = TRANSIENT_ERRORS[Math.floor(nextRandom(s, 'faultRng') * TRANSIENT_ERRORS.length)]!;
    // Half of them strike after the work was done: the reply is lost, the effect is not.
    return { error: new SqlError(number, `${message} (lab: injected fault)`), after: nextRandom(s, 'faultRng') < 0.5 };
  }

  /**
   * One fleet operation: wait the latency (outside the lock, so calls overlap in time as on a
   * real server), then under the lock reload, tick, act, account, write. Injected faults and the
   * crash point come after the write, so an effect can be done while its caller never hears of it.
   * `at` names the sites (database keys) the operation touches: only their users act on this tick.
   * `changes`: the databases the operation may change besides those (default: none; 'all' for
   * scripts, whose effects are not known in advance); the file re-serialises only these.
   */
  async op<T>(
    name: string,
    target: string,
    at: (s: LabState) => (string | undefined)[],
    act: (s: LabState) => T,
    o: { faults?: boolean; enter?: () => () => void; changes?: 'all' | ((s: LabState) => (string | undefined)[]) } = {},
  ): Promise<T> {
    if (this.closed) throw new LabStateError(`the lab ${this.path} was closed`);
    const start = Date.now();
    const leave = o.enter?.();
    try {
      await sleep(this.delay());
      const file = labFile(this.path);
      const { result, error, call, written } = await withLabMutex(this.path, () => {
        const s = file.load();
        if (this.envFaults && !this.faultsApplied) {
          s.faults = { ...s.faults, ...this.envFaults };
          if (this.envFaults.seed !== undefined) s.faultRng = this.envFaults.seed | 0;
          this.faultsApplied = true;
        }
        this.cached = s;
        const sites = at(s).filter((k): k is string => k !== undefined);
        const scheduled = tick(s, sites);
        const call = (s.calls[name] = (s.calls[name] ?? 0) + 1);
        const fault = o.faults === false ? undefined : this.rollFault(s);
        let result: T | undefined;
        let error: unknown;
        if (fault && !fault.after) error = fault.error;
        else {
          try {
            result = act(s);
          } catch (err) {
            error = err;
          }
          if (!error && fault) error = fault.error;
          const lost = s.conditions?.lostReplies;
          if (
            !error &&
            lost &&
            lost.times > 0 &&
            lost.op === name &&
            (lost.match === undefined || target.includes(lost.match))
          ) {
            lost.times -= 1;
            error = new SqlError(
              TRANSIENT_ERRORS[2]![0],
              `${TRANSIENT_ERRORS[2]![1]} (lab: reply lost after ${name} ${target} did its work)`,
            );
          }
        }
        s.accounting.push({ op: name, target, start, end: Date.now(), outcome: error ? 'error' : 'ok' });
        // The newest 15,000 to 20,000 entries: cut in chunks, so the file's copy of the log is
        // rebuilt once per 5,000 operations, not on every one.
        if (s.accounting.length > 20000) s.accounting.splice(0, s.accounting.length - 15000);
        const changed =
          o.changes === 'all'
            ? 'all'
            : [...sites, ...scheduled, ...(o.changes?.(s) ?? []).filter((k): k is string => k !== undefined)];
        return { result, error, call, written: file.commit(changed) };
      });
      await written;
      if (this.crashAt && this.crashAt.op === name && this.crashAt.n === call) {
        process.stderr.write(`lab: REPLUP_LAB_CRASH_AT=${name}:${call} reached, killing process ${process.pid}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
      // A port's SqlError, or what a fault injects, as it is.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (error) throw error;
      return result as T;
    } finally {
      leave?.();
    }
  }

  /** An operator's look or touch (lab admin): no tick, no faults, no latency. */
  private admin<T>(act: (s: LabState) => T, write: boolean): Promise<T> {
    const file = labFile(this.path);
    return withLabMutex(this.path, async () => {
      const s = file.load();
      const result = act(s);
      if (write) await file.commit();
      return result;
    });
  }

  sqlPort(): SqlFleetPort {
    const op = this.op.bind(this);
    const where = (db: DbRef) => `${db.server}/${db.database}`;
    const atDb =
      (...dbs: DbRef[]) =>
      (s: LabState) =>
        dbs.map((db) => siteOfDb(s, db));
    // A merge agent runs at the distributor, but the users whose work it moves are the subscriber's.
    const atSub = (sub: SubscriptionRef) => atDb(sub.subscriber);
    const inFlightKey = (sub: SubscriptionRef) => `${this.path}|${lower(sub.subscriber)}`;
    return {
      // The lab's servers are known to replication by the names the plan gives them; an alias
      // (lab init's aliases) answers with its server's name, as @@SERVERNAME would.
      replicationName: async (server) => serverNameOf(this.cached, server),
      serverFacts: (server) =>
        op(
          'serverFacts',
          server,
          (s) => sitesOfServer(s, server),
          (s) => {
            const found = findServer(s, server);
            if (!found) throw unknownServer(server);
            return {
              server: found.name,
              version: found.version,
              edition: found.edition,
              agentRunning: found.agentRunning,
              isSysadmin: true,
              agentAccount: found.agentAccount ?? LAB_AGENT_ACCOUNT,
            };
          },
        ),
      distributorOf: (server) =>
        op(
          'distributorOf',
          server,
          (s) => sitesOfServer(s, server),
          (s) => {
            if (!findServer(s, server)) throw unknownServer(server);
            const name = distributorOfServer(s, server);
            return name === undefined ? { installed: false } : { installed: true, server: name };
          },
        ),
      databaseVersion: (db) => op('databaseVersion', where(db), atDb(db), (s) => findDatabase(s, db).productVersion),
      activeSessions: (db) =>
        op('activeSessions', where(db), atDb(db), (s) => {
          const d = findDatabase(s, db);
          return s.sessions
            .filter((x) => x.db === d.key)
            .map((x) => ({
              sessionId: x.sessionId,
              login: x.login,
              program: x.agent ?? 'AppSense Personalization Server',
              host: x.host,
              ...(x.agent !== undefined && { replicationAgent: true }),
            }));
        }),
      killSessions: (db, ids) => op('killSessions', where(db), atDb(db), (s) => killSessions(s, db, ids)),
      runMergeAgent: (sub) =>
        op(
          'runMergeAgent',
          `${sub.publication} ${where(sub.subscriber)}`,
          atSub(sub),
          (s) => {
            const found = findSubscription(s, sub.publisher, sub.publication, sub.subscriber);
            const agent =
              `${sub.publisher.server}-` + `${sub.publisher.database}-${sub.publication}-` + `${sub.subscriber.server}`;
            if (!found?.agent) throw new SqlError(14262, `The specified @job_name ('${agent}') does not exist.`);
            // The merge agent's job runs on the SQL Server Agent of its publisher's distributor
            // (a branch publisher's own, by default); a publisher without one has no such job.
            const distributorName = distributorOfSubscription(s, found);
            if (distributorName === undefined) {
              throw new Error(
                `no merge agent for ${agent}: ${sub.publisher.server} has no distributor installed (lab: ` +
                  `conditions.branchDistributor missing)`,
              );
            }
            const distributor = findServer(s, distributorName);
            if (distributor && !distributor.agentRunning)
              throw new SqlError(
                22022,
                'SQLServerAgent is not currently running so it cannot be notified of this action.',
              );
            const startTime = new Date(Date.now() - this.cached.latencyMs * this.scale).toISOString();
            const beside = scheduledBeside(s, found);
            if (beside) {
              throw new SqlError(
                1205,
                `Transaction (Process ID 61) was deadlocked on lock resources with another process and has ` +
                  `been chosen as the deadlock victim. Rerun the transaction. (lab: the scheduled ${beside} ` +
                  `merge of ${where(sub.subscriber)} was running at the same time as ${sub.publication})`,
              );
            }
            const blocked = mergeBlocked(s, found);
            if (blocked) return failedMerge(s, found, agent, blocked, startTime, new Date().toISOString());
            return mergeSubscription(s, found, agent, startTime, new Date().toISOString());
          },
          {
            changes: atDb(sub.publisher),
            enter: () => {
              const key = inFlightKey(sub);
              const running = mergesInFlight.get(key) ?? new Set<string>();
              const publication = sub.publication.toLowerCase();
              if (running.has(publication)) {
                throw new SqlError(
                  22022,
                  `SQLServerAgent Error: Request to run job ${sub.publisher.server}-${sub.publisher.database}` +
                    `-${sub.publication}-${sub.subscriber.server} refused because the job is already running.`,
                );
              }
              if (running.size > 0) {
                throw new SqlError(
                  1205,
                  `Transaction (Process ID 57) was deadlocked on lock resources with another process and has ` +
                    `been chosen as the deadlock victim. Rerun the transaction. (lab: the ` +
                    `${[...running].join(', ')} merge of ${where(sub.subscriber)} was running at the same time ` +
                    `as ${sub.publication})`,
                );
              }
              running.add(publication);
              mergesInFlight.set(key, running);
              return () => {
                running.delete(publication);
                if (running.size === 0) mergesInFlight.delete(key);
              };
            },
          },
        ),
      pendingChanges: (sub) =>
        op('pendingChanges', `${sub.publication} ${where(sub.subscriber)}`, atSub(sub), (s) => {
          const found = findSubscription(s, sub.publisher, sub.publication, sub.subscriber);
          if (!found) throw new SqlError(20021, 'The subscription could not be found.');
          return {
            upload: Object.keys(found.pending.upload).length,
            download: Object.keys(found.pending.download).length,
          };
        }),
      conflicts: (publisher, publication, query) =>
        op('conflicts', `${publication} ${where(publisher)}`, atDb(publisher), (s) => {
          const d = findDatabase(s, publisher);
          // Judged as the SQL Server adapter judges its rows (conflict-types.ts).
          return s.conflicts
            .filter((c) => c.publisherKey === d.key && c.publication.toLowerCase() === publication.toLowerCase())
            .map(({ publisherKey: _p, rowKey: _r, ...c }) => ({
              ...c,
              ...judgeConflict(c.conflictType, c.createdAt, query?.since),
            }));
        }),
      backupDatabase: (db, dir, runId) =>
        op('backupDatabase', where(db), atDb(db), (s) =>
          backupDatabase(s, findDatabase(s, db), dir, runId, new Date().toISOString()),
        ),
      replicationState: (db) =>
        op('replicationState', where(db), atDb(db), (s) => {
          const d = findDatabase(s, db);
          const ref = (key: string) => ({ server: s.databases[key]!.server, database: s.databases[key]!.database });
          return {
            mergePublished: d.mergePublished,
            publications: Object.values(d.publications).map((p) => p.name),
            subscriptions: Object.values(s.subscriptions)
              .filter((x) => x.publisherKey === d.key || x.subscriberKey === d.key)
              .map((x) => ({
                publication: x.publication,
                publisher: ref(x.publisherKey),
                subscriber: ref(x.subscriberKey),
                syncType: x.syncType,
                status: x.status,
              })),
          };
        }),
      removeReplication: (db) =>
        op('removeReplication', where(db), atDb(db), (s) => {
          removeReplication(s, findDatabase(s, db));
        }),
      runScript: (db, script) =>
        op(
          'runScript',
          `${script.name} on ${where(db)}`,
          atDb(db),
          (s) => {
            const d = findDatabase(s, db);
            const publicationsBefore = new Set(Object.keys(d.publications));
            const subscriptionsBefore = new Set(Object.keys(s.subscriptions));
            const result = runLabScript(s, d, script);
            // What SQL Server adds around the script: a new publication's snapshot is generated by
            // its Snapshot Agent (conditions.snapshotTicks/snapshotFails), a new push agent job gets
            // its schedule.
            for (const [name, pub] of Object.entries(d.publications)) {
              if (publicationsBefore.has(name) || pub.snapshot) continue;
              const c = s.conditions ?? {};
              pub.snapshot = c.snapshotFails
                ? { failed: c.snapshotFails }
                : { readyAt: s.clock + (c.snapshotTicks ?? 0) };
              pub.createdAt ??= s.clock;
            }
            for (const sub of Object.values(s.subscriptions)) {
              if (!subscriptionsBefore.has(sub.key)) sub.createdAt ??= s.clock;
            }
            // conditions.halfBuiltScripts: the script stopped half-way (issue #20 §3).
            const half = s.conditions?.halfBuiltScripts;
            if (half && half.times > 0 && script.name.includes(half.match)) {
              half.times -= 1;
              const pubsMade = Object.keys(d.publications).filter((name) => !publicationsBefore.has(name));
              for (const name of pubsMade) d.publications[name]!.articles = [];
              const subsMade = Object.values(s.subscriptions).filter((x) => !subscriptionsBefore.has(x.key));
              for (const sub of subsMade) {
                sub.agent = false;
                delete sub.schedule;
              }
              throw new SqlError(
                1205,
                `${script.name}: Msg 1205, Level 13 (lab: the script stopped half-way; ` +
                  ([
                    ...pubsMade.map((n) => `publication ${n} has no articles`),
                    ...subsMade.map((x) => `subscription ${x.key} has no push agent job`),
                  ].join(', ') || 'nothing was made') +
                  `)`,
              );
            }
            for (const sub of Object.values(s.subscriptions)) if (sub.agent) addSchedule(s, sub);
            return result;
          },
          { changes: 'all' },
        ),
      mergeSubscriptions: (publisher) =>
        op('mergeSubscriptions', where(publisher), atDb(publisher), (s) => {
          const d = findDatabase(s, publisher);
          return Object.values(s.subscriptions)
            .filter((x) => x.publisherKey === d.key)
            .map((x) => {
              const sub = s.databases[x.subscriberKey]!;
              return {
                publication: x.publication,
                subscriber: { server: sub.server, database: sub.database },
                type: 'push' as const,
                status: x.status,
                ...(x.lastSyncAt !== undefined && { lastSync: x.lastSyncAt }),
                retentionDays: findPublication(d, x.publication)?.retentionDays ?? LAB_RETENTION_DAYS,
              };
            });
        }),
      mergeAgentJobs: (publisher) =>
        op('mergeAgentJobs', where(publisher), atDb(publisher), (s) => {
          return labAgentJobs(s, findDatabase(s, publisher));
        }),
      setScheduleEnabled: (scheduleId, enabled) =>
        op(
          'setScheduleEnabled',
          `schedule ${scheduleId}`,
          () => [],
          (s) => {
            scheduleById(s, scheduleId).enabled = enabled;
          },
        ),
      setScheduleTiming: (scheduleId, timing, enabled) =>
        op(
          'setScheduleTiming',
          `schedule ${scheduleId}`,
          () => [],
          (s) => {
            const schedule = scheduleById(s, scheduleId);
            schedule.enabled = enabled;
            schedule.timing = { ...timing };
          },
        ),
      snapshotStatus: (publisher, publication) =>
        op('snapshotStatus', `${publication} ${where(publisher)}`, atDb(publisher), (s) => {
          const pub = findPublication(findDatabase(s, publisher), publication);
          if (!pub) throw new SqlError(20026, `The publication '${publication}' does not exist.`);
          const snap = pub.snapshot;
          if (!snap) return { ready: true };
          if ('failed' in snap) return { ready: false, failure: snap.failed };
          return { ready: s.clock >= snap.readyAt };
        }),
      publicationConfigs: (publisher) =>
        op('publicationConfigs', where(publisher), atDb(publisher), (s) =>
          Object.values(findDatabase(s, publisher).publications).map((p) => {
            const c = labPublicationConfig(p);
            return {
              name: p.name,
              retention: c.retentionDays,
              retentionUnit: 'day' as const,
              conflictRetentionDays: c.conflictRetentionDays,
              compatibilityLevel: c.compatibilityLevel,
              centralizedConflicts: true,
              decentralizedConflicts: false,
              articles: c.articles.map((name) => ({
                name,
                columnTracking: c.articleOptions[name]?.columnTracking ?? false,
                ...LAB_ARTICLE_OPTIONS,
              })),
            };
          }),
        ),
      changePublication: (publisher, publication, property, value) =>
        op('changePublication', `${publication} ${property} ${where(publisher)}`, atDb(publisher), (s) => {
          const pub = findPublication(findDatabase(s, publisher), publication);
          if (!pub) throw new SqlError(20026, `The publication '${publication}' does not exist.`);
          if (property === 'retention') pub.retentionDays = Number(value);
          else if (property === 'conflict_retention') pub.conflictRetentionDays = Number(value);
          else if (property === 'publication_compatibility_level')
            pub.compatibilityLevel = value === '90RTM' ? 90 : 100;
          else if (value.toLowerCase() !== 'day')
            throw new SqlError(20033, `lab: retention_period_unit '${value}' is not modelled (days only)`);
        }),
      dropPublication: (publisher, publication) =>
        op('dropPublication', `${publication} ${where(publisher)}`, atDb(publisher), (s) => {
          const d = findDatabase(s, publisher);
          const pub = findPublication(d, publication);
          if (!pub) return;
          if (
            Object.values(s.subscriptions).some(
              (x) => x.publisherKey === d.key && x.publication.toLowerCase() === publication.toLowerCase(),
            )
          ) {
            throw new SqlError(20014, `lab: publication '${publication}' has subscriptions; drop them first`);
          }
          delete d.publications[pub.name];
        }),
      dropSubscription: (sub) =>
        op(
          'dropSubscription',
          `${sub.publication} ${where(sub.subscriber)}`,
          atDb(sub.publisher),
          (s) => {
            const found = findSubscription(s, sub.publisher, sub.publication, sub.subscriber);
            if (!found) return;
            leaveSubscriberMetadata(s, found);
            delete s.subscriptions[found.key];
            forgetSubscriptionIndex(s);
          },
          { changes: (s) => [findDatabase(s, sub.subscriber).key] },
        ),
      rowGuidConversionMarks: (db) =>
        op('rowGuidConversionMarks', where(db), atDb(db), (s) => {
          const props = findDatabase(s, db).extendedProperties ?? {};
          const started = props[ROWGUID_MARKS.started];
          const done = props[ROWGUID_MARKS.done];
          return { ...(started !== undefined && { started }), ...(done !== undefined && { done }) };
        }),
      markRowGuidConversion: (db, phase, value) =>
        op('markRowGuidConversion', `${phase} ${where(db)}`, atDb(db), (s) => {
          const d = findDatabase(s, db);
          d.extendedProperties ??= {};
          d.extendedProperties[ROWGUID_MARKS[phase]] ??= value;
        }),
      clearRowGuidConversionStarted: (db) =>
        op('clearRowGuidConversionStarted', where(db), atDb(db), (s) => {
          delete findDatabase(s, db).extendedProperties?.[ROWGUID_MARKS.started];
        }),
      // Every lab table has the primary key Id and the ROWGUIDCOL rowguid, published or not.
      rowGuidTables: (db) =>
        op('rowGuidTables', where(db), atDb(db), (s) =>
          Object.keys(findDatabase(s, db).tables)
            .sort()
            .map((table) => ({ article: table, schema: 'dbo', table, keyColumns: ['Id'], rowguidColumn: 'rowguid' })),
        ),
      markForValidation: (sub) =>
        op('markForValidation', `${sub.publication} ${where(sub.subscriber)}`, atDb(sub.publisher), (s) => {
          const found = findSubscription(s, sub.publisher, sub.publication, sub.subscriber);
          if (!found) throw new SqlError(20021, 'The subscription could not be found.');
          found.validation = { ...found.validation, requested: true };
        }),
      validationState: (sub) =>
        op('validationState', `${sub.publication} ${where(sub.subscriber)}`, atDb(sub.publisher), (s) => {
          const found = findSubscription(s, sub.publisher, sub.publication, sub.subscriber);
          if (!found) throw new SqlError(20021, 'The subscription could not be found.');
          const v = found.validation ?? {};
          return {
            ...(v.lastValidated !== undefined && { lastValidated: v.lastValidated }),
            ...(v.attempted !== undefined && { attempted: v.attempted }),
            alerts: (s.validationAlerts ?? [])
              .filter((a) => a.subscription === found.key)
              .map((a) => ({ alertId: a.alertId, passed: a.code === 20575, article: a.article, text: a.text })),
          };
        }),
      // The lab's tables: primary key column Id, ROWGUIDCOL rowguid; keys compare as text.
      publishedTables: (publisher, publication) =>
        op('publishedTables', `${publication} ${where(publisher)}`, atDb(publisher), (s) => {
          const pub = findPublication(findDatabase(s, publisher), publication);
          if (!pub) throw new SqlError(20026, `The publication '${publication}' does not exist.`);
          return pub.articles.map((table) => ({
            article: table,
            schema: 'dbo',
            table,
            keyColumns: ['Id'],
            rowguidColumn: 'rowguid',
          }));
        }),
      rowGuidSample: (db, table, limit) =>
        op('rowGuidSample', `${table.table} ${where(db)}`, atDb(db), (s) => {
          const rows = findDatabase(s, db).tables[table.table];
          if (!rows) throw new SqlError(208, `Invalid object name '${table.schema}.${table.table}'.`);
          return Object.keys(rows)
            .sort()
            .slice(0, limit)
            .map((key) => ({ key, rowguid: rows[key]!.rowguid }));
        }),
      replicationAddedRowGuids: (publisher) =>
        op('replicationAddedRowGuids', where(publisher), atDb(publisher), (s) =>
          Object.values(findDatabase(s, publisher).publications)
            .filter((p) => p.addedRowGuids)
            .flatMap((p) => p.articles.map((article) => ({ publication: p.name, article }))),
        ),
      writeCanary: (publisher, token) =>
        op('writeCanary', where(publisher), atDb(publisher), (s) => writeCanary(s, findDatabase(s, publisher), token)),
      readCanary: (db, token) => op('readCanary', where(db), atDb(db), (s) => readCanary(findDatabase(s, db), token)),
    };
  }

  hostPort(): HostPort {
    const op = <T>(name: string, host: string, act: (s: LabState) => T) =>
      this.op(name, host, (s) => [siteOfHost(s, host)], act, { faults: false });
    const service = (s: LabState, host: string, name: string) => {
      const h = findHost(s, host);
      if (name.toLowerCase() !== BACKGROUND_SERVICE.toLowerCase())
        throw new Error(`service "${name}" is not installed on ${h.name} (the lab has "${BACKGROUND_SERVICE}")`);
      return h;
    };
    return {
      drain: (host) => op('drain', host, (s) => drainHost(s, host, true)),
      undrain: (host) => op('undrain', host, (s) => drainHost(s, host, false)),
      isDrained: (host) => op('isDrained', host, (s) => findHost(s, host).drained),
      serviceState: (host, name) =>
        op('serviceState', host, (s): ServiceState => service(s, host, name).backgroundService),
      stopService: (host, name) =>
        op('stopService', host, (s) => {
          service(s, host, name).backgroundService = 'stopped';
        }),
      startService: (host, name) =>
        op('startService', host, (s) => {
          service(s, host, name).backgroundService = 'running';
        }),
      productVersion: (host) => op('productVersion', host, (s) => findHost(s, host).productVersion),
      upgradeHost: (host, to) =>
        op('upgradeHost', host, (s) => {
          findHost(s, host).productVersion = to;
        }),
      upgradeDatabase: (db, to) =>
        this.op(
          'upgradeDatabase',
          `${db.server}/${db.database}`,
          (s) => [siteOfDb(s, db)],
          (s) => upgradeDatabase(s, findDatabase(s, db), to),
          { faults: false },
        ),
    };
  }

  adminPort(): LabAdmin {
    return {
      check: () => this.admin(checkLab, false),
      show: () => this.admin(showLab, false),
      state: () => this.admin((s) => structuredClone(s), false),
      addConflicts: (n) => this.admin((s) => addConflicts(s, n), true),
      resolveConflicts: () =>
        this.admin((s) => {
          // What a DBA resolves; update conflicts the resolver settled before the run stay for their retention.
          const kept = s.conflicts.filter((c) => c.createdAt && judgeConflict(c.conflictType).verdict === 'settled');
          const n = s.conflicts.length - kept.length;
          s.conflicts = kept;
          return n;
        }, true),
      fixGenerationZeroRows: () => this.admin(fixGenerationZeroRows, true),
      manualUpgrade: () =>
        this.admin((s) => {
          // Publishers first, as the workflow's own upgrade: one never runs older than its subscribers.
          const order = (st: LabState) =>
            Object.values(st.databases)
              .filter((db) => db.productVersion !== st.to)
              .sort((a, b) => Number(a.role === 'subscriber') - Number(b.role === 'subscriber'));
          // On a copy first: a database still replicated refuses (4929) before anything changed.
          const trial = structuredClone(s);
          for (const db of order(trial)) upgradeDatabase(trial, db, trial.to);
          const hosts = Object.values(s.hosts).filter((h) => h.productVersion !== s.to);
          for (const h of hosts) h.productVersion = s.to;
          const dbs = order(s);
          for (const db of dbs) upgradeDatabase(s, db, s.to);
          return hosts.length + dbs.length;
        }, true),
      confirmRowGuidConversions: () => this.admin(confirmRowGuidConversions, true),
      setFaults: (faults) =>
        this.admin((s) => {
          s.faults = { ...s.faults, ...faults };
          if (faults.seed !== undefined) s.faultRng = faults.seed | 0;
          this.cached = s;
        }, true),
      counters: () => this.admin((s) => structuredClone(s.counters), false),
      accounting: () => this.admin((s) => structuredClone(s.accounting), false),
      close: () => {
        if (this.closed) return;
        this.closed = true;
        releaseLabLock(this.path);
      },
    };
  }
}
