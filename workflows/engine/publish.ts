// Publishing a run's progress: search attributes (ReplupStatus, ReplupStep, ReplupFleet), the
// `replup` memo and the UI's current details follow the progress state. The memo puts every step
// transition (with its error) into the history itself, so the audit report is rebuilt from the
// record, never from memory. Unchanged values write no event.
import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import {
  ReplupFleet,
  ReplupStatus,
  ReplupStep,
  type Progress,
  type RunStatus,
  type StepProgress,
} from '../messages.js';
import type { MaintenanceWindow } from '../../plan/window.js';
import { asShown } from '../step-view.js';
import { renderStepTable } from './step-table.js';

/** The `replup` memo: each step's [id, status, attempts, last error], as the history records it. */
export interface StepMemo {
  status: RunStatus;
  current: string | null;
  outcome: string | null;
  steps: [string, StepProgress['status'], number, string | null][];
  /** The maintenance window, when the run has one (absent otherwise, so older runs' memos are unchanged). */
  window?: MaintenanceWindow;
}

export class Publisher {
  private lastAttrs = '';
  private lastMemo = '';

  constructor(private readonly progress: Progress) {}

  /** Writes what changed since the last call; the details always. */
  publish(): void {
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
    this.details();
  }

  /** The UI's current details only (a step's note or count changed: no event). */
  details(): void {
    setCurrentDetails(renderStepTable(this.progress));
  }

  /**
   * A run a runbook ended failed (`Runbook.fail`): status and the failing step, the memo with each
   * step as the progress holds it, the details. Written unconditionally, as such runs always were.
   */
  publishFailed(step: string): void {
    const p = this.progress;
    upsertSearchAttributes([
      { key: ReplupStatus, value: 'failed' },
      { key: ReplupStep, value: step },
    ]);
    const memo: StepMemo = {
      status: p.status,
      current: p.current ?? null,
      outcome: p.outcome ?? null,
      steps: p.steps.map((x) => [x.id, x.status, x.attempts, x.lastError ?? null]),
    };
    upsertMemo({ replup: memo });
    this.details();
  }
}
