// What a runbook's steps need from whatever runs them, as one small interface: the workflow runs
// them on Temporal (temporal-driver.ts), a plain script (the bench's baseline, the lab tests) with
// direct calls. Pure types, no Temporal imports, so a Node script can implement it.
//
// A plain-script driver, in short (no durability, no operator: a failure ends the script):
//   acts      directActivities(createUpgradeActivities(portsFor))    (activity-types.ts)
//   batch     calls<UpgradeActivities>()
//   fanOut    (s, key, cs) => run each `cs[i]` in order with acts[c.activity](c.summary, ...c.args)
//   sleep     (ms) => new Promise((r) => setTimeout(r, ms))
//   patched   () => true  (the current code path; false for a patch to leave out, e.g. the fleet guard)
//   step      (id, body) => body({ note() {}, count() {} })   (or skip steps planSteps says do not apply)
//   gate      async () => {}          manual  async () => ''          fact, onAbort, markFleet: record or ignore
//   ids       { workflowId, runId, firstRunId }: any ids of this run (backup folder, canary token)
//   startedAt new Date().toISOString()
import type {
  ActivityCall,
  ActivityCalls,
  ActivityName,
  ActivityResult,
  SummarizedActivities,
} from './activity-types.js';

/** What a step's body can tell the operator while it runs. */
export interface StepContext {
  /** One short line shown in the step table: "round 2: 14 rows moved". */
  note(text: string): void;
  /** Fan-out progress: items done of total. */
  count(done: number, total: number): void;
}

/** The engine a runbook over activities `T` is written on. */
export interface RunbookDriver<T> {
  /** `T`'s activities, UI summary first: `acts.checkServer('preflight: SQL01', ctx, {…})`. */
  readonly acts: SummarizedActivities<T>;
  /** Describes a call for `fanOut`, same shape: `batch.mergeSubscription('sync-until-quiet: …', ctx, sub)`. */
  readonly batch: ActivityCalls<T>;
  /**
   * Runs `calls` (all of one activity) and returns their results in the order of `calls`; the first
   * failure is thrown once every call started has settled. `key` names the fan-out (the workflow's
   * batch child ids: `<workflow id>/<key>/batch-<n>`); `s` counts progress.
   */
  fanOut<K extends ActivityName<T>>(
    s: StepContext | undefined,
    key: string,
    calls: ActivityCall<T, K>[],
  ): Promise<ActivityResult<T, K>[]>;
  /** Waits `ms` milliseconds (a durable timer in the workflow, with `summary` as its UI summary). */
  sleep(ms: number, summary: string): Promise<void>;
  /**
   * Takes the code path added with patch `id` (Temporal's `patched`: false only while replaying a
   * run recorded before it). A plain script answers true, or false to leave a newer check out.
   */
  patched(id: string): boolean;
  /**
   * This run: `firstRunId` (its first execution's run id) names the backup folder and the canary
   * token; `workflowId` and `runId` are what the one-run-per-fleet guard lists.
   */
  readonly ids: { workflowId: string; runId: string; firstRunId: string };
  /** When the run started, ISO 8601 (conflicts are looked for since then). */
  readonly startedAt: string;
  /**
   * Runs one step; the workflow parks a failing one for an operator, a script lets it throw.
   * Resolves undefined when the step does not apply or an operator skipped it.
   */
  step<R>(id: string, body: (s: StepContext) => Promise<R>): Promise<R | undefined>;
  /**
   * Waits for the approvals the plan asks for before step `id` (a script: none). `note`: what approving lets
   * happen, the step's note (`replup status`, the step table) until the step writes its own; a gate with an
   * approval policy shows the policy while it waits instead.
   */
  gate(id: string, note?: string): Promise<void>;
  /** A step a person does by hand; resolves with their note once confirmed (a script: at once). */
  manual(id: string, instructions: string): Promise<string>;
  /** Records a fact of the run (query `progress`, `status --json`); replaces what was under `key`. */
  fact(key: string, value: unknown): void;
  /** The cleanup that is safe if an operator aborts (a script may ignore it). */
  onAbort(cleanup: (why: string) => Promise<void>): void;
  /** Records the fleet's identity on the run (the ReplupFleetId search attribute) so other runs see it. */
  markFleet(identity: string): void;
}
