// `npm run bench [-- --quick]`: what durability costs and what parallelism pays, measured against
// the alternatives in the same run, each figure a median (min–max) over repeated runs. Starts its
// own dev server on free ports, writes bench/results.json, prints a table and, for a full run,
// rewrites the figures section of bench/RESULTS.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { readLabState, type AccountingEntry, type LabState } from '../activities/lab/index.js';
import { createUpgradeActivities, type PortsFor } from '../activities/personalization-upgrade/activities.js';
import { createFleetGuardActivities } from '../activities/personalization-upgrade/fleet-guard.js';
import { createReportActivities, fetchHistories } from '../activities/report/index.js';
import type { HistoryEvent } from '../activities/report/build.js';
import { createPortsFor } from '../worker/ports.js';
import { workerTuning } from '../worker/main.js';
import { freePort, startDevServer, type DevServerHandle } from '../worker/dev-server.js';
import { startUpgrade } from '../cli/lib/runs.js';
import { TASK_QUEUE, type RunResult } from '../workflows/messages.js';
import type { UpgradePlan } from '../plan/personalization-upgrade/types.js';
import { createFleet, removeFleets, type FleetOptions } from './fleet.js';
import { runbookScript } from './script-runbook.js';
import { coveredMs, criticalPath, formatSummary, minimumSyncRounds, summarize, type ActivitySpan, type FirstRoundSession, type Summary } from './stats.js';

const quick = process.argv.includes('--quick');
const SCENARIOS = ['overhead', 'fanout', 'history', 'resume'] as const;
/** `--only resume,history`: run some scenarios (results.json then holds only those; RESULTS.md is left alone). */
const only = (() => {
  const i = process.argv.indexOf('--only');
  if (i < 0) return undefined;
  const names = (process.argv[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
  if (!names.length || unknown.length) {
    process.stderr.write(`--only takes a comma-separated list of ${SCENARIOS.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}\n`);
    process.exit(2);
  }
  return new Set(names);
})();
const runs = (name: (typeof SCENARIOS)[number]) => !only || only.has(name);
const CONFIG = quick
  ? // Under 5 minutes: N = 200 and 1000 are full-run only (the lab's state grows as N², see RESULTS.md).
    { overheadReps: 3, parallelVariant: false, fanOut: [10, 50], fanOutReps: 1, sequentialNs: [1], sequentialReps: 1, historyNs: [50], resumeReps: 1 }
  : { overheadReps: 5, parallelVariant: true, fanOut: [1, 10, 50, 200], fanOutReps: 3, sequentialNs: [1, 10], sequentialReps: 2, historyNs: [200, 1000], resumeReps: 3 };
/** `--fanout 200[,50]`: only these fan-out sizes (one run each unless `--reps N`; sequential N = 1 once, for the extrapolation). */
const listArg = (flag: string) => {
  const i = process.argv.indexOf(flag);
  if (i < 0) return undefined;
  const values = (process.argv[i + 1] ?? '').split(',').map(Number);
  if (!values.length || values.some((v) => !Number.isInteger(v) || v < 1)) {
    process.stderr.write(`${flag} takes a comma-separated list of positive whole numbers\n`);
    process.exit(2);
  }
  return values;
};
const fanOutSizes = listArg('--fanout');
const reps = listArg('--reps')?.[0];
if (fanOutSizes) Object.assign(CONFIG, { fanOut: fanOutSizes, fanOutReps: reps ?? 1, sequentialNs: [1], sequentialReps: 1 });
const FANOUT_LATENCY_MS = 200;
/**
 * Activities the bench's worker runs at once: the largest fan-out, as a user running maxParallel
 * 200 would start `replup worker --concurrency 200` (the default, 100, would run such a fan-out in
 * two waves). REPLUP_BENCH_CONCURRENCY overrides it.
 */
const WORKER_CONCURRENCY = Number(process.env.REPLUP_BENCH_CONCURRENCY ?? 200);
const RESUME_CRASH_AT = 'runMergeAgent:6'; // 4 subscribers: the 2nd Data merge of sync round 1

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const tsMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t ? Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6) : 0);

// --- attributing the lab's operations to the activity that made them --------------------------

/** Port calls seen inside activities: `${op}|${start ms}` → activity key (workflowId|activityId). */
const callOwners = new Map<string, string[]>();

function currentActivityKey(): string | undefined {
  try {
    const info = Context.current().info;
    return `${info.workflowExecution?.workflowId}|${info.activityId}`;
  } catch {
    return undefined;
  }
}

