// Scenario 2, fan-out: what parallelism pays. Fleets of N subscribers with lab latency on every
// operation, run with maxParallel = N, against sequential runs (maxParallel 1) measured for small
// N and extrapolated for the others; each run's critical path says how close it came to the ideal.
import { FANOUT_LATENCY_MS, WORKER_CONCURRENCY } from '../config.js';
import { labTimeByActivity } from '../attribution.js';
import { criticalPath, summarize, type Summary } from '../stats.js';
import { convergence, runWorkflow, type WorkflowRun } from '../workflow-run.js';
import { scenario, type ScenarioContext } from './scenario.js';

/** One fan-out run, analysed. */
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
  chain: CriticalChain;
  reportMs: number;
  parentEvents: number;
  totalEvents: number;
  children: number;
}

export interface CriticalChain {
  activities: number;
  labMs: number;
  queueMs: number;
  inActivityMs: number;
  workflowReactionMs: number;
}

/** The runs of one fan-out size, summarised (ms unless named otherwise). */
export interface FanOutSize {
  subscribers: number;
  maxParallel: number;
  wallMs: Summary;
  criticalPathMs: Summary;
  efficiency: Summary;
  cpuBusy: Summary;
  sequentialMs: Summary;
  /** 'measured (maxParallel = 1)' or how it was extrapolated. */
  sequentialSource: string;
  speedUp: Summary;
  activities: Summary;
  labOperations: Summary;
  unmatchedLabOperations: number;
  /** The median run's. */
  criticalChain: CriticalChain;
  reportMs: Summary;
  parentEvents: Summary;
  totalEvents: Summary;
  childWorkflows: Summary;
}

export interface FanOutResult {
  latencyMs: number;
  workerConcurrency: number;
  sequentialPerActivityOverheadMs: number;
  /** How good the extrapolation is where a measured sequential run exists. */
  sequentialCheck: { subscribers: number; measuredMs: number; labTimeOnlyMs: number }[];
  runs: FanOutSize[];
}

export const MEASURED_SEQUENTIAL = 'measured (maxParallel = 1)';

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

export const fanOut = scenario('fanout', 'fanOut', '2/5 fan-out', measureFanOut);

async function measureFanOut(ctx: ScenarioContext): Promise<FanOutResult> {
  const { sizes } = ctx.config;
  const out: FanOutSize[] = [];
  const seqOverheads: number[] = [];
  const sequential = new Map<number, { wall: number[]; estimate: number[] }>();
  for (const n of sizes.sequentialNs) {
    const walls: number[] = [];
    const estimates: number[] = [];
    for (let rep = 0; rep < sizes.sequentialReps; rep++) {
      const fleet = { subscribers: n, maxParallel: 1, latencyMs: FANOUT_LATENCY_MS, fastRetry: true };
      const r = await runWorkflow(ctx, `seq${n}x${rep}`, fleet);
      ctx.convergence.push(convergence(r));
      walls.push(r.wallMs);
      // What each activity costs beyond its lab time when nothing overlaps: used to extrapolate.
      seqOverheads.push((r.wallMs - r.lab.accounting.length * FANOUT_LATENCY_MS) / r.activities);
      estimates.push(r.lab.accounting.length * FANOUT_LATENCY_MS);
      ctx.log(
        `sequential N=${n}: ${r.wallMs} ms, ${r.activities} activities, ${r.lab.accounting.length} lab operations`,
      );
    }
    sequential.set(n, { wall: walls, estimate: estimates });
  }
  const seqOverhead = summarize(seqOverheads).median;
  for (const n of sizes.fanOut) {
    const runs: FanOutRun[] = [];
    const seqEstimates: number[] = [];
    for (let rep = 0; rep < sizes.fanOutReps; rep++) {
      const fleet = { subscribers: n, maxParallel: n, latencyMs: FANOUT_LATENCY_MS, fastRetry: true };
      const r = await runWorkflow(ctx, `fan${n}x${rep}`, fleet);
      ctx.convergence.push(convergence(r));
      const a = analyseFanOut(r);
      runs.push(a);
      seqEstimates.push(a.labOps * FANOUT_LATENCY_MS + a.activities * seqOverhead);
      ctx.log(
        `fan-out N=${n}: wall ${a.wallMs} ms, critical path ${a.criticalPathMs} ms, ` +
          `efficiency ${a.efficiency.toFixed(2)}, ` +
          `CPU busy ${Math.round(a.cpuBusy * 100)} %, ${a.activities} activities, parent ${a.parentEvents} events`,
      );
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
      sequentialSource: measured
        ? MEASURED_SEQUENTIAL
        : `extrapolated: lab operations × ${FANOUT_LATENCY_MS} ms + activities × ${seqOverhead.toFixed(1)} ms ` +
          '(per-activity cost of the measured sequential runs)',
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
  const check = sizes.sequentialNs.map((n) => {
    const m = sequential.get(n)!;
    const est = summarize(m.estimate).median + 0; // lab time only
    return { subscribers: n, measuredMs: summarize(m.wall).median, labTimeOnlyMs: est };
  });
  return {
    latencyMs: FANOUT_LATENCY_MS,
    workerConcurrency: WORKER_CONCURRENCY,
    sequentialPerActivityOverheadMs: seqOverhead,
    sequentialCheck: check,
    runs: out,
  };
}
