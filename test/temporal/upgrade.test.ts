// The Personalization Server upgrade on a real Temporal dev server against the lab: each test
// checks what a DBA would check afterwards — the lab's invariants and the run's record.
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { initLab, openLab, type Lab } from '../../activities/lab/index.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import type { RunResult } from '../../workflows/messages.js';
import { approve, decide, getProgress, startUpgrade } from '../../cli/lib/runs.js';
import { UserError } from '../../cli/errors.js';
import { EXPECTED_UPGRADE_STEPS } from '../support/expected-steps.js';
import { examplePlan, expectAllDone, startWorker, uniqueQueue, useDevServer, waitFor, withStopped } from './harness.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

let fleetCounter = 0;
/** A fresh lab for a plan, and a unique workflow id so tests never collide. */
async function setup(
  file: string,
  patch: (p: UpgradePlan) => void = () => {},
  init: Parameters<typeof initLab>[1] = {},
  /** Changes to the plan after the lab was made from it: a plan that disagrees with the fleet. */
  afterInit: (p: UpgradePlan) => void = () => {},
) {
  const plan = await examplePlan(file, patch);
  await initLab(plan, { rows: 20, seed: 42, ...init });
  afterInit(plan);
  const lab: Lab = openLab((plan.target as { state: string }).state);
  const taskQueue = uniqueQueue(file.replace('.yaml', ''));
  const worker = await startWorker(env, taskQueue);
  const workflowId = `${upgradeWorkflowId(plan)}#test-${process.pid}-${++fleetCounter}`;
  const started = await startUpgrade(env.client, plan, 'test-operator', { taskQueue, workflowId });
  // The run's result; a run that parks instead fails the test at once, saying where and why.
  const result = async (): Promise<RunResult> => {
    const p = await waitFor(
      env.client,
      started.workflowId,
      (x) => ['completed', 'aborted'].includes(x.status) || x.status.startsWith('awaiting-'),
    );
    if (p.status.startsWith('awaiting-')) {
      const s = p.steps.find((x) => x.status.startsWith('awaiting-'));
      throw new Error(`the run parked at ${s?.id} (${s?.status}): ${s?.lastError ?? ''}`);
    }
    return env.client.workflow.getHandle(started.workflowId).result() as Promise<RunResult>;
  };
  // An operator's decision on this run (decide): `action` on `step`, with `reason`, as `actor`.
  const decideOn = (step: string, action: 'retry' | 'skip' | 'abort', reason: string, actor?: string) =>
    decide(env.client, workflowId, step, action, reason, actor);
  return { plan, lab, worker, workflowId, result, taskQueue, decide: decideOn };
}

/** setup(...args), then `body` with it; stops the worker and closes the lab after `body`, passed or not. */
function withSetup(args: Parameters<typeof setup>, body: (t: Awaited<ReturnType<typeof setup>>) => Promise<void>) {
  const stop = async (t: Awaited<ReturnType<typeof setup>>) => {
    await t.worker.stop();
    t.lab.admin.close();
  };
  return withStopped(setup(...args), stop, body);
}

