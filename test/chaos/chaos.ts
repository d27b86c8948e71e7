// Randomized faults against the whole product: each run creates a lab fleet, starts the
// Personalization Server upgrade, and while it runs SIGKILLs the `replup worker` process several
// times (starting a new one each time), restarts the Temporal dev server from its SQLite file once,
// and lets the lab fail operations with transient SQL errors. A run passes only if it ends
// `completed`, every lab invariant holds, and no side effect happened more often than it should.
// Every random choice comes from the run's seed (run i of seed S uses seed S+i), so a failed run
// is replayed with `npm run chaos -- --seed <its seed> --runs 1`.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import {
  changeLab,
  checkLab,
  initLab,
  readLabState,
  type LabConditions,
  type LabState,
  type SideEffectCounters,
} from '../../activities/lab/index.js';
import { loadPlanText } from '../../plan/load.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { decide, startUpgrade } from '../../cli/lib/runs.js';
import type { StepMemo } from '../../workflows/runbook.js';
import { OwnDevServer, startWorkerProcess } from './processes.js';
import { crashOps, crashPointProblem, type CrashPoint } from './crash-points.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface ChaosOptions {
  runs: number;
  seed: number;
  /** Probability that a lab SQL operation fails with a transient error (deadlock, timeout, reset). */
  transient?: number;
  /** Kills at lab crash points per run (plus one kill at a random moment). */
  crashPoints?: number;
  /** Give up on a run after this long. */
  runTimeoutMs?: number;
  /**
   * Where runs keep their labs, logs and the server's SQLite file (default: a fresh temp dir, removed when all pass).
   */
  dir?: string;
  log?: (line: string) => void;
}

export interface KillRecord {
  /**
   * `crash-at runScript:5` (the worker killed itself right after that lab call took effect) or `external` (SIGKILL at a
   * random moment).
   */
  how: string;
  /** The step the run was at. */
  step: string;
  /** SIGKILL → a new worker process serves. */
  workerRestartMs: number;
  /** SIGKILL → the next lab operation: how long the run stood still. */
  resumeMs: number | null;
  /** ms since the epoch */
  killedAt: number;
}

/** One database's side effects as the lab counted them (merge runs left out: any number is fine). */
export type SideEffectReport = { database: string } & Omit<SideEffectCounters, 'mergeRuns'>;

export interface RunReport {
  run: number;
  seed: number;
  workflowId: string;
  ok: boolean;
  status: string;
  /** Why the run failed (empty when ok). */
  problems: string[];
  kills: KillRecord[];
  /** Kills the seed planned (crash points + one at a random moment). */
  plannedKills: number;
  serverRestarts: number;
  serverDowntimeMs: number;
  /** Lab operations that failed (all of them injected transient faults in a healthy run). */
  injectedErrors: number;
  /** Worker processes that died without being killed by the suite. */
  unexpectedWorkerExits: number;
  labOperations: number;
  durationMs: number;
  sideEffects: SideEffectReport[];
  publicationScriptRuns: number;
  subscriptionScriptRuns: number;
  convertRowGuidsRuns: number;
  /** The lab conditions the seed drew (issue #18 §5). */
  conditions?: LabConditions;
  /** Rows the DBA's fix copied after validation found generation-0 rows (issue #20 §1). */
  copiesFixed?: number;
  /** ConvertRowGuids marks the DBA settled after the run parked on an unknown outcome (issue #20 §4). */
  conversionsConfirmed?: number;
  dir: string;
}

export interface ChaosSummary {
  seed: number;
  runs: number;
  completed: number;
  failures: number;
  kills: number;
  /** Planned kills that did not happen (the run ended first). */
  missedKills: number;
  serverRestarts: number;
  injectedErrors: number;
  /** Seeds of the failed runs: `npm run chaos -- --seed S --runs 1` replays one. */
  failedSeeds: number[];
  resumeLatencyMs: { samples: number; median: number | null; p90: number | null; max: number | null };
  workerRestartMs: { median: number | null; max: number | null };
  durationMs: number;
  reports: RunReport[];
}

