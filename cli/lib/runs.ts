// The plain functions behind the run commands (start, status, decisions, list). The CLI and the
// tests call the same code; every user mistake becomes a UserError that says what to do.
import { userInfo } from 'node:os';
import {
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type Connection,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { inputTooLarge, MAX_INPUT_BYTES, workflowInputBytes } from '../../plan/load.js';
import { personalizationUpgrade, upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import {
  approveUpdate,
  confirmUpdate,
  decideUpdate,
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  ReplupFleet,
  ReplupStatus,
  ReplupStep,
  TASK_QUEUE,
  type Progress,
  type RunResult,
  type RunStatus,
} from '../../workflows/messages.js';
import { readDevRecord, RETENTION_DAYS } from '../../worker/dev-server.js';
import { describeWindow, type MaintenanceWindow } from '../../plan/window.js';
import { ANYONE_ONCE, describeGate } from '../../plan/approval.js';
import { asShown } from '../../workflows/step-view.js';
import { endedByReplup, waitingStep } from '../../common/run-status.js';
import { UserError, EXIT } from '../errors.js';

/** A commander option parser for counts and intervals: a bad value is a usage error (exit 2). */
export const wholeNumber =
  (option: string, min = 1) =>
  (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new UserError(`${option} takes a whole number ≥ ${min}, got "${value}"`, [], EXIT.usage);
    return n;
  };

export const defaultActor = () => process.env.REPLUP_ACTOR || userInfo().username;

/**
 * The Web UI that shows this connection's server: `REPLUP_UI_URL` when set; the UI `replup dev`
 * recorded for this very address; Temporal Cloud's UI for a `*.tmprl.cloud` address; else the dev
 * server's default, the gRPC port plus 1000 ("The default is the gRPC port (7233 default) plus
 * 1000 (8233)", https://docs.temporal.io/cli/server). Never a fixed :8233: on a shared machine
 * that is someone else's server.
 */
export function uiBase(address: string, env: NodeJS.ProcessEnv = process.env, dev = readDevRecord()): string {
  if (env.REPLUP_UI_URL) return env.REPLUP_UI_URL.replace(/\/$/, '');
  if (dev && dev.address === address) return dev.uiUrl.replace(/\/$/, '');
  const m = /^(?:[a-z]+:\/\/)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?/i.exec(address);
  const host = m?.[1] ?? '127.0.0.1';
  if (/\.tmprl\.cloud$/i.test(host)) return 'https://cloud.temporal.io';
  const port = Number(m?.[2] ?? 7233);
  return `http://${host}:${port + 1000}`;
}

export function uiUrl(client: Client, workflowId?: string): string {
  const address = (client.connection as Connection).options?.address ?? '127.0.0.1:7233';
  const base = uiBase(address);
  const ns = encodeURIComponent(client.options.namespace);
  return workflowId
    ? `${base}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}`
    : `${base}/namespaces/${ns}/workflows`;
}

function planDetails(plan: UpgradePlan): string {
  const subs = plan.publications.reduce((n, p) => n + p.subscribers.length, 0);
  return [
    `**${plan.name}**: Personalization Server ${plan.from} → ${plan.to}`,
    '',
    `- publisher: ${plan.publisher.server}/${plan.publisher.database}`,
    `- sites: ${plan.sites.length}, publications: ` +
      `${plan.publications.map((p) => `${p.name} on ${p.publisher}`).join(', ')}, subscriptions: ${subs}`,
    `- target: ${plan.target.kind === 'lab' ? `lab (${plan.target.state})` : 'SQL Server'}`,
    `- approvals: ` +
      `${
        plan.options.approvals.map((g) => describeGate(g, plan.options.gates?.[g] ?? ANYONE_ONCE)).join(', ') || 'none'
      }` +
      `; upgrade: ${plan.hosts.upgrade === 'manual' ? 'manual (confirmed by an operator)' : 'command'}`,
    `- parallelism: ${plan.options.maxParallel}; quiet rounds: ${plan.options.sync.quietRounds} (max ` +
      `${plan.options.sync.maxRounds})`,
    ...(plan.options.window ? [`- maintenance window: ${describeWindow(plan.options.window)}`] : []),
  ].join('\n');
}

export interface Started {
  workflowId: string;
  runId: string;
  url: string;
}

export interface LaunchOptions {
  workflowId: string;
  /** What the run works on, e.g. `LAB-PUB/PersonalizationServer`: the ReplupFleet search attribute. */
  fleet: string;
  staticSummary: string;
  staticDetails: string;
  /** "an upgrade of X": said when a run of the same fleet is already open, with why that is refused. */
  what: string;
  oneAtATime: string;
  taskQueue?: string;
  /** Temporal's start delay (ms): the run starts when the maintenance window opens; the UI shows it. */
  startDelayMs?: number;
  /** The maintenance window, in the memo from the start (the workflow's own memo has it once it runs). */
  window?: MaintenanceWindow;
}

/**
 * Starts any runbook's workflow the same way: one run per fleet at a time (the workflow id is the
 * fleet's), the plan described for the UI, the search attributes set from the first moment.
 */
export async function launch<A extends unknown[]>(
  client: Client,
  workflow: (...args: A) => Promise<unknown>,
  args: A,
  o: LaunchOptions,
): Promise<Started> {
  checkInputSize(args, o.what);
  try {
    const handle = await client.workflow.start(workflow, {
      taskQueue: o.taskQueue ?? TASK_QUEUE,
      workflowId: o.workflowId,
      args,
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: o.staticSummary,
      staticDetails: o.staticDetails,
      ...(o.startDelayMs !== undefined && o.startDelayMs > 0 && { startDelay: o.startDelayMs }),
      ...(o.window && { memo: { window: o.window } }),
      typedSearchAttributes: [
        { key: ReplupFleet, value: o.fleet },
        { key: ReplupStatus, value: 'running' },
        { key: ReplupStep, value: '' },
      ],
    });
    return { workflowId: o.workflowId, runId: handle.firstExecutionRunId, url: uiUrl(client, o.workflowId) };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UserError(`${o.what} is already running (${o.workflowId})`, [
        `watch it: replup watch '${o.workflowId}'`,
        o.oneAtATime,
      ]);
    }
    // "Failed to start Workflow" alone says nothing: name the server's own reason and what to try.
    if (err instanceof ServiceError) {
      throw new UserError(`the Temporal server did not start ${o.what}: ${causeChain(err)}; nothing was started`, [
        'if the reason is the size of the request: split the fleet into several plans',
        'otherwise check the connection (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE) and the server, then start again',
      ]);
    }
    throw err;
  }
}

/** What a runbook's start says about its plan: all of LaunchOptions but where and when it runs. */
export type LaunchDescription = Omit<LaunchOptions, 'taskQueue' | 'startDelayMs' | 'window'>;

/**
 * `start…(client, plan, actor, { taskQueue, workflowId })` for a runbook whose workflow takes
 * `{ plan, requestedBy }`, its launch described by `describe`. Tests run such runs side by side on
 * their own queues and workflow ids. Errors: as launch().
 */
export function runbookStarter<P>(
  workflow: (input: { plan: P; requestedBy: string }) => Promise<unknown>,
  describe: (plan: P) => LaunchDescription,
) {
  return (
    client: Client,
    plan: P,
    actor = defaultActor(),
    opts: { taskQueue?: string; workflowId?: string } = {},
  ): Promise<Started> => {
    const d = describe(plan);
    return launch(client, workflow, [{ plan, requestedBy: actor }], {
      ...d,
      workflowId: opts.workflowId ?? d.workflowId,
      taskQueue: opts.taskQueue,
    });
  };
}

/** Every message down an error's causes: the client's own, then the server's reason. */
export function causeChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 5; e = e.cause) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
  }
  return parts.join(': ') || String(err);
}

