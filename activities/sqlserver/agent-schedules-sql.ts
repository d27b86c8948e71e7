// What the SQL Server adapter sends for an agent-schedules plan, for `replup plan show --sql`: the upgrade's
// schedule statements (statements.ts), with this plan's timing. Pure: no connection.
import type { AgentSchedulesPlan } from '../../plan/agent-schedules/types.js';
import { wantedTiming } from '../../plan/agent-schedules/differences.js';
import { TIMING_FIELDS } from '../personalization-upgrade/preflight.js';
import type { SentStatement } from './plan-sql.js';
import * as sql from './statements.js';

/** The steps that apply, each with the statements it sends (at the distributor, whose msdb holds the jobs). */
export function agentSchedulesStatements(plan: AgentSchedulesPlan) {
  const at = { server: plan.distributor.server, database: 'master' };
  const read = (purpose: string): SentStatement => ({
    purpose,
    ...at,
    statement: sql.mergeAgentJobSchedules(plan.distributor.database, plan.publisher.database),
  });
  const set = (kind: 'config' | 'data'): SentStatement => ({
    purpose: `the plan's ${plan.publications[kind]} schedule, enabled`,
    ...at,
    statement: sql.updateScheduleTiming(0, wantedTiming(plan.schedules[kind]), true),
    runtime: {
      scheduleId: '<schedule_id found above>',
      activeStartDate: '<as the schedule has it>',
      activeEndDate: '<as the schedule has it>',
    },
    only:
      `for each ${plan.publications[kind]} job whose schedule differs ` +
      `(${TIMING_FIELDS.length} timing fields, enabled)`,
  });
  const steps = [
    {
      id: 'preflight',
      notes: ['read only: the jobs of the publication database and their schedules'],
      statements: [read("the merge agent jobs of the publisher's subscriptions, with their schedules")],
    },
  ];
  if (plan.options.checkOnly) return steps;
  return [
    ...steps,
    {
      id: 'set-schedules',
      notes: ['read again, set each that differs, read again to verify (retried while any still differs)'],
      statements: [read('the jobs and schedules as they are now'), set('config'), set('data'), read('read them again')],
    },
    { id: 'verify', notes: ['read only'], statements: [read('the schedules once more: each as the plan says')] },
  ];
}