// ---- seeded choices ---------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RunPlan {
  crashAt: CrashPoint[];
  /** The incarnation (0 = first worker) that is killed at a random moment, and when (ms after it serves). */
  externalKill: { incarnation: number; afterMs: number };
  /** Restart the server when the lab has done this many operations in this run. */
  restartAtOps: number;
  /**
   * How the fleet differs from a clean one (issue #18 §5), each drawn at random: the ones a right
   * runbook goes through (scheduled agent jobs, a slow snapshot, agent sessions, a subscription
   * about to expire). Those that must stop it (expired, Agent down, a failed snapshot) have their
   * own tests (test/unit/lab/conditions.test.ts).
   */
  conditions: LabConditions;
}

/**
 * A run's kills, restart and lab conditions, drawn from `seed`; the crash points among the lab
 * operations `plan`'s runbook makes (crash-points.ts), each within the calls every run makes.
 * @throws Error when the plan's runbook has fewer crash operations than `crashPoints`
 */
export function planRun(seed: number, crashPoints: number, plan: UpgradePlan): RunPlan {
  const rnd = mulberry32(seed ^ 0x5eed);
  const crashOperations = crashOps(plan);
  if (crashPoints > crashOperations.length) {
    throw new Error(
      `${crashPoints} crash points asked for, but the runbook of ${plan.name} makes only ` +
        `${crashOperations.length} kinds of fleet-changing lab calls every run reaches ` +
        `(${crashOperations.map(([op]) => op).join(', ')})`,
    );
  }
  const ops = crashOperations
    .map((c, i) => ({ c, i, key: rnd() }))
    .sort((a, b) => a.key - b.key)
    .slice(0, crashPoints)
    .sort((a, b) => a.i - b.i);
  const crashAt = ops.map(({ c: [op, atLeast] }) => ({ op, n: 1 + Math.floor(rnd() * atLeast) }));
  for (const point of crashAt) {
    const problem = crashPointProblem(crashOperations, point);
    if (problem) throw new Error(problem);
  }
  return {
    crashAt,
    externalKill: { incarnation: Math.floor(rnd() * (crashPoints + 1)), afterMs: 500 + Math.floor(rnd() * 4500) },
    // A clean lab-small run makes a few hundred operations: restart within the first part.
    restartAtOps: 20 + Math.floor(rnd() * 130),
    // Drawn after the choices above, so a seed keeps its kills and restart as before.
    conditions: drawConditions(rnd),
  };
}

function drawConditions(rnd: () => number): LabConditions {
  const c: LabConditions = {};
  if (rnd() < 0.5) c.scheduledJobs = true;
  if (rnd() < 0.5) c.snapshotTicks = 1 + Math.floor(rnd() * 30);
  if (rnd() < 0.5) c.agentSessions = true;
  if (rnd() < 0.3) c.expiringSubscriptions = 1;
  // Drawn last, so a seed keeps its earlier conditions. Generation-0 rows park the run after the
  // quiet rounds; the run answers as a DBA would (tablediff's fix, then retry). Replication-added
  // rowguid columns stop preflight for good: their own tests (test/unit/lab/convergence.test.ts).
  if (rnd() < 0.3) c.generationZeroRows = 1 + Math.floor(rnd() * 3);
  // Issue #20 §3-5, drawn after the above: a DBA's changes since set-up (put back by the run), a
  // script that fails half-way (made again), a conversion whose reply is lost (the rowguid sample
  // settles it; should it park, the run answers as a DBA would: checks the GUIDs, marks it done, retries).
  if (rnd() < 0.5)
    c.customisedPublications = {
      retentionDays: 21 + Math.floor(rnd() * 40),
      conflictRetentionDays: 1 + Math.floor(rnd() * 30),
    };
  if (rnd() < 0.3)
    c.halfBuiltScripts = { match: rnd() < 0.5 ? 'CreateDataPublication' : 'CreateConfigSubscription', times: 1 };
  if (rnd() < 0.3) {
    c.rowGuidScriptToggles = true;
    c.lostReplies = { op: 'runScript', match: 'ConvertRowGuids', times: 1 };
  }
  // A DBA's Data schedule (#20 §5): daily at 01:00-05:00 instead of the vendor's midnight; the run puts it back.
  if (rnd() < 0.5) c.customisedDataScheduleTime = (1 + Math.floor(rnd() * 5)) * 10000;
  return c;
}

