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
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import type { UpgradePlan } from '../../plan/types.js';
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
} from '../../workflows/messages.js';
import { readDevRecord } from '../../worker/dev-server.js';
import { UserError, EXIT } from '../errors.js';

/** A commander option parser for counts and intervals: a bad value is a usage error (exit 2). */
export const wholeNumber = (option: string, min = 1) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${option} takes a whole number ≥ ${min}, got "${value}"`, [], EXIT.usage);
  return n;
};

export const defaultActor = () => process.env.REPLUP_ACTOR || userInfo().username;

export function uiUrl(client: Client, workflowId?: string): string {
  const base = (process.env.REPLUP_UI_URL || readDevRecord()?.uiUrl || 'http://127.0.0.1:8233').replace(/\/$/, '');
  const ns = encodeURIComponent(client.options.namespace);
  return workflowId ? `${base}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}` : `${base}/namespaces/${ns}/workflows`;
}

function planDetails(plan: UpgradePlan): string {
  const subs = plan.publications.reduce((n, p) => n + p.subscribers.length, 0);
  return [
    `**${plan.name}**: Personalization Server ${plan.from} → ${plan.to}`,
    '',
    `- publisher: ${plan.publisher.server}/${plan.publisher.database}`,
    `- sites: ${plan.sites.length}, publications: ${plan.publications.map((p) => `${p.name} on ${p.publisher}`).join(', ')}, subscriptions: ${subs}`,
    `- target: ${plan.target.kind === 'lab' ? `lab (${plan.target.state})` : 'SQL Server'}`,
    `- approvals: ${plan.options.approvals.join(', ') || 'none'}; upgrade: ${plan.hosts.upgrade === 'manual' ? 'manual (confirmed by an operator)' : 'command'}`,
    `- parallelism: ${plan.options.maxParallel}; quiet rounds: ${plan.options.sync.quietRounds} (max ${plan.options.sync.maxRounds})`,
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
}

/**
 * Starts any runbook's workflow the same way: one run per fleet at a time (the workflow id is the
 * fleet's), the plan described for the UI, the search attributes set from the first moment.
 */
export async function launch<A extends unknown[]>(client: Client, workflow: (...args: A) => Promise<unknown>, args: A, o: LaunchOptions): Promise<Started> {
  try {
    const handle = await client.workflow.start(workflow, {
      taskQueue: o.taskQueue ?? TASK_QUEUE,
      workflowId: o.workflowId,
      args,
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: o.staticSummary,
      staticDetails: o.staticDetails,
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
    throw err;
  }
}

export function startUpgrade(
  client: Client,
  plan: UpgradePlan,
  actor = defaultActor(),
  /** Tests run fleets side by side on their own queues. */
  opts: { taskQueue?: string; workflowId?: string } = {},
): Promise<Started> {
  const fleet = `${plan.publisher.server}/${plan.publisher.database}`;
  return launch(client, personalizationUpgrade, [{ plan, requestedBy: actor }], {
    workflowId: opts.workflowId ?? upgradeWorkflowId(plan),
    taskQueue: opts.taskQueue,
    fleet,
    staticSummary: `${plan.name}: upgrade ${fleet} fleet ${plan.from} → ${plan.to}`,
    staticDetails: planDetails(plan),
    what: `an upgrade of ${fleet}`,
    oneAtATime: 'one fleet is upgraded by one run at a time; abort that run first if it must be replaced',
  });
}

/** The workflow id given, or the only running upgrade when there is exactly one. */
export async function resolveRunId(client: Client, id?: string): Promise<string> {
  if (id) return id;
  const running: string[] = [];
  for await (const wf of client.workflow.list({ query: `ExecutionStatus = "Running" AND ReplupFleet IS NOT NULL` })) {
    running.push(wf.workflowId);
  }
  if (running.length === 1) return running[0]!;
  if (running.length === 0) throw new UserError('no upgrade is running; name the run (replup list --status completed shows past ones)', [], EXIT.usage);
  throw new UserError(`${running.length} upgrades are running; name one:`, running, EXIT.usage);
}

async function describeRun(client: Client, id: string): Promise<{ handle: WorkflowHandle; desc: WorkflowExecutionDescription }> {
  const handle = client.workflow.getHandle(id);
  try {
    return { handle, desc: await handle.describe() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UserError(`no run with id ${id}`, ['list the runs: replup list']);
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
  ) {
    super(
      `no worker answered for run ${id} within ${QUERY_TIMEOUT_MS / 1000} s${ended ? ` (the run has ended: ${ended})` : ''}`,
      [`start one: replup worker   (it serves task queue ${taskQueue}, with the same TEMPORAL_* settings)`],
    );
    this.name = 'NoWorkerAnswered';
  }
}

export async function getProgress(client: Client, id: string): Promise<Progress> {
  const { handle, desc } = await describeRun(client, id);
  // A completed run returns its progress: no worker needed to read it.
  if (desc.status.name === 'COMPLETED') {
    const result = (await handle.result()) as RunResult | undefined;
    if (result?.progress) return result.progress;
  }
  try {
    const p = await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(progressQuery));
    // Terminated, timed out, cancelled or failed: the progress stopped where the workflow was cut
    // off and would read `running` forever.
    if (desc.status.name !== 'RUNNING' && !['completed', 'aborted'].includes(p.status)) {
      const how = desc.status.name.toLowerCase().replace(/_/g, ' ');
      return { ...p, status: 'failed', outcome: `the workflow was ${how} at ${p.current ?? 'no step'}${desc.closeTime ? ` (${desc.closeTime.toISOString()})` : ''}; see its history in the Web UI` };
    }
    return p;
  } catch (err) {
    if (err instanceof ServiceError && (err.cause as { code?: number } | undefined)?.code === 4 /* DEADLINE_EXCEEDED */) {
      throw new NoWorkerAnswered(id, desc.taskQueue, desc.status.name === 'RUNNING' ? undefined : desc.status.name.toLowerCase());
    }
    throw err;
  }
}

const UPDATE_TIMEOUT_MS = 30_000;

/** Runs an Update and turns a validator's rejection into a UserError with its words. */
async function update<A>(client: Client, id: string, def: any, arg: A): Promise<Progress> {
  const { handle, desc } = await describeRun(client, id);
  if (desc.status.name !== 'RUNNING') throw new UserError(`run ${id} has ended (${desc.status.name.toLowerCase()}); there is nothing to decide`);
  try {
    return (await client.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () => handle.executeUpdate(def, { args: [arg] }))) as Progress;
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new UserError(`no worker took the decision for run ${id} within ${UPDATE_TIMEOUT_MS / 1000} s`, [
        `start one: replup worker   (it serves task queue ${desc.taskQueue})`,
        'the decision may still be taken when a worker starts: check with replup status before sending it again',
      ]);
    }
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = (err.cause as Error | undefined)?.message ?? err.message;
      throw new UserError(`refused: ${cause}`);
    }
    throw err;
  }
}

export const decide = (client: Client, id: string, step: string, action: 'retry' | 'skip' | 'abort', reason: string, actor = defaultActor()) =>
  update(client, id, decideUpdate, { step, action, reason, actor });
export const approve = (client: Client, id: string, gate: string, reason?: string, actor = defaultActor()) =>
  update(client, id, approveUpdate, { gate, actor, reason });
export const confirm = (client: Client, id: string, step: string, note?: string, actor = defaultActor()) =>
  update(client, id, confirmUpdate, { step, actor, note });
export const pause = (client: Client, id: string, reason?: string, actor = defaultActor()) => update(client, id, pauseUpdate, { actor, reason });
export const resume = (client: Client, id: string, reason?: string, actor = defaultActor()) => update(client, id, resumeUpdate, { actor, reason });

export interface RunSummary {
  workflowId: string;
  runId: string;
  status: string;
  step: string;
  fleet: string;
  startTime: string;
  closeTime?: string;
}

export async function listRuns(client: Client, status?: string): Promise<RunSummary[]> {
  const query = status ? `ReplupStatus = "${status.replace(/"/g, '')}"` : 'ReplupFleet IS NOT NULL';
  const out: RunSummary[] = [];
  for await (const wf of client.workflow.list({ query })) {
    const sa = wf.typedSearchAttributes;
    out.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      status: sa.get(ReplupStatus) ?? wf.status.name.toLowerCase(),
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
  const waiting = p.steps.find((s) => s.status.startsWith('awaiting-'));
  if (!waiting) return [];
  if (waiting.status === 'awaiting-approval') return [`replup approve ${q(id)} --gate ${waiting.id} --reason "..."`, `replup abort ${q(id)} --step ${waiting.id} --reason "..."`];
  if (waiting.status === 'awaiting-confirmation') return [`replup confirm ${q(id)} --step ${waiting.id} --note "..."`];
  const cmds = [`replup retry ${q(id)} --step ${waiting.id} --reason "..."`];
  if (waiting.skippable) cmds.push(`replup skip ${q(id)} --step ${waiting.id} --reason "..."`);
  cmds.push(`replup abort ${q(id)} --step ${waiting.id} --reason "..."`);
  return cmds;
}
