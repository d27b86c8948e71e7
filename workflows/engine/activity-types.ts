// Typed activity calls, pure (no imports): the workflow engine makes them with Temporal's proxies
// (activity.ts); a plain script makes them with direct calls (`directActivities`, driver.ts).

/** Any activity function (its parameters in any shape). */
export type AnyActivity = (...args: never[]) => Promise<unknown>;
/** The names of `T`'s activities (its methods). */
export type ActivityName<T> = { [K in keyof T]: T[K] extends AnyActivity ? K : never }[keyof T] & string;
/** The arguments of activity `K` of `T`. */
export type ActivityArgs<T, K extends ActivityName<T>> = T[K] extends (...args: infer A) => Promise<unknown>
  ? A
  : never;
/** What activity `K` of `T` resolves to. */
export type ActivityResult<T, K extends ActivityName<T>> = T[K] extends (...args: never[]) => Promise<infer R>
  ? R
  : never;

/**
 * `T`'s activities as a runbook calls them: the UI summary first, then the activity's own
 * arguments. `acts.checkServer('preflight: SQL01', ctx, { server: 'SQL01', … })`.
 */
export type SummarizedActivities<T> = {
  [K in ActivityName<T>]: (summary: string, ...args: ActivityArgs<T, K>) => Promise<ActivityResult<T, K>>;
};

/** One activity call described, not made: what a fan-out runs (maybe in a batch child workflow). */
export interface ActivityCall<T, K extends ActivityName<T> = ActivityName<T>> {
  activity: K;
  args: ActivityArgs<T, K>;
  summary: string;
}

/** `T`'s activities as fan-out calls: the same shape as SummarizedActivities, returning the description. */
export type ActivityCalls<T> = {
  [K in ActivityName<T>]: (summary: string, ...args: ActivityArgs<T, K>) => ActivityCall<T, K>;
};

/** Builders of fan-out calls for `T`'s activities: `calls<UpgradeActivities>().checkServer(summary, ctx, …)`. */
export function calls<T>(): ActivityCalls<T> {
  return new Proxy({} as ActivityCalls<T>, {
    get: (_, name) => {
      if (typeof name !== 'string' || name === 'then') return undefined; // not a thenable
      return (summary: string, ...args: unknown[]) => ({ activity: name, args, summary });
    },
  });
}

/**
 * `T`'s activities called directly, summary first, as a plain script (no Temporal) runs them:
 * `onCall` sees each call before it runs (to count or log it).
 */
export function directActivities<T>(impl: T, onCall?: (call: ActivityCall<T>) => void): SummarizedActivities<T> {
  return new Proxy({} as SummarizedActivities<T>, {
    get: (_, name) => {
      if (typeof name !== 'string' || name === 'then') return undefined;
      const fn = (impl as Record<string, (...args: unknown[]) => Promise<unknown>>)[name];
      if (typeof fn !== 'function') return undefined;
      return (summary: string, ...args: unknown[]) => {
        onCall?.({ activity: name, args, summary } as ActivityCall<T>);
        return fn.apply(impl, args);
      };
    },
  });
}