// ---- one run ----------------------------------------------------------------------------------

/** lab-small.yaml with a publisher of its own (so its workflow id is new) and fast test retries. */
export async function chaosPlan(
  dir: string,
  name: string,
  publisher: string,
  patch: (doc: any) => void = () => {},
): Promise<{ plan: UpgradePlan; file: string }> {
  const doc = parse(readFileSync(join(ROOT, 'examples/lab-small.yaml'), 'utf8'));
  doc.name = name;
  doc.publisher.server = publisher;
  doc.target.state = join(dir, 'lab.json');
  doc.scripts.dir = join(ROOT, 'examples/replication');
  doc.backup = { dir: join(dir, 'backups') };
  doc.options = {
    ...doc.options,
    drainTimeoutSeconds: 2,
    retry: { initialSeconds: 0.2, maximumSeconds: 1, maximumAttempts: 30 },
  };
  patch(doc);
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, stringify(doc));
  const loaded = loadPlanText(readFileSync(file, 'utf8'), file);
  if (!loaded.ok) throw new Error(`the chaos plan ${file} is invalid: ${JSON.stringify(loaded.errors)}`);
  return { plan: loaded.plan as UpgradePlan, file };
}

/** Worker processes alive now, for cleanup on Ctrl-C. */
const livePids = new Set<number>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const totalOps = (s: LabState) => Object.values(s.calls).reduce((n, x) => n + x, 0);

function sideEffects(state: LabState): SideEffectReport[] {
  return Object.entries(state.counters).map(([database, c]: [string, SideEffectCounters]) => ({
    database,
    backups: c.backups,
    scriptRuns: c.scriptRuns,
    subscriptionCreations: c.subscriptionCreations,
    snapshotDeliveries: c.snapshotDeliveries,
    replicationRemovals: c.replicationRemovals,
    rowGuidConversions: c.rowGuidConversions,
  }));
}

/**
 * What must hold after a completed run. Returns the problems (empty = pass). The lab counts
 * side effects itself, in the state file the killed workers wrote.
 */
export function sideEffectProblems(plan: UpgradePlan, state: LabState): string[] {
  const problems: string[] = [];
  const c = (key: string) => state.counters[key];
  const subscriptionsTo = (key: string) => plan.publications.filter((p) => p.subscribers.includes(key)).length;
  const subscriptions = plan.publications.reduce((n, p) => n + p.subscribers.length, 0);
  const publisherKey = plan.publisher.key;
  // A script that failed half-way (issue #20 §3) runs once more, and its subscription is made again.
  const half = state.conditions?.halfBuiltScripts;
  const rebuilt = half ? 1 - half.times : 0;
  const rebuiltSubscriptions = half?.match.includes('Subscription') ? rebuilt : 0;
  let extraCreations = 0;
  for (const site of plan.sites) {
    const got = c(site.key);
    if (got?.backups !== 1) problems.push(`${site.key} was backed up ${got?.backups ?? 0} times, not once`);
    if ((got?.snapshotDeliveries ?? 0) !== 0)
      problems.push(`${site.key} received ${got?.snapshotDeliveries} snapshots: its archive was wiped`);
    const extra = (got?.subscriptionCreations ?? 0) - subscriptionsTo(site.key);
    if (extra > 0 && extraCreations + extra <= rebuiltSubscriptions) extraCreations += extra;
    else if ((got?.subscriptionCreations ?? 0) !== subscriptionsTo(site.key)) {
      problems.push(
        `${site.key} had ${got?.subscriptionCreations ?? 0} subscriptions created, it subscribes to ` +
          `${subscriptionsTo(site.key)} publications`,
      );
    }
    if ((got?.replicationRemovals ?? 0) > 1)
      problems.push(`replication was removed ${got?.replicationRemovals} times from ${site.key}`);
  }
  // The publication and subscription scripts all run at the publisher: each exactly once, as a
  // rerun would either fail (20025, 14058) or, on a real server, create a second agent job.
  const atPublisher = c(publisherKey)?.scriptRuns ?? 0;
  if (atPublisher !== plan.publications.length + subscriptions + rebuilt) {
    problems.push(
      `${atPublisher} scripts ran at the publisher ${publisherKey}; expected ${plan.publications.length} ` +
        `publication + ${subscriptions} subscription scripts, each once` +
        `${rebuilt ? ', and the half-built one again' : ''}`,
    );
  }
  // ConvertRowGuids is guarded by its marker table, so a rerun after a lost reply is harmless; its
  // effect must be exactly once: no legacy GUID left, none swapped back (checked by no-conflicting-rows).
  const legacy = Object.values(state.databases).flatMap((d) =>
    Object.values(d.tables).flatMap((t) => Object.values(t).filter((r) => r.legacyGuid)),
  );
  if (legacy.length) problems.push(`${legacy.length} rows still carry a legacy row GUID`);
  return problems;
}

