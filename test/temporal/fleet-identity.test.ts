// One run per fleet under any name of its publisher (issue #21): `LAB-PUB` and
// `lab-pub.corp.example` are two workflow ids, but the publisher answers @@SERVERNAME the same
// way, so the second run stops at preflight (nothing changed) naming the first, and the first
// completes with every lab invariant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { initLab, openLab } from '../../activities/lab/index.js';
import type { UpgradePlan } from '../../plan/types.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import type { RunResult } from '../../workflows/messages.js';
import { approve, decide, getProgress, startUpgrade } from '../../cli/lib/runs.js';
import { connect, examplePlan, startWorker, uniqueQueue, waitFor } from './harness.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await connect();
});
afterAll(async () => {
  await env?.teardown();
});

const ALIAS = 'lab-pub.corp.example';
const failing = (invariants: { name: string; ok: boolean; detail: string }[]) => invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`);

/** A lab whose publisher LAB-PUB is also reached as lab-pub.corp.example, and the plan in both spellings. */
async function twoSpellings(patch: (p: UpgradePlan) => void = () => {}) {
  const plan = await examplePlan('lab-small.yaml', patch);
  await initLab(plan, { rows: 20, seed: 42, aliases: { [ALIAS]: 'LAB-PUB' } });
  const aliased = structuredClone(plan);
  aliased.publisher.server = ALIAS;
  const n = `${process.pid}-${Date.now()}`;
  return { plan, aliased, ids: [`${upgradeWorkflowId(plan)}#fleet-${n}`, `${upgradeWorkflowId(aliased)}#fleet-${n}`] as const };
}

describe('one run per fleet, whatever the publisher is called', () => {
  it('a second run naming the publisher by an alias stops at preflight naming the first; the first completes with every invariant', async () => {
    const { plan, aliased, ids } = await twoSpellings((p) => {
      p.options.approvals = ['remove-replication'];
    });
    // The spellings alone are two fleets: only the server can tell.
    expect(upgradeWorkflowId(aliased)).not.toBe(upgradeWorkflowId(plan));
    const taskQueue = uniqueQueue('fleet-identity');
    const worker = await startWorker(env, taskQueue);
    const lab = openLab((plan.target as { state: string }).state);
    try {
      const first = await startUpgrade(env.client, plan, 'dba-anna', { taskQueue, workflowId: ids[0] });
      await waitFor(env.client, first.workflowId, (p) => p.status === 'awaiting-approval');
      const countersBefore = await lab.admin.counters();

      const second = await startUpgrade(env.client, aliased, 'dba-bob', { taskQueue, workflowId: ids[1] });
      const parked = await waitFor(env.client, second.workflowId, (p) => p.status.startsWith('awaiting-'));
      const preflight = parked.steps.find((s) => s.id === 'preflight')!;
      expect(parked.current).toBe('preflight');
      expect(preflight.status).toBe('awaiting-operator');
      // Names the other run (workflow id and run id) and how to look at it.
      expect(preflight.lastError).toContain(`another upgrade of this fleet is running: ${first.workflowId} (run ${first.runId})`);
      expect(preflight.lastError).toContain(`replup status '${first.workflowId}'`);
      expect(preflight.lastError).toContain('lab-pub/personalizationserver');
      // Nothing changed: the second run did not touch the fleet (every database's counters as they were).
      expect(await lab.admin.counters()).toEqual(countersBefore);
      // It cannot be skipped past: preflight guards data.
      await expect(decide(env.client, second.workflowId, 'preflight', 'skip', 'try', 'dba-bob')).rejects.toThrow(/cannot be skipped/);

      await approve(env.client, first.workflowId, 'remove-replication', 'change 4711', 'dba-anna');
      const r = (await env.client.workflow.getHandle(first.workflowId).result()) as RunResult;
      expect(r.status).toBe('completed');
      expect(failing(await lab.admin.check())).toEqual([]);

      // The operator ends the second run: stopped at preflight, it never drained anyone.
      await decide(env.client, second.workflowId, 'preflight', 'abort', 'the fleet was upgraded by the first run', 'dba-bob');
      const ended = (await env.client.workflow.getHandle(second.workflowId).result()) as RunResult;
      expect(ended.status).toBe('aborted');
      expect((await getProgress(env.client, second.workflowId)).steps.find((s) => s.id === 'drain-users')!.status).not.toBe('done');
    } finally {
      await worker.stop();
      lab.admin.close();
    }
  });
});
