// The agent-schedules runbook's activities: the upgrade's schedule reads and updates, reused as they are
// (activities/personalization-upgrade/activities.ts: agentSchedules reads the publisher's merge agent jobs
// with their sysschedules timing; restoreAgentSchedules sets each with sp_update_schedule and reads back).
// The worker registers them already; this file names the subset and the context they are called with.
import type { FleetContext, UpgradeActivities } from '../personalization-upgrade/activities.js';
import type { AgentSchedulesPlan } from '../../plan/agent-schedules/types.js';

export type AgentSchedulesActivities = Pick<UpgradeActivities, 'agentSchedules' | 'restoreAgentSchedules'>;

/**
 * What the activities need to reach the distributor's msdb: no host commands or scripts (this runbook runs
 * none). Pure, so the workflow builds it.
 */
export function schedulesContext(plan: AgentSchedulesPlan): FleetContext {
  return {
    target: plan.target,
    credentials: plan.credentials,
    hosts: { upgrade: 'manual' },
    scriptsDir: '',
    distributor: plan.distributor,
  };
}
