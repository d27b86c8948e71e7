// The set-up runbook (issue 24) on a Temporal dev server against the lab: on a lab with the fleet's
// databases and no replication (nor the master's distributor) it installs the distributor, completes, and
// every set-up invariant holds (both forms); a fleet already replicated is refused at preflight with
// nothing changed; a failed Snapshot Agent parks the publication's step with nobody subscribed. With
// REPLUP_RECORD_HISTORY=1 the completed run's history is written to
// test/fixtures/histories/setup-replication.history.pb (replayed by test/unit/replay).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import { readLabState, type LabConditions } from '../../activities/lab/index.js';
import { initSetupLab } from '../../activities/lab/setup-replication.js';
import { labVerdict } from '../../activities/lab/check.js';
import type { LabState } from '../../activities/lab/model.js';
import { createUpgradeActivities } from '../../activities/personalization-upgrade/activities.js';
import { createSetupActivities } from '../../activities/setup-replication/activities.js';
import { parseSetupPlan } from '../../plan/setup-replication/schema.js';
import type { SetupPlan } from '../../plan/setup-replication/types.js';
import { startSetupReplication } from '../../cli/lib/start-setup-replication.js';
import { createPortsFor } from '../../worker/ports.js';
import { approve } from '../../cli/lib/runs.js';
import { startWorker, uniqueQueue, useDevServer, waitFor } from './harness.js';
import type { Progress } from '../../workflows/messages.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

const ENDED = ['completed', 'aborted', 'failed', 'awaiting-operator'];

/** examples/<example>.yaml on a fresh lab (initSetupLab), with the set-up's activities on a new queue. */
async function setupOnLab(
  example: string,
  opts: {
    conditions?: LabConditions;
    change?: (s: LabState) => void;
    approvals?: SetupPlan['options']['approvals'];
  } = {},
) {
  const file = resolve('examples', `${example}.yaml`);
  const parsed = parseSetupPlan(readFileSync(file, 'utf8'), file);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const state = join(mkdtempSync(join(tmpdir(), 'replup-setup-')), 'lab.json');
  const plan: SetupPlan = { ...parsed.value, target: { kind: 'lab', state } };
  plan.options.retry = { initialSeconds: 0.2, maximumSeconds: 1, maximumAttempts: 20 };
  if (opts.approvals) plan.options.approvals = opts.approvals;
  await initSetupLab(plan, { rows: 10, seed: 5, ...(opts.conditions && { conditions: opts.conditions }) });
  if (opts.change) {
    const s = readLabState(state);
    opts.change(s);
    writeFileSync(state, JSON.stringify(s));
  }
  const portsFor = createPortsFor();
  const taskQueue = uniqueQueue('setup-replication');
  const worker = await startWorker(env, taskQueue, {
    ...createUpgradeActivities(portsFor),
    ...createSetupActivities(portsFor),
  });
  const workflowId = `setup-replication-${example}-${process.pid}-${Date.now()}`;
  await startSetupReplication(env.client, plan, 'test-operator', { taskQueue, workflowId });
  return {
    plan,
    state,
    workflowId,
    stop: async () => {
      await worker.stop();
      await portsFor.close();
    },
  };
}

/**
 * Runs set-up plan `example` on a lab (snapshots ready after 2 ticks) until it ends, which must be completed with no
 * step error; `inspect` sees the end while the worker still runs. The worker is stopped before it returns.
 */
async function completedOnLab(example: string, inspect: (done: Progress, workflowId: string) => unknown) {
  const { workflowId, state, stop } = await setupOnLab(example, { conditions: { snapshotTicks: 2 } });
  try {
    const done = await waitFor(env.client, workflowId, (p) => ENDED.includes(p.status));
    expect(done.steps.filter((s) => s.lastError).map((s) => `${s.id}: ${s.lastError}`)).toEqual([]);
    expect(done.status).toBe('completed');
    await inspect(done, workflowId);
  } finally {
    await stop();
  }
  return { workflowId, state };
}

const replication = (s: LabState) =>
  Object.values(s.databases).map((d) => [d.key, d.mergePublished, d.publications, d.readCommittedSnapshot ?? false]);

