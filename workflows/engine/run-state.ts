// The state of one run the engine keeps: progress (what the `progress` query returns), what
// operators asked for, and the gates' approvals. Shared by the step state machine (runbook.ts) and
// the operator message handlers (operator.ts); runbooks never see it.
import type { DecideInput, DecisionRecord, Progress, RunStatus, StepProgress } from '../messages.js';
import type { GatePolicy, GivenApproval } from '../../plan/approval.js';
import { ANYONE_ONCE, approvalNote } from '../../plan/approval.js';
import type { MaintenanceWindow } from '../../plan/window.js';
import { endedByReplup, isAwaiting } from '../../common/run-status.js';
import { Publisher } from './publish.js';

export const now = () => new Date().toISOString();

export class RunState {
  readonly progress: Progress;
  readonly publisher: Publisher;
  /** Steps that wait for an approval (the plan's options.approvals). */
  readonly approvals: Set<string>;
  /** Who may open each gate (the plan's options.approvals entries with approvers or minApprovals). */
  readonly gates: Record<string, GatePolicy>;
  /** The approvals each gate has so far; it opens at its minApprovals. */
  readonly given = new Map<string, GivenApproval[]>();
  readonly approved = new Set<string>();
  /** What a runbook said about a step before it ran (`run.describe`): a gate keeps it beside its approvals. */
  readonly described = new Map<string, string>();
  /** Who started the run: a gate may refuse their approval (starterMayApprove). */
  readonly starter: string | undefined;
  readonly window: MaintenanceWindow | undefined;
  /** Manual steps confirmed, with the confirmation's note. */
  readonly confirmed = new Map<string, string>();
  /** The last retry/skip/abort (or abort at a gate or manual step) not yet taken. */
  decision: DecideInput | undefined;
  paused = false;
  /** An abort asked for while the run was running or paused: it takes effect before the next activity. */
  abortRequest: DecideInput | undefined;
  /** The abort cleanup runs: its own activities pass the gate. */
  aborting = false;
  /** The step parked now because the window closed (skip is no answer to that). */
  parkedForWindow: string | undefined;

  constructor(
    progress: Progress,
    opts: { approvals: string[]; gates?: Record<string, GatePolicy>; starter?: string; window?: MaintenanceWindow },
  ) {
    this.progress = progress;
    this.publisher = new Publisher(progress);
    this.approvals = new Set(opts.approvals);
    this.gates = opts.gates ?? {};
    this.starter = opts.starter;
    this.window = opts.window;
  }

  stepOf(id: string): StepProgress {
    const s = this.progress.steps.find((x) => x.id === id);
    if (!s) throw new Error(`unknown step ${id}`);
    return s;
  }

  record(d: Omit<DecisionRecord, 'at'>): void {
    this.progress.decisions.push({ ...d, at: now() });
  }

  policyOf(gate: string): GatePolicy {
    return this.gates[gate] ?? ANYONE_ONCE;
  }

  /**
   * A gate with approvers: its approvals so far and who may still give one, after the runbook's reason to
   * approve when it gave one ("approve to drop Config and Data of …; 1 of 2 approvals (bob); may still
   * approve: carol"), so the people asked to approve still read what they approve.
   */
  gateNote(gate: string): string {
    const approvals = approvalNote(this.policyOf(gate), this.given.get(gate) ?? [], this.starter);
    const reason = this.described.get(gate);
    return reason ? `${reason}; ${approvals}` : approvals;
  }

  finished(): boolean {
    return endedByReplup(this.progress.status);
  }

  /** The step that waits for a person now, if any. */
  waiting(): StepProgress | undefined {
    return this.progress.steps.find((s) => isAwaiting(s.status));
  }

  setStatus(status: RunStatus): void {
    // Query state only (no command): metrics read how long a person has been awaited.
    if (!isAwaiting(status)) delete this.progress.awaitingSince;
    else if (status !== this.progress.status) this.progress.awaitingSince = now();
    this.progress.status = status;
    this.publisher.publish();
  }
}
