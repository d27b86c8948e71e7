// The fan-out helpers every runbook's fleet class needs, written once: a runbook's `Fleet` extends
// FleetCalls<its activities> and reaches its driver as `this.run`.
import type { ActivityCall, ActivityName, ActivityResult } from './activity-types.js';
import type { RunbookDriver, StepContext } from './driver.js';

/** A fleet helper over driver `run` with activities `T`. */
export class FleetCalls<T> {
  constructor(protected readonly run: RunbookDriver<T>) {}

  /** One call per item of `items`, in their order (`call` describes it), as one fan-out. */
  each<I, K extends ActivityName<T>>(
    s: StepContext | undefined,
    key: string,
    items: I[],
    call: (item: I) => ActivityCall<T, K>,
  ): Promise<ActivityResult<T, K>[]> {
    return this.fan(s, key, items.map(call));
  }

  /** Runs `calls` (all of one activity) as the plan's fan-out options say (`key` names the fan-out). */
  fan<K extends ActivityName<T>>(
    s: StepContext | undefined,
    key: string,
    calls: ActivityCall<T, K>[],
  ): Promise<ActivityResult<T, K>[]> {
    return this.run.fanOut(s, key, calls);
  }
}