export { MAX_INPUT_BYTES };

/**
 * Refuses a workflow input Temporal would reject for its size, saying why and what to do (the words `plan validate`
 * uses, plan/load.ts).
 */
export function checkInputSize(args: unknown[], what: string): void {
  const bytes = workflowInputBytes(args);
  if (bytes <= MAX_INPUT_BYTES) return;
  const [cause = '', fix = ''] = inputTooLarge(bytes, what).split(/: (?=split )/);
  throw new UserError(`the plan is too large to start as one run: ${cause}; nothing was started`, [fix]);
}

/**
 * The namespace's retention, checked at start: Temporal deletes a closed run's history after it,
 * and the audit (report, decisions) goes with it. Returns a warning, or undefined when it is long
 * enough or cannot be read (not every API key may describe its namespace).
 */
export async function retentionWarning(client: Client, neededDays = RETENTION_DAYS): Promise<string | undefined> {
  let seconds: number;
  try {
    const ns = await client.workflowService.describeNamespace({ namespace: client.options.namespace });
    seconds = Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  } catch {
    return undefined;
  }
  if (seconds <= 0 || seconds >= neededDays * 86_400) return undefined;
  const have =
    seconds % 86_400 === 0
      ? `${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`
      : `${Math.round(seconds / 3600)} h`;
  return (
    `namespace ${client.options.namespace} keeps a closed run's history ${have}: the audit of this run (its ` +
    `report, every decision) is deleted that long after it ends; ` +
    (`replup needs ${neededDays} days. Raise it: temporal operator namespace update --namespace ` +
      `${client.options.namespace} --retention ${neededDays * 24}h (it applies to runs that close afterwards)`)
  );
}

