// The agent-schedules runbook's steps as `plan show` and the workflow list them. Pure.
import type { StepView } from '../kind.js';
import { clock, secondsOf } from './rule.js';
import type { AgentSchedulesPlan, DailySchedule } from './types.js';

/** "every 5 minutes 01:00:00-23:55:00" or "at 00:00:00", every day. */
export function describeDaily(s: DailySchedule): string {
  return s.everyMinutes !== undefined
    ? `every ${s.everyMinutes} minutes ${clock(secondsOf(s.from))}-${clock(secondsOf(s.to))}`
    : `at ${clock(secondsOf(s.from))}`;
}

export function agentSchedulesSteps(plan: AgentSchedulesPlan): StepView[] {
  const { config, data } = plan.publications;
  const wanted =
    `${config} ${describeDaily(plan.schedules.config)}, ${data} ${describeDaily(plan.schedules.data)} ` +
    `(Data may run ${plan.schedules.dataWindowMinutes} minutes)`;
  const checkOnly = 'not with options.checkOnly: true (the run reads and compares only)';
  return [
    {
      id: 'preflight',
      applies: true,
      reason:
        `read every merge agent job of ${plan.publisher.server}/${plan.publisher.database} and its schedule; ` +
        `list each that differs from ${wanted}; refuse schedules that would let ${config} and ${data} of one ` +
        `subscription run at the same time`,
    },
    {
      id: 'set-schedules',
      applies: !plan.options.checkOnly,
      reason: plan.options.checkOnly
        ? checkOnly
        : `sp_update_schedule on each schedule that differs (enabled, with the plan's timing)` +
          (plan.options.approvals.includes('set-schedules') ? '; waits for replup approve' : ''),
    },
    {
      id: 'verify',
      applies: !plan.options.checkOnly,
      reason: plan.options.checkOnly ? checkOnly : 'read the schedules again: each as the plan says, none in parallel',
    },
  ];
}