const failing = (invariants: { name: string; ok: boolean; detail: string }[]) =>
  invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`);

describe('personalization upgrade on the lab', () => {
  it('from 8.2: all 12 steps run and the fleet passes every invariant', async () => {
    await withSetup(['lab-small.yaml'], async (t) => {
      expectAllDone(await t.result(), EXPECTED_UPGRADE_STEPS);
      expect(failing(await t.lab.admin.check())).toEqual([]);
      const counters = await t.lab.admin.counters();
      // Each database backed up exactly once by this run.
      for (const site of t.plan.sites) expect(counters[`${site.server}/${site.database}`]?.backups).toBe(1);
    });
  });

  it('from 10.0: the two version-dependent steps do not apply, and say why', async () => {
    await withSetup(['lab-modern.yaml'], async (t) => {
      const r = await t.result();
      expect(r.status).toBe('completed');
      const na = r.progress.steps.filter((s) => s.status === 'not-applicable');
      expect(na.map((s) => s.id)).toEqual(['stop-background-services', 'convert-row-guids']);
      for (const s of na) expect(s.reason).toMatch(/10\.0/);
      expect(failing(await t.lab.admin.check())).toEqual([]);
    });
  });

  it('conflicts park the sync; an operator resolves them and decides retry; the run completes', async () => {
    await withSetup(['lab-small.yaml', () => {}, { conflicts: 3 }], async (t) => {
      const parked = await waitFor(env.client, t.workflowId, (p) => p.status === 'awaiting-operator');
      const sync = parked.steps.find((s) => s.id === 'sync-until-quiet')!;
      expect(sync.status).toBe('awaiting-operator');
      expect(sync.lastError).toMatch(/ConflictsFound: conflicting rows need a decision .*3 conflicts/);
      expect(await t.lab.admin.resolveConflicts()).toBe(3);
      await t.decide('sync-until-quiet', 'retry', 'resolved 3 PK conflicts in the conflict viewer', 'dba-anna');
      const r = await t.result();
      expect(r.status).toBe('completed');
      const s = r.progress.steps.find((x) => x.id === 'sync-until-quiet')!;
      expect(s.attempts).toBe(2);
      expect(r.progress.decisions).toMatchObject([
        {
          kind: 'retry',
          step: 'sync-until-quiet',
          actor: 'dba-anna',
          reason: 'resolved 3 PK conflicts in the conflict viewer',
        },
      ]);
      expect(failing(await t.lab.admin.check())).toEqual([]);
    });
  });

  it('a lab with transient faults (deadlocks, timeouts, resets) completes without an operator', async () => {
    await withSetup(['lab-small.yaml', () => {}, { faults: { transient: 0.15, seed: 11 } }], async (t) => {
      const r = await t.result();
      expect(r.status).toBe('completed');
      expect(r.progress.decisions).toEqual([]);
      expect(failing(await t.lab.admin.check())).toEqual([]);
    });
  });

  it(
    'preflight cannot be skipped; an invalid decision is refused and changes nothing; the abort is recorded ' +
      'with actor and reason',
    async () => {
      // The plan expects Enterprise on the publisher; the lab runs Standard: preflight parks.
      await withSetup(
        [
          'lab-small.yaml',
          () => {},
          {},
          (p) => {
            p.sites[0]!.edition = 'Enterprise';
          },
        ],
        async (t) => {
          const parked = await waitFor(env.client, t.workflowId, (p) => p.status === 'awaiting-operator');
          expect(parked.steps[0]!.lastError).toMatch(/PreflightFailed: .* the plan expects Enterprise/);

          const before = JSON.stringify(await getProgress(env.client, t.workflowId));
          const refusals = [
            [
              () => decide(env.client, t.workflowId, 'sync-until-quiet', 'retry', 'why not'),
              'step sync-until-quiet is pending, not waiting for a decision; the run is waiting at preflight ' +
                '(awaiting-operator)',
            ],
            [
              () => decide(env.client, t.workflowId, 'preflight', 'retry', '  '),
              'a reason is required to retry a step',
            ],
            [() => decide(env.client, t.workflowId, 'no-such-step', 'retry', 'x'), 'unknown step "no-such-step"'],
            [
              () => approve(env.client, t.workflowId, 'remove-replication', 'ok'),
              'there is no approval gate "remove-replication" in this run',
            ],
          ] as const;
          for (const [attempt, message] of refusals) {
            const err = await attempt().catch((e) => e);
            expect(err).toBeInstanceOf(UserError);
            expect(err.message).toContain(message);
          }
          expect(JSON.stringify(await getProgress(env.client, t.workflowId))).toBe(before);

          // What preflight finds would break a later step once replication is gone (issue #21).
          const skip = await t.decide('preflight', 'skip', 'edition checked by hand', 'dba-ben').catch((e) => e);
          expect(skip.message).toBe(
            'refused: step preflight cannot be skipped: skipping it would risk data; retry it or abort the run',
          );
          expect(JSON.stringify(await getProgress(env.client, t.workflowId))).toBe(before);
          await t.decide('preflight', 'abort', 'the plan says Enterprise: fix the plan', 'dba-ben');
          const r = await t.result();
          expect(r.status).toBe('aborted');
          expect(r.progress.decisions).toMatchObject([
            { kind: 'abort', step: 'preflight', actor: 'dba-ben', reason: 'the plan says Enterprise: fix the plan' },
          ]);
        },
      );
    },
  );

  it('a step that guards data cannot be skipped', async () => {
    await withSetup(['lab-small.yaml', () => {}, { conflicts: 1 }], async (t) => {
      await waitFor(env.client, t.workflowId, (p) => p.status === 'awaiting-operator');
      const err = await decide(env.client, t.workflowId, 'sync-until-quiet', 'skip', 'in a hurry').catch((e) => e);
      expect(err.message).toBe(
        'refused: step sync-until-quiet cannot be skipped: skipping it would risk data; retry it or abort the run',
      );
      await decide(env.client, t.workflowId, 'sync-until-quiet', 'abort', 'conflicts need the vendor', 'dba-anna');
      const r = await t.result();
      expect(r.status).toBe('aborted');
    });
  });

  it(
    'the approval gate blocks until approved; abort at ' + 'the gate leaves replication intact and users admitted',
    async () => {
      const gated = await setup('lab-small.yaml', (p) => {
        p.options.approvals = ['remove-replication'];
      });
      try {
        const atGate = await waitFor(env.client, gated.workflowId, (p) => p.status === 'awaiting-approval');
        expect(atGate.current).toBe('remove-replication');
        expect(atGate.steps.find((s) => s.id === 'backup')!.status).toBe('done');
        // It stays there: nothing moves without an approval.
        await new Promise((r) => setTimeout(r, 1500));
        expect(
          (await getProgress(env.client, gated.workflowId)).steps.find((s) => s.id === 'remove-replication')!.status,
        ).toBe('awaiting-approval');
        await approve(env.client, gated.workflowId, 'remove-replication', 'change 4711', 'dba-carl');
        const r = await gated.result();
        expect(r.status).toBe('completed');
        expect(r.progress.decisions).toMatchObject([
          { kind: 'approve', step: 'remove-replication', actor: 'dba-carl', reason: 'change 4711' },
        ]);
      } finally {
        await gated.worker.stop();
        gated.lab.admin.close();
      }

      const aborted = await setup('lab-small.yaml', (p) => {
        p.options.approvals = ['remove-replication'];
      });
      try {
        await waitFor(env.client, aborted.workflowId, (p) => p.status === 'awaiting-approval');
        await aborted.decide('remove-replication', 'abort', 'maintenance window over', 'dba-carl');
        const r = await aborted.result();
        expect(r.status).toBe('aborted');
        expect(r.outcome).toBe('aborted at remove-replication by dba-carl: maintenance window over');
        const state = await aborted.lab.admin.state();
        // Replication intact: every subscription still there; personalization servers serve again.
        expect(Object.values(state.hosts).every((h: any) => !h.drained)).toBe(true);
        const subs = Object.values(state.subscriptions ?? {}) as any[];
        expect(subs.length).toBeGreaterThan(0);
        expect(subs.every((s) => s.status !== 'deleted')).toBe(true);
        expect(r.progress.steps.filter((s) => s.status === 'done').map((s) => s.id)).toEqual([
          'preflight',
          'drain-users',
          'sync-until-quiet',
          'backup',
        ]);
      } finally {
        await aborted.worker.stop();
        aborted.lab.admin.close();
      }
    },
  );

  it('a second start of the same fleet is refused with a clear message', async () => {
    await withSetup(
      [
        'lab-small.yaml',
        (p) => {
          p.options.approvals = ['remove-replication'];
        },
      ],
      async (t) => {
        await waitFor(env.client, t.workflowId, (p) => p.status === 'awaiting-approval');
        const err = await startUpgrade(env.client, t.plan, 'someone-else', {
          taskQueue: t.taskQueue,
          workflowId: t.workflowId,
        }).catch((e) => e);
        expect(err).toBeInstanceOf(UserError);
        expect(err.message).toBe(
          `an upgrade of ${t.plan.publisher.server}/${t.plan.publisher.database} is already running (${t.workflowId})`,
        );
        await decide(env.client, t.workflowId, 'remove-replication', 'abort', 'test over');
        expect((await t.result()).status).toBe('aborted');
      },
    );
  });

  // Issue #18 §3-5: a fleet as real ones are. The schedules before the run are all enabled (the
  // lab gives every push subscription the vendor's schedule): restored means enabled again.
  const schedules = async (lab: Lab, plan: UpgradePlan) =>
    (await lab.sql.mergeAgentJobs({ server: plan.publisher.server, database: plan.publisher.database })).map(
      (j) => `${j.publication}/${j.subscriber.server}: ${j.schedules.map((x) => x.enabled).join()}`,
    );

  it(
    'scheduled agent jobs, a slow snapshot and agent sessions during the drain: the run completes with every ' +
      'invariant and the schedules back as they were',
    async () => {
      await withSetup(
        [
          'lab-small.yaml',
          () => {},
          {
            conditions: { scheduledJobs: true, snapshotTicks: 25, agentSessions: true },
          },
        ],
        async (t) => {
          const r = await t.result();
          expect(r.status).toBe('completed');
          const preflight = r.progress.steps.find((s) => s.id === 'preflight')!;
          // The vendor's schedules (Config every 5 minutes all day, Data at midnight) overlap: said per subscriber, not
          // changed (#20 §5).
          const overlap = (sub: string) =>
            `the merge agents of Config and Data at ${sub}/PersonalizationServer can run at the same time ` +
            `(Config ${sub}/PersonalizationServer schedule: every 5 minutes 00:00:00-23:59:59; Data ${sub}` +
            `/PersonalizationServer schedule: at 00:00:00); ` +
            ("the vendor's Replication guide says Config and Data must never overlap: change one of the schedules " +
              '(replup keeps them as they are)');
          expect(preflight.note).toBe(
            `3 servers, 4 subscriptions, 5 scripts checked; 4 merge agent schedules paused for the run; warning: ` +
              `${overlap('LAB-SUB1')}; ${overlap('LAB-SUB2\\PERSONALIZATION')}`,
          );
          expect(r.progress.steps.find((s) => s.id === 'enable-replication')!.note).toMatch(
            /; snapshots ready within \d+ s(;|$)/,
          );
          // The merge agents' sessions were neither waited for nor KILLed: counted, they would have parked the drain
          // (UsersConnected).
          expect(r.progress.steps.find((s) => s.id === 'drain-users')!.status).toBe('done');
          expect(failing(await t.lab.admin.check())).toEqual([]);
          const after = await schedules(t.lab, t.plan);
          expect(after.length).toBe(t.plan.publications.reduce((n, p) => n + p.subscribers.length, 0));
          expect(after.every((x) => x.endsWith(': true'))).toBe(true);
          expect(
            (await t.lab.admin.counters())[`${t.plan.sites[1]!.server}/${t.plan.sites[1]!.database}`],
          ).toMatchObject({
            snapshotDeliveries: 0,
          });
        },
      );
    },
  );

  it(
    'an expired subscription stops the run at preflight, before anything changed; abort at the gate puts ' +
      'paused schedules back',
    async () => {
      const expired = await setup('lab-small.yaml', () => {}, {
        conditions: { expiredSubscriptions: 1, scheduledJobs: true },
      });
      try {
        const parked = await waitFor(env.client, expired.workflowId, (p) => p.status === 'awaiting-operator');
        const step = parked.steps.find((s) => s.id === 'preflight')!;
        expect(step.status).toBe('awaiting-operator');
        expect(step.lastError).toMatch(
          /subscription Config → \S+ has expired \(last merged .*\): its changes can no longer merge/,
        );
        // Nothing changed: no host drained, every schedule still enabled.
        const state = await expired.lab.admin.state();
        expect(Object.values(state.hosts).every((h: any) => !h.drained)).toBe(true);
        expect((await schedules(expired.lab, expired.plan)).every((x) => x.endsWith(': true'))).toBe(true);
        await decide(env.client, expired.workflowId, 'preflight', 'abort', 'reinitialize first', 'dba-anna');
        expect((await expired.result()).status).toBe('aborted');
      } finally {
        await expired.worker.stop();
        expired.lab.admin.close();
      }

      const gated = await setup(
        'lab-small.yaml',
        (p) => {
          p.options.approvals = ['remove-replication'];
        },
        { conditions: { scheduledJobs: true } },
      );
      try {
        await waitFor(env.client, gated.workflowId, (p) => p.status === 'awaiting-approval');
        expect((await schedules(gated.lab, gated.plan)).every((x) => x.endsWith(': false'))).toBe(true);
        await decide(env.client, gated.workflowId, 'remove-replication', 'abort', 'window over', 'dba-carl');
        expect((await gated.result()).status).toBe('aborted');
        expect((await schedules(gated.lab, gated.plan)).every((x) => x.endsWith(': true'))).toBe(true);
      } finally {
        await gated.worker.stop();
        gated.lab.admin.close();
      }
    },
  );
});
