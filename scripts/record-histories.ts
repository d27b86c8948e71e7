// Records workflow histories for the replay test (test/unit/replay/replay.test.ts): a happy path
// from 8.2, a conflict parked and retried, and an abort at the approval gate. Run it against a dev
// server when a workflow change is meant to be compatible, and commit the files:
//   npx replup dev && npx tsx scripts/record-histories.ts
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { initLab, openLab } from '../activities/lab/index.js';
import { approve, decide, startUpgrade } from '../cli/lib/runs.js';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { examplePlan, startWorker, waitFor } from '../test/temporal/harness.js';

const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const env = await TestWorkflowEnvironment.createFromExistingServer({ address });
const out = resolve('test/fixtures/histories');

async function scenario(
  name: string,
  init: { conflicts?: number },
  approvals: string[],
  act: (id: string, labPath: string) => Promise<void>,
) {
  const plan = await examplePlan('lab-small.yaml', (p) => {
    p.options.approvals = approvals;
  });
  await initLab(plan, { rows: 10, seed: 3, ...init });
  const taskQueue = `record-${name}-${Date.now()}`;
  const worker = await startWorker(env, taskQueue);
  const workflowId = `record-${name}-${Date.now()}`;
  await startUpgrade(env.client, plan, 'recorder', { taskQueue, workflowId });
  await act(workflowId, (plan.target as { state: string }).state);
  await env.client.workflow.getHandle(workflowId).result();
  await worker.stop();
  // Binary protobuf: protobufjs's proto3-JSON reader is broken across the SDK's nested copies.
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  writeFileSync(join(out, `${name}.history.pb`), temporal.api.history.v1.History.encode(history).finish());
  console.log(`recorded ${name}`);
}

await scenario('happy-path-8.2', {}, [], async () => {});
await scenario('conflict-retry', { conflicts: 2 }, [], async (id, labPath) => {
  await waitFor(env.client, id, (p) => p.status === 'awaiting-operator');
  const lab = openLab(labPath); // the worker holds the lab in this same process
  await lab.admin.resolveConflicts();
  lab.admin.close();
  await decide(env.client, id, 'sync-until-quiet', 'retry', 'recorded: conflicts resolved', 'recorder');
});
await scenario('approved-gate', {}, ['remove-replication'], async (id) => {
  await waitFor(env.client, id, (p) => p.status === 'awaiting-approval');
  await approve(env.client, id, 'remove-replication', 'recorded approval', 'recorder');
});
await env.teardown();
