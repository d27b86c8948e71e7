// The notification activity against a real local HTTP receiver: what each target kind receives,
// and how a receiver that refuses or is down is reported (never with the URL, which is the secret).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/activity';
import { createNotifyActivities, type NotifyEvent } from '../../../activities/notify/index.js';
import type { NotifyTarget } from '../../../plan/notify.js';
import { downUrl, startReceiver, type Receiver } from './receiver.js';

let rx: Receiver;
beforeAll(async () => {
  rx = await startReceiver();
});
afterAll(async () => {
  await rx.close();
});

const parked: NotifyEvent = {
  event: 'parked',
  workflowId: 'upgrade:lab-pub/personalizationserver',
  runId: 'run-1',
  runbook: 'em-personalization-upgrade',
  planName: 'lab-small',
  fleet: 'LAB-PUB/PersonalizationServer',
  status: 'awaiting-operator',
  step: {
    id: 'backup',
    title: 'Copy-only backup of every database',
    status: 'awaiting-operator',
    skippable: true,
    detail: 'BackupFailed: disk full on LAB-SUB1',
  },
  at: '2026-12-05T02:00:00.000Z',
};
const URL_OF_RUN = 'http://ui.example:8233/namespaces/default/workflows/upgrade%3Alab-pub%2Fpersonalizationserver';

function activity(env: Record<string, string>, failures: string[] = []) {
  return createNotifyActivities({
    env,
    runUrl: () => URL_OF_RUN,
    onFailure: (t, e, final) => failures.push(`${t.name}:${e.event}:${final}`),
  }).sendNotification;
}
const target = (kind: NotifyTarget['kind'], url = 'env:HOOK'): NotifyTarget => ({ name: `ops-${kind}`, kind, url });
/** `parked` with these changes, sent to the receiver through a `kind` target. */
const sendTo = (kind: NotifyTarget['kind'], changes: Partial<NotifyEvent> = {}) =>
  activity({ HOOK: rx.url })({ target: target(kind), event: { ...parked, ...changes } });

