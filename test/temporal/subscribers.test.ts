// add-subscriber and remove-subscriber (issue 24) on a Temporal dev server against the lab of
// examples/lab-small.yaml: adding LAB-SUB3 waits at its approval gate, whose note names the rows the
// snapshot deletes, and completes once approved with the canary at the new subscriber; a plan whose
// publisher is Express is refused at validate; removing LAB-SUB1 completes with the canary still at
// LAB-SUB2; and an addition on the lab `replup lab init` makes of examples/add-subscriber.yaml. replup's
// own worker (worker/main.ts) serves every run. With REPLUP_RECORD_HISTORY=1 the completed runs' histories
// are written to test/fixtures/histories/{add,remove}-subscriber.history.pb (replayed by test/unit/replay).
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import { initLab, readLabState } from '../../activities/lab/index.js';
import { addLabSubscriberDatabase, initSubscriberLab, subscriberInvariants } from '../../activities/lab/subscribers.js';
import { createReplupWorker } from '../../worker/main.js';
import { parseAddSubscriberPlan } from '../../plan/add-subscriber/schema.js';
import { parseRemoveSubscriberPlan } from '../../plan/remove-subscriber/schema.js';
import type { AddSubscriberPlan, RemoveSubscriberPlan, SubscriberPlanBase } from '../../plan/add-subscriber/types.js';
import { startAddSubscriber } from '../../cli/lib/start-add-subscriber.js';
import { startRemoveSubscriber } from '../../cli/lib/start-remove-subscriber.js';
import { approve } from '../../cli/lib/runs.js';
import type { StepProgress } from '../../workflows/messages.js';
import { examplePlan, uniqueQueue, useDevServer, waitFor } from './harness.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

const ENDED = ['completed', 'aborted', 'failed', 'awaiting-operator'];
const NEW = { server: 'LAB-SUB3', database: 'PersonalizationServer' };

function parsed<P>(r: { ok: true; value: P } | { ok: false; errors: unknown }): P {
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

/**
 * replup's own worker (worker/main.ts: every runbook over the real ports) on a new queue named after `name`,
 * running until `stop`.
 */
async function startReplupWorker(name: string) {
  const taskQueue = uniqueQueue(name);
  const { worker, close } = await createReplupWorker({
    taskQueue,
    logLevel: 'WARN',
    env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: 'default' },
  });
  const running = worker.run();
  const stop = async () => {
    worker.shutdown();
    await running;
    await close();
  };
  return { taskQueue, stop };
}

/** A subscriber runbook as these tests run it: its example plan file, how it is read and how a run starts. */
interface Runbook<P> {
  /** examples/<name>.yaml; the runs' workflow ids begin with it. */
  name: string;
  parse: (text: string, path: string) => { ok: true; value: P } | { ok: false; errors: unknown };
  start: (client: Client, plan: P, actor: string, opts: { taskQueue: string; workflowId: string }) => unknown;
}
const ADD: Runbook<AddSubscriberPlan> = {
  name: 'add-subscriber',
  parse: parseAddSubscriberPlan,
  start: startAddSubscriber,
};
const REMOVE: Runbook<RemoveSubscriberPlan> = {
  name: 'remove-subscriber',
  parse: parseRemoveSubscriberPlan,
  start: startRemoveSubscriber,
};

/** A plan of `runbook` on its lab (state file `state`) and the worker serving it: what runThroughGate runs. */
interface SubscriberLab<P> extends Awaited<ReturnType<typeof startReplupWorker>> {
  runbook: Runbook<P>;
  plan: P;
  state: string;
}

/** A fresh lab of lab-small.yaml (with LAB-SUB3 added) for `plan`, and replup's worker serving it. */
async function subscriberLab<P extends SubscriberPlanBase>(runbook: Runbook<P>, plan: P): Promise<SubscriberLab<P>> {
  const fleet = await examplePlan('lab-small.yaml');
  const state = (fleet.target as { state: string }).state;
  await initLab(fleet, { rows: 6, seed: 3 });
  await addLabSubscriberDatabase(state, { ...NEW, rows: 4 });
  const run: P = { ...plan, target: { kind: 'lab', state } };
  run.options.retry = { initialSeconds: 0.2, maximumSeconds: 1, maximumAttempts: 20 };
  return { runbook, plan: run, state, ...(await startReplupWorker('subscribers')) };
}

async function record(workflowId: string, name: string) {
  if (process.env.REPLUP_RECORD_HISTORY !== '1') return;
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  writeFileSync(
    resolve(`test/fixtures/histories/${name}.history.pb`),
    proto.temporal.api.history.v1.History.encode(history).finish(),
  );
}

/**
 * Waits until the run waits at `gate`, checks that step (`atGate`), approves it as alice and waits for the
 * end: completed, no step with an error. Returns the run's last progress.
 */
async function throughGate(workflowId: string, gate: string, atGate: (step: StepProgress) => void) {
  const waiting = await waitFor(
    env.client,
    workflowId,
    (p) => p.status === 'awaiting-approval' || ENDED.includes(p.status),
  );
  expect(waiting.status).toBe('awaiting-approval');
  atGate(waiting.steps.find((s) => s.id === gate)!);
  await approve(env.client, workflowId, gate, 'test approval', 'alice');
  const done = await waitFor(env.client, workflowId, (p) => ENDED.includes(p.status));
  expect(done.steps.filter((s) => s.lastError).map((s) => `${s.id}: ${s.lastError}`)).toEqual([]);
  expect(done.status).toBe('completed');
  await env.client.workflow.getHandle(workflowId).result();
  return done;
}

