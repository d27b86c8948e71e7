// A runbook's planned steps in order, each saying why it applies or not, and, when it waits for
// `replup approve` (options.approvals), that too. Pure: workflows import the runbooks' step modules.
import type { StepView } from './kind.js';

/** Why a step applies (or not), in the operator's words. */
export interface StepReason {
  applies: boolean;
  reason: string;
}

/**
 * The steps `ids` in their order with their reasons; a step that applies and is listed in `approvals` says it
 * waits for `replup approve` first.
 */
export function gatedSteps<Id extends string>(
  ids: readonly Id[],
  reasons: Record<Id, StepReason>,
  approvals: readonly string[],
): (StepView & { id: Id })[] {
  return ids.map((id) => {
    const { applies, reason } = reasons[id];
    const gated = applies && approvals.includes(id);
    return {
      id,
      applies,
      reason: gated ? `${reason}; waits for \`replup approve\` first (options.approvals)` : reason,
    };
  });
}
