// The runbook driver of a plain script: the upgrade's own step definitions (upgradeRunbook in
// workflows/personalization-upgrade.ts) run by a Node script with no Temporal, as a PowerShell or
// Node runbook script would run them: each activity function called directly, one after the other;
// no durability, no retries, no operator, no audit; a failure ends the script.
import type { ActivityCall, ActivityName, SummarizedActivities } from '../workflows/engine/activity-types.js';
import { calls, directActivities } from '../workflows/engine/activity-types.js';
import type { RunbookDriver, StepContext } from '../workflows/engine/driver.js';

export interface ScriptDriverOptions {
  /** Ids of this run: `firstRunId` names the backup folder and the canary token. */
  ids: { workflowId: string; runId: string; firstRunId: string };
  /** Does step `id` apply (planSteps)? A step that does not is skipped, as the workflow skips it. */
  applies(id: string): boolean;
  /**
   * Which patched code paths to take: all (the current runbook) unless this says no, e.g. for the
   * one-run-per-fleet guard, whose activities need a Temporal client.
   * @default every patch taken
   */
  patched?: (id: string) => boolean;
  /** Sees every activity call before it runs (to count or log it). */
  onCall?: (call: { activity: string; summary: string; args: unknown[] }) => void;
}

/** A plain script's driver, with the facts the steps recorded (`facts.syncRounds`, …). */
export interface ScriptDriver<T> extends RunbookDriver<T> {
  readonly facts: Record<string, unknown>;
}

const quiet: StepContext = { note() {}, count() {} };

/** Runs `impl`'s activities (`createUpgradeActivities(portsFor)`, …) as the script's steps call them. */
export function scriptDriver<T>(impl: T, opts: ScriptDriverOptions): ScriptDriver<T> {
  const onCall = opts.onCall;
  const acts: SummarizedActivities<T> = directActivities<T>(impl, onCall && ((c: ActivityCall<T>) => onCall(c)));
  const facts: Record<string, unknown> = {};
  return {
    acts,
    batch: calls<T>(),
    // One call after the other, in order: a script does not fan out.
    async fanOut(_s, _key, cs) {
      const out = [];
      for (const c of cs) {
        const fn = acts[c.activity as ActivityName<T>] as (summary: string, ...args: unknown[]) => Promise<unknown>;
        out.push(await fn(c.summary, ...(c.args as unknown[])));
      }
      return out as never;
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    patched: (id) => opts.patched?.(id) ?? true,
    ids: opts.ids,
    startedAt: new Date().toISOString(),
    step: async (id, body) => (opts.applies(id) ? body(quiet) : undefined),
    gate: async () => {},
    manual: async () => '',
    fact: (key, value) => {
      facts[key] = value;
    },
    onAbort: () => {},
    markFleet: () => {},
    facts,
  };
}
