// An operator's night (issue #21) on a real dev server against the lab: a bug in workflow code
// parks the step with its message, preflight cannot be skipped and no hint offers it, abort is
// accepted while a step runs or the run is paused, watch exits 3 on a pause, and a run ended
// outside replup reads as such in `status` and `list`.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { initLab, openLab, type Lab } from '../../activities/lab/index.js';
import { labVerdict } from '../../activities/lab/check.js';
import { createUpgradeActivities } from '../../activities/personalization-upgrade/activities.js';
import { createPortsFor } from '../../worker/ports.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import type { Progress, RunResult } from '../../workflows/messages.js';
import { answerCommands, decide, getProgress, listRuns, pause, startUpgrade } from '../../cli/lib/runs.js';
import { followRun } from '../../cli/lib/follow.js';
import { EXIT } from '../../cli/errors.js';
import { NOT_REACHED, renderReportMarkdown } from '../../activities/report/build.js';
import { reportFromHistory } from '../../activities/report/index.js';
import { examplePlan, startWorker, uniqueQueue, useDevServer, waitFor } from './harness.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

type Activities = ReturnType<typeof createUpgradeActivities>;
let counter = 0;

/** A fresh lab, a worker whose activities the test may replace, and a run of the plan. */
async function setup(patch: (p: UpgradePlan) => void, replace: (real: Activities) => Partial<Activities> = () => ({})) {
  const plan = await examplePlan('lab-small.yaml');
  await initLab(plan, { rows: 20, seed: 42 });
  patch(plan);
  const lab: Lab = openLab((plan.target as { state: string }).state);
  const taskQueue = uniqueQueue('operator');
  const portsFor = createPortsFor();
  const real = createUpgradeActivities(portsFor);
  const worker = await startWorker(env, taskQueue, { ...real, ...replace(real) });
  const workflowId = `${upgradeWorkflowId(plan)}#operator-${process.pid}-${++counter}`;
  await startUpgrade(env.client, plan, 'test-operator', { taskQueue, workflowId });
  const result = () => env.client.workflow.getHandle(workflowId).result() as Promise<RunResult>;
  const close = async () => {
    await worker.stop();
    await portsFor.close();
    lab.admin.close();
  };
  return { plan, lab, workflowId, result, close };
}

/** An activity that holds until the test lets it go (heartbeating meanwhile, as real ones do). */
function held() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const started = new Promise<void>((r) => (entered = r));
  const wait = async () => {
    entered();
    const beat = setInterval(() => Context.current().heartbeat('held by the test'), 500);
    try {
      await gate;
    } finally {
      clearInterval(beat);
    }
  };
  return { wait, release, started };
}

/** The example plan with every merge held until the test calls `h.release()`. */
async function setupMergesHeld() {
  const h = held();
  const t = await setup(
    () => {},
    (real) => ({
      mergeSubscription: async (...args: Parameters<Activities['mergeSubscription']>) => {
        await h.wait();
        return real.mergeSubscription(...args);
      },
    }),
  );
  return { h, t };
}

const parked = (p: Progress) =>
  p.status.startsWith('awaiting-') || ['aborted', 'completed', 'failed'].includes(p.status);