/** Wraps a port so each call notes which activity made it, at the same ms the lab stamps its start. */
function attributed<T extends object>(port: T): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const key = currentActivityKey();
        if (key) {
          const id = `${String(prop)}|${Date.now()}`;
          callOwners.set(id, [...(callOwners.get(id) ?? []), key]);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function attributedPortsFor(): PortsFor & { close(): Promise<void> } {
  const inner = createPortsFor({ targets: ['lab'] });
  const wrapped = new WeakMap<object, { sql: object; hosts: object }>();
  const portsFor = async (ctx: Parameters<PortsFor>[0]) => {
    const p = await inner(ctx);
    let w = wrapped.get(p);
    if (!w) wrapped.set(p, (w = { sql: attributed(p.sql), hosts: attributed(p.hosts) }));
    return w as Awaited<ReturnType<PortsFor>>;
  };
  return Object.assign(portsFor, { close: () => inner.close() });
}

/**
 * Lab ms per activity key, from the lab's accounting: the time at least one of the activity's
 * operations was in progress (coveredMs); operations no activity claimed are counted.
 */
function labTimeByActivity(accounting: AccountingEntry[]): { byActivity: Map<string, number>; unmatched: number } {
  const intervals = new Map<string, { start: number; end: number }[]>();
  let unmatched = 0;
  for (const e of accounting) {
    let owners: string[] | undefined;
    let id = '';
    for (const d of [0, -1, 1]) {
      id = `${e.op}|${e.start + d}`;
      owners = callOwners.get(id);
      if (owners?.length) break;
    }
    const owner = owners?.shift();
    if (!owner) {
      unmatched += 1;
      continue;
    }
    const list = intervals.get(owner) ?? [];
    list.push({ start: e.start, end: e.end });
    intervals.set(owner, list);
  }
  return { byActivity: new Map([...intervals].map(([owner, list]) => [owner, coveredMs(list)])), unmatched };
}

// --- reading a run's histories ---------------------------------------------------------------

interface RunHistory {
  parentEvents: number;
  childEvents: number;
  children: number;
  spans: (ActivitySpan & { type: string; started: number })[];
}

async function readHistory(client: Client, workflowId: string, runId: string): Promise<RunHistory> {
  const { parent, children } = await fetchHistories(client, workflowId, runId);
  const spans: RunHistory['spans'] = [];
  const collect = (wfId: string, events: HistoryEvent[]) => {
    const scheduled = new Map<string, { activityId: string; type: string; at: number }>();
    const started = new Map<string, number>();
    for (const ev of events) {
      const id = String(ev.eventId);
      const s = ev.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(id, { activityId: s.activityId ?? '', type: s.activityType?.name ?? '', at: tsMs(ev.eventTime) });
      const st = ev.activityTaskStartedEventAttributes;
      if (st) started.set(String(st.scheduledEventId), tsMs(ev.eventTime));
      const c = ev.activityTaskCompletedEventAttributes;
      if (c) {
        const sch = scheduled.get(String(c.scheduledEventId));
        if (sch) {
          spans.push({
            key: `${wfId}|${sch.activityId}`,
            type: sch.type,
            scheduled: sch.at,
            started: started.get(String(c.scheduledEventId)) ?? sch.at,
            completed: tsMs(ev.eventTime),
            labMs: 0,
          });
        }
      }
    }
  };
  collect(workflowId, parent);
  let childEvents = 0;
  for (const [id, events] of children) {
    collect(id, events);
    childEvents += events.length;
  }
  return { parentEvents: parent.length, childEvents, children: children.size, spans };
}

// --- one run of the workflow ------------------------------------------------------------------

interface WorkflowRun {
  wallMs: number;
  /** Share of the machine's CPU time (all cores) the bench process and the dev server used. */
  cpuBusy: { bench: number; server: number };
  activities: number;
  history: RunHistory;
  result: RunResult;
  lab: LabState;
  /** Wall time until the run report activity was asked for (the runbook without its report). */
  runbookMs: number;
}

let runCounter = 0;
let serverPid: number | undefined;

/** CPU ms of a process from /proc (Linux), or 0 where it cannot be read. */
function processCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in ticks of 10 ms
  } catch {
    return 0;
  }
}

async function runWorkflow(client: Client, taskQueue: string, name: string, fleet: FleetOptions): Promise<WorkflowRun & { plan: UpgradePlan }> {
  const { plan, statePath } = await createFleet(name, fleet);
  const workflowId = `bench-${name}-${process.pid}-${++runCounter}`;
  const t0 = Date.now();
  const cpu0 = { bench: process.cpuUsage(), server: processCpuMs(serverPid) };
  const started = await startUpgrade(client, plan, 'bench', { taskQueue, workflowId });
  const result = (await client.workflow.getHandle(workflowId, started.runId).result()) as RunResult;
  const wallMs = Date.now() - t0;
  const benchCpu = process.cpuUsage(cpu0.bench);
  const cores = cpus().length;
  const cpuBusy = { bench: (benchCpu.user + benchCpu.system) / 1000 / (wallMs * cores), server: serverPid ? (processCpuMs(serverPid) - cpu0.server) / (wallMs * cores) : 0 };
  if (result.status !== 'completed') throw new Error(`bench run ${workflowId} ended ${result.status}: ${result.outcome}`);
  const history = await readHistory(client, workflowId, started.runId);
  const lab = readLabState(statePath);
  const report = history.spans.find((s) => s.type === 'writeRunReport');
  // REPLUP_BENCH_DUMP=<dir>: each run's activity spans and lab accounting, for profiling.
  if (process.env.REPLUP_BENCH_DUMP) {
    mkdirSync(process.env.REPLUP_BENCH_DUMP, { recursive: true });
    writeFileSync(join(process.env.REPLUP_BENCH_DUMP, `${name}.json`), JSON.stringify({ t0, wallMs, spans: history.spans, accounting: lab.accounting }));
  }
  return { plan, wallMs, cpuBusy, activities: history.spans.length, history, result, lab, runbookMs: report ? report.scheduled - t0 : wallMs };
}

