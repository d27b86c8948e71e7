// What an activity call is for, carried in the activity's own input so the run report reads it
// from the history as data: the step it served (or `abort` for the abort cleanup) and, for a merge
// of a sync round, the round. The upgrade's activities carry it in their FleetContext argument
// (`call`); runs recorded before it have none, and the report falls back to the UI summary
// ("sync-until-quiet: merge Config → BR01, round 2"). Pure, no imports.

/** The step an activity call served and, for a merge of a sync round, its round (from 1). */
export interface ActivityCallTag {
  step: string;
  round?: number;
}

/** An activity input object that may carry its call's tag. */
export interface Tagged {
  call?: ActivityCallTag;
}

/** `input` with `tag` (a fresh object; `input` is not changed). */
export function tagged<T extends object>(input: T, tag: ActivityCallTag): T & Tagged {
  return { ...input, call: { step: tag.step, ...(tag.round !== undefined && { round: tag.round }) } };
}

/** The tag an activity input carries, if any (anything else: undefined). */
export function tagOf(input: unknown): ActivityCallTag | undefined {
  if (input === null || typeof input !== 'object') return undefined;
  const call = (input as Tagged).call;
  if (!call || typeof call !== 'object' || typeof call.step !== 'string') return undefined;
  return typeof call.round === 'number' ? { step: call.step, round: call.round } : { step: call.step };
}