async function connectTo(address: string): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address, connectTimeout: 5_000 }) });
}

interface RunContext {
  server: OwnDevServer;
  client: () => Promise<Client>;
  log: (line: string) => void;
  transient: number;
  crashPoints: number;
  runTimeoutMs: number;
}

async function chaosRun(index: number, seed: number, base: string, ctx: RunContext): Promise<RunReport> {
  const t0 = Date.now();
  const dir = join(base, `run-${index}-seed-${seed}`);
  mkdirSync(dir, { recursive: true });
  const { plan } = await chaosPlan(dir, `chaos-${seed}`, `CHAOS-PUB-${seed}`);
  const statePath = (plan.target as { state: string }).state;
  const schedule = planRun(seed, ctx.crashPoints, plan);
  await initLab(plan, { seed, rows: 20, faults: { transient: ctx.transient, seed }, conditions: schedule.conditions });
  const planned = { plannedKills: schedule.crashAt.length + 1, conditions: schedule.conditions };
  const report = emptyReport(index, seed, base, planned);
  const logFile = join(dir, 'worker.log');
  let incarnation = 0;
  let nextCrash = 0;
  const startWorker = () => {
    // Crash points the run has already passed (a kill before them moved past) are dropped.
    const state = readLabState(statePath);
    while (
      nextCrash < schedule.crashAt.length &&
      (state.calls[schedule.crashAt[nextCrash]!.op] ?? 0) >= schedule.crashAt[nextCrash]!.n
    )
      nextCrash++;
    const crash = schedule.crashAt[nextCrash];
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: ctx.server.address,
      REPLUP_LAB_LATENCY_SCALE: '1',
      REPLUP_REPORTS_DIR: join(dir, 'reports'),
    };
    if (crash) env.REPLUP_LAB_CRASH_AT = `${crash.op}:${crash.n}`;
    const w = startWorkerProcess({ env, logFile });
    livePids.add(w.pid);
    void w.exited.then(() => livePids.delete(w.pid));
    return Object.assign(w, { crash, incarnation: incarnation++ });
  };

  let current = startWorker();
  await current.ready;
  const client = await ctx.client();
  const started = await startUpgrade(client, plan, 'chaos');
  report.workflowId = started.workflowId;
  const startOps = totalOps(readLabState(statePath));
  let externalTimer: NodeJS.Timeout | undefined;
  let externalFired = false;
  const armExternal = (w: typeof current) => {
    // From its incarnation on (an earlier crash point may end that worker first), or on the
    // last worker of the run, until it fires.
    if (externalFired || (w.incarnation < schedule.externalKill.incarnation && w.crash !== undefined)) return;
    void w.ready.then(
      () => {
        externalTimer = setTimeout(() => {
          if (!w.alive()) return;
          externalFired = true;
          (w as { externalKill?: boolean }).externalKill = true;
          w.child.kill('SIGKILL');
        }, schedule.externalKill.afterMs);
      },
      () => undefined,
    );
  };
  armExternal(current);
  let restarted = false;
  let fixedGenerationZero = false;
  let at = 'preflight';
  let closed: string | undefined;
  const deadline = t0 + ctx.runTimeoutMs;
  try {
    while (Date.now() < deadline) {
      await sleep(200);
      // The worker died: a kill of ours, or something to report. Either way a new one takes over.
      if (!current.alive()) {
        const exit = await current.exited;
        const w = current as typeof current & { externalKill?: boolean };
        const byCrashPoint = !w.externalKill && exit.signal === 'SIGKILL' && w.crash !== undefined;
        if (!w.externalKill && !byCrashPoint) {
          report.unexpectedWorkerExits += 1;
          report.problems.push(
            `worker pid ${w.pid} exited by itself (${exit.signal ?? `code ${exit.code}`}); see ${logFile}`,
          );
        }
        if (byCrashPoint) nextCrash++;
        const step = at;
        const next = startWorker();
        current = next;
        armExternal(next);
        const killedAt = exit.at;
        const readyAt = await next.ready.catch(() => Date.now());
        report.kills.push({
          how: w.externalKill ? 'external' : byCrashPoint ? `crash-at ${w.crash!.op}:${w.crash!.n}` : 'unexpected',
          step,
          workerRestartMs: readyAt - killedAt,
          resumeMs: null,
          killedAt,
        });
        continue;
      }
      const state = readLabState(statePath);
      if (!restarted && totalOps(state) - startOps >= schedule.restartAtOps) {
        restarted = true;
        ctx.log(`  run ${index}: restarting the Temporal server at ${at}`);
        report.serverDowntimeMs = await ctx.server.restart();
        report.serverRestarts += 1;
        continue;
      }
      // The memo (written by the step engine into the history) says where the run is without
      // asking a worker: a query would wait for one while the worker is dead.
      let memo: StepMemo | undefined;
      try {
        const desc = await client.workflow.getHandle(started.workflowId).describe();
        memo = desc.memo?.replup as StepMemo | undefined;
        if (desc.status.name !== 'RUNNING') {
          closed = desc.status.name;
          break;
        }
      } catch {
        continue; // the server is restarting
      }
      if (memo) at = memo.current ?? at;
      const waiting = memo?.steps.find(([, status]) => status.startsWith('awaiting-'));
      // The generation-0 rows the seed drew: validation after the quiet rounds finds them (issue #20 §1).
      if (
        waiting &&
        !fixedGenerationZero &&
        schedule.conditions.generationZeroRows &&
        waiting[0] === 'sync-until-quiet' &&
        (waiting[3] ?? '').includes('merge validation')
      ) {
        fixedGenerationZero = true;
        report.copiesFixed = await changeLab(statePath, { kind: 'fix-generation-zero' });
        await decide(
          client,
          started.workflowId,
          'sync-until-quiet',
          'retry',
          "chaos: the DBA applied tablediff's fix script",
          'chaos',
        );
        continue;
      }
      // ConvertRowGuids with an unknown outcome (a lost reply, drawn or injected; issue #20 §4).
      if (
        waiting &&
        waiting[0] === 'convert-row-guids' &&
        (waiting[3] ?? '').includes('never heard it finish') &&
        (report.conversionsConfirmed ?? 0) < 5
      ) {
        report.conversionsConfirmed =
          (report.conversionsConfirmed ?? 0) + (await changeLab(statePath, { kind: 'confirm-rowguid-conversions' }));
        await decide(
          client,
          started.workflowId,
          'convert-row-guids',
          'retry',
          'chaos: the DBA compared the row GUIDs with the publisher and settled the marks',
          'chaos',
        );
        continue;
      }
      if (waiting) {
        report.problems.push(`the run parked at ${waiting[0]} (${waiting[1]}): ${waiting[3] ?? ''}`);
        break;
      }
    }
    if (!closed && report.problems.length === 0)
      report.problems.push(`timed out after ${Math.round(ctx.runTimeoutMs / 1000)} s at ${at}`);
  } finally {
    clearTimeout(externalTimer);
    await current.kill();
  }

  report.status = closed?.toLowerCase() ?? `stopped at ${at}`;
  if (closed) {
    const result = (await client.workflow
      .getHandle(started.workflowId)
      .result()
      .catch((e: Error) => ({ status: `failed: ${e.message}` }))) as { status: string };
    report.status = result.status;
    if (result.status !== 'completed') report.problems.push(`the run ended ${result.status}`);
  } else {
    await client.workflow
      .getHandle(started.workflowId)
      .terminate('chaos run failed; kept for inspection in the lab dir')
      .catch(() => undefined);
  }
  if (!restarted && report.problems.length === 0)
    report.problems.push(`the run ended before the server restart point (${schedule.restartAtOps} operations)`);

  const state = readLabState(statePath);
  report.labOperations = totalOps(state);
  report.injectedErrors = state.accounting.filter((a) => a.outcome === 'error').length;
  // How long each kill stood the run still: from the SIGKILL to the next lab operation.
  for (const k of report.kills) {
    const next = state.accounting.find((a) => a.start >= k.killedAt);
    k.resumeMs = next ? next.start - k.killedAt : null;
  }
  report.sideEffects = sideEffects(state);
  // Every script at the publisher is a publication or a subscription script; each subscription
  // the lab created came from one script run, so the rest are the publication script runs.
  const subscriptionsCreated = Object.values(state.counters).reduce((n, c) => n + c.subscriptionCreations, 0);
  report.subscriptionScriptRuns = subscriptionsCreated;
  report.publicationScriptRuns = (state.counters[plan.publisher.key]?.scriptRuns ?? 0) - subscriptionsCreated;
  const subscriberKeys = new Set(plan.publications.flatMap((p) => p.subscribers));
  report.convertRowGuidsRuns = [...subscriberKeys].reduce((n, k) => n + (state.counters[k]?.scriptRuns ?? 0), 0);
  if (report.status === 'completed') {
    // A crash point the completed run never reached was counted wrong (crash-points.ts): said, not skipped.
    for (const p of schedule.crashAt) {
      const made = state.calls[p.op] ?? 0;
      if (made < p.n) {
        const why = `the run made ${made} ${p.op} calls (test/chaos/crash-points.ts)`;
        report.problems.push(`crash point ${p.op}:${p.n} could never fire: ${why}`);
      }
    }
    for (const inv of checkLab(state)) if (!inv.ok) report.problems.push(`invariant ${inv.name}: ${inv.detail}`);
    report.problems.push(...sideEffectProblems(plan, state));
  }
  report.ok = report.status === 'completed' && report.problems.length === 0;
  report.durationMs = Date.now() - t0;
  return report;
}

