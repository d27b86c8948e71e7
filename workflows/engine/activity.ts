// The activity primitive: typed proxies built from the activities' own types, each call with its
// UI summary ("sync-until-quiet: merge Config → BR01, round 2"), passing the run's abort gate.
// A misspelt activity name or a wrong argument does not compile.
import { proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';

export interface RetrySettings {
  initialSeconds: number;
  maximumSeconds: number;
  maximumAttempts: number;
}

export const DEFAULT_RETRY: RetrySettings = { initialSeconds: 2, maximumSeconds: 60, maximumAttempts: 8 };

/** Every activity's options: 30 min to run, 10 s heartbeat, the retry policy given (else DEFAULT_RETRY). */
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

// --- the abort gate ---------------------------------------------------------------------------

/**
 * What an activity call asks the run's engine before it schedules (keyed by run id: module state
 * is shared by the SDK between runs): an abort requested while the run is busy takes effect here,
 * after the activities already running, and the engine counts what is in flight so that the abort
 * cleanup starts only once they have settled.
 */
export interface ActivityGate {
  beforeActivity(): void;
  inFlight: number;
}
const activityGates = new Map<string, ActivityGate>();

/** The engine of this run installs its gate (Runbook's constructor) and lets go of it when the run ends. */
export function installGate(gate: ActivityGate): void {
  activityGates.set(workflowInfo().runId, gate);
}
export function releaseGate(): void {
  activityGates.delete(workflowInfo().runId);
}

/** Runs `call` (an activity or a batch child) through the run's gate, counted while in flight. */
export async function guarded<R>(call: () => Promise<R>): Promise<R> {
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

// --- typed calls --------------------------------------------------------------------------------

import type { ActivityCall, ActivityName, ActivityResult, SummarizedActivities } from './activity-types.js';

/** An activity as the proxy sees it by name; the typed callers above it check names and arguments. */
type Untyped = (...args: unknown[]) => Promise<unknown>;

/** Options of `activities()`. */
export interface CallOptions {
  /** The retry policy (default DEFAULT_RETRY). */
  retry?: RetrySettings;
  /** Shortens a summary before it is recorded (Temporal keeps them short). */
  clip?: (summary: string) => string;
}

/** Schedules activity `name` with `summary`: one ScheduleActivityTask command, through the abort gate. */
function execute<R>(name: string, args: unknown[], summary: string, retry: RetrySettings | undefined): Promise<R> {
  const acts = proxyActivities<Record<string, Untyped>>(activityOptions(retry));
  const fn = acts[name]!;
  return guarded(() => fn.executeWithOptions({ ...activityOptions(retry), summary }, args) as Promise<R>);
}

/** Typed proxies for `T`'s activities (a type only: `activities<UpgradeActivities>()`); no command until called. */
export function activities<T>(opts: CallOptions = {}): SummarizedActivities<T> {
  const clip = opts.clip ?? ((s: string) => s);
  return new Proxy({} as SummarizedActivities<T>, {
    get: (_, name) => {
      if (typeof name !== 'string' || name === 'then') return undefined; // not a thenable
      return (summary: string, ...args: unknown[]) => execute(name, args, clip(summary), opts.retry);
    },
  });
}

/** Runs a described call (a fan-out's, or a batch child's). */
export function runCall<T, K extends ActivityName<T>>(
  call: ActivityCall<T, K>,
  retry?: RetrySettings,
): Promise<ActivityResult<T, K>> {
  return execute(call.activity, call.args as unknown[], call.summary, retry);
}

/**
 * An activity by its name, untyped: only for test workflows that call activities of their own
 * (test/temporal/fixtures). Runbooks use `activities<T>()`.
 */
export function callActivity<R>(name: string, args: unknown[], summary: string, retry?: RetrySettings): Promise<R> {
  return execute<R>(name, args, summary, retry);
}
