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
  | 'aborted'
  /** Only in what is shown once a run ended short (workflows/step-view.ts): a step it never began. */
  | 'not reached';

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
  /** The Temporal client identity the caller declared (self-declared; README "Two-person approval"). */
  identity?: string;
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
  /** Since when the run waits for a person (a parked step, a gate, a manual step); absent otherwise. */
  awaitingSince?: string;
  /** The maintenance window (UTC instants), when the plan or `start --at/--not-after` gave one. */
  window?: { at?: string; notAfter?: string };
}

export interface DecideInput {
  step: string;
  action: 'retry' | 'skip' | 'abort';
  reason: string;
  actor: string;
  /** The caller's Temporal client identity (the CLI sends its own). */
  identity?: string;
}
export interface ApproveInput {
  gate: string;
  actor: string;
  reason?: string;
  identity?: string;
}
/**
 * The Updates `retry`, `skip` and `abort`: a decision typed by hand in the Web UI's Update form
 * (`{"step": "sync-until-quiet", "reason": "...", "actor": "anna"}`); `abort` may leave out the step.
 */
export interface StepDecisionInput {
  step?: string;
  reason: string;
  actor: string;
  identity?: string;
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
// One Update per decision, each named as the CLI command is: what an operator types in the Web UI.
export const retryUpdate = defineUpdate<Progress, [StepDecisionInput]>('retry');
export const skipUpdate = defineUpdate<Progress, [StepDecisionInput]>('skip');
export const abortUpdate = defineUpdate<Progress, [StepDecisionInput]>('abort');

/** The outcome a runbook workflow returns. */
export interface RunResult {
  status: 'completed' | 'aborted';
  outcome: string;
  progress: Progress;
}
