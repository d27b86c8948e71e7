// One run of the upgrade workflow on a bench fleet, and what is read from it afterwards: its
// histories (activity spans, event counts), the lab's state, CPU use, and its convergence.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { parseSubscriptionKey, readLabState, type LabState } from '../activities/lab/index.js';
import { fetchHistories } from '../activities/report/index.js';
import type { HistoryEvent } from '../activities/report/build.js';
import { startUpgrade } from '../cli/lib/runs.js';
import type { RunResult } from '../workflows/messages.js';
import { changedRows } from '../plan/personalization-upgrade/fleet.js';
import type { UpgradePlan } from '../plan/personalization-upgrade/types.js';
import { createFleet, type FleetOptions } from './fleet.js';
import { minimumSyncRounds, type ActivitySpan, type FirstRoundSession } from './stats.js';
import type { ScenarioContext } from './scenarios/scenario.js';

const tsMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6) : 0;

/** A run's histories: event counts of the parent and its batch children, and every completed activity. */
export interface RunHistory {
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
      if (s)
        scheduled.set(id, { activityId: s.activityId ?? '', type: s.activityType?.name ?? '', at: tsMs(ev.eventTime) });
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

/** One completed workflow run, measured. */
export interface WorkflowRun {
  plan: UpgradePlan;
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

/** CPU ms of a process from /proc (Linux), or 0 where it cannot be read. */
function processCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in ticks of 10 ms
  } catch {
    return 0;
  }
}

/**
 * Creates the fleet `name`, runs the workflow on it to the end and measures it.
 * @throws Error when the run ends other than completed
 */
export async function runWorkflow(bench: ScenarioContext, name: string, fleet: FleetOptions): Promise<WorkflowRun> {
  const { client, taskQueue, serverPid } = bench;
  const { plan, statePath } = await createFleet(name, fleet);
  const workflowId = `bench-${name}-${process.pid}-${++runCounter}`;
  const t0 = Date.now();
  const cpu0 = { bench: process.cpuUsage(), server: processCpuMs(serverPid) };
  const started = await startUpgrade(client, plan, 'bench', { taskQueue, workflowId });
  const result = (await client.workflow.getHandle(workflowId, started.runId).result()) as RunResult;
  const wallMs = Date.now() - t0;
  const benchCpu = process.cpuUsage(cpu0.bench);
  const cores = cpus().length;
  const cpuBusy = {
    bench: (benchCpu.user + benchCpu.system) / 1000 / (wallMs * cores),
    server: serverPid ? (processCpuMs(serverPid) - cpu0.server) / (wallMs * cores) : 0,
  };
  if (result.status !== 'completed')
    throw new Error(`bench run ${workflowId} ended ${result.status}: ${result.outcome}`);
  const history = await readHistory(client, workflowId, started.runId);
  const lab = readLabState(statePath);
  const report = history.spans.find((s) => s.type === 'writeRunReport');
  // REPLUP_BENCH_DUMP=<dir>: each run's activity spans and lab accounting, for profiling.
  if (process.env.REPLUP_BENCH_DUMP) {
    mkdirSync(process.env.REPLUP_BENCH_DUMP, { recursive: true });
    const dump = { t0, wallMs, spans: history.spans, accounting: lab.accounting };
    writeFileSync(join(process.env.REPLUP_BENCH_DUMP, `${name}.json`), JSON.stringify(dump));
  }
  const runbookMs = report ? report.scheduled - t0 : wallMs;
  return { plan, wallMs, cpuBusy, activities: history.spans.length, history, result, lab, runbookMs };
}

/** Convergence of one run: rounds used against the fewest the lab's pending changes allowed. */
export interface Convergence {
  used: number;
  moving: number;
  minimum: number;
  extra: number;
}

/** A run's convergence, from its syncRounds fact and the lab's first merge session of each subscription. */
export function convergence(run: { result: RunResult; lab: LabState; plan: UpgradePlan }): Convergence {
  const used = ((run.result.progress.facts.syncRounds as unknown[]) ?? []).length;
  const firstBySubscription = new Map<string, FirstRoundSession>();
  for (const s of run.lab.mergeSessions) {
    if (firstBySubscription.has(s.subscription)) continue;
    const { publication } = parseSubscriptionKey(s.subscription);
    firstBySubscription.set(s.subscription, {
      publication,
      uploaded: changedRows(s.upload),
      downloaded: changedRows(s.download),
    });
  }
  const { moving, minimum } = minimumSyncRounds([...firstBySubscription.values()], run.plan.options.sync.quietRounds);
  return { used, moving, minimum, extra: used - minimum };
}
