// Two-person approval and the maintenance window (#23) on a real dev server against the lab: the
// gate's validator refuses the starter, a stranger and a second approval by one person, saying who
// may still approve; two approvals open it, each on the record with its client identity. A run
// with --at starts at the window by Temporal's start delay; a step from remove-replication on does
// not begin after the window closed: it parks with the reason, skip is refused, retry goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { initLab, openLab } from '../../activities/lab/index.js';
import { reportFromHistory } from '../../activities/report/index.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import type { Progress, RunResult } from '../../workflows/messages.js';
import { answerCommands, approve, decide, startUpgrade } from '../../cli/lib/runs.js';
import { withWindow } from '../../cli/commands/start.js';
import { startDelayMs } from '../../plan/window.js';
import { UserError } from '../../cli/errors.js';
import { connect, examplePlan, startWorker, uniqueQueue, waitFor } from './harness.js';
import { childEnv, labPlanCopy, replup, scratchDir } from './cli/replup.js';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
let taskQueue: string;
beforeAll(async () => {
  env = await connect();
  taskQueue = uniqueQueue('approval-window');
  worker = await startWorker(env, taskQueue);
});
afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

let counter = 0;
async function run(patch: (p: UpgradePlan) => void, opts: { starter?: string; startDelayMs?: number } = {}) {
  const plan = await examplePlan('lab-small.yaml', patch);
  await initLab(plan, { rows: 20, seed: 42 });
  const workflowId = `${upgradeWorkflowId(plan)}#approval-window-${process.pid}-${++counter}`;
  await startUpgrade(env.client, plan, opts.starter ?? 'alice', {
    taskQueue,
    workflowId,
    ...(opts.startDelayMs !== undefined && { startDelayMs: opts.startDelayMs }),
  });
  return { plan, workflowId, result: () => env.client.workflow.getHandle(workflowId).result() as Promise<RunResult> };
}

/** The validator's words, as the CLI prints them after "refused: ". */
async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return (err as UserError).message;
}

const gateOf = (p: Progress) => p.steps.find((s) => s.id === 'remove-replication')!;

describe('two-person approval', () => {
  // 2 of alice, bob, carol, started by alice: the starter, a stranger and a repeat are refused with who may
  // still approve; bob and carol open the gate, both on the record.
  it('2 of 3 approvers: refusals say who may still approve; two approvals open the gate', async () => {
    const t = await run((p) => {
      p.options.approvals = ['remove-replication'];
      p.options.gates = {
        'remove-replication': { approvers: ['alice', 'bob', 'carol'], minApprovals: 2, starterMayApprove: false },
      };
    });
    let p = await waitFor(env.client, t.workflowId, (x) => x.status === 'awaiting-approval');
    expect(gateOf(p).note).toBe('0 of 2 approvals; may still approve: bob or carol');

    expect(await refusal(approve(env.client, t.workflowId, 'remove-replication', 'looks fine', 'alice'))).toBe(
      "refused: alice started this run and may not also approve remove-replication (the plan's " +
        'starterMayApprove is false, the default for remove-replication when approvers are named); 2 more ' +
        'approvals needed, from bob or carol',
    );
    expect(await refusal(approve(env.client, t.workflowId, 'remove-replication', 'why not', 'mallory'))).toMatch(
      /^refused: mallory is not an approver of remove-replication .*from bob or carol$/,
    );

    p = await approve(env.client, t.workflowId, 'remove-replication', 'change 4711 approved', 'bob');
    expect(p.status).toBe('awaiting-approval');
    expect(gateOf(p).note).toBe('1 of 2 approvals (bob); may still approve: carol');
    expect(await refusal(approve(env.client, t.workflowId, 'remove-replication', 'again', 'bob'))).toBe(
      'refused: bob has already approved remove-replication: each approval must come from a different ' +
        'person; 1 more approval needed, from carol',
    );

    await approve(env.client, t.workflowId, 'remove-replication', 'second pair of eyes', 'carol');
    const r = await t.result();
    expect(r.status).toBe('completed');
    const approvals = r.progress.decisions.filter((d) => d.kind === 'approve');
    expect(approvals.map((d) => [d.actor, d.reason, d.identity])).toEqual([
      ['bob', 'change 4711 approved', env.client.options.identity],
      ['carol', 'second pair of eyes', env.client.options.identity],
    ]);
    // The report, rebuilt from the history, has both approvals with the identity the server recorded.
    const report = await reportFromHistory(env.client, t.workflowId);
    expect(report.decisions.filter((d) => d.kind === 'approve').map((d) => [d.actor, d.identity])).toEqual([
      ['bob', env.client.options.identity],
      ['carol', env.client.options.identity],
    ]);
  });
});