// ---- many runs --------------------------------------------------------------------------------

function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosSummary> {
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const base = opts.dir ?? mkdtempSync(join(tmpdir(), 'replup-chaos-'));
  const server = await OwnDevServer.start(join(base, 'temporal'));
  log(`chaos: Temporal dev server ${server.address} (SQLite ${server.dbFile}); runs in ${base}`);
  let client: Client | undefined;
  const ctx: RunContext = {
    server,
    client: async () => (client ??= await connectTo(server.address)),
    log,
    transient: opts.transient ?? 0.1,
    crashPoints: opts.crashPoints ?? 2,
    runTimeoutMs: opts.runTimeoutMs ?? 240_000,
  };
  const reports: RunReport[] = [];
  // Ctrl-C: leave no worker or server behind.
  const interrupted = () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    void server.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    for (let i = 0; i < opts.runs; i++) {
      const seed = opts.seed + i;
      let r: RunReport;
      try {
        r = await chaosRun(i + 1, seed, base, ctx);
      } catch (err) {
        r = {
          ...emptyReport(i + 1, seed, base),
          problems: [`the run could not be driven: ${(err as Error).stack ?? String(err)}`],
        };
      }
      reports.push(r);
      const kills = r.kills.filter((k) => k.how !== 'unexpected');
      log(
        `run ${r.run}/${opts.runs} seed ${r.seed}: ${r.ok ? 'ok' : 'FAILED'} (${r.status}) in ` +
          `${(r.durationMs / 1000).toFixed(1)} s; ` +
          (`${kills.length} kills (${kills.map((k) => `${k.how} at ${k.step}`).join(', ')}), ` +
            `${r.serverRestarts} server restart, ${r.injectedErrors} injected errors`) +
          `; lab conditions ${JSON.stringify(r.conditions ?? {})}` +
          (r.copiesFixed !== undefined
            ? `; validation parked on generation-0 rows, the DBA's fix copied ${r.copiesFixed} rows, retried`
            : '') +
          (r.conversionsConfirmed !== undefined
            ? `; ConvertRowGuids parked on an unknown outcome, the DBA settled ${r.conversionsConfirmed} marks, retried`
            : '') +
          (r.ok ? '' : `\n  ${r.problems.join('\n  ')}\n  files: ${r.dir}`),
      );
    }
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await client?.connection.close().catch(() => undefined);
    await server.stop();
  }
  const failures = reports.filter((r) => !r.ok);
  if (failures.length === 0 && !opts.dir) rmSync(base, { recursive: true, force: true });
  const kills = reports.flatMap((r) => r.kills.filter((k) => k.how !== 'unexpected'));
  const resume = kills.map((k) => k.resumeMs).filter((x): x is number => x !== null);
  const restart = kills.map((k) => k.workerRestartMs);
  return {
    seed: opts.seed,
    runs: reports.length,
    completed: reports.filter((r) => r.status === 'completed').length,
    failures: failures.length,
    kills: kills.length,
    missedKills: reports.reduce(
      (n, r) => n + Math.max(0, r.plannedKills - r.kills.filter((k) => k.how !== 'unexpected').length),
      0,
    ),
    serverRestarts: reports.reduce((n, r) => n + r.serverRestarts, 0),
    injectedErrors: reports.reduce((n, r) => n + r.injectedErrors, 0),
    failedSeeds: failures.map((r) => r.seed),
    resumeLatencyMs: {
      samples: resume.length,
      median: percentile(resume, 0.5),
      p90: percentile(resume, 0.9),
      max: resume.length ? Math.max(...resume) : null,
    },
    workerRestartMs: { median: percentile(restart, 0.5), max: restart.length ? Math.max(...restart) : null },
    durationMs: Date.now() - t0,
    reports,
  };
}

