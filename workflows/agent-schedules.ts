// Check and set the merge agent schedules, as the seed's "Modifying Replication Schedules" gives them:
// "Config Every 5 minutes - Data Every 24 hours at midnight" (local to the master, whose Agent runs the push
// jobs), or the plan's; and "ensure that the config and data publications are not run in parallel". Read every
// subscription's merge agent job and its schedule, list what differs, refuse schedules that could run Config and
// Data of one subscription at once (plan/agent-schedules/rule.ts), set them after approval, read them back.
// With options.checkOnly the run reads and lists only: nothing is changed.
import { ApplicationFailure } from '@temporalio/workflow';
import { scheduleFindings, type ScheduleDifference } from '../plan/agent-schedules/differences.js';
import { agentSchedulesSteps } from '../plan/agent-schedules/steps.js';
import type { AgentSchedulesPlan, AgentSchedulesStepId } from '../plan/agent-schedules/types.js';
import { schedulesContext, type AgentSchedulesActivities } from '../activities/agent-schedules/index.js';
import { UpgradeFailure } from '../common/failures.js';
import { Runbook, temporalDriver, type RunbookDriver } from './engine/index.js';
import type { RunResult } from './messages.js';
import { count } from '../common/count.js';

export interface AgentSchedulesInput {
  plan: AgentSchedulesPlan;
  /** Who started the run (OS user or --actor). */
  requestedBy: string;
}

const TITLES: Record<AgentSchedulesStepId, string> = {
  preflight: 'Read the merge agent schedules and compare them with the plan',
  'set-schedules': 'Set the schedules that differ',
  verify: 'Read the schedules again',
};

/** One run per publication database at a time. */
export function agentSchedulesWorkflowId(plan: Pick<AgentSchedulesPlan, 'publisher'>): string {
  return `agent-schedules:${plan.publisher.server}/${plan.publisher.database}`.toLowerCase();
}

const listed = (d: ScheduleDifference[]) =>
  d.map((x) => `${x.job} (${x.publication} → ${x.subscriber}): ${x.now}, wanted ${x.wanted}`).join('; ');

/** The set-schedules gate's note: which jobs' schedules approving changes, from what to what. */
export const setSchedulesNote = (d: ScheduleDifference[]): string =>
  `approve to change the schedules of ${count(d.length, 'merge agent job')} (sp_update_schedule): ${listed(d)}`;

export async function agentSchedules(input: AgentSchedulesInput): Promise<RunResult> {
  const { plan } = input;
  const engine = new Runbook({
    runbook: plan.runbook,
    fleet: `${plan.publisher.server}/${plan.publisher.database}`,
    planName: plan.name,
    approvals: plan.options.approvals,
    starter: input.requestedBy,
    ...(plan.notify && { notify: plan.notify }),
    steps: agentSchedulesSteps(plan).map((s) => ({
      ...s,
      title: TITLES[s.id as AgentSchedulesStepId],
      skippable: false,
    })),
  });
  const retry = plan.options.retry;
  const driver = temporalDriver<AgentSchedulesActivities>(engine, {
    ...(retry && { retry }),
    maxParallel: 1,
    childThreshold: 1000,
  });
  return engine.run(() => agentSchedulesRunbook(driver, input));
}

/** The runbook on a driver: the workflow's, or a plain script's (the lab tests). */
export async function agentSchedulesRunbook(run: RunbookDriver<AgentSchedulesActivities>, input: AgentSchedulesInput) {
  const { plan } = input;
  const ctx = schedulesContext(plan);
  const pub = `${plan.publisher.server}/${plan.publisher.database}`;
  const read = (step: AgentSchedulesStepId) =>
    run.acts.agentSchedules(`${step}: merge agent jobs of ${pub} and their schedules`, ctx, plan.publisher);
  run.fact('requestedBy', input.requestedBy);
  let findings = scheduleFindings([], plan);

  await run.step('preflight', async (s) => {
    const jobs = await read('preflight');
    findings = scheduleFindings(jobs, plan);
    run.fact('schedulesBefore', jobs);
    run.fact('differences', findings.differences);
    run.fact('parallelNow', findings.parallelNow);
    const parallel = findings.parallelNow.length
      ? `; Config and Data can run at the same time now: ${findings.parallelNow.join('; ')}`
      : '';
    if (findings.problems.length && !plan.options.checkOnly) {
      throw ApplicationFailure.nonRetryable(findings.problems.join('; '), UpgradeFailure.preflight);
    }
    const problems = findings.problems.length ? `; cannot be set as they are: ${findings.problems.join('; ')}` : '';
    s.note(
      findings.differences.length
        ? `${findings.differences.length} of ${findings.jobs} schedules differ from the plan: ` +
            `${listed(findings.differences)}${parallel}${problems}`
        : `all ${findings.jobs} schedules as the plan says${parallel}${problems}`,
    );
  });

  // Nothing differs: nothing to approve, nothing sent.
  if (findings.differences.length) await run.gate('set-schedules', setSchedulesNote(findings.differences));
  await run.step('set-schedules', async (s) => {
    if (!findings.differences.length) {
      s.note('every schedule already as the plan says: nothing set');
      return;
    }
    // sp_update_schedule for each that differs, read back by the activity (the upgrade's restore, reused).
    const r = await run.acts.restoreAgentSchedules(
      `set-schedules: ${count(findings.differences.length, 'schedule')}`,
      ctx,
      plan.publisher,
      findings.wanted,
    );
    s.note(`${r.restored} schedules set (${r.retimed} retimed)`);
  });

  await run.step('verify', async (s) => {
    const jobs = await read('verify');
    const after = scheduleFindings(jobs, plan);
    run.fact('schedulesAfter', jobs);
    const wrong = [
      ...after.differences.map((d) => `${d.job}: ${d.now}, wanted ${d.wanted}`),
      ...after.parallelNow.map((p) => `in parallel: ${p}`),
    ];
    if (wrong.length) {
      throw ApplicationFailure.nonRetryable(
        `schedules not as the plan says: ${wrong.join('; ')}`,
        UpgradeFailure.verification,
      );
    }
    s.note(`all ${after.jobs} schedules as the plan says; no Config and Data of one subscription in parallel`);
  });
}