export function startUpgrade(
  client: Client,
  plan: UpgradePlan,
  actor = defaultActor(),
  /** Tests run fleets side by side on their own queues. */
  opts: { taskQueue?: string; workflowId?: string; startDelayMs?: number } = {},
): Promise<Started> {
  const fleet = `${plan.publisher.server}/${plan.publisher.database}`;
  const window = plan.options.window;
  return launch(client, personalizationUpgrade, [{ plan, requestedBy: actor }], {
    workflowId: opts.workflowId ?? upgradeWorkflowId(plan),
    taskQueue: opts.taskQueue,
    fleet,
    staticSummary: `${plan.name}: upgrade ${fleet} fleet ${plan.from} → ${plan.to}`,
    staticDetails: planDetails(plan),
    what: `an upgrade of ${fleet}`,
    oneAtATime: 'one fleet is upgraded by one run at a time; abort that run first if it must be replaced',
    ...(opts.startDelayMs !== undefined && { startDelayMs: opts.startDelayMs }),
    ...(window && { window }),
  });
}

/** The workflow id given, or the only running upgrade when there is exactly one. */
export async function resolveRunId(client: Client, id?: string): Promise<string> {
  if (id) return sameRunAnyCase(client, id);
  const running: string[] = [];
  for await (const wf of client.workflow.list({ query: `ExecutionStatus = "Running" AND ReplupFleet IS NOT NULL` })) {
    running.push(wf.workflowId);
  }
  if (running.length === 1) return running[0]!;
  if (running.length === 0)
    throw new UserError(
      'no upgrade is running; name the run (replup list --status completed shows past ones)',
      [],
      EXIT.usage,
    );
  throw new UserError(`${running.length} upgrades are running; name one:`, running, EXIT.usage);
}

/**
 * The id as given, or its lower-case form when only that exists: upgrade ids are the fleet's name
 * in lower case (SQL Server names ignore case), and an operator types them as the plan spells them.
 */
async function sameRunAnyCase(client: Client, id: string): Promise<string> {
  const lower = id.toLowerCase();
  if (lower === id) return id;
  const exists = (x: string) =>
    client.workflow
      .getHandle(x)
      .describe()
      .then(
        () => true,
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );
  if (await exists(id)) return id;
  return (await exists(lower)) ? lower : id;
}

