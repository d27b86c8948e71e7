// Shared by the workflow suites: a client and worker on the suite's dev server, a fresh lab per
// test, and a way to wait for a run to reach a state.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  Worker,
  bundleWorkflowCode,
  Runtime,
  DefaultLogger,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createUpgradeActivities } from '../../activities/personalization-upgrade/activities.js';
import { createPortsFor } from '../../worker/ports.js';
import { createReportActivities } from '../../activities/report/index.js';
import { createFleetGuardActivities } from '../../activities/personalization-upgrade/fleet-guard.js';
import { connectClient } from '../../worker/connection.js';
import { loadPlanFile } from '../../plan/load.js';
import { initLab, openLab, type Lab, type LabInitOptions } from '../../activities/lab/index.js';
import { startUpgrade } from '../../cli/lib/runs.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { progressQuery, type Progress, type RunResult } from '../../workflows/messages.js';

let bundle: WorkflowBundleWithSourceMap | undefined;
let runtimeInstalled = false;

export async function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= await bundleWorkflowCode({
    workflowsPath: resolve('workflows/index.ts'),
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

export async function connect(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  return TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
}

/**
 * For one test file: connects to the dev server before its tests and hands the environment to `set`;
 * tears it down after them. Usage: `let env: TestWorkflowEnvironment; useDevServer((e) => (env = e));`
 */
export function useDevServer(set: (env: TestWorkflowEnvironment) => void): void {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await connect();
    set(env);
  });
  afterAll(async () => {
    await env?.teardown();
  });
}

/**
 * For one test file: the dev-server connection (`env`, set in beforeAll) and a scratch folder removed
 * afterwards. Each run writes its report at the end: into <scratch>/reports, not the repository's reports/.
 */
export function connectWithScratch(prefix: string): { env: TestWorkflowEnvironment; scratch: string } {
  const dev = { env: undefined as unknown as TestWorkflowEnvironment, scratch: mkdtempSync(join(tmpdir(), prefix)) };
  const savedReportsDir = process.env.REPLUP_REPORTS_DIR;
  beforeAll(async () => {
    process.env.REPLUP_REPORTS_DIR = join(dev.scratch, 'reports');
    dev.env = await connect();
    await workflowBundle();
  });
  afterAll(async () => {
    if (savedReportsDir === undefined) delete process.env.REPLUP_REPORTS_DIR;
    else process.env.REPLUP_REPORTS_DIR = savedReportsDir;
    await dev.env?.teardown();
    await rm(dev.scratch, { recursive: true, force: true });
  });
  return dev;
}

let queueCounter = 0;
export function uniqueQueue(name: string): string {
  return `test-${name}-${process.pid}-${Date.now()}-${++queueCounter}`;
}

/**
 * A worker serving one test's queue, with the report activity and either the given activities or
 * the upgrade's real activities over the real ports.
 */
export async function startWorker(env: TestWorkflowEnvironment, taskQueue: string, activities?: object) {
  const portsFor = createPortsFor();
  // The report reads whole histories: it gets the client `replup worker` uses (256 MiB messages), not
  // the test environment's (gRPC's 4 MiB default, which a 500-subscriber history page passes).
  let reportClient: Promise<Client> | undefined;
  const productionClient = () =>
    (reportClient ??= connectClient({
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
    }));
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...(activities ?? createUpgradeActivities(portsFor)),
      ...createFleetGuardActivities(async () => env.client, portsFor),
      ...createReportActivities(productionClient),
    },
    stickyQueueScheduleToStartTimeout: '2s',
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await portsFor.close();
      await (await reportClient?.catch(() => undefined))?.connection.close();
    },
  };
}

/**
 * A new lab for `plan` (initLab with `options`), opened, a worker on a new queue named after `name`, and
 * the upgrade started by test-operator as `<upgradeWorkflowId(plan)>#<idSuffix>`. The caller stops the
 * worker and closes the lab; when starting fails, this does.
 */
export async function startLabUpgrade(
  env: TestWorkflowEnvironment,
  plan: UpgradePlan,
  options: LabInitOptions,
  name: string,
  idSuffix: string,
): Promise<{ lab: Lab; worker: Awaited<ReturnType<typeof startWorker>>; workflowId: string }> {
  await initLab(plan, options);
  const lab = openLab((plan.target as { state: string }).state);
  const taskQueue = uniqueQueue(name);
  const worker = await startWorker(env, taskQueue);
  try {
    const { workflowId } = await startUpgrade(env.client, plan, 'test-operator', {
      taskQueue,
      workflowId: `${upgradeWorkflowId(plan)}#${idSuffix}`,
    });
    return { lab, worker, workflowId };
  } catch (err) {
    await worker.stop();
    lab.admin.close();
    throw err;
  }
}

/** An example plan (examples/<file>) pointed at a fresh lab: see labPlan. */
export async function examplePlan(file: string, patch: (p: UpgradePlan) => void = () => {}): Promise<UpgradePlan> {
  return labPlan(resolve('examples', file), `example ${file}`, patch);
}

/**
 * The plan file at `path` (`name` in the error when it is invalid) with a fresh lab in a new temporary
 * folder (`prefix`…) as its target and backup folder, fast retries and a 2 s drain timeout, then `patch`.
 */