describe('sendNotification', () => {
  it('webhook: replup JSON with run id, fleet, step, status, the answering commands and the UI link', async () => {
    rx.status = 200;
    const r = await sendTo('webhook');
    expect(r.status).toBe(200);
    const got = rx.received.at(-1)!;
    expect(got.path).toBe('/hooks/T000/SECRET-PATH');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.body).toMatchObject({
      source: 'replup',
      event: 'parked',
      workflowId: 'upgrade:lab-pub/personalizationserver',
      fleet: 'LAB-PUB/PersonalizationServer',
      status: 'awaiting-operator',
      step: { id: 'backup', status: 'awaiting-operator' },
      title:
        'lab-small (em-personalization-upgrade on LAB-PUB/PersonalizationServer): backup is parked and needs ' +
        'a decision',
      detail: 'BackupFailed: disk full on LAB-SUB1',
      url: URL_OF_RUN,
    });
    // The commands `replup status` prints for a parked skippable step.
    expect(got.body.answers).toEqual([
      `replup retry 'upgrade:lab-pub/personalizationserver' --step backup --reason "..."`,
      `replup skip 'upgrade:lab-pub/personalizationserver' --step backup --reason "..."`,
      `replup abort 'upgrade:lab-pub/personalizationserver' --step backup --reason "..."`,
    ]);
  });

  it('slack: text plus one mrkdwn section with the commands and the link (<url|label>), < > & escaped', async () => {
    await sendTo('slack', { step: { ...parked.step!, detail: 'a <b> & c' } });
    const body = rx.received.at(-1)!.body;
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expect(body.text).toContain('backup is parked');
    expect(body.blocks).toHaveLength(1);
    expect(body.blocks[0].type).toBe('section');
    expect(body.blocks[0].text.type).toBe('mrkdwn');
    expect(body.blocks[0].text.text).toContain('a &lt;b&gt; &amp; c');
    expect(body.blocks[0].text.text).toContain(`replup retry 'upgrade:lab-pub/personalizationserver' --step backup`);
    expect(body.blocks[0].text.text).toContain(`<${URL_OF_RUN}|Open the run in the Temporal Web UI>`);
  });

  it('teams: a message with one Adaptive Card attachment and an Open URL action', async () => {
    await sendTo('teams', {
      event: 'completed',
      status: 'completed',
      step: undefined,
      outcome: 'completed: every step done or not applicable',
    });
    const body = rx.received.at(-1)!.body;
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const a = body.attachments[0];
    expect(a.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(a.content.type).toBe('AdaptiveCard');
    expect(a.content.body[0]).toMatchObject({
      type: 'TextBlock',
      text: 'lab-small (em-personalization-upgrade on LAB-PUB/PersonalizationServer) completed',
    });
    expect(a.content.body.map((b: { text: string }) => b.text)).toContain(
      `replup report 'upgrade:lab-pub/personalizationserver'`,
    );
    expect(a.content.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open in the Temporal Web UI', url: URL_OF_RUN },
    ]);
  });

  it('a gate: approve and abort are the answers', async () => {
    await sendTo('webhook', {
      event: 'waiting',
      status: 'awaiting-approval',
      step: { id: 'remove-replication', title: 'Remove replication', status: 'awaiting-approval', skippable: false },
    });
    expect(rx.received.at(-1)!.body.answers).toEqual([
      `replup approve 'upgrade:lab-pub/personalizationserver' --gate remove-replication --reason "..."`,
      `replup abort 'upgrade:lab-pub/personalizationserver' --step remove-replication --reason "..."`,
    ]);
  });

  it('a 5xx answer is retryable, a 404 is not; both name the target by reference, never the URL', async () => {
    const failures: string[] = [];
    rx.status = 503;
    const e1 = await activity({ HOOK: rx.url }, failures)({ target: target('slack'), event: parked }).catch((e) => e);
    expect(e1).toBeInstanceOf(ApplicationFailure);
    expect(e1.nonRetryable).toBe(false);
    expect(e1.message).toBe('notify target "ops-slack" (slack, url env:HOOK): the receiver answered HTTP 503');
    rx.status = 404;
    const e2 = await activity({ HOOK: rx.url }, failures)({ target: target('slack'), event: parked }).catch((e) => e);
    expect(e2.nonRetryable).toBe(true);
    expect(e2.message).toBe(
      'notify target "ops-slack" (slack, url env:HOOK): the receiver answered HTTP 404 (not retried: check ' +
        'the URL and the payload format)',
    );
    for (const e of [e1, e2]) expect(e.message).not.toContain('SECRET-PATH');
    // Outside an activity nothing retries it, so each failure counts as final for the metrics.
    expect(failures).toEqual(['ops-slack:parked:true', 'ops-slack:parked:true']);
    rx.status = 200;
  });

  it('a receiver that is down: retryable, with the socket error and without the URL', async () => {
    const url = await downUrl();
    const e = await activity({ HOOK: url })({ target: target('webhook'), event: parked }).catch((x) => x);
    expect(e.nonRetryable).toBe(false);
    expect(e.message).toBe('notify target "ops-webhook" (webhook, url env:HOOK): not delivered: ECONNREFUSED');
  });

  it('a reference the worker cannot resolve is not retried and says which variable to set', async () => {
    const e = await activity({})({ target: target('teams', 'env:REPLUP_TEAMS_WEBHOOK_URL'), event: parked }).catch(
      (x) => x,
    );
    expect(e.nonRetryable).toBe(true);
    expect(e.message).toBe(
      'notify target "ops-teams" (teams, url env:REPLUP_TEAMS_WEBHOOK_URL): reference ' +
        "'env:REPLUP_TEAMS_WEBHOOK_URL': environment variable REPLUP_TEAMS_WEBHOOK_URL is not set for the " +
        'replup worker',
    );
  });
});
