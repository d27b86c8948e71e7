// What a run's status says, in one place: the workflow engine, the CLI, the metrics endpoint and
// the report all ask these instead of listing statuses again. Pure, no Temporal imports: it runs
// in the workflow sandbox and in Node alike. Statuses are plain strings here because the memo and
// search attributes carry them as such (workflows/messages.ts has the RunStatus union).

/** Statuses in which the run waits for a person: a parked step, a gate, a manual step. */
export const AWAITING_STATUSES = ['awaiting-operator', 'awaiting-approval', 'awaiting-confirmation'] as const;

/** Statuses in which the run is still open (its workflow runs). */
export const OPEN_STATUSES = ['running', 'paused', ...AWAITING_STATUSES] as const;

/** How replup's own code ends a run (the memo and ReplupStatus say so). */
export const ENDED_BY_REPLUP = ['completed', 'aborted', 'failed'] as const;

/** Ended outside replup (terminate, timeout, cancel): read from Temporal's execution status. */
export const ENDED_OUTSIDE = ['terminated', 'timed-out', 'canceled'] as const;

/** Every status of a run that is over, however it ended. */
export const ENDED_STATUSES = [...ENDED_BY_REPLUP, ...ENDED_OUTSIDE] as const;

/** Over without having completed: what the run did not get to stays "not reached". */
export const ENDED_SHORT = ['aborted', 'failed', ...ENDED_OUTSIDE] as const;

const has = (list: readonly string[], status: string | undefined) => status !== undefined && list.includes(status);

/** A step or run that waits for a person (`awaiting-operator`, `-approval`, `-confirmation`). */
export const isAwaiting = (status: string | undefined): boolean => status?.startsWith('awaiting-') ?? false;

/** Waits for a person, or is held by one (paused between steps). */
export const isHeld = (status: string | undefined): boolean => isAwaiting(status) || status === 'paused';

/** Ended through replup's own code: completed, aborted or failed. */
export const endedByReplup = (status: string | undefined): boolean => has(ENDED_BY_REPLUP, status);

/** Ended in any way, replup's or Temporal's. */
export const isEnded = (status: string | undefined): boolean => has(ENDED_STATUSES, status);

/** Ended without completing (aborted, failed, terminated, timed out, canceled). */
export const endedShort = (status: string | undefined): boolean => has(ENDED_SHORT, status);

/** Still open: running, paused or waiting for a person. */
export const isOpen = (status: string | undefined): boolean => has(OPEN_STATUSES, status);

/** The first step that waits for a person, if any. */
export function waitingStep<S extends { status: string }>(steps: readonly S[]): S | undefined {
  return steps.find((s) => isAwaiting(s.status));
}
