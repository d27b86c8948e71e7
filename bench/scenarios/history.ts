// Scenario 3, history: how many events a run's parent workflow and its batch children record per
// subscriber, for large fleets (taken from a fan-out run of the same size when there is one).
import { WORKER_CONCURRENCY } from '../config.js';
import { runWorkflow } from '../workflow-run.js';
import type { FanOutResult } from './fan-out.js';
import { scenario, type ScenarioContext } from './scenario.js';

/** One fleet size's history; event counts are medians when taken from the fan-out runs. */
export interface HistorySize {
  subscribers: number;
  /** 'the fan-out runs' or how the one run was made. */
  source: string;
  wallMs?: number;
  parentEvents: number;
  totalEvents: number;
  eventsPerSubscriber: number;
  childWorkflows: number;
}

export type HistoryResult = HistorySize[];

export const history = scenario('history', 'history', '3/5 history', measureHistory);

async function measureHistory(ctx: ScenarioContext, before: { fanOut?: FanOutResult }): Promise<HistoryResult> {
  const out: HistoryResult = [];
  for (const n of ctx.config.sizes.historyNs) {
    const fromFanOut = before.fanOut?.runs.find((r) => r.subscribers === n);
    if (fromFanOut) {
      const total = fromFanOut.totalEvents.median;
      out.push({
        subscribers: n,
        source: 'the fan-out runs',
        parentEvents: fromFanOut.parentEvents.median,
        totalEvents: total,
        eventsPerSubscriber: total / n,
        childWorkflows: fromFanOut.childWorkflows.median,
      });
      continue;
    }
    // Each site's users write as work reaches their site and every row is copied to every
    // subscriber, so with users a 1000-subscriber lab would hold ~0.4 GB of JSON. Without users,
    // 4 quiet rounds give sync-until-quiet the same 4 rounds (8 fan-outs) as the runs with users.
    const fleet = {
      subscribers: n,
      maxParallel: WORKER_CONCURRENCY,
      latencyMs: 0,
      fastRetry: true,
      usersPerHost: 0,
      quietRounds: 4,
    };
    const r = await runWorkflow(ctx, `hist${n}`, fleet);
    const total = r.history.parentEvents + r.history.childEvents;
    out.push({
      subscribers: n,
      source:
        `one run, lab latency 0, maxParallel ${WORKER_CONCURRENCY}, no users, ` +
        'quietRounds 4 (4 sync rounds like the runs with users)',
      wallMs: r.wallMs,
      parentEvents: r.history.parentEvents,
      totalEvents: total,
      eventsPerSubscriber: total / n,
      childWorkflows: r.history.children,
    });
    ctx.log(
      `history N=${n}: parent ${r.history.parentEvents} events, ${total} in total, ` +
        `${r.history.children} child batches, ${r.wallMs} ms`,
    );
  }
  return out;
}
