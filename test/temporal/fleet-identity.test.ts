// One run per fleet under any name of its publisher (issue #21): `LAB-PUB` and
// `lab-pub.corp.example` are two workflow ids, but the publisher answers @@SERVERNAME the same
// way, so the second run stops at preflight (nothing changed) naming the first, and the first
// completes with every lab invariant.
import { describe, expect, inject, it } from 'vitest';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { initLab, openLab } from '../../activities/lab/index.js';
import { createUpgradeActivities } from '../../activities/personalization-upgrade/activities.js';
import {
  createFleetGuardActivities,
  fleetAttributeValue,
} from '../../activities/personalization-upgrade/fleet-guard.js';
import { createReportActivities } from '../../activities/report/index.js';
import { createPortsFor } from '../../worker/ports.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import type { RunResult } from '../../workflows/messages.js';
import { approve, decide, getProgress, startUpgrade } from '../../cli/lib/runs.js';
import { ReplupFleetId } from '../../plan/personalization-upgrade/fleet-identity.js';
import { ReplupFleet, ReplupStatus, ReplupStep } from '../../workflows/messages.js';
import {
  brokenInvariants,
  examplePlan,
  uniqueQueue,
  useDevServer,
  waitFor,
  withWorkerOnLab,
  workflowBundle,
} from './harness.js';
import { createNamespace } from './cli/namespace.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

const ALIAS = 'lab-pub.corp.example';

/** A lab whose publisher LAB-PUB is also reached as lab-pub.corp.example, and the plan in both spellings. */
async function twoSpellings(patch: (p: UpgradePlan) => void = () => {}) {
  const plan = await examplePlan('lab-small.yaml', patch);
  await initLab(plan, { rows: 20, seed: 42, aliases: { [ALIAS]: 'LAB-PUB' } });
  const aliased = structuredClone(plan);
  aliased.publisher.server = ALIAS;
  const n = `${process.pid}-${Date.now()}`;
  return {
    plan,
    aliased,
    ids: [`${upgradeWorkflowId(plan)}#fleet-${n}`, `${upgradeWorkflowId(aliased)}#fleet-${n}`] as const,
  };
}

/** Both runs wait for an approval before remove-replication: the first is still running when the second starts. */
const approveRemoval = (p: UpgradePlan) => {
  p.options.approvals = ['remove-replication'];
};

