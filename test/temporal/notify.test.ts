// Notifications of a real run on the dev server against the lab, received by a local HTTP
// receiver (real HTTP, real payloads): the gate waiting, reminders on durable timers while it
// waits, the end of the run; and a receiver that is down: the run goes on and ends as it would,
// the undelivered notifications on its record.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { defaultPayloadConverter } from '@temporalio/common';
import { initLab } from '../../activities/lab/index.js';
import { createUpgradeActivities } from '../../activities/personalization-upgrade/activities.js';
import { createNotifyActivities } from '../../activities/notify/index.js';
import { reportFromHistory, type RunReport } from '../../activities/report/index.js';
import { createPortsFor } from '../../worker/ports.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import { END_WAIT_SECONDS, type NotificationFailure } from '../../workflows/notify.js';
import type { RunResult } from '../../workflows/messages.js';
import { approve, decide, startUpgrade } from '../../cli/lib/runs.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import type { NotifyEventKind } from '../../plan/notify.js';
import { connect, examplePlan, startWorker, uniqueQueue, waitFor, withStopped } from './harness.js';
import { downUrl, startReceiver, type Receiver } from '../unit/notify/receiver.js';

let env: TestWorkflowEnvironment;
let rx: Receiver;
beforeAll(async () => {
  env = await connect();
  rx = await startReceiver();
});
afterAll(async () => {
  await rx?.close();
  await env?.teardown();
});

const UI = 'http://ui.test';
let counter = 0;

async function run(
  hooks: Record<string, string>,
  notify: UpgradePlan['notify'],
  conditions: { unsettledConflicts?: number } = {},
) {
  const plan = await examplePlan('lab-small.yaml', (p) => {
    p.options.approvals = ['remove-replication'];
    p.notify = notify;
  });
  await initLab(plan, { rows: 20, seed: 42, conditions });
  const taskQueue = uniqueQueue('notify');
  const portsFor = createPortsFor();
  // The worker's environment holds the URLs; the plan (and the history) only their names.
  const worker = await startWorker(env, taskQueue, {
    ...createUpgradeActivities(portsFor),
    ...createNotifyActivities({ env: hooks, runUrl: (id) => `${UI}/${encodeURIComponent(id)}` }),
  });
  const workflowId = `${upgradeWorkflowId(plan)}#notify-${process.pid}-${++counter}`;
  await startUpgrade(env.client, plan, 'test-operator', { taskQueue, workflowId });
  return {
    workflowId,
    async stop() {
      await worker.stop();
      await portsFor.close();
    },
  };
}

/** run(...args), then `body` with it; its worker stops after `body`, whether it passes or throws. */
function withRun(args: Parameters<typeof run>, body: (t: Awaited<ReturnType<typeof run>>) => Promise<void>) {
  return withStopped(run(...args), (t) => t.stop(), body);
}

/** withRun with one webhook target `name` for `events`, its URL one where nothing listens. */
async function withDownHook(
  name: string,
  events: NotifyEventKind[],
  body: (t: Awaited<ReturnType<typeof run>>) => Promise<void>,
): Promise<void> {
  const hook = { REPLUP_TEST_HOOK: await downUrl() };
  await withRun([hook, { targets: [{ name, kind: 'webhook', url: 'env:REPLUP_TEST_HOOK' }], events }], body);
}

