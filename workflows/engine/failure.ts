// How a run's code fails, as the engine tells it apart: an operator's abort, a runbook's decision
// to end the run failed, a bug in workflow code, and an activity's own error for the step table.
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  TemporalFailure,
  WorkflowError,
} from '@temporalio/workflow';

/** Thrown inside the run when an operator aborts; `Runbook.run` turns it into the `aborted` result. */
export class RunAborted extends Error {
  constructor(
    public readonly step: string,
    public readonly reason: string,
    public readonly actor: string,
  ) {
    super(`aborted at ${step} by ${actor}: ${reason}`);
    this.name = 'RunAborted';
  }
}

/**
 * Thrown by `Runbook.fail`: the runbook decided the run cannot go on (an OpenEdge critical agent
 * that never connected). `Runbook.run` ends the run failed with `type` as its failure type.
 */
export class RunFailed extends Error {
  constructor(
    readonly step: string,
    readonly reason: string,
    readonly type: string,
  ) {
    super(reason);
    this.name = 'RunFailed';
  }
}

/**
 * A bug in workflow code (a TypeError, a failed assertion), not a decision of the runbook: the
 * engine parks the step (or fails the run) with its message instead of letting the workflow task
 * fail and retry silently forever. Runbooks' own error classes (RunAborted, RunFailed) and the
 * SDK's (WorkflowError: non-determinism must fail the task, so a fixed deploy can replay) pass.
 */
export function isUnexpectedError(err: unknown): err is Error {
  if (!(err instanceof Error) || err instanceof TemporalFailure || err instanceof WorkflowError) return false;
  return ['Error', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'URIError', 'EvalError'].includes(
    err.name,
  );
}

/** The step note / outcome for a bug in workflow code; `parked` when the step waits for a person. */
export const unexpectedMessage = (err: Error, parked = true) =>
  `internal error in the workflow code (${err.name}: ${err.message}): report it with the run's id; ` +
  (parked
    ? 'retry once a worker with the fix runs, or abort'
    : 'no abort cleanup ran: check the fleet, and start again once a worker with the fix runs');

/** The deepest failure message: an activity's own error, not "Activity task failed". */
export function describeFailure(err: unknown): string {
  let e: unknown = err;
  const parts: string[] = [];
  while (e instanceof Error) {
    if (!(e instanceof ActivityFailure) && !(e instanceof ChildWorkflowFailure)) {
      const type = e instanceof ApplicationFailure && e.type ? `${e.type}: ` : '';
      parts.push(`${type}${e.message}`);
    }
    e = (e as Error & { cause?: unknown }).cause;
  }
  return parts[0] ?? String(err);
}
