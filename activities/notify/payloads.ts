// The three payload formats a notify target takes, built from one message. Pure.
//
// - webhook: replup's own JSON (documented in the README): every field a script needs.
// - slack: a Slack incoming webhook takes a JSON body with `text` (the message, mrkdwn; links as
//   <url|label>) and optionally `blocks`, where `text` is then the notification's fallback
//   (https://api.slack.com/incoming-webhooks, https://docs.slack.dev/tools/node-slack-sdk/reference/webhook/interfaces/IncomingWebhookSendArguments);
//   `&`, `<` and `>` in text are escaped as Slack's message formatting asks.
// - teams: a Teams incoming webhook takes a message with an Adaptive Card attachment:
//   { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive",
//   content: { type: "AdaptiveCard", ... } }] } (Microsoft's "Create Incoming Webhooks" page,
//   https://github.com/MicrosoftDocs/msteams-docs/blob/main/msteams-platform/webhooks-and-connectors/how-to/add-incoming-webhook.md,
//   section "Send Adaptive Cards using an Incoming Webhook").
import { answerCommands } from '../../cli/lib/runs.js';
import type { NotifyKind } from '../../plan/notify.js';
import type { Progress } from '../../workflows/messages.js';
import type { NotifyEvent } from './event.js';

export interface NotifyMessage {
  /** One line: what happened and where. */
  title: string;
  /** What the step says (its error, its instructions) or why the run ended. */
  detail?: string;
  /** The commands that answer it, as `replup status` prints them. */
  answers: string[];
  /** The run in the Temporal Web UI. */
  url: string;
}

const WAITING: Record<string, string> = {
  'awaiting-operator': 'is parked and needs a decision',
  'awaiting-approval': 'waits for approval',
  'awaiting-confirmation': 'waits for a person to confirm it was done',
};

function minutesSince(since: string | undefined, at: string): string {
  if (!since) return '';
  const m = Math.max(0, Math.round((Date.parse(at) - Date.parse(since)) / 60_000));
  return ` for ${m} min`;
}

/** The message of an event: title, detail, the answering commands and the UI link. */
export function notifyMessage(e: NotifyEvent, url: string): NotifyMessage {
  const run = `${e.planName} (${e.runbook} on ${e.fleet})`;
  const step = e.step;
  let title: string;
  if (e.event === 'completed') title = `${run} completed`;
  else if (e.event === 'aborted' || e.event === 'failed') title = `${run} ${e.event}${step ? ` at ${step.id}` : ''}`;
  else if (e.event === 'reminder')
    title =
      `Reminder: ${run}: ${step?.id ?? 'a step'} ${WAITING[step?.status ?? ''] ?? 'waits'}` +
      `${minutesSince(e.waitingSince, e.at)}`;
  else title = `${run}: ${step?.id ?? 'a step'} ${WAITING[step?.status ?? ''] ?? 'waits'}`;
  // The same progress shape `replup status` answers from, so the commands are the CLI's own.
  const progress = {
    status: e.status,
    current: step?.id,
    steps: step ? [{ id: step.id, status: step.status, skippable: step.skippable }] : [],
  } as unknown as Progress;
  const answers = ['completed', 'aborted', 'failed'].includes(e.event)
    ? [`replup report '${e.workflowId}'`]
    : answerCommands(progress, e.workflowId);
  const detail = ['completed', 'aborted', 'failed'].includes(e.event) ? e.outcome : step?.detail;
  return { title, ...(detail && { detail }), answers, url };
}

/** The JSON body for a target of this kind. */
export function notifyPayload(kind: NotifyKind, e: NotifyEvent, m: NotifyMessage): unknown {
  if (kind === 'slack') return slackPayload(m);
  if (kind === 'teams') return teamsPayload(m);
  return {
    source: 'replup',
    event: e.event,
    workflowId: e.workflowId,
    runId: e.runId,
    runbook: e.runbook,
    plan: e.planName,
    fleet: e.fleet,
    status: e.status,
    step: e.step ?? null,
    outcome: e.outcome ?? null,
    waitingSince: e.waitingSince ?? null,
    at: e.at,
    title: m.title,
    detail: m.detail ?? null,
    answers: m.answers,
    url: m.url,
  };
}

const slackEscape = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function slackPayload(m: NotifyMessage): unknown {
  const lines = [
    `*${slackEscape(m.title)}*`,
    ...(m.detail ? [slackEscape(m.detail)] : []),
    ...(m.answers.length ? ['```' + m.answers.map(slackEscape).join('\n') + '```'] : []),
    `<${m.url}|Open the run in the Temporal Web UI>`,
  ];
  return {
    text: m.title,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }],
  };
}

function teamsPayload(m: NotifyMessage): unknown {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: m.title, weight: 'Bolder', size: 'Medium', wrap: true },
            ...(m.detail ? [{ type: 'TextBlock', text: m.detail, wrap: true }] : []),
            ...m.answers.map((a) => ({ type: 'TextBlock', text: a, fontType: 'Monospace', wrap: true })),
          ],
          actions: [{ type: 'Action.OpenUrl', title: 'Open in the Temporal Web UI', url: m.url }],
        },
      },
    ],
  };
}
