// The step engine every runbook is written on. A runbook is straight-line code over `step`,
// `gate` and `manual`, so reading the workflow reads the runbook. What this adds to each step:
// progress state (query `progress`), search attributes and the UI's current details, and the rule
// that a failing step never fails the run: it parks as `awaiting-operator` until a person decides
// retry, skip (only where the step allows it) or abort, each decision on the record with who and why.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  ChildWorkflowFailure,
  TemporalFailure,
  WorkflowError,
  condition,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  approveUpdate,
  confirmUpdate,
  decideUpdate,
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  retryUpdate,
  skipUpdate,
  abortUpdate,
  ReplupFleet,
  ReplupStatus,
  ReplupStep,
  type DecideInput,
  type DecisionRecord,
  type Progress,
  type RunResult,
  type RunStatus,
  type StepProgress,
  type StepDecisionInput,
} from './messages.js';
import { boundedAll } from '../common/bounded.js';
import { asShown } from './step-view.js';
import { RunNotifier } from './notify.js';
import type { NotifySettings } from '../plan/notify.js';
import { ANYONE_ONCE, approvalNote, approvalProblem, gateOpen, type GatePolicy, type GivenApproval } from '../plan/approval.js';
import { WINDOW_GUARDS_FROM, windowClosed, type MaintenanceWindow } from '../plan/window.js';

export { boundedAll };

export interface StepDef {
  id: string;
  title: string;
  applies: boolean;
  reason: string;
  /** May an operator skip this step when it fails? Steps that guard data never are. */
  skippable: boolean;
}

export interface RetrySettings {
  initialSeconds: number;
  maximumSeconds: number;
  maximumAttempts: number;
}

export const DEFAULT_RETRY: RetrySettings = { initialSeconds: 2, maximumSeconds: 60, maximumAttempts: 8 };

/** What a step's body can tell the operator while it runs. */
export interface StepContext {
  /** One short line shown in the step table: "round 2: 14 rows moved". */
  note(text: string): void;
  /** Fan-out progress: items done of total. */
  count(done: number, total: number): void;
}

/** The `replup` memo: each step's [id, status, attempts, last error], as the history records it. */
export interface StepMemo {
  status: RunStatus;
  current: string | null;
  outcome: string | null;
  steps: [string, StepProgress['status'], number, string | null][];
  /** The maintenance window, when the run has one (absent otherwise, so older runs' memos are unchanged). */
  window?: MaintenanceWindow;
}

/** Thrown inside the run when an operator aborts; `Runbook.run` turns it into the `aborted` result. */
class RunAborted extends Error {
  constructor(
    public readonly step: string,
    public readonly reason: string,
    public readonly actor: string,
  ) {
    super(`aborted at ${step} by ${actor}: ${reason}`);
    this.name = 'RunAborted';
  }
}

const now = () => new Date().toISOString();

/**
 * A bug in workflow code (a TypeError, a failed assertion), not a decision of the runbook: the
 * engine parks the step (or fails the run) with its message instead of letting the workflow task
 * fail and retry silently forever. Runbooks' own error classes (RunAborted, RunFailed) and the
 * SDK's (WorkflowError: non-determinism must fail the task, so a fixed deploy can replay) pass.
 */
export function isUnexpectedError(err: unknown): err is Error {
  if (!(err instanceof Error) || err instanceof TemporalFailure || err instanceof WorkflowError) return false;
  return ['Error', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'URIError', 'EvalError'].includes(err.name);
}

const unexpected = (err: Error, parked = true) =>
  `internal error in the workflow code (${err.name}: ${err.message}): report it with the run's id; ` +
  (parked ? 'retry once a worker with the fix runs, or abort' : 'no abort cleanup ran: check the fleet, and start again once a worker with the fix runs');

/**
 * What `callActivity` asks the run's engine before it schedules an activity (keyed by run id:
 * module state is shared by the SDK between runs): an abort requested while the run is busy takes
 * effect here, after the activities already running, and the engine counts what is in flight so
 * that the abort cleanup starts only once they have settled.
 */
interface ActivityGate {
  beforeActivity(): void;
  inFlight: number;
}
const activityGates = new Map<string, ActivityGate>();