/** Convergence of one run: rounds used against the fewest the lab's pending changes allowed. */
function convergence(run: { result: RunResult; lab: LabState; plan: UpgradePlan }) {
  const used = ((run.result.progress.facts.syncRounds as unknown[]) ?? []).length;
  const firstBySubscription = new Map<string, FirstRoundSession>();
  for (const s of run.lab.mergeSessions) {
    if (firstBySubscription.has(s.subscription)) continue;
    const publication = s.subscription.slice(s.subscription.indexOf(':') + 1, s.subscription.indexOf('->'));
    const moved = (x: { inserts: number; updates: number; deletes: number }) => x.inserts + x.updates + x.deletes;
    firstBySubscription.set(s.subscription, { publication, uploaded: moved(s.upload), downloaded: moved(s.download) });
  }
  const { moving, minimum } = minimumSyncRounds([...firstBySubscription.values()], run.plan.options.sync.quietRounds);
  return { used, moving, minimum, extra: used - minimum };
}

// --- scenarios ---------------------------------------------------------------------------------

async function overhead(client: Client, taskQueue: string, conv: ReturnType<typeof convergence>[]) {
  const sequential: { wf: number; wfActs: number; script: number; scriptActs: number; runbook: number }[] = [];
  const parallel: number[] = [];
  for (let rep = 0; rep < CONFIG.overheadReps; rep++) {
    const wf = await runWorkflow(client, taskQueue, `overhead${rep}`, { subscribers: 4, maxParallel: 1, latencyMs: 0 });
    conv.push(convergence(wf));
    const { plan } = await createFleet(`script${rep}`, { subscribers: 4, maxParallel: 1, latencyMs: 0 });
    const portsFor = createPortsFor({ targets: ['lab'] });
    const t0 = Date.now();
    const s = await runbookScript(plan, createUpgradeActivities(portsFor), `script-${rep}`);
    const script = Date.now() - t0;
    await portsFor.close();
    // The workflow also writes its run report (one activity reading the history): not in the script.
    const wfActs = wf.activities - 1;
    sequential.push({ wf: wf.wallMs, wfActs, script, scriptActs: s.activities, runbook: wf.runbookMs });
    if (CONFIG.parallelVariant) {
      const par = await runWorkflow(client, taskQueue, `overheadpar${rep}`, { subscribers: 4, maxParallel: 4, latencyMs: 0 });
      conv.push(convergence(par));
      parallel.push(par.wallMs);
    }
    log(`overhead rep ${rep + 1}: workflow ${wf.wallMs} ms (${wf.activities} activities), script ${script} ms (${s.activities} calls)${parallel.length ? `, workflow maxParallel 4 ${parallel.at(-1)} ms` : ''}`);
  }
  const perActivity = sequential.map((r) => r.runbook / r.wfActs - r.script / r.scriptActs);
  return {
    fleet: '1 publisher, 4 subscribers, lab latency 0, every step applies (from 8.2)',
    workflowMs: summarize(sequential.map((r) => r.wf)),
    workflowRunbookMs: summarize(sequential.map((r) => r.runbook)),
    workflowActivities: summarize(sequential.map((r) => r.wfActs + 1)),
    scriptMs: summarize(sequential.map((r) => r.script)),
    scriptActivities: summarize(sequential.map((r) => r.scriptActs)),
    ratio: summarize(sequential.map((r) => r.wf / r.script)),
    overheadPerActivityMs: summarize(perActivity),
    workflowMaxParallel4Ms: parallel.length ? summarize(parallel) : null,
  };
}

interface FanOutRun {
  wallMs: number;
  /** Share of all cores busy (bench process + dev server) during the run. */
  cpuBusy: number;
  criticalPathMs: number;
  efficiency: number;
  activities: number;
  labOps: number;
  unmatchedOps: number;
  /** Where the wall time went along the critical chain. */
  chain: { activities: number; labMs: number; queueMs: number; inActivityMs: number; workflowReactionMs: number };
  reportMs: number;
  parentEvents: number;
  totalEvents: number;
  children: number;
}