export async function labPlan(
  path: string,
  name: string,
  patch: (p: UpgradePlan) => void = () => {},
  prefix = 'replup-lab-',
): Promise<UpgradePlan> {
  const r = await loadPlanFile(path);
  if (!r.ok) throw new Error(`${name} is invalid: ${JSON.stringify(r.errors)}`);
  const plan = structuredClone(r.plan) as UpgradePlan;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  plan.target = { kind: 'lab', state: join(dir, 'lab.json') };
  plan.backup = { dir: join(dir, 'backups'), copyOnly: true };
  // Tests retry transient faults fast; production keeps the 2 s / 60 s backoff.
  plan.options.retry = { initialSeconds: 0.2, maximumSeconds: 1, maximumAttempts: 20 };
  plan.options.drainTimeoutSeconds = 2;
  patch(plan);
  return plan;
}

/** Saves environment variables `names` as they are now; the function returned puts them back (unset ones deleted). */
export function saveEnv(...names: string[]): () => void {
  const saved = names.map((name) => [name, process.env[name]] as const);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

export async function waitFor(
  client: Client,
  workflowId: string,
  pred: (p: Progress) => boolean,
  timeoutMs = 120_000,
): Promise<Progress> {
  const deadline = Date.now() + timeoutMs;
  let last: Progress | undefined;
  while (Date.now() < deadline) {
    try {
      last = await client.workflow.getHandle(workflowId).query(progressQuery);
      if (pred(last)) return last;
    } catch {
      // not started yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `timed out waiting on ${workflowId}; last state: ${last?.status} at ${last?.current}: ` +
      `${JSON.stringify(last?.steps.find((s) => s.id === last?.current))}`,
  );
}

/**
 * `body` with what `start` resolves to (a run's worker, a lab, a page…), then `stop` on it, whether `body` passes or
 * throws. When `start` rejects, neither runs.
 */
export async function withStopped<T>(
  start: Promise<T>,
  stop: (t: T) => Promise<void> | void,
  body: (t: T) => Promise<void>,
): Promise<void> {
  const t = await start;
  try {
    await body(t);
  } finally {
    await stop(t);
  }
}

/**
 * startLabUpgrade, then `body` with the lab and the run's workflow id; the worker is stopped and the lab
 * closed after `body`, whether it passes or throws.
 */
export async function withLabUpgrade(
  env: TestWorkflowEnvironment,
  plan: UpgradePlan,
  options: LabInitOptions,
  name: string,
  idSuffix: string,
  body: (run: { lab: Lab; workflowId: string }) => Promise<void>,
): Promise<void> {
  const { lab, worker, workflowId } = await startLabUpgrade(env, plan, options, name, idSuffix);
  try {
    await body({ lab, workflowId });
  } finally {
    await worker.stop();
    lab.admin.close();
  }
}

/**
 * A worker on a new queue named after `name` and the lab `plan` targets, opened, for `body`; the worker is
 * stopped and the lab closed after it, whether it passes or throws.
 */
export async function withWorkerOnLab(
  env: TestWorkflowEnvironment,
  plan: UpgradePlan,
  name: string,
  body: (run: { lab: Lab; taskQueue: string }) => Promise<void>,
): Promise<void> {
  const taskQueue = uniqueQueue(name);
  const worker = await startWorker(env, taskQueue);
  const lab = openLab((plan.target as { state: string }).state);
  try {
    await body({ lab, taskQueue });
  } finally {
    await worker.stop();
    lab.admin.close();
  }
}

/**
 * Expects the run `r` completed with every one of `steps` done, in that order, and no other step. Pass a list
 * from test/support/expected-steps.ts, not the plan's constant the workflow publishes its steps from.
 */
export function expectAllDone(r: RunResult, steps: readonly string[]): void {
  expect(r.status).toBe('completed');
  expect(r.progress.steps.map((s) => [s.id, s.status])).toEqual(steps.map((id) => [id, 'done']));
}

/** The lab's invariants that do not hold, as `name: detail` (empty when every one holds). */
export async function brokenInvariants(lab: Lab): Promise<string[]> {
  return (await lab.admin.check()).filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`);
}

/**
 * What labUpgradeTests starts: examples/<example> (lab-small.yaml unless given; examplePlan with `patch`),
 * initLab `lab`, queue and id suffix.
 */
export interface LabUpgradeSetup {
  example?: string;
  patch?: (p: UpgradePlan) => void;
  lab: LabInitOptions;
  queue: string;
  id: string;
}

/** What a labUpgradeTests body gets: the environment, the plan, its lab and the run's workflow id. */
export interface LabUpgradeRun {
  env: TestWorkflowEnvironment;
  plan: UpgradePlan;
  lab: Lab;
  workflowId: string;
}

/**
 * For one test file of upgrade runs on the lab: connects to the dev server (useDevServer). `run` plans the
 * setup's example, starts the upgrade on a fresh lab (withLabUpgrade) and hands `body` the run; `it` declares
 * a test that does so.
 */
export function labUpgradeTests() {
  let env: TestWorkflowEnvironment;
  useDevServer((e) => (env = e));
  const run = async (setup: LabUpgradeSetup, body: (run: LabUpgradeRun) => Promise<void>): Promise<void> => {
    const plan = await examplePlan(setup.example ?? 'lab-small.yaml', setup.patch);
    await withLabUpgrade(env, plan, setup.lab, setup.queue, setup.id, (r) => body({ env, plan, ...r }));
  };
  return {
    run,
    it: (name: string, setup: LabUpgradeSetup, body: (run: LabUpgradeRun) => Promise<void>) =>
      it(name, () => run(setup, body)),
  };
}