/** A run's report before anything happened; `planned`: what its seed planned (none for a run that could not start). */
function emptyReport(
  run: number,
  seed: number,
  base: string,
  planned: Pick<RunReport, 'plannedKills' | 'conditions'> = { plannedKills: 0 },
): RunReport {
  return {
    run,
    seed,
    workflowId: '',
    ok: false,
    status: 'not started',
    problems: [],
    kills: [],
    plannedKills: planned.plannedKills,
    serverRestarts: 0,
    serverDowntimeMs: 0,
    injectedErrors: 0,
    unexpectedWorkerExits: 0,
    labOperations: 0,
    durationMs: 0,
    sideEffects: [],
    publicationScriptRuns: 0,
    subscriptionScriptRuns: 0,
    convertRowGuidsRuns: 0,
    ...(planned.conditions && { conditions: planned.conditions }),
    dir: join(base, `run-${run}-seed-${seed}`),
  };
}

/** The summary a person reads. */
export function formatSummary(s: ChaosSummary): string {
  const sec = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
  const lines = [
    `chaos seed ${s.seed}: ${s.runs} runs, ${s.completed} completed, ${s.failures} failures`,
    `  kills: ${s.kills} (SIGKILL of the worker process; ${s.missedKills} planned kills did not happen), ` +
      `server restarts: ${s.serverRestarts}, injected errors: ${s.injectedErrors}`,
    `  resume after a kill: median ${sec(s.resumeLatencyMs.median)}, p90 ${sec(s.resumeLatencyMs.p90)}, max ` +
      `${sec(s.resumeLatencyMs.max)} (${s.resumeLatencyMs.samples} kills); new worker serving after ` +
      `${sec(s.workerRestartMs.median)} (median)`,
    `  took ${(s.durationMs / 60000).toFixed(1)} min`,
  ];
  if (s.failures)
    lines.push(`  failed seeds: ${s.failedSeeds.join(', ')} (replay one: npm run chaos -- --seed <seed> --runs 1)`);
  return lines.join('\n');
}
