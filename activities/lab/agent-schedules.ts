// The lab's merge agent jobs as the distributor lists them, and what the agent-schedules runbook promises of them:
// every job's schedule as the plan asked, and no subscription whose Config and Data agents can run at the same time
// (plan/agent-schedules/rule.ts). Pure: reads a LabState.
import type { AgentSchedulesPlan } from '../../plan/agent-schedules/types.js';
import { scheduleFindings } from '../../plan/agent-schedules/differences.js';
import type { MergeAgentJob } from '../ports.js';
import type { Invariant } from './check.js';
import { findDatabase, type LabDatabase, type LabState } from './model.js';

/** The push merge agent jobs of a publication database, with their schedules (MSmerge_agents ⋈ sysschedules). */
export function labAgentJobs(state: LabState, publisher: LabDatabase): MergeAgentJob[] {
  return Object.values(state.subscriptions)
    .filter((x) => x.publisherKey === publisher.key && x.agent)
    .map((x) => {
      const sub = state.databases[x.subscriberKey]!;
      const s = x.schedule;
      return {
        jobId: `job-${x.key}`,
        name: `${publisher.server}-${publisher.database}-${x.publication}-${sub.server}`,
        publication: x.publication,
        subscriber: { server: sub.server, database: sub.database },
        schedules: s
          ? [{ scheduleId: s.scheduleId, name: s.name, enabled: s.enabled, ...(s.timing && { timing: s.timing }) }]
          : [],
      };
    });
}

/**
 * After an agent-schedules run (not check-only): `schedules-as-planned` fails for a job whose schedule is not the
 * plan's (or is disabled); `schedules-not-parallel` for a subscription whose Config and Data can run at once.
 */
export function agentSchedulesInvariants(state: LabState, plan: AgentSchedulesPlan): Invariant[] {
  const jobs = labAgentJobs(state, findDatabase(state, plan.publisher));
  const f = scheduleFindings(jobs, plan);
  const differ = [...f.differences.map((d) => `${d.job}: ${d.now}, the plan asked ${d.wanted}`), ...f.problems];
  return [
    {
      name: 'schedules-as-planned',
      description: "every merge agent job's schedule is the plan's, enabled",
      ok: differ.length === 0,
      detail: differ.length ? differ.join('; ') : `${f.jobs} schedules as the plan asked`,
    },
    {
      name: 'schedules-not-parallel',
      description:
        "no subscription whose Config and Data merge agents can run at the same time (the vendor's Replication guide)",
      ok: f.parallelNow.length === 0,
      detail: f.parallelNow.length ? f.parallelNow.join('; ') : `no Config and Data of one subscription in parallel`,
    },
  ];
}
