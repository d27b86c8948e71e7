// The runbook driver on Temporal: the workflow's own engine (Runbook), typed activity proxies,
// fan-out with batch children, durable timers and patch markers (driver.ts says what each does).
import { patched, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ReplupFleetId } from '../../plan/personalization-upgrade/fleet-identity.js';
import { activities, type RetrySettings } from './activity.js';
import { calls } from './activity-types.js';
import type { RunbookDriver } from './driver.js';
import { fanOut } from './fan-out.js';
import type { Runbook } from './runbook.js';

/** How a run's activities and fan-outs go: the plan's retry policy and parallelism. */
export interface TemporalDriverOptions {
  retry?: RetrySettings;
  /** At most this many activities of one fan-out at once. */
  maxParallel: number;
  /** A fan-out of more calls than this runs in batch child workflows of this many calls each. */
  childThreshold: number;
}

/** `run`'s steps and `T`'s activities, as a runbook written on RunbookDriver<T> uses them. */
export function temporalDriver<T>(run: Runbook, opts: TemporalDriverOptions): RunbookDriver<T> {
  const { workflowId, runId, firstExecutionRunId } = workflowInfo();
  return {
    acts: activities<T>({ retry: opts.retry }),
    batch: calls<T>(),
    fanOut: (s, key, cs) =>
      fanOut(key, cs, {
        maxParallel: opts.maxParallel,
        childThreshold: opts.childThreshold,
        retry: opts.retry,
        ctx: s,
      }),
    sleep: (ms, summary) => sleep(ms, { summary }),
    patched: (id) => patched(id),
    ids: { workflowId, runId, firstRunId: firstExecutionRunId },
    startedAt: run.startedAt,
    step: (id, body) => run.step(id, body),
    gate: (id, note) => {
      if (note) run.describe(id, note);
      return run.gate(id);
    },
    manual: (id, instructions) => run.manual(id, instructions),
    fact: (key, value) => run.fact(key, value),
    onAbort: (cleanup) => run.onAbort(cleanup),
    markFleet: (identity) => upsertSearchAttributes([{ key: ReplupFleetId, value: identity }]),
  };
}