async function guarded<R>(call: () => Promise<R>): Promise<R> {
  const gate = activityGates.get(workflowInfo().runId);
  if (!gate) return call();
  gate.beforeActivity();
  gate.inFlight += 1;
  try {
    return await call();
  } finally {
    gate.inFlight -= 1;
  }
}

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

export class Runbook {
  readonly progress: Progress;
  private readonly approvals: Set<string>;
  private decision: DecideInput | undefined;
  private approved = new Set<string>();
  /** Who may open each gate (the plan's options.approvals entries with approvers or minApprovals). */
  private readonly gates: Record<string, GatePolicy>;
  /** The approvals each gate has so far; it opens at its minApprovals. */
  private readonly given = new Map<string, GivenApproval[]>();
  /** Who started the run: a gate may refuse their approval (starterMayApprove). */
  private readonly starter: string | undefined;
  private readonly window: MaintenanceWindow | undefined;
  /** Steps that do not begin after the window closed: from remove-replication on. */
  private readonly windowGuarded = new Set<string>();
  /** An operator chose to go on after the window closed (retry): later steps do not park for it again. */
  private windowOverridden = false;
  /** The step parked now because the window closed (skip is no answer to that). */
  private parkedForWindow: string | undefined;
  private confirmed = new Map<string, string>();
  private paused = false;
  /** An abort asked for while the run was running or paused: it takes effect before the next activity. */
  private abortRequest: DecideInput | undefined;
  /** The abort cleanup runs: its own activities pass the gate. */
  private aborting = false;
  private readonly gate_: ActivityGate;
  private cleanup: ((why: string) => Promise<void>) | undefined;
  private lastAttrs = '';
  private lastMemo = '';
  /** Notifications of the plan's `notify:` section; never awaited by a step (workflows/notify.ts). */
  private readonly notifier: RunNotifier;

  constructor(opts: {
    runbook: string;
    fleet: string;
    planName: string;
    steps: StepDef[];
    approvals: string[];
    /** Gates with approvers / minApprovals; a gate not here takes one approval from anyone. */
    gates?: Record<string, GatePolicy>;
    /** Who started the run (the workflow input's requestedBy). */
    starter?: string;
    window?: MaintenanceWindow;
    /** The first step the window's end holds back (default remove-replication). */
    windowFrom?: string;
    /** The plan's `notify:` section. */
    notify?: NotifySettings;
  }) {
    this.approvals = new Set(opts.approvals);
    this.gates = opts.gates ?? {};
    this.starter = opts.starter;
    this.window = opts.window?.notAfter !== undefined || opts.window?.at !== undefined ? opts.window : undefined;
    const from = opts.steps.findIndex((s) => s.id === (opts.windowFrom ?? WINDOW_GUARDS_FROM));
    if (from >= 0) for (const s of opts.steps.slice(from)) this.windowGuarded.add(s.id);
    this.progress = {
      runbook: opts.runbook,
      fleet: opts.fleet,
      planName: opts.planName,
      status: 'running',
      startedAt: now(),
      steps: opts.steps.map((s) => ({
        id: s.id,
        title: s.title,
        applies: s.applies,
        reason: s.reason,
        skippable: s.skippable,
        status: s.applies ? 'pending' : 'not-applicable',
        attempts: 0,
      })),
      decisions: [],
      facts: {},
      ...(this.window && { window: this.window }),
    };
    this.notifier = new RunNotifier(opts.notify, this.progress);
    this.gate_ = {
      inFlight: 0,
      beforeActivity: () => {
        const a = this.abortRequest;
        if (a && !this.aborting) throw new RunAborted(a.step, a.reason, a.actor);
      },
    };
    activityGates.set(workflowInfo().runId, this.gate_);
    this.installHandlers();
    this.publish();
  }

  /** Cleanup that is safe at the point of abort; the runbook decides what that is. */
  onAbort(fn: (why: string) => Promise<void>): void {
    this.cleanup = fn;
  }

  private stepOf(id: string): StepProgress {
    const s = this.progress.steps.find((x) => x.id === id);
    if (!s) throw new Error(`unknown step ${id}`);
    return s;
  }

  private record(d: Omit<DecisionRecord, 'at'>): void {
    this.progress.decisions.push({ ...d, at: now() });
  }

