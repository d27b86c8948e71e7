// Before `replup demo` serves its own worker: is another worker already polling task queue `replup`
// on this server and namespace? Temporal hands each task to whichever poller asks first, so such a
// worker would run part of the demo's workflow and activities: started in another folder, it opens
// another lab file (or none), and the demo's run fails in ways that name that other lab.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

/** One poller as DescribeTaskQueue lists it: the worker's identity (`pid@host` by default). */
export interface Poller {
  identity: string;
  /** When it last polled, in ms since the epoch; undefined when the server did not say. */
  lastAccessMs: number | undefined;
}

/**
 * The pollers still alive: one not seen for `withinMs` (default 70 s) has stopped, while the server keeps
 * listing stopped pollers for a few minutes. *Inferred*: a live worker's long poll returns within about a
 * minute and it polls again at once, so its last access is never older than that (a `replup worker` on the
 * dev server showed seconds). One identity appears once (a worker polls for workflow and activity tasks).
 */
export function livePollers(pollers: Poller[], nowMs: number, withinMs = 70_000): string[] {
  const live = pollers.filter((p) => p.lastAccessMs !== undefined && nowMs - p.lastAccessMs <= withinMs);
  return [...new Set(live.map((p) => p.identity))].sort();
}

/**
 * The identities of the live workers polling `taskQueue` (workflow or activity tasks) in the client's
 * namespace. Errors: the server's (connection, permission), as thrown by DescribeTaskQueue.
 */
export async function otherWorkers(client: Client, taskQueue: string, nowMs = Date.now()): Promise<string[]> {
  const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = proto.temporal.api.enums.v1.TaskQueueType;
  const pollers: Poller[] = [];
  for (const taskQueueType of [TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY]) {
    const r = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType,
    });
    for (const p of r.pollers ?? [])
      pollers.push({
        identity: p.identity ?? '(no identity)',
        lastAccessMs: p.lastAccessTime?.seconds == null ? undefined : Number(p.lastAccessTime.seconds) * 1000,
      });
  }
  return livePollers(pollers, nowMs);
}