describe('an operator night', () => {
  it('a bug in workflow code parks the step with its message; preflight offers no skip and refuses one', async () => {
    // checkServer answers without the server's name: the preflight's workflow code throws a TypeError.
    const t = await setup(
      () => {},
      () => ({ checkServer: async () => ({}) as never }),
    );
    try {
      const p = await waitFor(env.client, t.workflowId, parked, 60_000);
      const pre = p.steps.find((s) => s.id === 'preflight')!;
      expect(pre.status).toBe('awaiting-operator');
      expect(pre.lastError).toMatch(
        /^internal error in the workflow code \(TypeError: .+\): report it with the run's id; retry once a worker with the fix runs, or abort$/,
      );
      expect(pre.skippable).toBe(false);
      const hints = answerCommands(p, t.workflowId);
      expect(hints.map((h) => h.split(' ')[1])).toEqual(['retry', 'abort']);
      await expect(decide(env.client, t.workflowId, 'preflight', 'skip', 'try it', 'dba-ann')).rejects.toThrow(
        'step preflight cannot be skipped',
      );
      // `status` answers (no opaque Temporal error) and abort ends the run.
      expect((await getProgress(env.client, t.workflowId)).status).toBe('awaiting-operator');
      await decide(env.client, t.workflowId, undefined, 'abort', 'bug reported', 'dba-ann');
      const r = await t.result();
      expect(r.status).toBe('aborted');
      expect(r.outcome).toBe('aborted at preflight by dba-ann: bug reported');
    } finally {
      await t.close();
    }
  });

  it('a step that allows it is skipped: the skip is recorded with actor and reason, and the run goes on', async () => {
    let failures = 0;
    const t = await setup(
      () => {},
      (real) => ({
        // The backups fail once (a full disk); the operator takes them by hand and skips.
        backupDatabase: async (...args: Parameters<Activities['backupDatabase']>) => {
          if (failures++ === 0)
            throw ApplicationFailure.nonRetryable(
              'Operating system error 112 (There is not enough space on the disk.)',
              'BackupFailed',
            );
          return real.backupDatabase(...args);
        },
      }),
    );
    try {
      const p = await waitFor(env.client, t.workflowId, parked, 90_000);
      expect(p.current).toBe('backup');
      expect(answerCommands(p, t.workflowId).map((c) => c.split(' ')[1])).toEqual(['retry', 'skip', 'abort']);
      await decide(env.client, t.workflowId, 'backup', 'skip', 'backups taken by hand to \\\\nas\\upgrade', 'dba-ben');
      const r = await t.result();
      expect(r.status).toBe('completed');
      expect(r.progress.steps.find((s) => s.id === 'backup')!.status).toBe('skipped');
      expect(r.progress.decisions).toMatchObject([
        { kind: 'skip', step: 'backup', actor: 'dba-ben', reason: 'backups taken by hand to \\\\nas\\upgrade' },
      ]);
    } finally {
      await t.close();
    }
  });

  it('preflight on missing scripts parks; the hints offer retry and abort only', async () => {
    const t = await setup((p) => {
      p.scripts.dir = '/nonexistent/Replication/10.4';
    });
    try {
      const p = await waitFor(env.client, t.workflowId, parked, 60_000);
      expect(p.current).toBe('preflight');
      expect(p.steps.find((s) => s.id === 'preflight')!.lastError).toContain('/nonexistent/Replication/10.4');
      expect(answerCommands(p, t.workflowId).some((c) => c.startsWith('replup skip'))).toBe(false);
      await expect(decide(env.client, t.workflowId, 'preflight', 'skip', 'scripts later', 'dba-ann')).rejects.toThrow(
        'cannot be skipped',
      );
      await decide(env.client, t.workflowId, 'preflight', 'abort', 'scripts missing', 'dba-ann');
      expect((await t.result()).status).toBe('aborted');
    } finally {
      await t.close();
    }
  });

  it('abort while a step runs takes effect after its activity, runs the cleanup and is recorded', async () => {
    const { h, t } = await setupMergesHeld();
    try {
      await h.started;
      const running = await waitFor(
        env.client,
        t.workflowId,
        (p) => p.current === 'sync-until-quiet' && p.status === 'running',
      );
      expect(running.steps.find((s) => s.id === 'drain-users')!.status).toBe('done');
      const after = await decide(env.client, t.workflowId, undefined, 'abort', 'window closed', 'dba-bob');
      expect(after.decisions.at(-1)).toMatchObject({
        kind: 'abort',
        step: 'sync-until-quiet',
        actor: 'dba-bob',
        reason: 'window closed',
      });
      // Still running: the merges in flight finish first.
      expect((await getProgress(env.client, t.workflowId)).status).toBe('running');
      h.release();
      const r = await t.result();
      expect(r.status).toBe('aborted');
      expect(r.outcome).toBe('aborted at sync-until-quiet by dba-bob: window closed');
      // The merges in flight settled; the step's next activity never started.
      expect(r.progress.steps.find((s) => s.id === 'sync-until-quiet')!.status).toBe('aborted');
      expect(r.progress.steps.filter((s) => s.status === 'aborted').map((s) => s.id)).toContain('remove-replication');
      // The cleanup before removal: users admitted again, replication intact.
      const verdict = labVerdict(await t.lab.admin.state());
      expect(verdict.phase).toBe('intact');
      expect(verdict.invariants.filter((i) => !i.ok)).toEqual([]);
      // The report: steps never reached say so (no start time); the cleanup says what it did;
      // the file is this run's own, not the fleet's.
      const report = await reportFromHistory(env.client, t.workflowId);
      const unreached = report.steps.filter((s) => s.status === NOT_REACHED);
      expect(unreached.map((s) => s.id)).toEqual(
        r.progress.steps.filter((s) => s.status === 'aborted' && s.id !== 'sync-until-quiet').map((s) => s.id),
      );
      expect(unreached.every((s) => s.startedAt === undefined)).toBe(true);
      expect(report.steps.find((s) => s.id === 'sync-until-quiet')).toMatchObject({
        status: 'aborted',
        startedAt: expect.any(String),
      });
      expect(report.abortCleanup?.summary).toBe('users admitted again on 4 personalization servers');
      const md = renderReportMarkdown(report);
      expect(md).toContain('not reached: the run ended before verify-replication');
      expect(md).not.toContain('canary `?`');
      expect(md).toContain('## Abort cleanup');
      expect((r.progress.facts.report as { markdown: string }).markdown).toMatch(
        new RegExp(`\\.${report.runId}\\.md$`),
      );
    } finally {
      h.release();
      await t.close();
    }
  });

  it('a paused run: watch exits 3 printing resume and abort; abort is accepted and ends it', async () => {
    const { h, t } = await setupMergesHeld();
    try {
      await h.started;
      await pause(env.client, t.workflowId, 'coffee', 'dba-cy');
      h.release();
      const paused = await waitFor(
        env.client,
        t.workflowId,
        (p) => p.status === 'paused' && p.steps.find((s) => s.id === 'sync-until-quiet')!.status === 'done',
      );
      const out = new PassThrough();
      let text = '';
      out.on('data', (c) => (text += String(c)));
      const code = await followRun(env.client, t.workflowId, { render: false, out, intervalMs: 200 });
      expect(code).toBe(EXIT.waiting);
      expect(text).toContain('The run is paused after sync-until-quiet by dba-cy: coffee');
      expect(text).toContain(`replup resume '${t.workflowId}' --reason "..."`);
      expect(text).toContain(`replup abort '${t.workflowId}' --step sync-until-quiet --reason "..."`);
      // `list --status awaiting-operator` finds a paused run: a person holds it.
      await expect
        .poll(async () => (await listRuns(env.client, 'awaiting-operator')).map((x) => x.workflowId), {
          timeout: 15_000,
        })
        .toContain(t.workflowId);
      expect(paused.current).toBe('sync-until-quiet');
      await decide(env.client, t.workflowId, undefined, 'abort', 'not tonight', 'dba-cy');
      const r = await t.result();
      expect(r.status).toBe('aborted');
      expect(r.outcome).toBe('aborted at sync-until-quiet by dba-cy: not tonight');
      expect(r.progress.steps.find((s) => s.id === 'backup')!.status).toBe('aborted');
      expect(r.progress.decisions.map((d) => d.kind)).toEqual(['pause', 'abort']);
      expect(r.progress.steps.find((s) => s.id === 'remove-replication')!.status).toBe('aborted');
      expect(Object.values((await t.lab.admin.state()).hosts).every((x) => !x.drained)).toBe(true);
    } finally {
      h.release();
      await t.close();
    }
  });

  it(
    'a run at a gate is awaiting-operator in list; ' + 'terminated outside replup, status and list say ' + 'terminated',
    async () => {
      const t = await setup((p) => {
        p.options.approvals = ['remove-replication'];
      });
      try {
        await waitFor(env.client, t.workflowId, (p) => p.status === 'awaiting-approval');
        await expect
          .poll(async () => (await listRuns(env.client, 'awaiting-operator')).map((x) => x.workflowId), {
            timeout: 15_000,
          })
          .toContain(t.workflowId);
        await env.client.workflow.getHandle(t.workflowId).terminate('operator used the temporal CLI');
        const p = await getProgress(env.client, t.workflowId);
        expect(p.status).toBe('terminated');
        expect(p.outcome).toMatch(
          /^the workflow was terminated at remove-replication .*outside replup: no abort cleanup ran/,
        );
        await expect
          .poll(async () => (await listRuns(env.client)).find((x) => x.workflowId === t.workflowId)?.status, {
            timeout: 15_000,
          })
          .toBe('terminated');
        await expect
          .poll(async () => (await listRuns(env.client, 'terminated')).map((x) => x.workflowId), { timeout: 15_000 })
          .toContain(t.workflowId);
        expect((await listRuns(env.client, 'awaiting-operator')).map((x) => x.workflowId)).not.toContain(t.workflowId);
      } finally {
        await t.close();
      }
    },
  );
});
