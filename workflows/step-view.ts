// How a step the run never got to reads in every view: `status`, `watch`, `status --json`, the Web
// UI's details and memo, and the report (activities/report/build.ts) all say "not reached". The
// workflow itself marks such steps `aborted` when a run ends (that state is replayed as it was);
// only what is shown changes. Pure: workflow code and the CLI both use it.
import type { Progress, StepProgress } from './messages.js';
import { endedShort } from '../common/run-status.js';

export const NOT_REACHED = 'not reached';

/**
 * True for a step an ended run never began: still pending, or marked aborted with no attempt and
 * no start time, and not the step the run stopped at (an abort at a gate or a manual step ends
 * that step before it ran, yet the run was there).
 */
export function neverReached(p: Pick<Progress, 'status' | 'current'>, s: StepProgress): boolean {
  // Over without having completed: what the run did not get to stays not reached.
  if (!endedShort(p.status)) return false;
  if (s.status === 'pending') return true;
  return s.status === 'aborted' && s.attempts === 0 && !s.startedAt && s.id !== p.current;
}

/** The progress as the views show it: steps the run never got to read "not reached". */
export function asShown(p: Progress): Progress {
  if (!p.steps.some((s) => neverReached(p, s))) return p;
  return { ...p, steps: p.steps.map((s) => (neverReached(p, s) ? { ...s, status: NOT_REACHED } : s)) };
}
