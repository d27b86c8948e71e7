// A 500-subscriber fleet: per-subscriber work fans out into child workflow batches, so the
// parent's history stays far under Temporal's limits (and under the 10,000 events we promise).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, inject, it } from 'vitest';
import { connectClient } from '../../worker/connection.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { initLab, openLab } from '../../activities/lab/index.js';
import { loadPlanText } from '../../plan/load.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { startUpgrade } from '../../cli/lib/runs.js';
import type { RunResult } from '../../workflows/messages.js';
import { startWorker, uniqueQueue, useDevServer } from './harness.js';

// Re-serialising 501 databases on every write to check the lab's dirty tracking would dominate
// this test; the other suites check it.
process.env.REPLUP_LAB_CHECK_DIRTY = '0';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

/** A plan for one publisher and n subscribers, through the same loader a DBA's file goes through. */
export function fleetPlan(n: number, dir: string, extra = ''): UpgradePlan {
  const subscribers = Array.from(
    { length: n },
    (_, i) => `  - server: SUB${String(i + 1).padStart(4, '0')}\n    personalizationServers: [ps-sub${i + 1}]`,
  ).join('\n');
  const text = [
    `name: fleet-${n}`,
    'runbook: em-personalization-upgrade',
    'from: 10.0.0.0',
    'to: 10.4.0.0',
    `target: { kind: lab, state: ${JSON.stringify(join(dir, 'lab.json'))} }`,
    'publisher:',
    `  server: SCALE-PUB-${n}`,
    '  personalizationServers: [ps-pub]',
    'subscribers:',
    subscribers,
    `scripts: { dir: ${JSON.stringify(resolve('examples/replication'))} }`,
    'hosts: { upgrade: "setup {host} {version}" }',
    `options: { approvals: [], maxParallel: 50, drainTimeoutSeconds: 1, retry: { initialSeconds: 0.2, ` +
      `maximumSeconds: 1, maximumAttempts: 20 }${extra} }`,
  ].join('\n');
  const r = loadPlanText(text, join(dir, 'plan.yaml'));
  if (!r.ok) throw new Error(JSON.stringify(r.errors.slice(0, 3)));
  return r.plan as UpgradePlan;
}

it('a 500-subscriber upgrade completes with the parent history under 10,000 events', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'replup-scale-'));
  const plan = fleetPlan(500, dir);
  // No users: every one of them writes rows that merge replication must carry to all 500 subscribers
  // (Data is published to everyone), which would measure the lab's CPU, not the history.
  await initLab(plan, { rows: 2, seed: 5, latencyMs: 0, usersPerHost: 0 });
  const taskQueue = uniqueQueue('scale');
  const worker = await startWorker(env, taskQueue);
  const lab = openLab(join(dir, 'lab.json'));
  try {
    const started = await startUpgrade(env.client, plan, 'test', { taskQueue, workflowId: `scale-500-${Date.now()}` });
    const handle = env.client.workflow.getHandle(started.workflowId);
    const r = (await handle.result()) as RunResult;
    expect(r.status).toBe('completed');
    // Read as `replup report` reads it: a page of this history passes gRPC's 4 MiB default.
    const reader = await connectClient({
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
    });
    const history = await reader.workflow
      .getHandle(started.workflowId)
      .fetchHistory()
      .finally(() => reader.connection.close());
    const parentEvents = history.events?.length ?? 0;
    const children = new Set(
      history.events?.map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId).filter(Boolean),
    );
    console.log(`500 subscribers: parent history ${parentEvents} events, ${children.size} child batches`);
    expect(parentEvents).toBeLessThan(10_000);
    expect(children.size).toBeGreaterThan(0);
    expect((await lab.admin.check()).filter((i) => !i.ok)).toEqual([]);
  } finally {
    await worker.stop();
    lab.admin.close();
  }
}, 900_000);
