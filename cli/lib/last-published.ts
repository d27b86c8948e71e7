// What a run last published (its search attributes and `replup` memo, workflows/engine/publish.ts), for
// `status` and `watch` when no worker answers the progress query: Temporal's visibility keeps it without one.
import type { Client } from '@temporalio/client';
import type { StepMemo } from '../../workflows/engine/publish.js';
import { ReplupFleet, ReplupStatus, ReplupStep } from '../../workflows/messages.js';
import type { MaintenanceWindow } from '../../plan/window.js';
import { describeWindow } from '../../plan/window.js';
import { isEnded, isHeld } from '../../common/run-status.js';
import { EXIT } from '../errors.js';
import { answerCommands, shownStatus } from './runs.js';
import type { Progress, RunStatus, StepStatus } from '../../workflows/messages.js';

/** A step as the memo records it. */
export interface PublishedStep {
  id: string;
  status: string;
  attempts: number;
  lastError?: string;
}

/** `status --json` when no worker answered: `lastPublished: true` and `workerAnswered: false` say so. */
export interface LastPublished {
  workflowId: string;
  runId: string;
  url: string;
  lastPublished: true;
  workerAnswered: false;
  /** The label people read: "as last published; no worker is serving task queue replup — start one: …". */
  notice: string;
  /** Why the progress query had no answer (the error's words). */
  reason: string;
  taskQueue: string;
  /** As `list` shows it: what the run published, or Temporal's status when it ended outside replup. */
  status: string;
  /** The step it published as current; absent between steps or before the first. */
  current?: string;
  fleet: string;
  /** ISO 8601. */
  startTime: string;
  closeTime?: string;
  outcome?: string;
  /** Absent when the run published no step table yet (no worker ever ran it). */
  steps?: PublishedStep[];
  window?: MaintenanceWindow;
}

/** The label every last-published view carries. */
export const lastPublishedNotice = (taskQueue: string) =>
  `as last published; no worker is serving task queue ${taskQueue} — start one: replup worker`;

/**
 * Reads what run `id` last published. `reason`: why the query went unanswered (kept in the document).
 * Errors: the client's, when the run cannot be described either.
 */
export async function lastPublished(client: Client, id: string, url: string, reason: string): Promise<LastPublished> {
  const desc = await client.workflow.getHandle(id).describe();
  const sa = desc.typedSearchAttributes;
  const memo = desc.memo?.replup as StepMemo | undefined;
  // The start memo holds the window until the workflow publishes its own.
  const window = memo?.window ?? (desc.memo?.window as MaintenanceWindow | undefined);
  const current = sa.get(ReplupStep) || memo?.current || undefined;
  return {
    workflowId: id,
    runId: desc.runId,
    url,
    lastPublished: true,
    workerAnswered: false,
    notice: lastPublishedNotice(desc.taskQueue),
    reason,
    taskQueue: desc.taskQueue,
    status: shownStatus(desc.status.name, sa.get(ReplupStatus) ?? memo?.status),
    ...(current && { current }),
    fleet: sa.get(ReplupFleet) ?? '',
    startTime: desc.startTime.toISOString(),
    ...(desc.closeTime && { closeTime: desc.closeTime.toISOString() }),
    ...(memo?.outcome && { outcome: memo.outcome }),
    ...(memo && {
      steps: memo.steps.map(([stepId, status, attempts, lastError]) => ({
        id: stepId,
        status,
        attempts,
        ...(lastError ? { lastError } : {}),
      })),
    }),
    ...(window && { window }),
  };
}

/** What `status` prints for people: the labelled header, the published step table, the window, the link. */
export function lastPublishedText(lp: LastPublished): string {
  const steps = lp.steps ?? [];
  const width = Math.max(0, ...steps.map((s) => s.id.length));
  const answers = publishedAnswers(lp);
  const rows = steps.map((s) => {
    const tries = s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
    const error = s.lastError ? `  error: ${s.lastError}` : '';
    return `  ${s.id.padEnd(width)}  ${s.status}${tries}${error}\n`;
  });
  return [
    `run ${lp.workflowId}: ${lp.status.toUpperCase()}${lp.current ? ` at ${lp.current}` : ''} (${lp.notice})\n`,
    `  fleet ${lp.fleet || '(not published)'}, run ${lp.runId}, started ${lp.startTime}`,
    `${lp.closeTime ? `, closed ${lp.closeTime}` : ''}\n\n`,
    ...(rows.length ? rows : ['  (no step table published yet)\n']),
    lp.outcome ? `\n${lp.outcome}\n` : '',
    lp.window ? `\nMaintenance window: ${describeWindow(lp.window)}\n` : '',
    answers.length
      ? `\nAnswer with one of (taken once a worker runs):\n${answers.map((a) => `  ${a}\n`).join('')}`
      : '',
    `\nWeb UI: ${lp.url}\n`,
  ].join('');
}

/**
 * The commands that answer a run held at its published state. The memo does not say which steps may be skipped:
 * skip is never offered here (`status` with a worker offers it where the step allows it).
 */
function publishedAnswers(lp: LastPublished): string[] {
  if (!isHeld(lp.status)) return [];
  const steps = (lp.steps ?? []).map((s) => ({
    ...s,
    status: s.status as StepStatus,
    title: s.id,
    applies: true,
    reason: '',
    skippable: false,
  }));
  const p: Progress = {
    runbook: '',
    fleet: lp.fleet,
    planName: '',
    status: lp.status as RunStatus,
    ...(lp.current && { current: lp.current }),
    startedAt: lp.startTime,
    steps,
    decisions: [],
    facts: {},
  };
  return answerCommands(p, lp.workflowId);
}

/**
 * The exit code for a run in `status` (README, Exit codes): 0 running or completed, 1 ended any other way,
 * 3 waiting for an operator or paused.
 */
export function exitForStatus(status: string): number {
  if (isEnded(status)) return status === 'completed' ? EXIT.ok : EXIT.failed;
  return isHeld(status) ? EXIT.waiting : EXIT.ok;
}