describe('the maintenance window', () => {
  // --at: Temporal holds the start until the window opens (its start delay); the memo and the progress
  // carry the window.
  it('--at: the start waits for the window; memo and progress carry it', async () => {
    const now = Date.now();
    const at = new Date(now + 4000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const notAfter = new Date(now + 3_600_000).toISOString();
    // What `replup start plan.yaml --at … --not-after …` does: the window laid over the plan, the delay from it.
    const plan = withWindow(
      await examplePlan('lab-small.yaml', (p) => void (p.options.approvals = ['remove-replication'])),
      { at, notAfter },
      now,
    ) as UpgradePlan;
    await initLab(plan, { rows: 20, seed: 42 });
    const workflowId = `${upgradeWorkflowId(plan)}#window-at-${process.pid}`;
    const delay = startDelayMs(plan.options.window!, Date.now());
    expect(delay).toBeGreaterThan(1000);
    await startUpgrade(env.client, plan, 'alice', { taskQueue, workflowId, startDelayMs: delay });
    const desc = await env.client.workflow.getHandle(workflowId).describe();
    expect(Math.abs(desc.executionTime!.getTime() - Date.parse(at))).toBeLessThan(1000);
    expect(desc.memo?.window).toEqual({ at: new Date(at).toISOString(), notAfter });

    const p = await waitFor(env.client, workflowId, (x) => x.status === 'awaiting-approval', 60_000);
    // Nothing ran before the window opened.
    expect(Date.parse(p.startedAt)).toBeGreaterThanOrEqual(Date.parse(at) - 50);
    expect(p.window).toEqual({ at: new Date(at).toISOString(), notAfter });
    const memo = (await env.client.workflow.getHandle(workflowId).describe()).memo?.replup as { window?: unknown };
    expect(memo.window).toEqual(p.window);
    await decide(env.client, workflowId, 'remove-replication', 'abort', 'window test over', 'test');
  });

  // The window closed before remove-replication: the gate parks with the reason, skip is refused, retry
  // goes on (recorded) and later steps do not ask again.
  it('window closed: the gate parks, skip is refused, retry goes on and later steps do not ask again', async () => {
    const t = await run((p) => {
      p.options.approvals = ['remove-replication'];
      // Closed a minute ago: as if the sync took longer than the night (the CLI refuses to start such a run).
      p.options.window = { notAfter: new Date(Date.now() - 60_000).toISOString() };
    });
    const p = await waitFor(env.client, t.workflowId, (x) => x.status === 'awaiting-operator');
    expect(p.current).toBe('remove-replication');
    expect(gateOf(p).lastError).toMatch(
      /^the maintenance window closed at .* no step from remove-replication on begins after it; retry to go on anyway \(recorded\), or abort$/,
    );
    // The steps before ran; nothing from remove-replication on began.
    expect(p.steps.filter((s) => s.status === 'done').map((s) => s.id)).toEqual([
      'preflight',
      'drain-users',
      'sync-until-quiet',
      'backup',
    ]);
    expect(answerCommands(p, t.workflowId).map((c) => c.split(' ')[1])).toEqual(['retry', 'abort']);
    expect(await refusal(decide(env.client, t.workflowId, 'remove-replication', 'skip', 'late', 'bob'))).toBe(
      'refused: step remove-replication waits because the maintenance window closed: retry to go on anyway ' +
        '(recorded), or abort',
    );
    await decide(
      env.client,
      t.workflowId,
      'remove-replication',
      'retry',
      'change board extended the window to 06:00',
      'bob',
    );
    await waitFor(env.client, t.workflowId, (x) => x.status === 'awaiting-approval');
    await approve(env.client, t.workflowId, 'remove-replication', 'approved', 'carol');
    const r = await t.result();
    expect(r.status).toBe('completed');
    expect(r.progress.decisions.map((d) => [d.kind, d.step, d.actor])).toEqual([
      ['retry', 'remove-replication', 'bob'],
      ['approve', 'remove-replication', 'carol'],
    ]);
    // Every later step ran without parking for the window again.
    expect(r.progress.steps.every((s) => ['done', 'not-applicable'].includes(s.status))).toBe(true);
    const lab = openLab((t.plan.target as { state: string }).state);
    lab.admin.close();
  });
});

describe('replup start --at / --not-after, as typed', () => {
  // start prints when the run starts and the window; status says scheduled until then; a time without
  // an offset is a usage error.
  it('start --at: a time without an offset is a usage error; start and window printed; status scheduled', async () => {
    const dir = scratchDir('window-cli');
    const env_ = childEnv(dir);
    const { file, workflowId } = labPlanCopy(dir, `WINDOW-${process.pid}`);
    const bad = await replup(['start', file, '--at', '2026-12-05T22:00'], env_);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--at "2026-12-05T22:00" is not an ISO 8601 time with an offset (it has no offset: add Z for UTC or ' +
        'the local offset, e.g. +01:00)',
    );

    const at = new Date(Date.now() + 3_600_000);
    const notAfter = new Date(at.getTime() + 4 * 3_600_000);
    try {
      const started = await replup(
        ['start', file, '--at', at.toISOString(), '--not-after', notAfter.toISOString()],
        env_,
      );
      expect(started.code).toBe(0);
      expect(started.stdout).toMatch(
        new RegExp(
          `starts: ${at.toISOString().replace(/[.]/g, '\\.')} \\(Temporal start delay 3[56]\\d\\d s; until ` +
            `then replup status says scheduled\\)`,
        ),
      );
      expect(started.stdout).toContain(
        `window: no step from remove-replication on begins after ${notAfter.toISOString()}`,
      );
      const status = await replup(['status', workflowId], env_);
      expect(status.code).toBe(0);
      const startsAt = new RegExp(`^${workflowId}: scheduled, starts at (\\S+)$`, 'm').exec(status.stdout)?.[1];
      expect(Math.abs(Date.parse(startsAt ?? '') - at.getTime())).toBeLessThan(2000);
      expect(status.stdout).toContain(
        `maintenance window: from ${at.toISOString()}, not after ${notAfter.toISOString()} (no step from ` +
          `remove-replication on begins later)`,
      );
    } finally {
      await env.client.workflow
        .getHandle(workflowId)
        .terminate('window test over')
        .catch(() => {});
    }
  });
});
