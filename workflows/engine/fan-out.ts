// Fan-out: many activity calls with bounded parallelism, cut into batch child workflows past a
// threshold so the parent's history grows by a few events per batch instead of three per call
// (a 1000-subscriber fleet stays far under Temporal's history limits).
import { executeChild, patched, workflowInfo } from '@temporalio/workflow';
import { boundedAll } from '../../common/bounded.js';
import { guarded, runCall, type RetrySettings } from './activity.js';
import type { ActivityCall, ActivityName, ActivityResult } from './activity-types.js';
import type { StepContext } from './driver.js';

export type { StepContext } from './driver.js';

/** How a fan-out runs: parallelism, when to cut into batch children, retry, where to count. */
export interface FanOutOptions {
  maxParallel: number;
  childThreshold: number;
  retry?: RetrySettings;
  ctx?: StepContext;
}

/** The input of the batch child workflow (recorded in histories: its shape stays). */
export interface FanOutBatchInput {
  calls: { activity: string; args: unknown[]; summary: string }[];
  maxParallel: number;
  retry?: RetrySettings;
}

/**
 * Runs `calls` (all of one activity `K` of `T`) with at most `opts.maxParallel` at once; past
 * `opts.childThreshold` calls, in batch child workflows `<workflow id>/<key>[~n]/batch-<i>`.
 * Results come in the order of `calls`; the first failure is thrown once all started have settled.
 */
export async function fanOut<T, K extends ActivityName<T>>(
  key: string,
  calls: ActivityCall<T, K>[],
  opts: FanOutOptions,
): Promise<ActivityResult<T, K>[]> {
  const total = calls.length;
  opts.ctx?.count(0, total);
  if (total <= opts.childThreshold) {
    return boundedAll(
      calls,
      opts.maxParallel,
      (c) => runCall(c, opts.retry),
      (d) => opts.ctx?.count(d, total),
    );
  }
  const batchSize = Math.max(1, opts.childThreshold);
  const prefix = batchIdPrefix(key);
  const batches: ActivityCall<T, K>[][] = [];
  for (let i = 0; i < total; i += batchSize) batches.push(calls.slice(i, i + batchSize));
  const perBatch = Math.max(1, Math.ceil(opts.maxParallel / batches.length));
  let done = 0;
  const results = await boundedAll(batches, batches.length, async (batch, b) => {
    const input: FanOutBatchInput = {
      calls: batch,
      maxParallel: perBatch,
      retry: opts.retry,
    };
    const r = await guarded(() =>
      executeChild(fanOutBatch, {
        workflowId: `${prefix}/batch-${b + 1}`,
        args: [input],
        staticSummary: `${key}: batch ${b + 1} of ${batches.length} (${batch.length} calls)`,
      }),
    );
    done += batch.length;
    opts.ctx?.count(done, total);
    return r as ActivityResult<T, K>[];
  });
  return results.flat();
}

/**
 * Child workflow ids of a fan-out: `<run>/<key>` the first time a key fans out, `<run>/<key>~2`
 * the second time, and so on (a step may fan out more than once: drain, then disconnect).
 * Runs started before this change reused `<run>/<key>` and replay that way.
 */
const fanOutsByKey = new Map<string, number>();
function batchIdPrefix(key: string): string {
  const counter = `${workflowInfo().runId}|${key}`; // by run, whatever the SDK shares between runs
  const n = (fanOutsByKey.get(counter) ?? 0) + 1;
  fanOutsByKey.set(counter, n);
  const base = `${workflowInfo().workflowId}/${key}`;
  return n > 1 && patched('unique-batch-ids') ? `${base}~${n}` : base;
}

/** The child workflow of a large fan-out: one batch of activity calls (a workflow type in histories). */
export async function fanOutBatch(input: FanOutBatchInput): Promise<unknown[]> {
  return boundedAll(input.calls, input.maxParallel, (c) =>
    runCall<Record<string, (...a: unknown[]) => Promise<unknown>>, string>(c, input.retry),
  );
}