  private installHandlers(): void {
    const stepIds = () => this.progress.steps.map((s) => s.id).join(', ');
    const requireActor = (actor: unknown) => {
      if (typeof actor !== 'string' || actor.trim() === '') throw new Error('an actor is required: say who decides (--actor)');
    };
    setHandler(progressQuery, () => this.progress);

    const decideHandler = (input: DecideInput) => {
      const step = this.progress.steps.find((s) => s.id === input.step);
      // Abort of a run that is running or paused (no step waits): it takes effect safely, after
      // the activities already running and before the next one, with the runbook's cleanup.
      if (input.action === 'abort' && !step?.status.startsWith('awaiting-')) this.abortRequest = input;
      else this.decision = input;
      this.record({ kind: input.action, step: input.step, actor: input.actor, reason: input.reason, ...(typeof input.identity === 'string' && { identity: input.identity }) });
      return this.progress;
    };
    const decideValidator = (input: DecideInput) => {
      requireActor(input?.actor);
      if (!['retry', 'skip', 'abort'].includes(input.action)) throw new Error(`unknown action "${input.action}": use retry, skip or abort`);
      if (typeof input.reason !== 'string' || input.reason.trim() === '') {
        throw new Error(`a reason is required to ${input.action} a step (--reason "...")`);
      }
      const step = this.progress.steps.find((s) => s.id === input.step);
      if (!step) throw new Error(`unknown step "${input.step}"; the steps are: ${stepIds()}`);
      const waiting = this.progress.steps.find((s) => s.status.startsWith('awaiting-'));
      const canAbortHere = input.action === 'abort' && step.status.startsWith('awaiting-');
      if (input.action === 'abort' && !canAbortHere) {
        if (this.finished()) throw new Error(`the run has ended (${this.progress.status}); there is nothing to abort`);
        if (this.aborting) throw new Error('the run is already aborting: its cleanup is running');
        if (this.abortRequest) throw new Error(`an abort is already on its way (by ${this.abortRequest.actor}): it takes effect after the activity that is running`);
        const at = this.progress.current;
        if (waiting) throw new Error(`the run is waiting at ${waiting.id} (${waiting.status}): abort --step ${waiting.id}`);
        if (at !== undefined && input.step !== at) throw new Error(`the run is at ${at}, not ${input.step}: abort --step ${at}`);
        return;
      }
      if (step.status !== 'awaiting-operator' && !canAbortHere) {
        const now = waiting ? `; the run is waiting at ${waiting.id} (${waiting.status})` : '; no step is waiting for a decision';
        throw new Error(`step ${input.step} is ${step.status}, not waiting for a decision${now}`);
      }
      if (input.action === 'skip' && this.parkedForWindow === step.id) {
        throw new Error(`step ${input.step} waits because the maintenance window closed: retry to go on anyway (recorded), or abort`);
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
      if (input === null || typeof input !== 'object') {
        throw new Error(`${action} takes a JSON object, e.g. {"step": "${this.exampleStep()}", "reason": "why", "actor": "your name"}`);
      }
      const where = this.progress.steps.find((s) => s.status.startsWith('awaiting-'))?.id ?? this.progress.current ?? this.progress.steps.find((s) => s.status === 'pending')?.id;
      const step = input.step ?? (action === 'abort' ? where : undefined);
      if (step === undefined) throw new Error(`${action} needs the step that waits: {"step": "${this.exampleStep()}", "reason": "why", "actor": "your name"}`);
      return { step, action, reason: input.reason, actor: input.actor, ...(typeof input.identity === 'string' && { identity: input.identity }) };
    };
    for (const [def, action] of [[retryUpdate, 'retry'], [skipUpdate, 'skip'], [abortUpdate, 'abort']] as const) {
      setHandler(def, (input) => decideHandler(fromStepDecision(action, input)), {
        validator: (input) => decideValidator(fromStepDecision(action, input)),
        description: UPDATE_HELP[action],
      });
    }

    setHandler(
      approveUpdate,
      (input) => {
        const given = this.given.get(input.gate) ?? [];
        given.push({ actor: input.actor, ...(typeof input.identity === 'string' && { identity: input.identity }) });
        this.given.set(input.gate, given);
        const policy = this.policyOf(input.gate);
        if (gateOpen(policy, given)) this.approved.add(input.gate);
        this.record({ kind: 'approve', step: input.gate, actor: input.actor, reason: input.reason, ...(typeof input.identity === 'string' && { identity: input.identity }) });
        // Gates with approvers say how many approvals they have and who may still give one.
        const step = this.gates[input.gate] ? this.progress.steps.find((s) => s.id === input.gate) : undefined;
        if (step) {
          step.note = approvalNote(policy, given, this.starter);
          setCurrentDetails(renderStepTable(this.progress));
        }
        return this.progress;
      },
      {
        description: UPDATE_HELP.approve,
        validator: (input) => {
          requireActor(input?.actor);
          if (!this.approvals.has(input.gate)) {
            const gates = [...this.approvals].join(', ') || 'none';
            throw new Error(`there is no approval gate "${input.gate}" in this run; its gates are: ${gates}`);
          }
          const step = this.progress.steps.find((s) => s.id === input.gate);
          if (step?.status !== 'awaiting-approval') {
            throw new Error(`gate ${input.gate} is not waiting for approval (step is ${step?.status ?? 'unknown'})`);
          }
          const problem = approvalProblem(input.gate, this.policyOf(input.gate), this.given.get(input.gate) ?? [], input.actor, this.starter);
          if (problem) throw new Error(problem);
        },
      },
    );

    setHandler(
      confirmUpdate,
      (input) => {
        this.confirmed.set(input.step, input.note ?? '');
        this.record({ kind: 'confirm', step: input.step, actor: input.actor, reason: input.note });
        return this.progress;
      },
      {
        description: UPDATE_HELP.confirm,
        validator: (input) => {
          requireActor(input?.actor);
          const step = this.progress.steps.find((s) => s.id === input.step);
          if (!step) throw new Error(`unknown step "${input.step}"; the steps are: ${stepIds()}`);
          if (step.status !== 'awaiting-confirmation') {
            throw new Error(`step ${input.step} is ${step.status}, not waiting for a confirmation`);
          }
        },
      },
    );

    setHandler(
      pauseUpdate,
      (input) => {
        this.paused = true;
        this.record({ kind: 'pause', actor: input.actor, reason: input.reason });
        this.setStatus(this.progress.status === 'running' ? 'paused' : this.progress.status);
        return this.progress;
      },
      {
        description: UPDATE_HELP.pause,
        validator: (input) => {
          requireActor(input?.actor);
          if (this.paused) throw new Error('the run is already paused');
          if (this.finished()) throw new Error(`the run has ended (${this.progress.status})`);
        },
      },
    );

    setHandler(
      resumeUpdate,
      (input) => {
        this.paused = false;
        this.record({ kind: 'resume', actor: input.actor, reason: input.reason });
        if (this.progress.status === 'paused') this.setStatus('running');
        return this.progress;
      },
      {
        description: UPDATE_HELP.resume,
        validator: (input) => {
          requireActor(input?.actor);
          if (!this.paused) throw new Error('the run is not paused');
        },
      },
    );
  }

  private policyOf(gate: string): GatePolicy {
    return this.gates[gate] ?? ANYONE_ONCE;
  }

  /** A step id for the examples in messages: the one that waits, else the first. */
  private exampleStep(): string {
    return this.progress.steps.find((s) => s.status.startsWith('awaiting-'))?.id ?? this.progress.steps[0]?.id ?? 'step';
  }

  /**
   * The maintenance window's end: a step from remove-replication on does not begin after it. It
   * parks with the reason; retry goes on anyway (on the record, and later steps do not ask again),
   * abort runs the cleanup that is safe there.
   */
  private async holdForWindow(s: StepProgress): Promise<void> {
    const w = this.window;
    if (!w?.notAfter || this.windowOverridden || !this.windowGuarded.has(s.id) || !windowClosed(w, Date.now())) return;
    s.lastError = `the maintenance window closed at ${w.notAfter} (now ${now()}): no step from ${[...this.windowGuarded][0]} on begins after it; retry to go on anyway (recorded), or abort`;
    this.parkedForWindow = s.id;
    const d = await this.waitForDecision(s);
    this.parkedForWindow = undefined;
    if (d.action === 'abort') {
      s.endedAt = now();
      throw new RunAborted(s.id, d.reason, d.actor);
    }
    this.windowOverridden = true;
    s.note = `went on after the maintenance window closed (${d.actor}: ${d.reason})`;
    s.lastError = undefined;
    s.status = 'pending';
    this.publish();
  }

  private finished(): boolean {
    return ['completed', 'aborted', 'failed'].includes(this.progress.status);
  }

  private setStatus(status: RunStatus): void {
    // Query state only (no command): metrics read how long a person has been awaited.
    if (!status.startsWith('awaiting-')) delete this.progress.awaitingSince;
    else if (status !== this.progress.status) this.progress.awaitingSince = now();
    this.progress.status = status;
    this.publish();
  }

  /**
   * Search attributes, the UI's current details and the `replup` memo follow the progress state.
   * The memo puts every step transition (with its error) into the history itself, so the audit
   * report is rebuilt from the record, never from memory. Unchanged values write no event.
   */
  private publish(): void {
    const p = this.progress;
    const attrs = JSON.stringify([p.status, p.current ?? '']);
    if (attrs !== this.lastAttrs) {
      this.lastAttrs = attrs;
      upsertSearchAttributes([
        { key: ReplupStatus, value: p.status },
        { key: ReplupStep, value: p.current ?? '' },
        { key: ReplupFleet, value: p.fleet },
      ]);
    }
    const memo: StepMemo = {
      status: p.status,
      current: p.current ?? null,
      outcome: p.outcome ?? null,
      // As every view shows it: a step an ended run never began reads "not reached".
      steps: asShown(p).steps.map((s) => [s.id, s.status, s.attempts, s.lastError ?? null]),
      ...(p.window && { window: p.window }),
    };
    const memoText = JSON.stringify(memo);
    if (memoText !== this.lastMemo) {
      this.lastMemo = memoText;
      upsertMemo({ replup: memo });
    }
    setCurrentDetails(renderStepTable(p));
  }

  private async betweenSteps(): Promise<void> {
    this.abortIfRequested();
    if (!this.paused) return;
    this.setStatus('paused');
    await condition(() => !this.paused || this.abortRequest !== undefined);
    this.abortIfRequested();
    this.setStatus('running');
  }

  private abortIfRequested(): void {
    const a = this.abortRequest;
    if (a && !this.aborting) throw new RunAborted(a.step, a.reason, a.actor);
  }

  /** Runs one step of the runbook; a failure parks it for an operator instead of failing the run. */
  async step<T>(id: string, body: (ctx: StepContext) => Promise<T>): Promise<T | undefined> {
    const s = this.stepOf(id);
    if (!s.applies) return undefined;
    await this.betweenSteps();
    this.progress.current = id;
    await this.holdForWindow(s);
    s.startedAt = now();
    const ctx: StepContext = {
      note: (text) => {
        s.note = text;
        setCurrentDetails(renderStepTable(this.progress));
      },
      count: (done, total) => {
        s.done = done;
        s.total = total;
        setCurrentDetails(renderStepTable(this.progress));
      },
    };
    for (;;) {
      s.attempts += 1;
      s.status = 'running';
      this.setStatus('running');
      try {
        const result = await body(ctx);
        s.status = 'done';
        s.endedAt = now();
        s.lastError = undefined;
        this.publish();
        return result;
      } catch (err) {
        if (err instanceof RunAborted) {
          // An abort requested while this step ran: its activities in flight have settled.
          s.status = 'aborted';
          s.endedAt = now();
          throw err;
        }
        if (isCancellation(err)) throw err;
        if (isUnexpectedError(err)) s.lastError = unexpected(err);
        else if (err instanceof TemporalFailure) s.lastError = describeFailure(err);
        else throw err;
        // An abort asked for while this step ran wins over parking it: nobody waits for a decision.
        if (this.abortRequest) {
          s.status = 'aborted';
          s.endedAt = now();
          this.abortIfRequested();
        }
        const decision = await this.waitForDecision(s);
        if (decision.action === 'retry') continue;
        s.endedAt = now();
        if (decision.action === 'skip') {
          s.status = 'skipped';
          this.publish();
          return undefined;
        }
        throw new RunAborted(id, decision.reason, decision.actor);
      }
    }
  }

  private async waitForDecision(s: StepProgress): Promise<DecideInput> {
    s.status = 'awaiting-operator';
    this.decision = undefined;
    this.setStatus('awaiting-operator');
    this.notifier.waiting(s);
    await condition(() => this.decision?.step === s.id);
    const d = this.decision!;
    this.decision = undefined;
    if (d.action === 'abort') s.status = 'aborted';
    // Decided: the run moves on (retry, skip) or runs its abort cleanup; it no longer waits.
    this.setStatus('running');
    return d;
  }

  /** Waits for `replup approve` when the plan gates this step; an abort is allowed meanwhile. */
  async gate(id: string): Promise<void> {
    const s = this.stepOf(id);
    if (!s.applies || !this.approvals.has(id)) return;
    await this.betweenSteps();
    this.progress.current = id;
    await this.holdForWindow(s);
    s.status = 'awaiting-approval';
    if (this.gates[id]) s.note = approvalNote(this.policyOf(id), this.given.get(id) ?? [], this.starter);
    this.decision = undefined;
    this.setStatus('awaiting-approval');
    this.notifier.waiting(s);
    await condition(() => this.approved.has(id) || (this.decision?.step === id && this.decision.action === 'abort'));
    if (!this.approved.has(id)) {
      const d = this.decision!;
      s.status = 'aborted';
      this.setStatus('running');
      throw new RunAborted(id, d.reason, d.actor);
    }
    s.status = 'pending';
    this.setStatus('running');
  }

  /** A step a person performs outside replup; it ends with `replup confirm`. */
  async manual(id: string, instructions: string): Promise<string> {
    const s = this.stepOf(id);
    s.status = 'awaiting-confirmation';
    s.note = instructions;
    this.decision = undefined;
    this.setStatus('awaiting-confirmation');
    this.notifier.waiting(s);
    await condition(() => this.confirmed.has(id) || (this.decision?.step === id && this.decision.action === 'abort'));
    if (!this.confirmed.has(id)) {
      const d = this.decision!;
      s.status = 'aborted';
      this.setStatus('running');
      throw new RunAborted(id, d.reason, d.actor);
    }
    const note = this.confirmed.get(id)!;
    this.confirmed.delete(id);
    s.status = 'running';
    this.setStatus('running');
    return note;
  }

  /** The run report, built by an activity from this run's history; `replup report` rebuilds it any time. */
  private async writeReport(): Promise<void> {
    const { workflowId, runId } = workflowInfo();
    try {
      const files = await callActivity<{ markdown: string; json: string }>('writeRunReport', [{ workflowId, runId }], 'report: write the run report from the history', {
        initialSeconds: 1,
        maximumSeconds: 10,
        maximumAttempts: 5,
      });
      this.progress.facts.report = files;
    } catch (err) {
      // The audit is the history itself; a report that cannot be written must not undo the run.
      this.progress.facts.reportError = describeFailure(err);
    }
  }

  /** Runs the whole runbook; an abort runs the runbook's cleanup and ends `aborted`. */
  async run(body: () => Promise<void>): Promise<RunResult> {
    try {
      await body();
      this.progress.current = undefined;
      this.progress.endedAt = now();
      this.progress.outcome = 'completed: every step done or not applicable';
      this.setStatus('completed');
      this.notifier.ended('completed');
      await this.writeReport();
      await this.notifier.settle();
      // Updates that arrived with the last step finish before the workflow completes.
      await condition(allHandlersFinished);
      return { status: 'completed', outcome: this.progress.outcome, progress: this.progress };
    } catch (err) {
      if (isUnexpectedError(err) && patched('unexpected-error-fails-run')) return this.fail(err);
      if (!(err instanceof RunAborted)) throw err;
      this.progress.outcome = `aborted at ${err.step} by ${err.actor}: ${err.reason}`;
      this.aborting = true;
      // Cleanup starts only once what was running has settled (an abort asked for mid-step).
      if (this.gate_.inFlight > 0) await condition(() => this.gate_.inFlight === 0);
      if (this.cleanup) await this.cleanup(err.reason);
      for (const s of this.progress.steps) if (s.status === 'pending') s.status = 'aborted';
      this.progress.endedAt = now();
      this.setStatus('aborted');
      this.notifier.ended('aborted');
      await this.writeReport();
      await this.notifier.settle();
      return { status: 'aborted', outcome: this.progress.outcome, progress: this.progress };
    } finally {
      // Module state outlives the run in a reused workflow context: let go of this run's gate.
      activityGates.delete(workflowInfo().runId);
    }
  }

  /** A bug in workflow code outside a step: the run ends failed with the message, on the record. */
  private async fail(err: Error): Promise<never> {
    const message = unexpected(err, false);
    // The run ends here: an abort asked for meanwhile must not stop the report.
    this.aborting = true;
    const at = this.progress.current;
    const s = at !== undefined ? this.progress.steps.find((x) => x.id === at) : undefined;
    if (s && !['done', 'skipped', 'not-applicable'].includes(s.status)) {
      s.status = 'aborted';
      s.lastError = message;
      s.endedAt = now();
    }
    for (const x of this.progress.steps) if (x.status === 'pending') x.status = 'aborted';
    const where = !at ? '' : s && ['done', 'skipped', 'not-applicable'].includes(s.status) ? ` after ${at}` : ` at ${at}`;
    this.progress.outcome = `failed${where}: ${message}`;
    this.progress.endedAt = now();
    this.setStatus('failed');
    this.notifier.ended('failed');
    await this.writeReport();
    await this.notifier.settle();
    throw ApplicationFailure.nonRetryable(message, 'WorkflowCodeError');
  }
}

/**
 * What the Web UI's "Send an Update" list shows beside each Update name: the exact JSON to type
 * (README, "Answering from the Web UI"). `actor` is who you are; it is recorded with the decision.
 */
export const UPDATE_HELP = {
  retry: 'Run a parked step again: {"step": "sync-until-quiet", "reason": "why", "actor": "your name"}',
  skip: 'Skip a parked step (only where allowed): {"step": "verify-replication", "reason": "why", "actor": "your name"}',
  abort: 'Abort the run where it is, with its safe cleanup: {"reason": "why", "actor": "your name"} (add "step" to name where it waits)',
  approve: 'Approve a gate: {"gate": "remove-replication", "reason": "why", "actor": "your name"}',
  confirm: 'Confirm a manual step is done: {"step": "upgrade", "note": "what was done", "actor": "your name"}',
  pause: 'Pause between steps: {"reason": "why", "actor": "your name"}',
  resume: 'Resume a paused run: {"reason": "why", "actor": "your name"}',
  decide: 'retry, skip or abort in one (the CLI uses it): {"step": "…", "action": "retry", "reason": "why", "actor": "your name"}',
} as const;

/** The Markdown step table the Temporal UI shows as the workflow's current details. */
export function renderStepTable(p: Progress): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = asShown(p).steps.map((s, i) => {
    // "(3 of 3)", not "3/3": the UI's Markdown would render a fraction glyph.
    const counter = s.total !== undefined && s.status === 'running' ? ` (${s.done ?? 0} of ${s.total})` : '';
    // While a retried step runs, its last error belongs to the attempt before.
    const error = s.lastError ? (s.status === 'running' ? `previous attempt: ${s.lastError}` : `error: ${s.lastError}`) : '';
    const detail = s.status === 'not-applicable' ? s.reason : [s.note, error].filter(Boolean).join(' — ');
    return `| ${i + 1} | ${s.id} | ${s.status}${counter} | ${s.attempts} | ${cell(detail)} |`;
  });
  const decisions = p.decisions.map((d) => `- ${d.at} **${d.kind}**${d.step ? ` \`${d.step}\`` : ''} by ${cell(d.actor)}${d.reason ? `: ${cell(d.reason)}` : ''}`);
  const window = p.window ? [`Maintenance window: ${p.window.at ? `from ${p.window.at}` : 'from the start'}${p.window.notAfter ? `, no step from remove-replication on begins after ${p.window.notAfter}` : ''}`, ''] : [];
  return [
    `**${p.planName}** — ${p.runbook} on ${p.fleet}: **${p.status}**${p.current ? ` at \`${p.current}\`` : ''}`,
    '',
    ...window,
    '| # | step | status | attempts | detail |',
    '|---|------|--------|----------|--------|',
    ...rows,
    ...(decisions.length ? ['', '**Operator decisions**', '', ...decisions] : []),
  ].join('\n');
}

// --- activities and fan-out ------------------------------------------------------------------------

export function activityOptions(retry: RetrySettings = DEFAULT_RETRY): ActivityOptions {
  return {
    startToCloseTimeout: '30 minutes',
    // Long activities heartbeat; a killed worker's activity is retried elsewhere within this.
    heartbeatTimeout: '10 seconds',
    retry: {
      initialInterval: `${retry.initialSeconds} seconds`,
      maximumInterval: `${retry.maximumSeconds} seconds`,
      backoffCoefficient: 2,
      maximumAttempts: retry.maximumAttempts,
    },
  };
}

type AnyActivity = (...args: any[]) => Promise<any>;

/** Calls an activity by name with a UI summary ("sync-until-quiet: merge Config → BR01, round 2"). */
export async function callActivity<R>(name: string, args: unknown[], summary: string, retry?: RetrySettings): Promise<R> {
  const acts = proxyActivities<Record<string, AnyActivity>>(activityOptions(retry));
  const fn = acts[name] as AnyActivity & { executeWithOptions(opts: ActivityOptions & { summary?: string }, args: unknown[]): Promise<R> };
  return guarded(() => fn.executeWithOptions({ ...activityOptions(retry), summary }, args));
}

/** One activity call of a fan-out. */
export interface FanOutCall {
  activity: string;
  args: unknown[];
  summary: string;
}

export interface FanOutBatchInput {
  calls: FanOutCall[];
  maxParallel: number;
  retry?: RetrySettings;
}

/**
 * Runs many activity calls with bounded parallelism. Past `childThreshold` calls the work is cut
 * into child workflows (each a batch), so the parent's history grows by a few events per batch
 * instead of three per call: a 1000-subscriber fleet stays far under Temporal's history limits.
 */
export async function fanOut<R>(
  key: string,
  calls: FanOutCall[],
  opts: { maxParallel: number; childThreshold: number; retry?: RetrySettings; ctx?: StepContext },
): Promise<R[]> {
  const total = calls.length;
  opts.ctx?.count(0, total);
  if (total <= opts.childThreshold) {
    return boundedAll(calls, opts.maxParallel, (c) => callActivity<R>(c.activity, c.args, c.summary, opts.retry), (d) => opts.ctx?.count(d, total));
  }
  const batchSize = Math.max(1, opts.childThreshold);
  const prefix = batchIdPrefix(key);
  const batches: FanOutCall[][] = [];
  for (let i = 0; i < total; i += batchSize) batches.push(calls.slice(i, i + batchSize));
  const perBatch = Math.max(1, Math.ceil(opts.maxParallel / batches.length));
  let done = 0;
  const results = await boundedAll(batches, batches.length, async (batch, b) => {
    const r = await guarded(() => executeChild(fanOutBatch, {
      workflowId: `${prefix}/batch-${b + 1}`,
      args: [{ calls: batch, maxParallel: perBatch, retry: opts.retry }],
      staticSummary: `${key}: batch ${b + 1} of ${batches.length} (${batch.length} calls)`,
    }));
    done += batch.length;
    opts.ctx?.count(done, total);
    return r as R[];
  });
  return results.flat();
}

/**
 * Child workflow ids of a fan-out: `<run>/<key>` the first time a key fans out, `<run>/<key>~2`
 * the second time, and so on (a step may fan out more than once: drain, then disconnect).
 * Runs started before this change reused `<run>/<key>` and replay that way.
 */
const fanOutsByKey = new Map<string, number>();
function batchIdPrefix(key: string): string {
  const counter = `${workflowInfo().runId}|${key}`; // by run, whatever the SDK shares between runs
  const n = (fanOutsByKey.get(counter) ?? 0) + 1;
  fanOutsByKey.set(counter, n);
  const base = `${workflowInfo().workflowId}/${key}`;
  return n > 1 && patched('unique-batch-ids') ? `${base}~${n}` : base;
}

/** The child workflow of a large fan-out: one batch of activity calls. */
export async function fanOutBatch(input: FanOutBatchInput): Promise<unknown[]> {
  return boundedAll(input.calls, input.maxParallel, (c) => callActivity(c.activity, c.args, c.summary, input.retry));
}