describe('setupReplication on the lab', () => {
  it('completes on a fleet without replication, and every set-up invariant holds', async () => {
    const { workflowId, state } = await completedOnLab('setup-replication', async (done, id) => {
      expect(done.steps.find((s) => s.id === 'publish-branch-data')!.status).toBe('not-applicable');
      expect(done.steps.find((s) => s.id === 'configure-distributor')!.note).toBe('installed at LAB-MASTER');
      await env.client.workflow.getHandle(id).result();
    });
    const failed = labVerdict(readLabState(state)).invariants.filter((i) => !i.ok);
    expect(failed.map((i) => `${i.name}: ${i.detail}`)).toEqual([]);
    if (process.env.REPLUP_RECORD_HISTORY === '1') {
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      const file = resolve('test/fixtures/histories/setup-replication.history.pb');
      writeFileSync(file, proto.temporal.api.history.v1.History.encode(history).finish());
    }
  });

  it('sets up the branch-office topology in the seed order, each branch its own distributor', async () => {
    const { state } = await completedOnLab('setup-branch-office', (done) => {
      expect(done.steps.find((s) => s.id === 'publish-data')!.status).toBe('not-applicable');
      expect(done.steps.find((s) => s.id === 'publish-branch-data')!.status).toBe('done');
    });
    const failed = labVerdict(readLabState(state)).invariants.filter((i) => !i.ok);
    expect(failed.map((i) => `${i.name}: ${i.detail}`)).toEqual([]);
  });

  it("subscribe-config's gate names each subscriber database whose data the snapshot replaces", async () => {
    const { workflowId, stop } = await setupOnLab('setup-replication', {
      conditions: { snapshotTicks: 2 },
      approvals: ['subscribe-config'],
    });
    try {
      const waiting = await waitFor(
        env.client,
        workflowId,
        (p) => ENDED.includes(p.status) || p.status === 'awaiting-approval',
      );
      expect(waiting.status).toBe('awaiting-approval');
      expect(waiting.steps.find((s) => s.id === 'subscribe-config')!.note).toBe(
        'approve to delete the data of 2 subscriber databases and replace it with the Config snapshot (sync type ' +
          'automatic; the vendor\'s Replication guide: "all the existing data is deleted and replaced with data ' +
          'from the master"): ' +
          'LAB-SITE1/PersonalizationServer, LAB-SITE2\\PERSONALIZATION/PersonalizationServer',
      );
      await approve(env.client, workflowId, 'subscribe-config', 'seed caution read', 'test-approver');
      const done = await waitFor(env.client, workflowId, (p) => ENDED.includes(p.status));
      expect(done.status).toBe('completed');
    } finally {
      await stop();
    }
  });

  it('refuses a fleet already replicated at preflight, naming the way forward, and changes nothing', async () => {
    const { workflowId, state, stop } = await setupOnLab('setup-replication', {
      change: (s) => {
        const db = s.databases['LAB-SITE1/PersonalizationServer']!;
        db.mergePublished = true;
        db.publications.Config = { name: 'Config', articles: ['PersonalizationGroup'] };
      },
    });
    const before = readLabState(state);
    try {
      const parked = await waitFor(env.client, workflowId, (p) => ENDED.includes(p.status));
      expect(parked.status).toBe('awaiting-operator');
      expect(parked.current).toBe('preflight');
      const preflight = parked.steps.find((s) => s.id === 'preflight')!;
      expect(preflight.lastError).toMatch(
        /LAB-SITE1\/PersonalizationServer is already replicated \(publication Config\)/,
      );
      expect(preflight.lastError).toMatch(/Nothing was changed.*add-subscriber runbook.*remove replication first/);
      expect(parked.steps.find((s) => s.id === 'read-committed-snapshot')!.status).toBe('pending');
      expect(replication(readLabState(state))).toEqual(replication(before));
      expect(readLabState(state).distributors).toEqual(before.distributors);
      expect(readLabState(state).subscriptions).toEqual({});
    } finally {
      await env.client.workflow.getHandle(workflowId).terminate('test over');
      await stop();
    }
  });

  it('a failed Snapshot Agent parks publish-config, and nobody is subscribed', async () => {
    const { workflowId, state, stop } = await setupOnLab('setup-replication', {
      conditions: { snapshotFails: 'the snapshot folder \\\\lab\\repldata is not reachable' },
    });
    try {
      const parked = await waitFor(env.client, workflowId, (p) => ENDED.includes(p.status));
      expect(parked.status).toBe('awaiting-operator');
      expect(parked.current).toBe('publish-config');
      expect(parked.steps.find((s) => s.id === 'publish-config')!.lastError).toMatch(
        /Snapshot Agent of publication Config .* failed: the snapshot folder/,
      );
      expect(parked.steps.find((s) => s.id === 'subscribe-config')!.status).toBe('pending');
      expect(readLabState(state).subscriptions).toEqual({});
    } finally {
      await env.client.workflow.getHandle(workflowId).terminate('test over');
      await stop();
    }
  });
});