function analyseFanOut(run: WorkflowRun): FanOutRun {
  const { byActivity, unmatched } = labTimeByActivity(run.lab.accounting);
  const spans = run.history.spans.map((s) => ({ ...s, labMs: byActivity.get(s.key) ?? 0 }));
  const cp = criticalPath(spans);
  const byKey = new Map(spans.map((s) => [s.key, s]));
  const chain = cp.chain.map((k) => byKey.get(k)!);
  let queueMs = 0;
  let inActivityMs = 0;
  let workflowReactionMs = 0;
  chain.forEach((s, i) => {
    queueMs += s.started - s.scheduled;
    inActivityMs += s.completed - s.started - s.labMs;
    if (i > 0) workflowReactionMs += s.scheduled - chain[i - 1]!.completed;
  });
  const report = spans.find((s) => s.type === 'writeRunReport');
  return {
    wallMs: run.wallMs,
    cpuBusy: run.cpuBusy.bench + run.cpuBusy.server,
    criticalPathMs: cp.ms,
    efficiency: cp.ms / run.wallMs,
    activities: spans.length,
    labOps: run.lab.accounting.length,
    unmatchedOps: unmatched,
    chain: { activities: chain.length, labMs: cp.ms, queueMs, inActivityMs, workflowReactionMs },
    reportMs: report ? report.completed - report.scheduled : 0,
    parentEvents: run.history.parentEvents,
    totalEvents: run.history.parentEvents + run.history.childEvents,
    children: run.history.children,
  };
}

async function fanOut(client: Client, taskQueue: string, conv: ReturnType<typeof convergence>[]) {
  const out: Record<string, unknown>[] = [];
  const seqOverheads: number[] = [];
  const sequential = new Map<number, { wall: number[]; estimate: number[] }>();
  for (const n of CONFIG.sequentialNs) {
    const walls: number[] = [];
    const estimates: number[] = [];
    for (let rep = 0; rep < CONFIG.sequentialReps; rep++) {
      const r = await runWorkflow(client, taskQueue, `seq${n}x${rep}`, { subscribers: n, maxParallel: 1, latencyMs: FANOUT_LATENCY_MS, fastRetry: true });
      conv.push(convergence(r));
      walls.push(r.wallMs);
      // What each activity costs beyond its lab time when nothing overlaps: used to extrapolate.
      seqOverheads.push((r.wallMs - r.lab.accounting.length * FANOUT_LATENCY_MS) / r.activities);
      estimates.push(r.lab.accounting.length * FANOUT_LATENCY_MS);
      log(`sequential N=${n}: ${r.wallMs} ms, ${r.activities} activities, ${r.lab.accounting.length} lab operations`);
    }
    sequential.set(n, { wall: walls, estimate: estimates });
  }
  const seqOverhead = summarize(seqOverheads).median;
  for (const n of CONFIG.fanOut) {
    const runs: FanOutRun[] = [];
    const seqEstimates: number[] = [];
    for (let rep = 0; rep < CONFIG.fanOutReps; rep++) {
      const r = await runWorkflow(client, taskQueue, `fan${n}x${rep}`, { subscribers: n, maxParallel: n, latencyMs: FANOUT_LATENCY_MS, fastRetry: true });
      conv.push(convergence(r));
      const a = analyseFanOut(r);
      runs.push(a);
      seqEstimates.push(a.labOps * FANOUT_LATENCY_MS + a.activities * seqOverhead);
      log(`fan-out N=${n}: wall ${a.wallMs} ms, critical path ${a.criticalPathMs} ms, efficiency ${a.efficiency.toFixed(2)}, CPU busy ${Math.round(a.cpuBusy * 100)} %, ${a.activities} activities, parent ${a.parentEvents} events`);
    }
    const measured = sequential.get(n);
    const seqWall = measured ? summarize(measured.wall) : summarize(seqEstimates);
    out.push({
      subscribers: n,
      maxParallel: n,
      wallMs: summarize(runs.map((r) => r.wallMs)),
      criticalPathMs: summarize(runs.map((r) => r.criticalPathMs)),
      efficiency: summarize(runs.map((r) => r.efficiency)),
      cpuBusy: summarize(runs.map((r) => r.cpuBusy)),
      sequentialMs: seqWall,
      sequentialSource: measured ? 'measured (maxParallel = 1)' : `extrapolated: lab operations × ${FANOUT_LATENCY_MS} ms + activities × ${seqOverhead.toFixed(1)} ms (per-activity cost of the measured sequential runs)`,
      speedUp: summarize(runs.map((r) => seqWall.median / r.wallMs)),
      activities: summarize(runs.map((r) => r.activities)),
      labOperations: summarize(runs.map((r) => r.labOps)),
      unmatchedLabOperations: Math.max(...runs.map((r) => r.unmatchedOps)),
      criticalChain: runs[Math.floor(runs.length / 2)]!.chain,
      reportMs: summarize(runs.map((r) => r.reportMs)),
      parentEvents: summarize(runs.map((r) => r.parentEvents)),
      totalEvents: summarize(runs.map((r) => r.totalEvents)),
      childWorkflows: summarize(runs.map((r) => r.children)),
    });
  }
  // How good the extrapolation is where both exist.
  const check = CONFIG.sequentialNs.map((n) => {
    const m = sequential.get(n)!;
    const est = summarize(m.estimate).median + 0; // lab time only
    return { subscribers: n, measuredMs: summarize(m.wall).median, labTimeOnlyMs: est };
  });
  return { latencyMs: FANOUT_LATENCY_MS, workerConcurrency: WORKER_CONCURRENCY, sequentialPerActivityOverheadMs: seqOverhead, sequentialCheck: check, runs: out };
}

