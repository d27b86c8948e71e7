// The plan's `notify:` section: where replup tells people that a run needs them or has ended.
// Pure (zod and text only) so the plan rules, `plan show`, the workflow and the worker share it.
// A webhook URL is a secret (whoever holds it posts to the channel) and the plan travels in
// workflow history, so the plan holds only a reference the worker resolves: `env:NAME` or
// `file:PATH`, as for credentials (activities/sqlserver/credentials.ts).
import { z } from 'zod';

/** What a run notifies about. */
export const NOTIFY_EVENTS = ['parked', 'waiting', 'completed', 'aborted', 'failed', 'reminder'] as const;
export type NotifyEventKind = (typeof NOTIFY_EVENTS)[number];

/** The payload formats: replup's own JSON, Slack's and Teams' incoming webhooks. */
export const NOTIFY_KINDS = ['webhook', 'slack', 'teams'] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];

export interface NotifyTarget {
  /** How the run's record names this target (default: its kind). */
  name: string;
  kind: NotifyKind;
  /** `env:NAME` or `file:PATH`: the worker resolves it when it sends. */
  url: string;
}

export interface NotifySettings {
  targets: NotifyTarget[];
  /** The events sent (default: all of them). */
  events: NotifyEventKind[];
  /** While a person is awaited, remind every this many minutes (none: no reminders). */
  remindEveryMinutes?: number;
}

/** Why a webhook URL reference is not one, or undefined. Never repeats a literal URL. */
export function webhookUrlProblem(value: string, kind: NotifyKind = 'webhook'): string | undefined {
  const name = `REPLUP_${kind.toUpperCase()}_WEBHOOK_URL`;
  const m = /^(env|file):(.*)$/s.exec(value);
  if (!m) {
    return (
      'a webhook URL is a secret (whoever holds it can post to the channel) and the plan travels in workflow ' +
      'history, so it must not be written in the plan: ' +
      (`put it in an environment variable of the worker and write url: env:${name}, or in a file only the ` +
        `worker can read and write url: file:/etc/replup/${kind}-webhook-url`)
    );
  }
  const [, scheme, target = ''] = m;
  if (scheme === 'env' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(target))
    return `"${target}" is not an environment variable name: use letters, digits and _, e.g. env:${name}`;
  if (scheme === 'file' && target === '')
    return `file: needs the path of the file that holds the URL, e.g. file:/etc/replup/${kind}-webhook-url`;
  return undefined;
}

const target = z
  .strictObject({
    name: z.string().min(1).optional(),
    kind: z.enum(NOTIFY_KINDS, { error: `kind is one of ${NOTIFY_KINDS.join(', ')} (the payload format)` }),
    // A literal URL is refused without echoing it (it is the secret).
    url: z.string({ error: () => 'url: env:NAME or file:PATH, the reference the worker resolves to the webhook URL' }),
  })
  .superRefine((t, ctx) => {
    const problem = webhookUrlProblem(t.url, t.kind);
    if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem, input: '(not shown)' });
  })
  .transform((t): NotifyTarget => ({ name: t.name ?? t.kind, kind: t.kind, url: t.url }));

/** The `notify:` section of any runbook's plan. */
export const notifySchema = z
  .strictObject({
    targets: z.array(target).min(1, { error: 'at least one target: { kind: webhook|slack|teams, url: env:NAME }' }),
    events: z
      .array(z.enum(NOTIFY_EVENTS, { error: `an event is one of ${NOTIFY_EVENTS.join(', ')}` }))
      .default([...NOTIFY_EVENTS]),
    remindEveryMinutes: z
      .number()
      .positive({ error: 'must be more than 0: minutes between reminders while a person is awaited' })
      .optional(),
  })
  .superRefine((n, ctx) => {
    const names = n.targets.map((t) => t.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i)
        ctx.addIssue({
          code: 'custom',
          path: ['targets', i, 'name'],
          message: `two targets are named "${name}": give each a name: (the run's record names a target by it)`,
          input: name,
        });
    });
    if (n.remindEveryMinutes !== undefined && !n.events.includes('reminder')) {
      ctx.addIssue({
        code: 'custom',
        path: ['remindEveryMinutes'],
        message: 'reminders are set but events does not list reminder: add it, or remove remindEveryMinutes',
        input: n.remindEveryMinutes,
      });
    }
  })
  .transform((n): NotifySettings => ({
    targets: n.targets,
    events: [...new Set(n.events)],
    ...(n.remindEveryMinutes !== undefined && { remindEveryMinutes: n.remindEveryMinutes }),
  }));

/** `plan show` lines: each target by name, kind and reference (the reference is not the secret). */
export function describeNotify(n: NotifySettings | undefined): string[] {
  if (!n) return ['notify:       nobody (no notify: section)'];
  const targets = n.targets.map((t) => `${t.name} (${t.kind}, url ${t.url})`).join(', ');
  const reminders =
    n.remindEveryMinutes !== undefined ? `; reminder every ${n.remindEveryMinutes} min while a person is awaited` : '';
  return [`notify:       ${targets}`, `  events:     ${n.events.join(', ')}${reminders}`];
}
