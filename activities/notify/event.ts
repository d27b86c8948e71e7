// What the workflow hands the notification activity: the event, the run and the step, never a
// URL (the target carries only its env:/file: reference). Pure: the workflow sandbox imports it.
import type { NotifyEventKind, NotifyTarget } from '../../plan/notify.js';
import type { RunStatus, StepStatus } from '../../workflows/messages.js';

export interface NotifyEvent {
  event: NotifyEventKind;
  workflowId: string;
  runId: string;
  runbook: string;
  planName: string;
  fleet: string;
  /** The run's status when the event happened. */
  status: RunStatus;
  /** The step that waits (parked, gate, manual, reminder) or where the run ended. */
  step?: { id: string; title: string; status: StepStatus; skippable: boolean; detail?: string };
  /** Why the run ended (completed, aborted, failed). */
  outcome?: string;
  /** Since when a person is awaited (reminders). */
  waitingSince?: string;
  /** Workflow time of the event. */
  at: string;
}

export interface SendNotificationInput {
  target: NotifyTarget;
  event: NotifyEvent;
}

/** The activity's name, as the workflow calls it. */
export const SEND_NOTIFICATION = 'sendNotification';