async function until<T>(what: string, get: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('notifications of a run', () => {
  // The gate, reminders every 3 s while it waits (durable timers with a summary), and the end, to a webhook
  // and a Slack target.
  it('the gate, reminders while it waits, and the end, to a webhook and Slack', async () => {
    rx.received.length = 0;
    const hooks = { REPLUP_TEST_HOOK: `${rx.url}/webhook`, REPLUP_TEST_SLACK: `${rx.url}/slack` };
    const notify: UpgradePlan['notify'] = {
      targets: [
        { name: 'scripts', kind: 'webhook', url: 'env:REPLUP_TEST_HOOK' },
        { name: 'ops', kind: 'slack', url: 'env:REPLUP_TEST_SLACK' },
      ],
      events: ['parked', 'waiting', 'completed', 'aborted', 'failed', 'reminder'],
      remindEveryMinutes: 0.05,
    };
    await withRun([hooks, notify], async (t) => {
      await waitFor(env.client, t.workflowId, (p) => p.status === 'awaiting-approval');
      const hook = () => rx.received.filter((r) => r.path.endsWith('/webhook')).map((r) => r.body);
      const waiting = await until('the waiting notification', () => hook().find((b) => b.event === 'waiting'));
      expect(waiting).toMatchObject({
        workflowId: t.workflowId,
        fleet: 'LAB-PUB/PersonalizationServer',
        status: 'awaiting-approval',
        step: { id: 'remove-replication', status: 'awaiting-approval' },
        url: `${UI}/${encodeURIComponent(t.workflowId)}`,
      });
      expect(waiting.answers[0]).toBe(`replup approve '${t.workflowId}' --gate remove-replication --reason "..."`);
      const slack = await until('the Slack message', () => rx.received.find((r) => r.path.endsWith('/slack'))?.body);
      expect(slack.text).toContain('remove-replication waits for approval');

      // Two reminders about 3 s apart, each saying how long the gate has waited.
      const reminders = await until(
        'two reminders',
        () =>
          hook().filter((b) => b.event === 'reminder').length >= 2
            ? hook().filter((b) => b.event === 'reminder')
            : undefined,
        30_000,
      );
      expect(reminders[0].title).toMatch(/^Reminder: .*remove-replication waits for approval for \d+ min$/);
      const gap = Date.parse(reminders[1].at) - Date.parse(reminders[0].at);
      expect(gap).toBeGreaterThanOrEqual(2_900);
      expect(gap).toBeLessThan(8_000);

      await approve(env.client, t.workflowId, 'remove-replication', 'change 4711', 'dba-carl');
      const r = (await env.client.workflow.getHandle(t.workflowId).result()) as RunResult;
      expect(r.status).toBe('completed');
      const done = await until('the completed notification', () => hook().find((b) => b.event === 'completed'));
      expect(done.outcome).toBe('completed: every step done or not applicable');
      expect(done.answers).toEqual([`replup report '${t.workflowId}'`]);
      // No reminder after the gate opened; every notification delivered.
      const after = hook().filter((b) => b.event === 'reminder' && Date.parse(b.at) > Date.parse(done.at));
      expect(after).toEqual([]);
      expect(r.progress.facts.notificationFailures).toBeUndefined();
      expect(r.progress.facts.notificationsSent).toBe(rx.received.filter((x) => x.path.includes('/hooks/')).length);

      // The reminder timers carry their summary in the history (the UI shows it).
      const history = await env.client.workflow.getHandle(t.workflowId).fetchHistory();
      const timerSummaries = (history.events ?? [])
        .filter((e) => e.timerStartedEventAttributes)
        .map((e) =>
          e.userMetadata?.summary ? defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary) : '',
        );
      expect(timerSummaries).toContain('notify: remind every 0.05 min while remove-replication is awaiting-approval');
      // No URL in the history: only the references.
      expect(JSON.stringify(history)).not.toContain('SECRET-PATH');
    });
  });

  it('a parked step (conflicts) and the abort that follows, to a Teams target', async () => {
    rx.received.length = 0;
    const teams: UpgradePlan['notify'] = {
      targets: [{ name: 'dba', kind: 'teams', url: 'env:REPLUP_TEST_TEAMS' }],
      events: ['parked', 'aborted'],
    };
    await withRun([{ REPLUP_TEST_TEAMS: `${rx.url}/teams` }, teams, { unsettledConflicts: 2 }], async (t) => {
      await waitFor(env.client, t.workflowId, (p) => p.status === 'awaiting-operator');
      const card = (i: number) => rx.received[i]?.body?.attachments?.[0]?.content;
      const parked = await until('the parked card', () => card(0));
      const texts = parked.body.map((b: { text: string }) => b.text);
      expect(texts[0]).toMatch(/: sync-until-quiet is parked and needs a decision$/);
      expect(texts[1]).toMatch(/^ConflictsFound: /);
      // sync-until-quiet cannot be skipped: retry and abort only.
      expect(texts.slice(2)).toEqual([
        `replup retry '${t.workflowId}' --step sync-until-quiet --reason "..."`,
        `replup abort '${t.workflowId}' --step sync-until-quiet --reason "..."`,
      ]);
      await decide(env.client, t.workflowId, 'sync-until-quiet', 'abort', 'postponed to next weekend', 'dba-anna');
      const r = (await env.client.workflow.getHandle(t.workflowId).result()) as RunResult;
      expect(r.status).toBe('aborted');
      const aborted = await until('the aborted card', () => card(1));
      expect(aborted.body[0].text).toMatch(/ aborted at sync-until-quiet$/);
      expect(aborted.body[1].text).toBe('aborted at sync-until-quiet by dba-anna: postponed to next weekend');
      expect(rx.received).toHaveLength(2);
    });
  });

  // A receiver that is down: the gate waits and the run completes as it would, each undelivered notification
  // on its record.
  it('a receiver that is down: the run completes, the undelivered notifications on its record', async () => {
    await withDownHook('pager', ['waiting', 'completed'], async (t) => {
      // The failure is recorded while the gate still waits: the run did not stop or fail.
      const p = await waitFor(
        env.client,
        t.workflowId,
        (x) => x.status === 'awaiting-approval' && Array.isArray(x.facts.notificationFailures),
        60_000,
      );
      expect(p.facts.notificationFailures).toEqual([
        expect.objectContaining({
          event: 'waiting',
          step: 'remove-replication',
          target: 'pager',
          error: 'notify target "pager" (webhook, url env:REPLUP_TEST_HOOK): not delivered: ECONNREFUSED',
        }),
      ]);
      await approve(env.client, t.workflowId, 'remove-replication', 'change 4712', 'dba-carl');
      const completedAt = await waitFor(env.client, t.workflowId, (x) => x.status === 'completed').then(() =>
        Date.now(),
      );
      const r = (await env.client.workflow.getHandle(t.workflowId).result()) as RunResult;
      // The workflow closes at most END_WAIT_SECONDS after its status turned completed.
      expect(Date.now() - completedAt).toBeLessThan((END_WAIT_SECONDS + 3) * 1000);
      expect(r.status).toBe('completed');
      expect(r.progress.steps.every((s) => ['done', 'not-applicable'].includes(s.status))).toBe(true);
      const failures = r.progress.facts.notificationFailures as NotificationFailure[];
      expect(failures.map((f) => f.event)).toEqual(['waiting', 'completed']);
      // The report, rebuilt from the history, lists the failed notification with its error.
      const report = await reportFromHistory(env.client, t.workflowId);
      const notes = report.activities.filter((a) => a.step === 'notify');
      expect(notes[0]).toMatchObject({
        outcome: 'failed',
        attempts: 4,
        summary: 'notify: waiting (remove-replication) to pager (webhook)',
      });
      expect(notes[0]!.error).toContain('ECONNREFUSED');
    });
  });

  // The report the run writes itself has the end notification's outcome: it settles first (a failure, with
  // its attempts and error; patch report-after-notifications).
  it("the run's own report has the end notification's outcome", async () => {
    await withDownHook('me', ['completed'], async (t) => {
      await waitFor(env.client, t.workflowId, (x) => x.status === 'awaiting-approval');
      await approve(env.client, t.workflowId, 'remove-replication', 'change 4713', 'dba-carl');
      const r = (await env.client.workflow.getHandle(t.workflowId).result()) as RunResult;
      expect(r.status).toBe('completed');
      const written = JSON.parse(readFileSync((r.progress.facts.report as { json: string }).json, 'utf8')) as RunReport;
      const end = written.activities.find((a) => a.summary === 'notify: completed to me (webhook)');
      expect(end).toMatchObject({ outcome: 'failed', attempts: 4 });
      expect(end!.error).toContain('ECONNREFUSED');
    });
  });
});