const example = (file: string) => {
  const path = resolve('examples', file);
  return { path, text: readFileSync(path, 'utf8') };
};

/** subscriberLab for the runbook's example plan (the test fails on its errors). */
async function exampleLab<P extends SubscriberPlanBase>(runbook: Runbook<P>) {
  const { path, text } = example(`${runbook.name}.yaml`);
  return subscriberLab(runbook, parsed(runbook.parse(text, path)));
}

/**
 * Starts `lab.plan` as test-operator, workflow id `<runbook>-<suffix><pid>-<now>`, and takes the run through `gate`
 * (throughGate, `atGate` checking the step); the lab's worker is stopped after, whether it passes or throws.
 * Returns the run's last progress and its workflow id.
 */
async function runThroughGate<P>(
  lab: SubscriberLab<P>,
  gate: string,
  atGate: (step: StepProgress) => void,
  suffix = '',
) {
  const workflowId = `${lab.runbook.name}-${suffix}${process.pid}-${Date.now()}`;
  try {
    await lab.runbook.start(env.client, lab.plan, 'test-operator', { taskQueue: lab.taskQueue, workflowId });
    return { workflowId, done: await throughGate(workflowId, gate, atGate) };
  } finally {
    await lab.stop();
  }
}

describe('add-subscriber on the lab', () => {
  it('waits for approval naming the row counts, then completes with the canary at the new subscriber', async () => {
    const lab = await exampleLab(ADD);
    const { done, workflowId } = await runThroughGate(lab, 'create-subscriptions', (gate) => {
      expect(gate.note).toMatch(/delete the data of LAB-SUB3\/PersonalizationServer/);
      expect(gate.note).toMatch(
        /about 12 rows in 3 tables .*approximate counts, sys\.dm_db_partition_stats.*dbo\.ProfileData 4/,
      );
      // Nothing is subscribed before the approval.
      expect(
        Object.values(readLabState(lab.state).subscriptions).some((s) => s.subscriberKey.startsWith('LAB-SUB3')),
      ).toBe(false);
    });
    expect(done.steps.find((s) => s.id === 'verify-subscription')!.note).toMatch(
      /reached LAB-SUB3\/PersonalizationServer/,
    );
    const failed = subscriberInvariants(readLabState(lab.state), { added: NEW }).filter((i) => !i.ok);
    expect(failed.map((i) => `${i.name}: ${i.detail}`)).toEqual([]);
    await record(workflowId, 'add-subscriber');
  });

  // With named approvers the gate adds its approvals and who may still give one; the people asked still read
  // what they approve (the rows the snapshot deletes).
  it('with named approvers the gate still names the rows it deletes, then who may approve', async () => {
    const lab = await exampleLab(ADD);
    lab.plan.options.gates = {
      'create-subscriptions': { approvers: ['alice', 'bob'], minApprovals: 1, starterMayApprove: true },
    };
    await runThroughGate(lab, 'create-subscriptions', (gate) => {
      expect(gate.note).toMatch(/^approve to delete the data of LAB-SUB3\/PersonalizationServer .*about 12 rows/);
      expect(gate.note).toMatch(/; 0 of 1 approval; may still approve: alice or bob$/);
    });
  });

  it('refuses a plan whose publisher is Express at validate', () => {
    const { path, text } = example('add-subscriber.yaml');
    const r = parseAddSubscriberPlan(text.replace('edition: Standard', 'edition: Express'), path);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n')).toMatch(
        /publisher\.edition: Express can only subscribe/,
      );
  });
});

describe('remove-subscriber on the lab', () => {
  it('drops and cleans LAB-SUB1 after approval, and the canary still reaches LAB-SUB2', async () => {
    const lab = await exampleLab(REMOVE);
    const { done, workflowId } = await runThroughGate(lab, 'drop-subscriptions', (gate) => {
      expect(gate.note).toMatch(/1 other subscriber keeps replicating/);
    });
    expect(done.steps.find((s) => s.id === 'verify-fleet')!.note).toMatch(/still reaches LAB-SUB2/);
    await env.client.workflow.getHandle(workflowId).result();
    const failed = subscriberInvariants(readLabState(lab.state), {
      removed: { server: 'LAB-SUB1', database: 'PersonalizationServer' },
    }).filter((i) => !i.ok);
    expect(failed.map((i) => `${i.name}: ${i.detail}`)).toEqual([]);
    await record(workflowId, 'remove-subscriber');
  });
});

describe("replup's own worker (worker/main.ts) on the lab `replup lab init` makes of the example plan", () => {
  it('adds LAB-SUB3: the subscriber runbooks are served, approved, completed, every invariant holds', async () => {
    const { path, text } = example(`${ADD.name}.yaml`);
    const state = join(mkdtempSync(join(tmpdir(), 'replup-add-subscriber-')), 'lab.json');
    const plan = { ...parsed(parseAddSubscriberPlan(text, path)), target: { kind: 'lab' as const, state } };
    plan.options.retry = { initialSeconds: 0.2, maximumSeconds: 1, maximumAttempts: 20 };
    await initSubscriberLab(plan);
    const lab = { runbook: ADD, plan, state, ...(await startReplupWorker('subscribers-worker')) };
    const atGate = (gate: StepProgress) => expect(gate.note).toMatch(/about 30 rows in 3 tables/);
    await runThroughGate(lab, 'create-subscriptions', atGate, 'worker-');
    const failed = subscriberInvariants(readLabState(state), { added: NEW }).filter((i) => !i.ok);
    expect(failed.map((i) => `${i.name}: ${i.detail}`)).toEqual([]);
  });
});
