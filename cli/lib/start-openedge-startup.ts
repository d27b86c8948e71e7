// Starting the OpenEdge Replication start-up runbook (`runbook: openedge-replication-startup`) and
// forcing an agent connection while it waits: what `replup start` and `replup connect-agent` call.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { OpenEdgeStartupPlan } from '../../plan/openedge-startup/schema.js';
import {
  connectAgentUpdate,
  openEdgeStartup,
  openEdgeWorkflowId,
  type AgentTry,
} from '../../workflows/openedge-startup.js';
import type { Progress } from '../../workflows/messages.js';
import { UserError } from '../errors.js';
import { defaultActor, runbookStarter } from './runs.js';

function planDetails(plan: OpenEdgeStartupPlan): string {
  const deferral =
    plan.deferAgentStartupMinutes > 0
      ? `${plan.deferAgentStartupMinutes} minutes, a try every ${plan.retryIntervalSeconds} s (or now: replup ` +
        `connect-agent)`
      : 'off (0)';
  return [
    `**${plan.name}**: OpenEdge Replication start-up of ${plan.source.database}`,
    '',
    `- agents: ` +
      plan.agents
        .map((a) => `${a.name} at ${a.host}:${a.port} (${a.replicationMethod}${a.critical ? ', critical' : ''})`)
        .join('; '),
    `- deferred agent start-up: ${deferral}`,
    `- start: \`${plan.commands.startServer}\`; dsrutil: \`${plan.commands.dsrutil}\``,
    `- properties file: ${plan.propertiesFile ?? 'not given (not checked)'}`,
  ].join('\n');
}

/** `startOpenEdge(client, plan, actor?, { taskQueue, workflowId }?)`: tests run databases side by side. */
export const startOpenEdge = runbookStarter(openEdgeStartup, (plan: OpenEdgeStartupPlan) => ({
  workflowId: openEdgeWorkflowId(plan),
  fleet: plan.source.database,
  staticSummary:
    `${plan.name}: start OpenEdge Replication of ${plan.source.database} to ` +
    `${plan.agents.map((a) => a.name).join(', ')}`,
  staticDetails: planDetails(plan),
  what: `a replication start-up of ${plan.source.database}`,
  oneAtATime: 'one source database is started by one run at a time',
}));

/**
 * `dsrutil <db> -C connectagent AGENT|ALL` through the run, at once, recorded with who and why.
 * Answers when the try is done: the progress, and the run's latest look at the agents (that try,
 * or the deferred try that connected them just before).
 */
export async function connectAgentNow(
  client: Client,
  id: string,
  agent = 'ALL',
  reason?: string,
  actor = defaultActor(),
): Promise<{ progress: Progress; latest: AgentTry | undefined }> {
  const handle = client.workflow.getHandle(id);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new UserError(`no run with id ${id}`, ['list the runs: replup list']);
    throw err;
  }
  if (status !== 'RUNNING')
    throw new UserError(`run ${id} has ended (${status.toLowerCase()}); there is no agent to connect`);
  let progress: Progress;
  try {
    progress = await handle.executeUpdate(connectAgentUpdate, {
      args: [{ agent, actor, ...(reason !== undefined && { reason }) }],
    });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new UserError(`refused: ${err.cause?.message ?? err.message}`);
    throw err;
  }
  const tries = (progress.facts.agentTries ?? []) as AgentTry[];
  return { progress, latest: tries[tries.length - 1] };
}