describe('one run per fleet, whatever the publisher is called', () => {
  it(
    'a second run naming the publisher by an alias stops at preflight naming the first; the first completes ' +
      'with every invariant',
    async () => {
      const { plan, aliased, ids } = await twoSpellings(approveRemoval);
      // The spellings alone are two fleets: only the server can tell.
      expect(upgradeWorkflowId(aliased)).not.toBe(upgradeWorkflowId(plan));
      await withWorkerOnLab(env, plan, 'fleet-identity', async ({ lab, taskQueue }) => {
        const first = await startUpgrade(env.client, plan, 'dba-anna', { taskQueue, workflowId: ids[0] });
        await waitFor(env.client, first.workflowId, (p) => p.status === 'awaiting-approval');
        const countersBefore = await lab.admin.counters();

        const second = await startUpgrade(env.client, aliased, 'dba-bob', { taskQueue, workflowId: ids[1] });
        const parked = await waitFor(env.client, second.workflowId, (p) => p.status.startsWith('awaiting-'));
        const preflight = parked.steps.find((s) => s.id === 'preflight')!;
        expect(parked.current).toBe('preflight');
        expect(preflight.status).toBe('awaiting-operator');
        // Names the other run (workflow id and run id) and how to look at it.
        expect(preflight.lastError).toContain(
          `another upgrade of this fleet is running: ${first.workflowId} (run ${first.runId})`,
        );
        expect(preflight.lastError).toContain(`replup status '${first.workflowId}'`);
        expect(preflight.lastError).toContain('lab-pub/personalizationserver');
        // Nothing changed: the second run did not touch the fleet (every database's counters as they were).
        expect(await lab.admin.counters()).toEqual(countersBefore);
        // It cannot be skipped past: preflight guards data.
        await expect(decide(env.client, second.workflowId, 'preflight', 'skip', 'try', 'dba-bob')).rejects.toThrow(
          /cannot be skipped/,
        );

        await approve(env.client, first.workflowId, 'remove-replication', 'change 4711', 'dba-anna');
        const r = (await env.client.workflow.getHandle(first.workflowId).result()) as RunResult;
        expect(r.status).toBe('completed');
        expect(await brokenInvariants(lab)).toEqual([]);

        // The operator ends the second run: stopped at preflight, it never drained anyone.
        await decide(
          env.client,
          second.workflowId,
          'preflight',
          'abort',
          'the fleet was upgraded by the first run',
          'dba-bob',
        );
        const ended = (await env.client.workflow.getHandle(second.workflowId).result()) as RunResult;
        expect(ended.status).toBe('aborted');
        expect(
          (await getProgress(env.client, second.workflowId)).steps.find((s) => s.id === 'drain-users')!.status,
        ).not.toBe('done');
      });
    },
  );

  it(
    'two runs started at once under two spellings: at least one stops at preflight naming the other, never ' +
      'both past it',
    async () => {
      const { plan, aliased, ids } = await twoSpellings(approveRemoval);
      await withWorkerOnLab(env, plan, 'fleet-race', async ({ lab, taskQueue }) => {
        const runs = await Promise.all([
          startUpgrade(env.client, plan, 'dba-anna', { taskQueue, workflowId: ids[0] }),
          startUpgrade(env.client, aliased, 'dba-bob', { taskQueue, workflowId: ids[1] }),
        ]);
        const states = await Promise.all(
          runs.map((r) =>
            waitFor(
              env.client,
              r.workflowId,
              (p) =>
                p.status === 'awaiting-approval' || (p.status === 'awaiting-operator' && p.current === 'preflight'),
            ),
          ),
        );
        const past = runs.filter((_, i) => states[i]!.status === 'awaiting-approval');
        expect(past.length).toBeLessThanOrEqual(1);
        states.forEach((st, i) => {
          if (st.status !== 'awaiting-operator') return;
          const other = runs[1 - i]!;
          expect(st.steps.find((x) => x.id === 'preflight')!.lastError).toContain(
            `${other.workflowId} (run ${other.runId})`,
          );
        });
        // Both stopped (each listed the other): the first, retried alone, goes on; the second is ended.
        let goes = past[0];
        if (!goes) {
          await decide(env.client, runs[1].workflowId, 'preflight', 'abort', 'one run is enough', 'dba-bob');
          await env.client.workflow.getHandle(runs[1].workflowId).result();
          await decide(env.client, runs[0].workflowId, 'preflight', 'retry', 'the other run ended', 'dba-anna');
          await waitFor(env.client, runs[0].workflowId, (p) => p.status === 'awaiting-approval');
          goes = runs[0]!;
        } else {
          const stopped = runs.find((r) => r !== goes)!;
          await decide(env.client, stopped.workflowId, 'preflight', 'abort', 'one run is enough', 'dba-bob');
          expect(((await env.client.workflow.getHandle(stopped.workflowId).result()) as RunResult).status).toBe(
            'aborted',
          );
        }
        await approve(env.client, goes.workflowId, 'remove-replication', 'change 4712', 'dba-anna');
        expect(((await env.client.workflow.getHandle(goes.workflowId).result()) as RunResult).status).toBe('completed');
        expect(await brokenInvariants(lab)).toEqual([]);
      });
    },
  );

  it(
    'a namespace without ReplupFleetId: the run completes, its preflight note says the check could not be made ' +
      'and how to register the attribute',
    async () => {
      // A namespace of this test's own with only the three older attributes, as on a server a user set up before.
      const address = inject('temporalAddress');
      const namespace = `replup-nofleetid-${process.pid}-${Date.now()}`;
      await createNamespace(address, namespace, (conn) =>
        conn.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: { ReplupStep: 2, ReplupStatus: 2, ReplupFleet: 2 },
        }),
      );
      const own = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
      const { plan } = await twoSpellings();
      const taskQueue = uniqueQueue('fleet-unregistered');
      const portsFor = createPortsFor();
      const worker = await Worker.create({
        connection: own.nativeConnection,
        namespace,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: {
          ...createUpgradeActivities(portsFor),
          ...createFleetGuardActivities(async () => own.client, portsFor),
          ...createReportActivities(async () => own.client),
        },
      });
      const running = worker.run();
      const lab = openLab((plan.target as { state: string }).state);
      try {
        const started = await startUpgrade(own.client, plan, 'dba-anna', { taskQueue, workflowId: ids0(plan) });
        const r = (await own.client.workflow.getHandle(started.workflowId).result()) as RunResult;
        expect(r.status).toBe('completed');
        const note = r.progress.steps.find((x) => x.id === 'preflight')!.note ?? '';
        expect(note).toContain(
          `warning: the search attribute ReplupFleetId is not registered in namespace ${namespace}`,
        );
        expect(note).toContain('temporal operator search-attribute create --name ReplupFleetId --type Keyword');
        expect(await brokenInvariants(lab)).toEqual([]);
      } finally {
        worker.shutdown();
        await running;
        await portsFor.close();
        lab.admin.close();
        await own.teardown();
      }
    },
  );
});

describe('claimFleet finds the other run whatever characters its identity has', () => {
  it.each([
    ['a named instance (backslash)', 'sql01\\personalization/personalizationserver'],
    ['a lab path with a quote', 'lab:/tmp/o"brien/lab.json|lab-pub/personalizationserver'],
  ])('%s', async (_, raw) => {
    // As fleetIdentity records it: no visibility query finds a value with a backslash or a quote (measured).
    const identity = fleetAttributeValue(raw);
    // Two runs recorded under the identity on a queue no worker serves: they stay running, as a run waiting for an
    // operator does.
    const taskQueue = uniqueQueue('fleet-chars');
    const start = (id: string) =>
      env.client.workflow.start('personalizationUpgrade', {
        taskQueue,
        workflowId: `${id}-${process.pid}-${Date.now()}`,
        args: [],
        typedSearchAttributes: [
          { key: ReplupFleet, value: 'x' },
          { key: ReplupStatus, value: 'running' },
          { key: ReplupStep, value: '' },
          { key: ReplupFleetId, value: identity },
        ],
      });
    const [mine, other] = [await start('mine'), await start('other')];
    try {
      const guard = createFleetGuardActivities(async () => env.client, createPortsFor());
      await expect(
        new MockActivityEnvironment().run(guard.claimFleet, {
          identity,
          workflowId: mine.workflowId,
          runId: mine.firstExecutionRunId,
        }),
      ).rejects.toThrow(
        `another upgrade of this fleet is running: ${other.workflowId} (run ${other.firstExecutionRunId}). ` +
          `The publisher names itself ${raw.replace(/^lab:.*\|/, '')},`,
      );
    } finally {
      await Promise.all([mine.terminate('test over'), other.terminate('test over')]);
    }
  });
});

const ids0 = (plan: UpgradePlan) => `${upgradeWorkflowId(plan)}#fleet-${process.pid}-${Date.now()}`;
