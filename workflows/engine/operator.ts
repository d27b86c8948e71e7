// The operator's messages to a run (the `progress` query; retry, skip, abort, decide, approve,
// confirm, pause, resume Updates) and their validators, which refuse with what to do instead.
import { setHandler } from '@temporalio/workflow';
import { abortUpdate, approveUpdate, confirmUpdate, decideUpdate, pauseUpdate, resumeUpdate } from '../messages.js';
import { progressQuery, retryUpdate, skipUpdate, type DecideInput, type StepDecisionInput } from '../messages.js';
import type { ActorInput, ApproveInput, ConfirmInput } from '../messages.js';
import { approvalProblem, gateOpen } from '../../plan/approval.js';
import { isAwaiting } from '../../common/run-status.js';
import type { RunState } from './run-state.js';

/**
 * What the Web UI's "Send an Update" list shows beside each Update name: the exact JSON to type
 * (README, "Answering from the Web UI"). `actor` is who you are; it is recorded with the decision.
 */
export const UPDATE_HELP = {
  retry: 'Run a parked step again: {"step": "sync-until-quiet", "reason": "why", "actor": "your name"}',
  skip:
    'Skip a parked step (only where allowed): ' +
    '{"step": "verify-replication", "reason": "why", "actor": "your name"}',
  abort:
    'Abort the run where it is, with its safe cleanup: {"reason": "why", "actor": "your name"} ' +
    '(add "step" to name where it waits)',
  approve: 'Approve a gate: {"gate": "remove-replication", "reason": "why", "actor": "your name"}',
  confirm: 'Confirm a manual step is done: {"step": "upgrade", "note": "what was done", "actor": "your name"}',
  pause: 'Pause between steps: {"reason": "why", "actor": "your name"}',
  resume: 'Resume a paused run: {"reason": "why", "actor": "your name"}',
  decide:
    'retry, skip or abort in one (the CLI uses it): ' +
    '{"step": "…", "action": "retry", "reason": "why", "actor": "your name"}',
} as const;

/** Refuses a message without an actor. */
export function requireActor(actor: unknown, what = 'decides'): void {
  if (typeof actor !== 'string' || actor.trim() === '')
    throw new Error(`an actor is required: say who ${what} (--actor)`);
}