async function history(client: Client, taskQueue: string, fanOutRuns: Record<string, unknown>[], conv: ReturnType<typeof convergence>[]) {
  const out: Record<string, unknown>[] = [];
  for (const n of CONFIG.historyNs) {
    const fromFanOut = fanOutRuns.find((r) => r.subscribers === n);
    if (fromFanOut) {
      const parent = fromFanOut.parentEvents as Summary;
      const total = fromFanOut.totalEvents as Summary;
      out.push({ subscribers: n, source: 'the fan-out runs', parentEvents: parent.median, totalEvents: total.median, eventsPerSubscriber: total.median / n, childWorkflows: (fromFanOut.childWorkflows as Summary).median });
      continue;
    }
    // Each site's users write as work reaches their site and every row is copied to every
    // subscriber, so with users a 1000-subscriber lab would hold ~0.4 GB of JSON. Without users,
    // 4 quiet rounds give sync-until-quiet the same 4 rounds (8 fan-outs) as the runs with users.
    const r = await runWorkflow(client, taskQueue, `hist${n}`, { subscribers: n, maxParallel: WORKER_CONCURRENCY, latencyMs: 0, fastRetry: true, usersPerHost: 0, quietRounds: 4 });
    const total = r.history.parentEvents + r.history.childEvents;
    out.push({ subscribers: n, source: `one run, lab latency 0, maxParallel ${WORKER_CONCURRENCY}, no users, quietRounds 4 (4 sync rounds like the runs with users)`, wallMs: r.wallMs, parentEvents: r.history.parentEvents, totalEvents: total, eventsPerSubscriber: total / n, childWorkflows: r.history.children });
    log(`history N=${n}: parent ${r.history.parentEvents} events, ${total} in total, ${r.history.children} child batches, ${r.wallMs} ms`);
  }
  return out;
}

// --- resume after SIGKILL --------------------------------------------------------------------------

function startWorkerProcess(address: string, env: Record<string, string>): { child: ChildProcess; ready: Promise<number>; exited: Promise<NodeJS.Signals | number | null> } {
  const t0 = Date.now();
  const child = spawn(process.execPath, [resolve('cli/bin.mjs'), 'worker'], {
    env: { ...process.env, TEMPORAL_ADDRESS: address, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const ready = new Promise<number>((res, rej) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/serving task queue/.test(stderr)) res(Date.now() - t0);
    });
    child.once('exit', (code, signal) => rej(new Error(`the worker exited (${signal ?? code}) before serving: ${stderr.slice(-2000)}`)));
  });
  ready.catch(() => {});
  const exited = new Promise<NodeJS.Signals | number | null>((res) => child.once('exit', (code, signal) => res(signal ?? code)));
  return { child, ready, exited };
}

async function stopWorkerProcess(w: { child: ChildProcess; exited: Promise<unknown> }): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGTERM');
  const timeout = new Promise((r) => setTimeout(r, 20_000, 'timeout'));
  if ((await Promise.race([w.exited, timeout])) === 'timeout') w.child.kill('SIGKILL');
}

