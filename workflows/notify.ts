// Notifications from inside a run (plan `notify:`): a step parked, a gate or manual step waiting,
// the run's end, and reminders while a person is awaited. Each notification is an activity per
// target with its own retry policy, started and never awaited by a step: a receiver that is down
// cannot stop, fail or delay the runbook. Its outcome is handled when it settles: a failure is
// recorded in the run's facts (and stays in the history, where the report finds the failed
// `notify:` activity). Only the end of the run waits, a bounded time, so that what was sent last
// is on the record. Without a `notify:` section nothing here schedules a command, so runs and
// histories without one replay unchanged.
import { condition, proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { NotifyEventKind, NotifySettings } from '../plan/notify.js';
import { SEND_NOTIFICATION, type NotifyEvent, type SendNotificationInput } from '../activities/notify/event.js';
import type { Progress, StepProgress } from './messages.js';

/** How long the end of a run waits for notifications still being delivered (seconds). */
export const END_WAIT_SECONDS = 10;

/** One failed delivery, as the run's facts record it. */
export interface NotificationFailure {
  at: string;
  event: NotifyEventKind;
  step?: string;
  target: string;
  error: string;
}

type Send = (input: SendNotificationInput) => Promise<{ status: number }>;

// 4 attempts 1 s, 2 s, 4 s apart: a receiver that is down is given up on within about 7 s
// (plus each attempt's own 10 s timeout when it hangs), so the failure is recorded soon.
const OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 4 },
};
// Not callActivity: a notification passes the abort gate and is not waited for by the abort cleanup.
const acts = proxyActivities<Record<typeof SEND_NOTIFICATION, Send>>(OPTIONS);

const now = () => new Date().toISOString();

function errorText(err: unknown): string {
  let e: unknown = err;
  // The activity's own message, not "Activity task failed".
  while (e instanceof Error && (e as Error & { cause?: unknown }).cause instanceof Error)
    e = (e as Error & { cause?: unknown }).cause;
  return e instanceof Error ? e.message : String(err);
}

export class RunNotifier {
  private inFlight = 0;
  /** Counts waits, so a reminder loop ends when its wait ends even if the step waits again. */
  private waits = 0;

  constructor(
    private readonly settings: NotifySettings | undefined,
    private readonly progress: Progress,
  ) {}

  /** A step started waiting for a person: `parked` (a failure) or `waiting` (gate, manual), then reminders. */
  waiting(s: StepProgress): void {
    const seq = ++this.waits;
    if (!this.settings) return;
    const since = now();
    this.send(s.status === 'awaiting-operator' ? 'parked' : 'waiting', s);
    void this.remind(s, seq, since);
  }

  /** The run ended: completed, aborted or failed. */
  ended(kind: 'completed' | 'aborted' | 'failed'): void {
    this.waits += 1;
    const at = this.progress.current;
    this.send(kind, at === undefined ? undefined : this.progress.steps.find((x) => x.id === at));
  }

  /** Whether a notification is still being delivered (deterministic: counted from the run's own commands). */
  get delivering(): boolean {
    return this.inFlight > 0;
  }

  /** Waits at most END_WAIT_SECONDS for notifications in flight; what is still undelivered then is recorded. */
  async settle(): Promise<void> {
    if (!this.settings || this.inFlight === 0) return;
    const settled = await condition(() => this.inFlight === 0, `${END_WAIT_SECONDS} seconds`, {
      summary: `notify: wait at most ${END_WAIT_SECONDS} s for notifications still being delivered`,
    });
    if (!settled)
      this.progress.facts.notificationsUndelivered =
        `${this.inFlight} notification(s) still being retried when the run ended (after ${END_WAIT_SECONDS} ` +
        `s): not known to be delivered`;
  }

  private async remind(s: StepProgress, seq: number, since: string): Promise<void> {
    const every = this.settings?.remindEveryMinutes;
    if (every === undefined || !this.settings?.events.includes('reminder')) return;
    const stillWaiting = () => this.waits === seq && s.status.startsWith('awaiting-');
    // A durable timer per reminder, named in the UI; it ends early when the wait ends.
    while (
      !(await condition(() => !stillWaiting(), Math.round(every * 60_000), {
        summary: `notify: remind every ${every} min while ${s.id} is ${s.status}`,
      }))
    ) {
      this.send('reminder', s, since);
    }
  }

  private send(kind: NotifyEventKind, s: StepProgress | undefined, waitingSince?: string): void {
    const settings = this.settings;
    if (!settings || !settings.events.includes(kind)) return;
    const p = this.progress;
    const { workflowId, runId } = workflowInfo();
    const detail = s && (s.lastError ?? s.note);
    const event: NotifyEvent = {
      event: kind,
      workflowId,
      runId,
      runbook: p.runbook,
      planName: p.planName,
      fleet: p.fleet,
      status: p.status,
      ...(s && {
        step: { id: s.id, title: s.title, status: s.status, skippable: s.skippable, ...(detail && { detail }) },
      }),
      ...(p.outcome !== undefined && ['completed', 'aborted', 'failed'].includes(kind) && { outcome: p.outcome }),
      ...(waitingSince && { waitingSince }),
      at: now(),
    };
    for (const target of settings.targets) {
      this.inFlight += 1;
      const summary = `notify: ${kind}${s ? ` (${s.id})` : ''} to ${target.name} (${target.kind})`;
      // Detached on purpose; both outcomes are handled, so no rejection goes unhandled.
      acts[SEND_NOTIFICATION].executeWithOptions({ ...OPTIONS, summary }, [{ target, event }]).then(
        () => {
          this.inFlight -= 1;
          p.facts.notificationsSent = ((p.facts.notificationsSent as number | undefined) ?? 0) + 1;
        },
        (err: unknown) => {
          this.inFlight -= 1;
          const failures = ((p.facts.notificationFailures as NotificationFailure[] | undefined) ??= []);
          failures.push({
            at: now(),
            event: kind,
            ...(s && { step: s.id }),
            target: target.name,
            error: errorText(err),
          });
        },
      );
    }
  }
}
