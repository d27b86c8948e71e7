// The agent-schedules runbook against the lab: the lab's push subscriptions start with the vendor's schedules
// (Config every 5 minutes all day, Data at midnight: they start together at 00:00:00). The runbook, driven by a
// plain script, leaves every schedule as the plan asked and none in parallel; schedules set by hand so that Config
// and Data overlap, or not as the plan asked, fail the lab's invariants.
import { describe, expect, it } from 'vitest';
import { createUpgradeActivities } from '../../../activities/personalization-upgrade/activities.js';
import { agentSchedulesInvariants } from '../../../activities/lab/agent-schedules.js';
import { vendorScheduleTiming } from '../../../activities/lab/model.js';
import type { Lab } from '../../../activities/lab/index.js';
import { parseAgentSchedulesPlan } from '../../../plan/agent-schedules/schema.js';
import type { AgentSchedulesPlan } from '../../../plan/agent-schedules/types.js';
import { agentSchedulesSteps } from '../../../plan/agent-schedules/steps.js';
import { agentSchedulesRunbook, type AgentSchedulesInput } from '../../../workflows/agent-schedules.js';
import type { AgentSchedulesActivities } from '../../../activities/agent-schedules/index.js';
import { scriptDriver } from '../../../bench/script-driver.js';
import { labsPerTest } from './runbook.js';

const lab = labsPerTest();

function schedulesPlan(statePath: string, checkOnly = false): AgentSchedulesPlan {
  const text = [
    'name: lab-schedules',
    'runbook: agent-schedules',
    `target: { kind: lab, state: ${JSON.stringify(statePath)} }`,
    'publisher: { server: LAB-PUB }',
    `options: { checkOnly: ${checkOnly} }`,
  ].join('\n');
  const r = parseAgentSchedulesPlan(text, '/plans/schedules.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

async function runByScript(l: Lab, plan: AgentSchedulesPlan) {
  const acts = createUpgradeActivities(() => ({ sql: l.sql, hosts: l.hosts }));
  const steps = agentSchedulesSteps(plan);
  const driver = scriptDriver(acts as AgentSchedulesActivities, {
    ids: { workflowId: 'script', runId: 'r1', firstRunId: 'r1' },
    applies: (id) => steps.find((s) => s.id === id)?.applies ?? false,
  });
  const input: AgentSchedulesInput = { plan, requestedBy: 'lab-test' };
  await agentSchedulesRunbook(driver, input);
  return driver.facts;
}

const verdict = async (l: Lab, plan: AgentSchedulesPlan) =>
  Object.fromEntries(agentSchedulesInvariants(await l.admin.state(), plan).map((i) => [i.name, i]));

describe('agent-schedules in the lab', () => {
  it("the vendor's schedules fail both invariants: not the plan's, and Config and Data start together", async () => {
    const { lab: l, statePath } = await lab();
    const v = await verdict(l, schedulesPlan(statePath));
    expect(v['schedules-as-planned']!.ok).toBe(false);
    expect(v['schedules-not-parallel']!.ok).toBe(false);
    expect(v['schedules-not-parallel']!.detail).toContain('Config and Data at LAB-SUB1/PersonalizationServer');
  });

  it('the runbook sets every schedule as the plan asks; both invariants hold', async () => {
    const { lab: l, statePath } = await lab();
    const plan = schedulesPlan(statePath);
    const facts = await runByScript(l, plan);
    expect((facts.differences as { publication: string }[]).map((d) => d.publication)).toEqual(['Config', 'Config']);
    const v = await verdict(l, plan);
    expect([v['schedules-as-planned']!.ok, v['schedules-not-parallel']!.ok]).toEqual([true, true]);
    // Again: nothing differs, nothing is set.
    expect((await runByScript(l, plan)).differences).toEqual([]);
  });

  it('check-only changes nothing and lists the differences', async () => {
    const { lab: l, statePath } = await lab();
    const plan = schedulesPlan(statePath, true);
    const before = JSON.stringify((await l.admin.state()).subscriptions);
    const facts = await runByScript(l, plan);
    expect((facts.differences as { publication: string }[]).map((d) => d.publication)).toEqual(['Config', 'Config']);
    expect((facts.parallelNow as string[]).length).toBe(2);
    expect(JSON.stringify((await l.admin.state()).subscriptions)).toBe(before);
  });

  it('schedules set by hand wrongly fail: Config all day again (in parallel), Data at 02:00 (not asked)', async () => {
    const { lab: l, statePath } = await lab();
    const plan = schedulesPlan(statePath);
    await runByScript(l, plan);
    const jobs = await l.sql.mergeAgentJobs(plan.publisher);
    const config = jobs.find((j) => j.publication === 'Config')!.schedules[0]!;
    await l.sql.setScheduleTiming(config.scheduleId, vendorScheduleTiming('Config'), true, plan.publisher);
    let v = await verdict(l, plan);
    expect(v['schedules-not-parallel']!.ok).toBe(false);
    expect(v['schedules-as-planned']!.ok).toBe(false);
    await runByScript(l, plan);
    const data = jobs.find((j) => j.publication === 'Data')!.schedules[0]!;
    await l.sql.setScheduleTiming(data.scheduleId, { ...data.timing!, activeStartTime: 20000 }, true, plan.publisher);
    v = await verdict(l, plan);
    expect(v['schedules-as-planned']!.ok).toBe(false);
    expect(v['schedules-as-planned']!.detail).toContain('at 02:00:00, the plan asked at 00:00:00');
  });
});
