// Starting the merge agent schedules runbook (`runbook: agent-schedules`): what `replup start` and
// `replup demo --runbook agent-schedules` call.
import type { AgentSchedulesPlan } from '../../plan/agent-schedules/types.js';
import { describeDaily } from '../../plan/agent-schedules/steps.js';
import { agentSchedules, agentSchedulesWorkflowId } from '../../workflows/agent-schedules.js';
import { runbookStarter } from './runs.js';

function planDetails(plan: AgentSchedulesPlan): string {
  const { config, data } = plan.publications;
  return [
    `**${plan.name}**: merge agent schedules of ${plan.publisher.server}/${plan.publisher.database}`,
    '',
    `- ${config}: ${describeDaily(plan.schedules.config)}`,
    `- ${data}: ${describeDaily(plan.schedules.data)} ` +
      `(Config starts nothing for ${plan.schedules.dataWindowMinutes} minutes after)`,
    `- mode: ${plan.options.checkOnly ? 'check only (nothing is changed)' : 'check, set, verify'}`,
  ].join('\n');
}

/** `startAgentSchedules(client, plan, actor?, { taskQueue, workflowId }?)`. */
export const startAgentSchedules = runbookStarter(agentSchedules, (plan: AgentSchedulesPlan) => ({
  workflowId: agentSchedulesWorkflowId(plan),
  fleet: `${plan.publisher.server}/${plan.publisher.database}`,
  staticSummary:
    `${plan.name}: ${plan.options.checkOnly ? 'check' : 'set'} the merge agent schedules of ` +
    `${plan.publisher.server}/${plan.publisher.database}`,
  staticDetails: planDetails(plan),
  what: `a schedules run on ${plan.publisher.server}/${plan.publisher.database}`,
  oneAtATime: 'one publication database has its schedules set by one run at a time',
}));
