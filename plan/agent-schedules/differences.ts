// What the agent-schedules runbook finds on the server: each merge agent job's schedule against the plan's, and
// the subscriptions whose Config and Data agents could run at the same time. Pure: the workflow runs it.
import type { MergeAgentJob, ScheduleTiming } from '../../activities/ports.js';
import type { RecordedSchedule } from '../../activities/personalization-upgrade/preflight.js';
import { describeTiming, TIMING_FIELDS } from '../../activities/personalization-upgrade/preflight.js';
import { parallelRuns } from './rule.js';
import type { AgentSchedulesPlan, DailySchedule } from './types.js';

type Kind = 'config' | 'data';

/** One schedule that is not as the plan says. */
export interface ScheduleDifference {
  job: string;
  publication: string;
  /** `server/database` of the subscriber. */
  subscriber: string;
  scheduleId: number;
  schedule: string;
  /** What it is now: "every 5 minutes 00:00:00-23:59:59" (", disabled" when it is). */
  now: string;
  wanted: string;
}

/** What preflight found: the differences, what to set (as the upgrade's restore takes it), and refusals. */
export interface ScheduleFindings {
  jobs: number;
  differences: ScheduleDifference[];
  /** The schedules as they should be, one per job the plan sets: restoreAgentSchedules' input. */
  wanted: RecordedSchedule[];
  /** Subscriptions whose Config and Data agents can run at the same time now. */
  parallelNow: string[];
  /** Why the plan's schedules cannot be set as asked (refused in set mode). */
  problems: string[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const where = (d: { server: string; database: string }) => `${d.server}/${d.database}`;

/** The plan's schedule as sysschedules holds it, keeping the dates the schedule has. */
export function wantedTiming(s: DailySchedule, current?: ScheduleTiming): ScheduleTiming {
  return {
    freqType: 4,
    freqInterval: 1,
    freqSubdayType: s.everyMinutes !== undefined ? 4 : 1,
    freqSubdayInterval: s.everyMinutes ?? 0,
    freqRelativeInterval: 0,
    freqRecurrenceFactor: 0,
    activeStartDate: current?.activeStartDate ?? 20000101,
    activeEndDate: current?.activeEndDate ?? 99991231,
    activeStartTime: s.from,
    activeEndTime: s.to,
  };
}

function kindOf(plan: AgentSchedulesPlan, publication: string): Kind | undefined {
  if (same(publication, plan.publications.config)) return 'config';
  return same(publication, plan.publications.data) ? 'data' : undefined;
}

/**
 * Why this plan's Config and Data schedules could run at the same time, or undefined (the rule of
 * plan/agent-schedules/rule.ts with the plan's dataWindowMinutes).
 */
export function planParallel(plan: AgentSchedulesPlan): string | undefined {
  const { config, data, dataWindowMinutes } = plan.schedules;
  return parallelRuns(wantedTiming(config), wantedTiming(data), dataWindowMinutes);
}

/**
 * Each job's schedules against the plan. A job of a publication the plan does not name is left alone; a job
 * without a schedule, with several, or sharing its schedule with another job is a problem (sp_update_schedule
 * would change the other job too; inferred from "A schedule can be set for more than one job").
 */
export function scheduleFindings(jobs: MergeAgentJob[], plan: AgentSchedulesPlan): ScheduleFindings {
  const out: ScheduleFindings = { jobs: 0, differences: [], wanted: [], parallelNow: [], problems: [] };
  const users = new Map<number, string[]>();
  for (const j of jobs)
    for (const s of j.schedules) users.set(s.scheduleId, [...(users.get(s.scheduleId) ?? []), j.name]);
  for (const job of jobs) {
    const kind = kindOf(plan, job.publication);
    if (!kind) continue;
    out.jobs += 1;
    const sub = where(job.subscriber);
    if (job.schedules.length !== 1) {
      out.problems.push(
        `${job.name} (${job.publication} → ${sub}) has ${job.schedules.length} schedules: replup sets a job with ` +
          `exactly one; attach one (sp_attach_schedule) or detach the others, then retry`,
      );
      continue;
    }
    const s = job.schedules[0]!;
    const shared = users.get(s.scheduleId)!;
    if (shared.length > 1) {
      // Said once, at the first job that uses it.
      if (shared[0] === job.name) {
        out.problems.push(
          `schedule ${s.name} (id ${s.scheduleId}) is shared by ${shared.join(', ')}: give each job its own`,
        );
      }
      continue;
    }
    const timing = wantedTiming(plan.schedules[kind], s.timing);
    const differs = !s.enabled || !s.timing || TIMING_FIELDS.some((f) => s.timing![f] !== timing[f]);
    if (differs) {
      const now = s.timing ? describeTiming(s.timing) : 'timing unknown';
      out.differences.push({
        job: job.name,
        publication: job.publication,
        subscriber: sub,
        scheduleId: s.scheduleId,
        schedule: s.name,
        now: s.enabled ? now : `${now}, disabled`,
        wanted: describeTiming(timing),
      });
    }
    out.wanted.push({
      publication: job.publication,
      subscriber: job.subscriber,
      schedule: s.name,
      enabled: true,
      timing,
    });
  }
  out.parallelNow = parallelSubscriptions(jobs, plan);
  return out;
}

/** "Config and Data at SUB/DB: <why>" for each subscription whose enabled schedules can run at once. */
export function parallelSubscriptions(jobs: MergeAgentJob[], plan: AgentSchedulesPlan): string[] {
  const enabled = (k: Kind) =>
    jobs
      .filter((j) => kindOf(plan, j.publication) === k)
      .flatMap((j) => j.schedules.filter((s) => s.enabled && s.timing).map((s) => ({ j, s })));
  const out: string[] = [];
  for (const c of enabled('config')) {
    for (const d of enabled('data')) {
      if (!same(where(c.j.subscriber), where(d.j.subscriber))) continue;
      const why = parallelRuns(c.s.timing!, d.s.timing!, plan.schedules.dataWindowMinutes);
      if (why) out.push(`${c.j.publication} and ${d.j.publication} at ${where(c.j.subscriber)}: ${why}`);
    }
  }
  return out;
}
