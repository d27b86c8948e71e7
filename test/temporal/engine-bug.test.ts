// A bug in workflow code outside any step (issue #21): the run ends `failed` with the message, on
// the record (status, outcome, report), instead of a workflow task that fails and retries forever.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker, bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { createReportActivities } from '../../activities/report/index.js';
import { getProgress } from '../../cli/lib/runs.js';
import { uniqueQueue, useDevServer } from './harness.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

describe('a bug in workflow code between steps', () => {
  it('ends the run failed with the message, the later steps aborted, the report written', async () => {
    const taskQueue = uniqueQueue('engine-bug');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: resolve('test/temporal/fixtures/engine-bug.workflow.ts'),
        logger: new DefaultLogger('WARN'),
      }),
      activities: { answer: async () => ({}), ...createReportActivities(async () => env.client) },
    });
    const running = worker.run();
    try {
      const workflowId = `engine-bug-${process.pid}-${Date.now()}`;
      const handle = await env.client.workflow.start('engineBug', { taskQueue, workflowId, args: [] });
      const err = await handle.result().catch((e) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const message =
        /^internal error in the workflow code \(TypeError: .+\): report it with the run's id; no abort cleanup ran: check the fleet, and start again once a worker with the fix runs$/;
      expect((err as WorkflowFailedError).cause?.message).toMatch(message);
      const p = await getProgress(env.client, workflowId);
      expect(p.status).toBe('failed');
      expect(p.outcome).toMatch(/^failed after one: internal error in the workflow code \(TypeError: /);
      expect(p.steps.map((s) => [s.id, s.status])).toEqual([
        ['one', 'done'],
        // Never started: shown as not reached, as the report says (workflows/step-view.ts).
        ['two', 'not reached'],
      ]);
      expect(p.facts.report).toMatchObject({ markdown: expect.stringContaining(`${workflowId}.`) });
    } finally {
      worker.shutdown();
      await running;
    }
  });
});