/** Installs every operator handler on the run's state. */
export function installOperatorHandlers(st: RunState): void {
  const p = st.progress;
  const stepIds = () => p.steps.map((s) => s.id).join(', ');
  /** A step id for the examples in messages: the one that waits, else the first. */
  const exampleStep = () => st.waiting()?.id ?? p.steps[0]?.id ?? 'step';
  setHandler(progressQuery, () => p);

  const decideHandler = (input: DecideInput) => {
    const step = p.steps.find((s) => s.id === input.step);
    // Abort of a run that is running or paused (no step waits): it takes effect safely, after
    // the activities already running and before the next one, with the runbook's cleanup.
    if (input.action === 'abort' && !isAwaiting(step?.status)) st.abortRequest = input;
    else st.decision = input;
    st.record({
      kind: input.action,
      step: input.step,
      actor: input.actor,
      reason: input.reason,
      ...(typeof input.identity === 'string' && { identity: input.identity }),
    });
    return p;
  };
  const decideValidator = (input: DecideInput) => {
    requireActor(input?.actor);
    if (!['retry', 'skip', 'abort'].includes(input.action))
      throw new Error(`unknown action "${input.action}": use retry, skip or abort`);
    if (typeof input.reason !== 'string' || input.reason.trim() === '') {
      throw new Error(`a reason is required to ${input.action} a step (--reason "...")`);
    }
    const step = p.steps.find((s) => s.id === input.step);
    if (!step) throw new Error(`unknown step "${input.step}"; the steps are: ${stepIds()}`);
    const waiting = st.waiting();
    const canAbortHere = input.action === 'abort' && isAwaiting(step.status);
    if (input.action === 'abort' && !canAbortHere) {
      if (st.finished()) throw new Error(`the run has ended (${p.status}); there is nothing to abort`);
      if (st.aborting) throw new Error('the run is already aborting: its cleanup is running');
      if (st.abortRequest) {
        throw new Error(
          `an abort is already on its way (by ${st.abortRequest.actor}): ` +
            'it takes effect after the activity that is running',
        );
      }
      const at = p.current;
      if (waiting)
        throw new Error(`the run is waiting at ${waiting.id} (${waiting.status}): abort --step ${waiting.id}`);
      if (at !== undefined && input.step !== at)
        throw new Error(`the run is at ${at}, not ${input.step}: abort --step ${at}`);
      return;
    }
    if (step.status !== 'awaiting-operator' && !canAbortHere) {
      const where = waiting
        ? `; the run is waiting at ${waiting.id} (${waiting.status})`
        : '; no step is waiting for a decision';
      throw new Error(`step ${input.step} is ${step.status}, not waiting for a decision${where}`);
    }
    if (input.action === 'skip' && st.parkedForWindow === step.id) {
      throw new Error(
        `step ${input.step} waits because the maintenance window closed: retry to go on anyway (recorded), or abort`,
      );
    }
    if (input.action === 'skip' && !step.skippable) {
      throw new Error(`step ${input.step} cannot be skipped: skipping it would risk data; retry it or abort the run`);
    }
  };
  setHandler(decideUpdate, decideHandler, { validator: decideValidator, description: UPDATE_HELP.decide });

  // The same decisions as Updates named like the CLI commands, with the action in the name: what
  // a person types in the Web UI's "Send an Update" form. `abort` without a step aborts where the
  // run is, as `replup abort` does.
  const fromStepDecision = (action: DecideInput['action'], input: StepDecisionInput | undefined): DecideInput => {
    const example = `{"step": "${exampleStep()}", "reason": "why", "actor": "your name"}`;
    if (input === null || typeof input !== 'object') throw new Error(`${action} takes a JSON object, e.g. ${example}`);
    const where = st.waiting()?.id ?? p.current ?? p.steps.find((s) => s.status === 'pending')?.id;
    const step = input.step ?? (action === 'abort' ? where : undefined);
    if (step === undefined) throw new Error(`${action} needs the step that waits: ${example}`);
    return {
      step,
      action,
      reason: input.reason,
      actor: input.actor,
      ...(typeof input.identity === 'string' && { identity: input.identity }),
    };
  };
  for (const [def, action] of [
    [retryUpdate, 'retry'],
    [skipUpdate, 'skip'],
    [abortUpdate, 'abort'],
  ] as const) {
    setHandler(def, (input: StepDecisionInput) => decideHandler(fromStepDecision(action, input)), {
      validator: (input: StepDecisionInput) => decideValidator(fromStepDecision(action, input)),
      description: UPDATE_HELP[action],
    });
  }

  setHandler(
    approveUpdate,
    (input: ApproveInput) => {
      const given = st.given.get(input.gate) ?? [];
      given.push({ actor: input.actor, ...(typeof input.identity === 'string' && { identity: input.identity }) });
      st.given.set(input.gate, given);
      const policy = st.policyOf(input.gate);
      if (gateOpen(policy, given)) st.approved.add(input.gate);
      st.record({
        kind: 'approve',
        step: input.gate,
        actor: input.actor,
        reason: input.reason,
        ...(typeof input.identity === 'string' && { identity: input.identity }),
      });
      // Gates with approvers say how many approvals they have and who may still give one.
      const step = st.gates[input.gate] ? p.steps.find((s) => s.id === input.gate) : undefined;
      if (step) {
        step.note = st.gateNote(input.gate);
        st.publisher.details();
      }
      return p;
    },
    {
      description: UPDATE_HELP.approve,
      validator: (input: ApproveInput) => {
        requireActor(input?.actor);
        if (!st.approvals.has(input.gate)) {
          const gates = [...st.approvals].join(', ') || 'none';
          throw new Error(`there is no approval gate "${input.gate}" in this run; its gates are: ${gates}`);
        }
        const step = p.steps.find((s) => s.id === input.gate);
        if (step?.status !== 'awaiting-approval') {
          throw new Error(`gate ${input.gate} is not waiting for approval (step is ${step?.status ?? 'unknown'})`);
        }
        const problem = approvalProblem(
          input.gate,
          st.policyOf(input.gate),
          st.given.get(input.gate) ?? [],
          input.actor,
          st.starter,
        );
        if (problem) throw new Error(problem);
      },
    },
  );

  setHandler(
    confirmUpdate,
    (input: ConfirmInput) => {
      st.confirmed.set(input.step, input.note ?? '');
      st.record({ kind: 'confirm', step: input.step, actor: input.actor, reason: input.note });
      return p;
    },
    {
      description: UPDATE_HELP.confirm,
      validator: (input: ConfirmInput) => {
        requireActor(input?.actor);
        const step = p.steps.find((s) => s.id === input.step);
        if (!step) throw new Error(`unknown step "${input.step}"; the steps are: ${stepIds()}`);
        if (step.status === 'awaiting-operator') {
          // A manual step confirmed too early parks when its check fails: a retry asks for the confirmation again.
          const why = step.lastError ? ` (${step.lastError})` : '';
          const wasConfirmed = p.decisions.some((d) => d.kind === 'confirm' && d.step === input.step);
          const again = wasConfirmed
            ? ' (it asks for your confirmation again: confirm once the work is really done)'
            : '';
          throw new Error(
            `step ${input.step} is awaiting-operator, not waiting for a confirmation: it parked${why}. Retry it: ` +
              `replup retry --step ${input.step} --reason "..."${again}; or end the run: replup abort --step ` +
              `${input.step} --reason "..."`,
          );
        }
        if (step.status !== 'awaiting-confirmation') {
          throw new Error(`step ${input.step} is ${step.status}, not waiting for a confirmation`);
        }
      },
    },
  );

  setHandler(
    pauseUpdate,
    (input: ActorInput) => {
      st.paused = true;
      st.record({ kind: 'pause', actor: input.actor, reason: input.reason });
      st.setStatus(p.status === 'running' ? 'paused' : p.status);
      return p;
    },
    {
      description: UPDATE_HELP.pause,
      validator: (input: ActorInput) => {
        requireActor(input?.actor);
        if (st.paused) throw new Error('the run is already paused');
        if (st.finished()) throw new Error(`the run has ended (${p.status})`);
      },
    },
  );

  setHandler(
    resumeUpdate,
    (input: ActorInput) => {
      st.paused = false;
      st.record({ kind: 'resume', actor: input.actor, reason: input.reason });
      if (p.status === 'paused') st.setStatus('running');
      return p;
    },
    {
      description: UPDATE_HELP.resume,
      validator: (input: ActorInput) => {
        requireActor(input?.actor);
        if (!st.paused) throw new Error('the run is not paused');
      },
    },
  );
}
