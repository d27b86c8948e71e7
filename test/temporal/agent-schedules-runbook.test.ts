// The agent-schedules runbook (#24) on a Temporal dev server against the lab: a lab made from the upgrade's example
// has the vendor's schedules (Config every 5 minutes all day, Data at midnight). Check-only lists the differences
// and changes nothing; set waits for its approval, sets them, verifies, and the lab's invariants hold; a plan whose
// Config and Data overlap is refused by plan validate with its location. With REPLUP_RECORD_HISTORY=1 the set run's
// history is written to test/fixtures/histories/agent-schedules.history.pb (replayed by test/unit/replay).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import { initLab, openLab } from '../../activities/lab/index.js';
import { agentSchedulesInvariants } from '../../activities/lab/agent-schedules.js';
import { loadPlanFile } from '../../plan/load.js';
import type { AgentSchedulesPlan } from '../../plan/agent-schedules/types.js';
import { startAgentSchedules } from '../../cli/lib/start-agent-schedules.js';
import { approve } from '../../cli/lib/runs.js';
import type { RunResult } from '../../workflows/messages.js';
import { examplePlan, startWorker, uniqueQueue, useDevServer, waitFor } from './harness.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

const ENDED = ['completed', 'aborted', 'failed', 'awaiting-operator'];

/** examples/agent-schedules.yaml on a fresh lab made from examples/lab-small.yaml. */
async function schedulesOnLab(checkOnly: boolean) {
  const upgrade = await examplePlan('lab-small.yaml');
  await initLab(upgrade, { rows: 10, seed: 5 });
  const r = await loadPlanFile(resolve('examples/agent-schedules.yaml'));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const plan = structuredClone(r.plan) as AgentSchedulesPlan;
  plan.target = upgrade.target;
  plan.options.checkOnly = checkOnly;
  plan.options.retry = { initialSeconds: 0.2, maximumSeconds: 1, maximumAttempts: 20 };
  const taskQueue = uniqueQueue('agent-schedules');
  const worker = await startWorker(env, taskQueue);
  const workflowId = `agent-schedules-${checkOnly ? 'check' : 'set'}-${process.pid}-${Date.now()}`;
  await startAgentSchedules(env.client, plan, 'test-operator', { taskQueue, workflowId });
  return { plan, worker, workflowId, state: (upgrade.target as { state: string }).state };
}

describe('agent-schedules runbook', () => {
  it('check-only lists the Config schedules that differ and that collide with Data, and changes nothing', async () => {
    const { worker, workflowId, state } = await schedulesOnLab(true);
    const before = readFileSync(state, 'utf8');
    try {
      const done = await waitFor(env.client, workflowId, (p) => ENDED.includes(p.status));
      expect(done.status).toBe('completed');
      expect(done.steps.map((s) => [s.id, s.status])).toEqual([
        ['preflight', 'done'],
        ['set-schedules', 'not-applicable'],
        ['verify', 'not-applicable'],
      ]);
      const differences = done.facts.differences as { publication: string; now: string; wanted: string }[];
      expect(differences.map((d) => [d.publication, d.now, d.wanted])).toEqual([
        ['Config', 'every 5 minutes 00:00:00-23:59:59', 'every 5 minutes 01:00:00-23:55:00'],
        ['Config', 'every 5 minutes 00:00:00-23:59:59', 'every 5 minutes 01:00:00-23:55:00'],
      ]);
      expect(done.facts.parallelNow).toHaveLength(2);
      expect(done.steps[0]!.note).toContain('2 of 4 schedules differ from the plan');
    } finally {
      await worker.stop();
    }
    // The lab's own traffic goes on (pending rows); the schedules are what the run could have changed.
    const schedules = (text: string) =>
      JSON.stringify(
        Object.values(JSON.parse(text).subscriptions as Record<string, { schedule?: unknown }>).map((x) => x.schedule),
      );
    expect(schedules(readFileSync(state, 'utf8'))).toBe(schedules(before));
  });

  it('set waits for its approval, sets the schedules, verifies them; the lab check passes', async () => {
    const { plan, worker, workflowId, state } = await schedulesOnLab(false);
    try {
      await waitFor(env.client, workflowId, (p) => p.status === 'awaiting-approval');
      await approve(env.client, workflowId, 'set-schedules', 'schedules reviewed', 'test-approver');
      const done = await waitFor(env.client, workflowId, (p) => ENDED.includes(p.status));
      expect(done.status).toBe('completed');
      expect(done.steps.find((s) => s.id === 'set-schedules')!.note).toBe('2 schedules set (2 retimed)');
      expect(done.steps.find((s) => s.id === 'verify')!.status).toBe('done');
      const result = (await env.client.workflow.getHandle(workflowId).result()) as RunResult;
      // The run report is written for this runbook as for any (from its history).
      expect(result.progress.facts.reportError).toBeUndefined();
      expect(result.progress.facts.report).toBeDefined();
    } finally {
      await worker.stop();
    }
    const lab = openLab(state);
    try {
      const failed = agentSchedulesInvariants(await lab.admin.state(), plan).filter((i) => !i.ok);
      expect(failed.map((i) => `${i.name}: ${i.detail}`)).toEqual([]);
    } finally {
      lab.admin.close();
    }
    if (process.env.REPLUP_RECORD_HISTORY === '1') {
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      const file = resolve('test/fixtures/histories/agent-schedules.history.pb');
      writeFileSync(file, proto.temporal.api.history.v1.History.encode(history).finish());
    }
  });

  it("set-schedules' gate says which jobs' schedules approving changes (replup status, the step table)", async () => {
    const { worker, workflowId } = await schedulesOnLab(false);
    try {
      const waiting = await waitFor(env.client, workflowId, (p) => p.status === 'awaiting-approval');
      const note = waiting.steps.find((s) => s.id === 'set-schedules')!.note!;
      expect(note).toMatch(/^approve to change the schedules of 2 merge agent jobs \(sp_update_schedule\): /);
      expect(
        note.match(/Config → [^)]+\): every 5 minutes 00:00:00-23:59:59, wanted every 5 minutes 01:00:00-23:55:00/g),
      ).toHaveLength(2);
      await approve(env.client, workflowId, 'set-schedules', 'schedules reviewed', 'test-approver');
      const done = await waitFor(env.client, workflowId, (p) => ENDED.includes(p.status));
      expect(done.status).toBe('completed');
    } finally {
      await worker.stop();
    }
  });

  it('a plan whose Config runs in Data’s window is refused at plan validate, with its location', async () => {
    const text = readFileSync(resolve('examples/agent-schedules.yaml'), 'utf8').replace(
      "from: '01:00:00'",
      "from: '00:30:00'",
    );
    const file = join(mkdtempSync(join(tmpdir(), 'replup-schedules-')), 'overlap.yaml');
    writeFileSync(file, text);
    const r = await loadPlanFile(file);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    const line = text.split('\n').findIndex((l) => l.includes("from: '00:30:00'")) + 1;
    expect(r.errors[0]).toMatchObject({ path: 'schedules.config', line });
    expect(r.errors[0]!.message).toContain('Config and Data of one subscription could run at the same time');
    expect(r.errors[0]!.message).toContain('not run in parallel');
  });
});
