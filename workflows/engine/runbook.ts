// The step state machine every runbook is written on. A runbook is straight-line code over `step`,
// `gate` and `manual`, so reading the workflow reads the runbook. What this adds to each step:
// progress state (query `progress`), search attributes and the UI's current details, and the rule
// that a failing step never fails the run: it parks as `awaiting-operator` until a person decides
// retry, skip (only where the step allows it) or abort, each decision on the record with who and
// why. A runbook ends a run failed only on purpose, with `fail`.
import {
  allHandlersFinished,
  ApplicationFailure,
  TemporalFailure,
  condition,
  isCancellation,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import type { DecideInput, DecisionRecord, Progress, RunResult, RunStatus, StepProgress } from '../messages.js';
import { RunNotifier } from '../notify.js';
import type { NotifySettings } from '../../plan/notify.js';
import type { GatePolicy } from '../../plan/approval.js';
import { WINDOW_GUARDS_FROM, windowClosed, type MaintenanceWindow } from '../../plan/window.js';
import { EngineFailure } from '../../common/failures.js';
import { activities, installGate, releaseGate, type ActivityGate } from './activity.js';
import { describeFailure, isUnexpectedError, RunAborted, RunFailed, unexpectedMessage } from './failure.js';
import type { StepContext } from './fan-out.js';
import { installOperatorHandlers } from './operator.js';
import { now, RunState } from './run-state.js';
import type { ReportActivities } from '../../activities/report/index.js';

export interface StepDef {
  id: string;
  title: string;
  applies: boolean;
  reason: string;
  /** May an operator skip this step when it fails? Steps that guard data never are. */
  skippable: boolean;
}

/** A runbook's run: its steps, gates and who may approve them, the window, notifications. */
export interface RunbookOptions {
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
}

const report = activities<ReportActivities>({ retry: { initialSeconds: 1, maximumSeconds: 10, maximumAttempts: 5 } });

export class Runbook {
  private readonly st: RunState;
  /** Steps that do not begin after the window closed: from remove-replication on. */
  private readonly windowGuarded = new Set<string>();
  /** An operator chose to go on after the window closed (retry): later steps do not park for it again. */
  private windowOverridden = false;
  private readonly gate_: ActivityGate;
  private cleanup: ((why: string) => Promise<void>) | undefined;
  /** Notifications of the plan's `notify:` section; never awaited by a step (workflows/notify.ts). */
  private readonly notifier: RunNotifier;

  constructor(opts: RunbookOptions) {
    const window = opts.window?.notAfter !== undefined || opts.window?.at !== undefined ? opts.window : undefined;
    const from = opts.steps.findIndex((s) => s.id === (opts.windowFrom ?? WINDOW_GUARDS_FROM));
    if (from >= 0) for (const s of opts.steps.slice(from)) this.windowGuarded.add(s.id);
    const progress: Progress = {
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
      ...(window && { window }),
    };
    this.st = new RunState(progress, { approvals: opts.approvals, gates: opts.gates, starter: opts.starter, window });
    this.notifier = new RunNotifier(opts.notify, progress);
    this.gate_ = {
      inFlight: 0,
      beforeActivity: () => {
        const a = this.st.abortRequest;
        if (a && !this.st.aborting) throw new RunAborted(a.step, a.reason, a.actor);
      },
    };
    installGate(this.gate_);
    installOperatorHandlers(this.st);
    this.st.publisher.publish();
  }

  /** The run's progress as the `progress` query returns it: read it, change it through the methods below. */
  get progress(): Readonly<Progress> {
    return this.st.progress;
  }

  /** When the run started (ISO 8601). */
  get startedAt(): string {
    return this.st.progress.startedAt;
  }

  /** Records a fact of the run under `key` (query `progress`, `status --json`): replaces what was there. */
  fact(key: string, value: unknown): void {
    this.st.progress.facts[key] = value;
  }

  /** A fact recorded before, if any. */
  factOf<T>(key: string): T | undefined {
    return this.st.progress.facts[key] as T | undefined;
  }

  /** Records a decision that came in by a runbook's own message (`connect-agent`). */
  recordDecision(d: Omit<DecisionRecord, 'at'>): void {
    this.st.record(d);
  }

  /** A step's status now. */
  statusOf(step: string): StepProgress['status'] {
    return this.st.stepOf(step).status;
  }

  /** Says something about a step before it runs (a gate's reason to approve); only for a step that applies. */
  describe(step: string, note: string): void {
    const s = this.st.stepOf(step);
    if (!s.applies) return;
    s.note = note;
    this.st.described.set(step, note);
  }

  /** Cleanup that is safe at the point of abort; the runbook decides what that is. */
  onAbort(fn: (why: string) => Promise<void>): void {
    this.cleanup = fn;
  }

  /**
   * Ends the run failed at `step` with `reason` (thrown: call it as `throw run.fail(...)` or let it
   * throw). The step and the run say why; no cleanup runs; the workflow fails with type `type`.
   * For a state no operator can change from here (the server gave up on a critical agent).
   */
  fail(step: string, reason: string, type: string): never {
    throw new RunFailed(step, reason, type);
  }

  /**
   * The maintenance window's end: a step from remove-replication on does not begin after it. It
   * parks with the reason; retry goes on anyway (on the record, and later steps do not ask again),
   * abort runs the cleanup that is safe there.
   */
  private async holdForWindow(s: StepProgress): Promise<void> {
    const w = this.st.window;
    if (!w?.notAfter || this.windowOverridden || !this.windowGuarded.has(s.id) || !windowClosed(w, Date.now())) return;
    s.lastError =
      `the maintenance window closed at ${w.notAfter} (now ${now()}): no step from ${[...this.windowGuarded][0]} on ` +
      'begins after it; retry to go on anyway (recorded), or abort';
    this.st.parkedForWindow = s.id;
    const d = await this.waitForDecision(s);
    this.st.parkedForWindow = undefined;
    if (d.action === 'abort') {
      s.endedAt = now();
      throw new RunAborted(s.id, d.reason, d.actor);
    }
    this.windowOverridden = true;
    s.note = `went on after the maintenance window closed (${d.actor}: ${d.reason})`;
    s.lastError = undefined;
    s.status = 'pending';
    this.st.publisher.publish();
  }

  private async betweenSteps(): Promise<void> {
    this.abortIfRequested();
    if (!this.st.paused) return;
    this.setStatus('paused');
    await condition(() => !this.st.paused || this.st.abortRequest !== undefined);
    this.abortIfRequested();
    this.setStatus('running');
  }

  private abortIfRequested(): void {
    const a = this.st.abortRequest;
    if (a && !this.st.aborting) throw new RunAborted(a.step, a.reason, a.actor);
  }

  private setStatus(status: RunStatus): void {
    this.st.setStatus(status);
  }

  /** Runs one step of the runbook; a failure parks it for an operator instead of failing the run. */
  async step<T>(id: string, body: (ctx: StepContext) => Promise<T>): Promise<T | undefined> {
    const s = this.st.stepOf(id);
    if (!s.applies) return undefined;
    await this.betweenSteps();
    this.st.progress.current = id;
    await this.holdForWindow(s);
    s.startedAt = now();
    const ctx: StepContext = {
      note: (text) => {
        s.note = text;
        this.st.publisher.details();
      },
      count: (done, total) => {
        s.done = done;
        s.total = total;
        this.st.publisher.details();
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
        this.st.publisher.publish();
        return result;
      } catch (err) {
        if (err instanceof RunAborted) {
          // An abort requested while this step ran: its activities in flight have settled.
          s.status = 'aborted';
          s.endedAt = now();
          throw err;
        }
        if (isCancellation(err)) throw err;
        if (isUnexpectedError(err)) s.lastError = unexpectedMessage(err);
        else if (err instanceof TemporalFailure) s.lastError = describeFailure(err);
        else throw err;
        // An abort asked for while this step ran wins over parking it: nobody waits for a decision.
        if (this.st.abortRequest) {
          s.status = 'aborted';
          s.endedAt = now();
          this.abortIfRequested();
        }
        const decision = await this.waitForDecision(s);
        if (decision.action === 'retry') continue;
        s.endedAt = now();
        if (decision.action === 'skip') {
          s.status = 'skipped';
          this.st.publisher.publish();
          return undefined;
        }
        throw new RunAborted(id, decision.reason, decision.actor);
      }
    }
  }

  private async waitForDecision(s: StepProgress): Promise<DecideInput> {
    s.status = 'awaiting-operator';
    this.st.decision = undefined;
    this.setStatus('awaiting-operator');
    this.notifier.waiting(s);
    await condition(() => this.st.decision?.step === s.id);
    const d = this.st.decision!;
    this.st.decision = undefined;
    if (d.action === 'abort') s.status = 'aborted';
    // Decided: the run moves on (retry, skip) or runs its abort cleanup; it no longer waits.
    this.setStatus('running');
    return d;
  }

  /** Waits until `done()` or an abort of step `id`; an abort ends the step and throws RunAborted. */
  private async waitForPerson(s: StepProgress, done: () => boolean): Promise<void> {
    await condition(() => done() || (this.st.decision?.step === s.id && this.st.decision.action === 'abort'));
    if (!done()) {
      const d = this.st.decision!;
      s.status = 'aborted';
      this.setStatus('running');
      throw new RunAborted(s.id, d.reason, d.actor);
    }
  }

  /** Waits for `replup approve` when the plan gates this step; an abort is allowed meanwhile. */
  async gate(id: string): Promise<void> {
    const s = this.st.stepOf(id);
    if (!s.applies || !this.st.approvals.has(id)) return;
    await this.betweenSteps();
    this.st.progress.current = id;
    await this.holdForWindow(s);
    s.status = 'awaiting-approval';
    if (this.st.gates[id]) s.note = this.st.gateNote(id);
    this.st.decision = undefined;
    this.setStatus('awaiting-approval');
    this.notifier.waiting(s);
    await this.waitForPerson(s, () => this.st.approved.has(id));
    s.status = 'pending';
    this.setStatus('running');
  }

  /** A step a person performs outside replup; it ends with `replup confirm`. Returns the confirmation's note. */
  async manual(id: string, instructions: string): Promise<string> {
    const s = this.st.stepOf(id);
    s.status = 'awaiting-confirmation';
    s.note = instructions;
    this.st.decision = undefined;
    this.setStatus('awaiting-confirmation');
    this.notifier.waiting(s);
    await this.waitForPerson(s, () => this.st.confirmed.has(id));
    const note = this.st.confirmed.get(id)!;
    this.st.confirmed.delete(id);
    s.status = 'running';
    this.setStatus('running');
    return note;
  }

  /**
   * The end of the record: the report, and the end notifications settling. Runs from before
   * `report-after-notifications` wrote the report first, while the last notification was still being
   * delivered; now, when one is in flight, it settles first (at most END_WAIT_SECONDS) so the report
   * written has its outcome. Without one in flight nothing changes (no marker), so histories replay.
   */
  private async endRecord(): Promise<void> {
    if (this.notifier.delivering && patched('report-after-notifications')) {
      await this.notifier.settle();
      await this.writeReport();
      return;
    }
    await this.writeReport();
    await this.notifier.settle();
  }

  /** The run report, built by an activity from this run's history; `replup report` rebuilds it any time. */
  private async writeReport(): Promise<void> {
    const { workflowId, runId } = workflowInfo();
    try {
      this.fact(
        'report',
        await report.writeRunReport('report: write the run report from the history', { workflowId, runId }),
      );
    } catch (err) {
      // The audit is the history itself; a report that cannot be written must not undo the run.
      this.fact('reportError', describeFailure(err));
    }
  }

  /** Runs the whole runbook; an abort runs the runbook's cleanup and ends `aborted`. */
  async run(body: () => Promise<void>): Promise<RunResult> {
    const p = this.st.progress;
    try {
      await body();
      p.current = undefined;
      p.endedAt = now();
      p.outcome = 'completed: every step done or not applicable';
      this.setStatus('completed');
      this.notifier.ended('completed');
      await this.endRecord();
      // Updates that arrived with the last step finish before the workflow completes.
      await condition(allHandlersFinished);
      return { status: 'completed', outcome: p.outcome, progress: p };
    } catch (err) {
      if (err instanceof RunFailed) throw this.endFailed(err);
      if (isUnexpectedError(err) && patched('unexpected-error-fails-run')) return this.failOnBug(err);
      if (!(err instanceof RunAborted)) throw err;
      p.outcome = `aborted at ${err.step} by ${err.actor}: ${err.reason}`;
      this.st.aborting = true;
      // Cleanup starts only once what was running has settled (an abort asked for mid-step).
      if (this.gate_.inFlight > 0) await condition(() => this.gate_.inFlight === 0);
      if (this.cleanup) await this.cleanup(err.reason);
      for (const s of p.steps) if (s.status === 'pending') s.status = 'aborted';
      p.endedAt = now();
      this.setStatus('aborted');
      this.notifier.ended('aborted');
      await this.endRecord();
      return { status: 'aborted', outcome: p.outcome, progress: p };
    } finally {
      // Module state outlives the run in a reused workflow context: let go of this run's gate.
      releaseGate();
    }
  }

  /** `fail`: the step and the run say why, in the progress state, memo and search attributes. */
  private endFailed(failure: RunFailed): ApplicationFailure {
    const p = this.st.progress;
    const step = this.st.stepOf(failure.step);
    // (There is no `failed` step status; `aborted` with the reason is the closest.)
    step.status = 'aborted';
    step.lastError = failure.reason;
    step.endedAt = now();
    for (const x of p.steps) if (x.status === 'pending') x.status = 'aborted';
    p.status = 'failed';
    p.outcome = `failed at ${failure.step}: ${failure.reason}`;
    p.endedAt = now();
    this.st.publisher.publishFailed(failure.step);
    return ApplicationFailure.nonRetryable(failure.reason, failure.type);
  }

  /** A bug in workflow code outside a step: the run ends failed with the message, on the record. */
  private async failOnBug(err: Error): Promise<never> {
    const p = this.st.progress;
    const message = unexpectedMessage(err, false);
    // The run ends here: an abort asked for meanwhile must not stop the report.
    this.st.aborting = true;
    const at = p.current;
    const s = at !== undefined ? p.steps.find((x) => x.id === at) : undefined;
    const finished = (x: StepProgress) => ['done', 'skipped', 'not-applicable'].includes(x.status);
    if (s && !finished(s)) {
      s.status = 'aborted';
      s.lastError = message;
      s.endedAt = now();
    }
    for (const x of p.steps) if (x.status === 'pending') x.status = 'aborted';
    const where = !at ? '' : s && finished(s) ? ` after ${at}` : ` at ${at}`;
    p.outcome = `failed${where}: ${message}`;
    p.endedAt = now();
    this.setStatus('failed');
    this.notifier.ended('failed');
    await this.endRecord();
    throw ApplicationFailure.nonRetryable(message, EngineFailure.workflowCode);
  }
}