async function describeRun(
  client: Client,
  id: string,
): Promise<{ handle: WorkflowHandle; desc: WorkflowExecutionDescription }> {
  const handle = client.workflow.getHandle(id);
  try {
    return { handle, desc: await handle.describe() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new UserError(`no run with id ${id}`, ['list the runs: replup list']);
    throw err;
  }
}

/** How long a progress query may wait for a worker before we say none is serving the run. */
export const QUERY_TIMEOUT_MS = 10_000;

/** The run exists but no worker answered: the commands say so instead of hanging (a query waits 30 s). */
export class NoWorkerAnswered extends UserError {
  constructor(
    id: string,
    taskQueue: string,
    /** How the run ended, when it has: then waiting for a worker is pointless. */
    public readonly ended?: string,
    /** The server's error, when the query failed before the deadline (e.g. the worker holding the run stopped). */
    failure?: string,
  ) {
    super(
      (failure
        ? `the progress query of run ${id} failed (${failure})`
        : `no worker answered for run ${id} within ${QUERY_TIMEOUT_MS / 1000} s`) +
        `${ended ? ` (the run has ended: ${ended})` : ''}`,
      [`start one: replup worker   (it serves task queue ${taskQueue}, with the same TEMPORAL_* settings)`],
    );
    this.name = 'NoWorkerAnswered';
  }
}

/**
 * A run's status as Temporal itself knows it, in replup's words, when the run ended without its
 * own code saying so (terminated, timed out, canceled, failed); undefined while it is open or when
 * it ended through replup (then ReplupStatus says completed, aborted or failed).
 */
export function closedOutside(executionStatus: string): RunStatus | undefined {
  switch (executionStatus) {
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed-out';
    case 'CANCELLED':
      return 'canceled';
    case 'FAILED':
      return 'failed';
    default:
      return undefined;
  }
}

export async function getProgress(client: Client, id: string): Promise<Progress> {
  const { handle, desc } = await describeRun(client, id);
  // A completed run returns its progress: no worker needed to read it.
  if (desc.status.name === 'COMPLETED') {
    const result = (await handle.result()) as RunResult | undefined;
    if (result?.progress) return asShown(result.progress);
  }
  try {
    const p = await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(progressQuery));
    // Terminated, timed out, cancelled or failed outside replup: the progress stopped where the
    // workflow was cut off and would read `running` forever; Temporal's own status says what happened.
    const outside = closedOutside(desc.status.name);
    if (outside && !endedByReplup(p.status)) {
      const how = desc.status.name.toLowerCase().replace(/_/g, ' ');
      return asShown({
        ...p,
        status: outside,
        outcome:
          `the workflow was ${how} at ${p.current ?? 'no step'}` +
          `${desc.closeTime ? ` (${desc.closeTime.toISOString()})` : ''}, outside replup: no abort cleanup ` +
          `ran; see its history in the Web UI and check the fleet`,
      });
    }
    return asShown(p);
  } catch (err) {
    // DEADLINE_EXCEEDED, or CANCELLED when the client's own deadline cut the call: no worker took the query in
    // time. Any other server error on the query ("Failed to query Workflow") is no answer either: the server's
    // own reason, in our words.
    if (err instanceof ServiceError) {
      const code = (err.cause as { code?: number } | undefined)?.code;
      throw new NoWorkerAnswered(
        id,
        desc.taskQueue,
        desc.status.name === 'RUNNING' ? undefined : desc.status.name.toLowerCase(),
        code === 4 || code === 1 ? undefined : causeChain(err.cause ?? err),
      );
    }
    throw err;
  }
}

const UPDATE_TIMEOUT_MS = 30_000;

/** Runs an Update and turns a validator's rejection into a UserError with its words. */
async function update<A>(
  client: Client,
  id: string,
  def: UpdateDefinition<Progress, [A], string>,
  arg: A,
): Promise<Progress> {
  const { handle, desc } = await describeRun(client, id);
  if (desc.status.name !== 'RUNNING')
    throw new UserError(`run ${id} has ended (${desc.status.name.toLowerCase()}); there is nothing to decide`);
  try {
    return await client.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () => handle.executeUpdate(def, { args: [arg] }));
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new UserError(`no worker took the decision for run ${id} within ${UPDATE_TIMEOUT_MS / 1000} s`, [
        `start one: replup worker   (it serves task queue ${desc.taskQueue})`,
        'the decision may still be taken when a worker starts: check with replup status before sending it again',
      ]);
    }
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause?.message ?? err.message;
      throw new UserError(`refused: ${cause}`);
    }
    throw err;
  }
}

/**
 * An operator's decision. `step` may be left out for `abort` only: the run is aborted where it is
 * (the step that waits, or the step running, or the next one when paused).
 */
export async function decide(
  client: Client,
  id: string,
  step: string | undefined,
  action: 'retry' | 'skip' | 'abort',
  reason: string,
  actor = defaultActor(),
): Promise<Progress> {
  let target = step;
  if (target === undefined) {
    if (action !== 'abort') throw new UserError(`${action} needs --step: the step that waits`, [], EXIT.usage);
    const p = await getProgress(client, id);
    target = waitingStep(p.steps)?.id ?? p.current ?? p.steps.find((s) => s.status === 'pending')?.id;
    if (target === undefined) throw new UserError(`run ${id} is ${p.status}: there is nothing to abort`);
  }
  return update(client, id, decideUpdate, { step: target, action, reason, actor, identity: client.options.identity });
}
// The client's Temporal identity goes with the actor: both are what the caller declares (README, "Two-person
// approval").
export const approve = (client: Client, id: string, gate: string, reason?: string, actor = defaultActor()) =>
  update(client, id, approveUpdate, { gate, actor, reason, identity: client.options.identity });
export const confirm = (client: Client, id: string, step: string, note?: string, actor = defaultActor()) =>
  update(client, id, confirmUpdate, { step, actor, note });
export const pause = (client: Client, id: string, reason?: string, actor = defaultActor()) =>
  update(client, id, pauseUpdate, { actor, reason });
