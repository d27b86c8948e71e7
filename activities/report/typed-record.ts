// An activity as the history recorded it, read back with the activity's own types: its arguments
// by its signature's parameters and its result by its return type, so the report names what it
// reads ("the publisher argument of writeCanary") and a changed signature fails to compile here.
// The history holds JSON: what was recorded by an older replup may lack later fields (Partial).
import type { ActivityRecord } from './build.js';

type AnyActivity = (...args: never[]) => Promise<unknown>;
type Name<T> = { [K in keyof T]: T[K] extends AnyActivity ? K : never }[keyof T] & string;

/** Readers for the records of `T`'s activities: `recordsOf<BdbActivities>().args(rec, 'bdbVerifyReplication')`. */
export interface RecordReader<T> {
  /** The arguments `rec` was scheduled with, as activity `type` declares them. */
  args<K extends Name<T>>(rec: ActivityRecord, type: K): Partial<Parameters<Extract<T[K], AnyActivity>>>;
  /** What `rec` returned (undefined unless it completed), as activity `type` declares it. */
  result<K extends Name<T>>(rec: ActivityRecord, type: K): Awaited<ReturnType<Extract<T[K], AnyActivity>>> | undefined;
}

/** A RecordReader for activities `T` (a type only: no runtime check of the recorded JSON). */
export function recordsOf<T>(): RecordReader<T> {
  return {
    args: (rec) => rec.args as never,
    result: (rec) => (rec.activity.outcome === 'completed' ? (rec.result as never) : undefined),
  };
}