async function resumeAfterKill(client: Client, address: string, conv: ReturnType<typeof convergence>[]) {
  const samples: { resumeMs: number; restartMs: number; wallMs: number }[] = [];
  const [op, nth] = RESUME_CRASH_AT.split(':') as [string, string];
  for (let rep = 0; rep < CONFIG.resumeReps; rep++) {
    // The product's retry policy (2 s first retry), not the tests' fast one.
    const { plan, statePath } = await createFleet(`resume${rep}`, { subscribers: 4, maxParallel: 4, latencyMs: FANOUT_LATENCY_MS });
    const first = startWorkerProcess(address, { REPLUP_LAB_CRASH_AT: RESUME_CRASH_AT });
    let second: ReturnType<typeof startWorkerProcess> | undefined;
    try {
      await first.ready;
      const workflowId = `bench-resume-${process.pid}-${rep}`;
      const t0 = Date.now();
      const started = await startUpgrade(client, plan, 'bench', { taskQueue: TASK_QUEUE, workflowId });
      const how = await first.exited;
      if (how !== 'SIGKILL') throw new Error(`the worker was to be killed at ${RESUME_CRASH_AT} but exited with ${how}`);
      // A supervisor (systemd, a container restart policy) starts the worker again at once.
      second = startWorkerProcess(address, {});
      const restartMs = await second.ready;
      const result = (await client.workflow.getHandle(workflowId, started.runId).result()) as RunResult;
      const wallMs = Date.now() - t0;
      if (result.status !== 'completed') throw new Error(`resume run ended ${result.status}: ${result.outcome}`);
      const lab = readLabState(statePath);
      conv.push(convergence({ result, lab, plan }));
      const killedAt = lab.accounting.filter((e) => e.op === op)[Number(nth) - 1];
      if (!killedAt) throw new Error(`the lab's accounting has no ${RESUME_CRASH_AT}`);
      const next = lab.accounting.find((e) => e.start > killedAt.end);
      if (!next) throw new Error('no lab operation after the kill');
      samples.push({ resumeMs: next.start - killedAt.end, restartMs, wallMs });
      log(`resume rep ${rep + 1}: next lab operation ${next.op} ${next.start - killedAt.end} ms after the kill (worker ready after ${restartMs} ms)`);
    } finally {
      await stopWorkerProcess(first);
      if (second) await stopWorkerProcess(second);
    }
  }
  return {
    fleet: `1 publisher, 4 subscribers, lab latency ${FANOUT_LATENCY_MS} ms, the product's retry policy, worker killed with SIGKILL at ${RESUME_CRASH_AT} (sync-until-quiet)`,
    resumeMs: summarize(samples.map((s) => s.resumeMs)),
    workerRestartMs: summarize(samples.map((s) => s.restartMs)),
    runWallMs: summarize(samples.map((s) => s.wallMs)),
  };
}

// --- main --------------------------------------------------------------------------------------------