export const resume = (client: Client, id: string, reason?: string, actor = defaultActor()) =>
  update(client, id, resumeUpdate, { actor, reason });

export interface RunSummary {
  workflowId: string;
  runId: string;
  status: string;
  step: string;
  fleet: string;
  startTime: string;
  closeTime?: string;
}

/** What `list --status` accepts, and the visibility query each one is. */
export const LIST_STATUSES: Record<string, string> = {
  // Open runs by replup's own status; a run ended outside replup keeps its last ReplupStatus,
  // so these also require Temporal's execution status to be Running.
  running: 'ReplupStatus = "running" AND ExecutionStatus = "Running"',
  paused: 'ReplupStatus = "paused" AND ExecutionStatus = "Running"',
  // A person is needed: a parked step, an approval gate, a manual step, or a paused run.
  'awaiting-operator':
    'ReplupStatus IN ("awaiting-operator", "awaiting-approval", "awaiting-confirmation", "paused") AND ' +
    'ExecutionStatus = "Running"',
  'awaiting-approval': 'ReplupStatus = "awaiting-approval" AND ExecutionStatus = "Running"',
  'awaiting-confirmation': 'ReplupStatus = "awaiting-confirmation" AND ExecutionStatus = "Running"',
  completed: 'ReplupStatus = "completed"',
  aborted: 'ReplupStatus = "aborted"',
  failed: '(ReplupStatus = "failed" OR ExecutionStatus = "Failed")',
  terminated: 'ExecutionStatus = "Terminated"',
  'timed-out': 'ExecutionStatus = "TimedOut"',
  canceled: 'ExecutionStatus = "Canceled"',
};

/** A run's status as `list` shows it: Temporal's when the run ended without replup's code saying how, else its own. */
export function shownStatus(executionStatus: string, published: string | undefined): string {
  const outside = closedOutside(executionStatus);
  return outside && !endedByReplup(published) ? outside : (published ?? executionStatus.toLowerCase());
}

export async function listRuns(client: Client, status?: string): Promise<RunSummary[]> {
  let query = 'ReplupFleet IS NOT NULL';
  if (status !== undefined) {
    const q = LIST_STATUSES[status];
    if (!q)
      throw new UserError(
        `unknown status "${status}"; use one of: ${Object.keys(LIST_STATUSES).join(', ')}`,
        [],
        EXIT.usage,
      );
    query = `ReplupFleet IS NOT NULL AND ${q}`;
  }
  const out: RunSummary[] = [];
  for await (const wf of client.workflow.list({ query })) {
    const sa = wf.typedSearchAttributes;
    out.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      status: shownStatus(wf.status.name, sa.get(ReplupStatus)),
      step: sa.get(ReplupStep) ?? '',
      fleet: sa.get(ReplupFleet) ?? '',
      startTime: wf.startTime.toISOString(),
      closeTime: wf.closeTime?.toISOString(),
    });
  }
  return out;
}

/** What a person types to answer a run that waits: the exact command. */
export function answerCommands(p: Progress, id: string): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const waiting = waitingStep(p.steps);
  if (!waiting && p.status === 'paused') {
    // Paused between steps: a person holds it; `abort` takes effect before the next step.
    const at = p.current ?? p.steps.find((s) => s.status === 'pending')?.id;
    return [
      `replup resume ${q(id)} --reason "..."`,
      `replup abort ${q(id)}${at ? ` --step ${at}` : ''} --reason "..."`,
    ];
  }
  if (!waiting) return [];
  if (waiting.status === 'awaiting-approval')
    return [
      `replup approve ${q(id)} --gate ${waiting.id} --reason "..."`,
      `replup abort ${q(id)} --step ${waiting.id} --reason "..."`,
    ];
  if (waiting.status === 'awaiting-confirmation')
    return [
      `replup confirm ${q(id)} --step ${waiting.id} --note "..."`,
      `replup abort ${q(id)} --step ${waiting.id} --reason "..."`,
    ];
  const cmds = [`replup retry ${q(id)} --step ${waiting.id} --reason "..."`];
  // A step held by the closed maintenance window is answered by going on (retry) or aborting.
  const heldByWindow = waiting.lastError?.startsWith('the maintenance window closed') === true;
  if (waiting.skippable && !heldByWindow) cmds.push(`replup skip ${q(id)} --step ${waiting.id} --reason "..."`);
  cmds.push(`replup abort ${q(id)} --step ${waiting.id} --reason "..."`);
  return cmds;
}
