// The messages an operator (or the CLI) exchanges with a running runbook. Shared by the workflow
// code and the client, so both sides agree on names and shapes.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TASK_QUEUE = 'replup';

export const ReplupStep = defineSearchAttributeKey('ReplupStep', SearchAttributeType.KEYWORD);
export const ReplupStatus = defineSearchAttributeKey('ReplupStatus', SearchAttributeType.KEYWORD);
export const ReplupFleet = defineSearchAttributeKey('ReplupFleet', SearchAttributeType.KEYWORD);

export type StepStatus =
  | 'pending'
  | 'not-applicable'
  | 'running'
  | 'awaiting-operator'
  | 'awaiting-approval'
  | 'awaiting-confirmation'
  | 'done'
  | 'skipped'
  | 'aborted';

export type RunStatus =
  | 'running'
  | 'paused'
  | 'awaiting-operator'
  | 'awaiting-approval'
  | 'awaiting-confirmation'
  | 'completed'
  | 'aborted'
  | 'failed'
  // Ended outside replup (`temporal workflow terminate`, a timeout, a cancel): read from Temporal's
  // own execution status by the CLI; the workflow never sets these itself.
  | 'terminated'
  | 'timed-out'
  | 'canceled';

export interface DecisionRecord {
  kind: 'retry' | 'skip' | 'abort' | 'approve' | 'confirm' | 'pause' | 'resume' | 'connect-agent';
  step?: string;
  actor: string;
  reason?: string;
  at: string;
}

export interface StepProgress {
  id: string;
  title: string;
  applies: boolean;
  /** Why it applies or not (from the plan rules). */
  reason: string;
  status: StepStatus;
  /** How many times the step's body started (1 + operator retries). */
  attempts: number;
  skippable: boolean;
  startedAt?: string;
  endedAt?: string;
  lastError?: string;
  /** A short line on what the step is doing or did: "round 3: 12 rows moved". */
  note?: string;
  /** Items done / total during fan-out. */
  done?: number;
  total?: number;
}

export interface Progress {
  runbook: string;
  fleet: string;
  planName: string;
  status: RunStatus;
  current?: string;
  startedAt: string;
  endedAt?: string;
  steps: StepProgress[];
  decisions: DecisionRecord[];
  /** Why the run ended aborted or failed. */
  outcome?: string;
  /** Free-form per-runbook facts (sync rounds, verification results). */
  facts: Record<string, unknown>;
}

export interface DecideInput {
  step: string;
  action: 'retry' | 'skip' | 'abort';
  reason: string;
  actor: string;
}
export interface ApproveInput {
  gate: string;
  actor: string;
  reason?: string;
}
export interface ConfirmInput {
  step: string;
  actor: string;
  note?: string;
}
export interface ActorInput {
  actor: string;
  reason?: string;
}

export const progressQuery = defineQuery<Progress>('progress');
export const decideUpdate = defineUpdate<Progress, [DecideInput]>('decide');
export const approveUpdate = defineUpdate<Progress, [ApproveInput]>('approve');
export const confirmUpdate = defineUpdate<Progress, [ConfirmInput]>('confirm');
export const pauseUpdate = defineUpdate<Progress, [ActorInput]>('pause');
export const resumeUpdate = defineUpdate<Progress, [ActorInput]>('resume');

/** The outcome a runbook workflow returns. */
export interface RunResult {
  status: 'completed' | 'aborted';
  outcome: string;
  progress: Progress;
}