function machine() {
  const cpu = cpus();
  return {
    nproc: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiBAtStart: Math.round((freemem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    shared: 'the machine was shared with other work during the run (see loadAverage)',
  };
}

async function main() {
  const startedAt = new Date();
  const mach = machine();
  const dir = mkdtempSync(join(tmpdir(), 'replup-bench-'));
  process.env.REPLUP_REPORTS_DIR = join(dir, 'reports');
  log(`${quick ? 'quick' : 'full'} run on ${mach.nproc} × ${mach.cpuModel}, load ${mach.loadAverageAtStart.join(' ')}`);
  let dev: DevServerHandle | undefined;
  let ok = false;
  let stopWorker: (() => Promise<void>) | undefined;
  const onSignal = () => void (async () => {
    await stopWorker?.().catch(() => {});
    await dev?.stop();
    removeFleets();
    process.exit(130);
  })();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // TEMPORAL_ADDRESS points the bench at a server of your own (as with npm test); else its own dev server.
    const external = process.env.TEMPORAL_ADDRESS;
    if (!external) dev = await startDevServer({ dbFile: join(dir, 'temporal.db'), port: await freePort(), uiPort: await freePort(), logFile: join(dir, 'temporal.log'), detached: false });
    serverPid = dev?.pid;
    const address = external ?? dev!.address;
    log(external ? `Temporal server at ${address} (TEMPORAL_ADDRESS)` : `dev server at ${address}`);
    Runtime.install({ logger: new DefaultLogger('WARN') });
    // A 1000-subscriber parent history comes in pages over gRPC's 4 MiB default receive limit.
    const client = new Client({ connection: await Connection.connect({ address, channelArgs: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 } }) });
    const nativeConnection = await NativeConnection.connect({ address });
    const taskQueue = `bench-${process.pid}`;
    const portsFor = attributedPortsFor();
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: resolve('workflows/index.ts'), logger: new DefaultLogger('WARN') }),
      activities: { ...createUpgradeActivities(portsFor), ...createFleetGuardActivities(async () => client, portsFor), ...createReportActivities(async () => client) },
      ...workerTuning(WORKER_CONCURRENCY),
    });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
      await portsFor.close();
      await nativeConnection.close();
    };

    const conv: ReturnType<typeof convergence>[] = [];
    // Each scenario's figures reach results.json as soon as it ends: a late failure keeps the rest.
    const partial: Record<string, unknown> = { command: commandLine(address !== dev?.address ? address : undefined), startedAt: startedAt.toISOString(), machine: mach, partial: true };
    const keep = <T>(name: string, value: T): T => {
      partial[name] = value;
      writeFileSync(resolve('bench/results.json'), `${JSON.stringify(partial, null, 2)}\n`);
      return value;
    };
    log('1/5 overhead');
    const overheadResult = runs('overhead') ? keep('overhead', await overhead(client, taskQueue, conv)) : undefined;
    log('2/5 fan-out');
    const fanOutResult = runs('fanout') ? keep('fanOut', await fanOut(client, taskQueue, conv)) : undefined;
    log('3/5 history');
    const historyResult = runs('history') ? keep('history', await history(client, taskQueue, fanOutResult?.runs ?? [], conv)) : undefined;
    log('4/5 resume after SIGKILL');
    const resumeResult = runs('resume') ? keep('resume', await resumeAfterKill(client, address, conv)) : undefined;
    log('5/5 convergence (from every run above)');
    const convergenceResult = {
      runs: conv.length,
      usedRounds: conv.length ? summarize(conv.map((c) => c.used)) : undefined,
      minimumRounds: conv.length ? summarize(conv.map((c) => c.minimum)) : undefined,
      extraRounds: conv.length ? summarize(conv.map((c) => c.extra)) : undefined,
      runsAboveMinimum: conv.filter((c) => c.extra > 0).length,
    };
    await stopWorker();
    stopWorker = undefined;

    const fan200 = fanOutResult?.runs.find((r) => r.subscribers === 200);
    const hist1000 = historyResult?.find((h) => h.subscribers === 1000);
    const targets = [
      overheadResult && { target: 'overhead ≤ 15 ms per activity', value: overheadResult.overheadPerActivityMs.median, limit: 15, ok: overheadResult.overheadPerActivityMs.median <= 15 },
      fan200 && { target: 'efficiency ≥ 0.9 at N = 200', value: (fan200.efficiency as Summary).median, limit: 0.9, ok: (fan200.efficiency as Summary).median >= 0.9 },
      hist1000
        ? { target: 'parent history ≤ 10,000 events at N = 1000', value: hist1000.parentEvents as number, limit: 10_000, ok: (hist1000.parentEvents as number) <= 10_000 }
        : { target: 'parent history ≤ 10,000 events at N = 1000', value: null, limit: 10_000, ok: null, note: 'not measured in this run (N = 1000 is in the full run only)' },
      resumeResult && { target: 'resume ≤ 15 s', value: resumeResult.resumeMs.median / 1000, limit: 15, ok: resumeResult.resumeMs.median <= 15_000 },
      convergenceResult.extraRounds && { target: 'rounds = minimum + 0', value: convergenceResult.extraRounds.max, limit: 0, ok: convergenceResult.extraRounds.max === 0 },
    ].filter(Boolean);
    const results = {
      command: commandLine(external),
      mode: quick ? 'quick' : 'full',
      startedAt: startedAt.toISOString(),
      durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
      machine: { ...mach, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
      overhead: overheadResult,
      fanOut: fanOutResult,
      history: historyResult,
      resume: resumeResult,
      convergence: convergenceResult,
      targets,
    };
    writeFileSync(resolve('bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const table = renderTable(results);
    process.stdout.write(`${table}\n\nwritten: bench/results.json\n`);
    if (!quick && !only && !fanOutSizes) {
      writeResultsMarkdown(table, results);
      process.stdout.write('written: bench/RESULTS.md (figures section)\n');
    }
    ok = true;
  } finally {
    await stopWorker?.().catch(() => {});
    await dev?.stop();
    removeFleets();
    // The dev server's files stay after a failure: its log is in there.
    if (ok) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`the dev server's files and log: ${dir}\n`);
  }
}

function commandLine(external?: string): string {
  const args = [quick ? '--quick' : '', only ? `--only ${[...only].join(',')}` : '', fanOutSizes ? `--fanout ${fanOutSizes.join(',')}` : '', reps ? `--reps ${reps}` : ''].filter(Boolean).join(' ');
  return `${external ? `TEMPORAL_ADDRESS=${external} ` : ''}npm run bench${args ? ` -- ${args}` : ''}`;
}

type Results = {
  command: string;
  startedAt: string;
  durationS: number;
  machine: ReturnType<typeof machine> & { loadAverageAtEnd: number[] };
  overhead?: Awaited<ReturnType<typeof overhead>>;
  fanOut?: Awaited<ReturnType<typeof fanOut>>;
  history?: Record<string, unknown>[];
  resume?: Awaited<ReturnType<typeof resumeAfterKill>>;
  convergence: { runs: number; usedRounds?: Summary; minimumRounds?: Summary; extraRounds?: Summary; runsAboveMinimum: number };
  targets: ({ target: string; value: number | null; limit: number; ok: boolean | null; note?: string } | undefined)[];
};

function renderTable(r: Results): string {
  const head = [
    `replup benchmarks — ${r.command}, ${r.startedAt}, ${r.durationS} s`,
    '',
    `machine: ${r.machine.nproc} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, node ${r.machine.node}; load average ${r.machine.loadAverageAtStart.join(' ')} at start, ${r.machine.loadAverageAtEnd.join(' ')} at end (shared machine)`,
    '',
    'figures: median (min–max)',
  ];
  const o = r.overhead;
  const overheadLines = o
    ? [
        `1. Overhead (${o.fleet}; workflow with maxParallel 1, like the script)`,
        '',
        '| | wall ms | activities |',
        '|---|---|---|',
        `| workflow | ${formatSummary(o.workflowMs)} | ${formatSummary(o.workflowActivities)} (incl. the run report) |`,
        `| workflow without its run report | ${formatSummary(o.workflowRunbookMs)} | |`,
        `| plain script, same activity functions | ${formatSummary(o.scriptMs)} | ${formatSummary(o.scriptActivities)} |`,
        ...(o.workflowMaxParallel4Ms ? [`| workflow, maxParallel 4 | ${formatSummary(o.workflowMaxParallel4Ms)} | |`] : []),
        '',
        `ratio workflow / script: ${formatSummary(o.ratio, 1)}; overhead per activity: ${formatSummary(o.overheadPerActivityMs, 1, ' ms')}`,
      ]
    : [];
  const f = r.fanOut;
  const fanOutLines = f
    ? [
        `2. Fan-out (lab latency ${f.latencyMs} ms per operation, maxParallel = N, worker concurrency ${f.workerConcurrency})`,
        '',
        '| N | wall s | critical path s | efficiency | sequential s | speed-up | activities | lab ops | CPU busy (bench + server) |',
        '|---|---|---|---|---|---|---|---|---|',
        ...f.runs.map((x) => {
          const s = (k: string, d = 1, div = 1000) => {
            const v = x[k] as Summary;
            return formatSummary({ ...v, median: v.median / div, min: v.min / div, max: v.max / div }, d);
          };
          const seq = x.sequentialSource === 'measured (maxParallel = 1)' ? '' : ' (extrapolated)';
          return `| ${x.subscribers} | ${s('wallMs')} | ${s('criticalPathMs')} | ${s('efficiency', 2, 1)} | ${s('sequentialMs')}${seq} | ${s('speedUp', 1, 1)} | ${s('activities', 0, 1)} | ${s('labOperations', 0, 1)} | ${s('cpuBusy', 2, 1)} |`;
        }),
        '',
        `extrapolated sequential time = lab operations × ${f.latencyMs} ms + activities × ${f.sequentialPerActivityOverheadMs.toFixed(1)} ms (the per-activity cost of the measured sequential runs)`,
      ]
    : [];
  const historyLines = r.history
    ? [
        '3. History',
        '',
        '| N | parent events | total events | per subscriber | child batches |',
        '|---|---|---|---|---|',
        ...r.history.map((h) => `| ${h.subscribers} | ${h.parentEvents} | ${h.totalEvents} | ${(h.eventsPerSubscriber as number).toFixed(1)} | ${h.childWorkflows} |`),
      ]
    : [];
  const resumeLines = r.resume
    ? [
        `4. Resume after SIGKILL (${r.resume.fleet})`,
        '',
        `kill → next lab operation: ${formatSummary(r.resume.resumeMs, 0, ' ms')}; worker process ready after ${formatSummary(r.resume.workerRestartMs, 0, ' ms')}`,
      ]
    : [];
  const c = r.convergence;
  const convergenceLines = c.usedRounds && c.minimumRounds && c.extraRounds
    ? [`5. Convergence (${c.runs} runs): rounds used ${formatSummary(c.usedRounds)}, minimum ${formatSummary(c.minimumRounds)}, extra ${formatSummary(c.extraRounds)}; ${c.runsAboveMinimum} runs above the minimum`]
    : [];
  const targetLines = [
    'Targets',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...r.targets.map((t) => `| ${t!.target} | ${t!.value === null ? '—' : Number(t!.value.toFixed(2))} | ${t!.ok === null ? t!.note : t!.ok ? 'yes' : 'no'} |`),
  ];
  return [head, overheadLines, fanOutLines, historyLines, resumeLines, convergenceLines, targetLines]
    .filter((section) => section.length)
    .map((section) => section.join('\n'))
    .join('\n\n');
}

const BEGIN = '<!-- figures: written by `npm run bench` (full run); edit outside these markers -->';
const END = '<!-- end of figures -->';

function writeResultsMarkdown(table: string, r: Results): void {
  const file = resolve('bench/RESULTS.md');
  const figures = [BEGIN, '', `Command: \`${r.command}\``, '', table, '', END].join('\n');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const a = old.indexOf(BEGIN);
  const b = old.indexOf(END);
  const text = a >= 0 && b > a ? `${old.slice(0, a)}${figures}${old.slice(b + END.length)}` : `# Benchmark results\n\n${figures}\n${old}`;
  writeFileSync(file, text);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
