// The operators' case oe-ai-stall (issue 22) on a real Temporal dev server: the server says 6021
// (normal processing) while agent1's detail status is 3054 (target database in an AI stall:
// activity halted). The case's dsrutil.sh prints the codes written beside it, so the test plays
// the target's DBA by writing another code. What an operator checks: the step note names the
// agent and what halted it while the run waits, the step parks for them within the plan's
// askOperatorAfterSeconds, and a retry after the fix completes the run.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOpenEdgeActivities } from '../../activities/openedge-startup/activities.js';
import { meaningOf } from '../../activities/openedge-startup/codes.js';
import { loadPlanFile } from '../../plan/load.js';
import type { OpenEdgeStartupPlan } from '../../plan/openedge-startup/schema.js';
import type { Progress, RunResult } from '../../workflows/messages.js';
import { startOpenEdge } from '../../cli/lib/start-openedge-startup.js';
import { decide } from '../../cli/lib/runs.js';
import { connectWithScratch, startWorker, uniqueQueue, waitFor } from './harness.js';

const CASE = resolve(import.meta.dirname, '../fixtures/cases/oe-ai-stall');
const AI_STALL = `3054 Target Database in AI Stall (${meaningOf(3054)})`;

const dev = connectWithScratch('replup-oe-halted-');
const { scratch } = dev;

let counter = 0;
/**
 * The case folder copied, its plan given dsrutil.sh's absolute path (as the case's README says)
 * and askOperatorAfterSeconds; codes written as the case has them unless given.
 */
async function runCase(askOperatorAfterSeconds: number, codes: { server?: string; agent1?: string } = {}) {
  const n = ++counter;
  const dir = join(scratch, `case-${n}`);
  await cp(CASE, dir, { recursive: true });
  if (codes.server) await writeFile(join(dir, 'server.code'), `${codes.server}\n`);
  if (codes.agent1) await writeFile(join(dir, 'agent.agent1.code'), `${codes.agent1}\n`);
  const yaml = (await readFile(join(dir, 'plan.yaml'), 'utf8')).replace(
    'dsrutil: ./dsrutil.sh',
    `dsrutil: ${join(dir, 'dsrutil.sh')}`,
  );
  await writeFile(join(dir, 'plan.yaml'), `${yaml}askOperatorAfterSeconds: ${askOperatorAfterSeconds}\n`);
  const loaded = await loadPlanFile(join(dir, 'plan.yaml'));
  if (!loaded.ok) throw new Error(`the case plan is invalid: ${JSON.stringify(loaded.errors)}`);
  const plan = loaded.plan as OpenEdgeStartupPlan;
  const taskQueue = uniqueQueue('oe-halted');
  const worker = await startWorker(dev.env, taskQueue, createOpenEdgeActivities());
  const workflowId = `openedge-startup:stallsrc#test-${process.pid}-${n}`;
  const startedAt = Date.now();
  await startOpenEdge(dev.env.client, plan, 'test-operator', { taskQueue, workflowId });
  return {
    plan,
    workflowId,
    startedAt,
    /** The target's DBA ends the halt: the code dsrutil prints from now on. */
    setCode: (who: 'server' | 'agent1', code: string) =>
      writeFile(join(dir, who === 'server' ? 'server.code' : 'agent.agent1.code'), `${code}\n`),
    result: () => dev.env.client.workflow.getHandle(workflowId).result() as Promise<RunResult>,
    /** An operator's decision on this run (decide). */
    decide: (step: string, action: 'retry' | 'skip' | 'abort', reason: string, actor: string) =>
      decide(dev.env.client, workflowId, step, action, reason, actor),
    stop: () => worker.stop(),
  };
}

const step = (p: Progress, id: string) => p.steps.find((s) => s.id === id)!;

describe.concurrent('OpenEdge start-up meets a halted agent or suspended replication (issue 22)', () => {
  it(
    'oe-ai-stall: agent1 at 3054 is named with its meaning while the run waits, the step parks within ' +
      'askOperatorAfterSeconds, a retry after the fix completes',
    async () => {
      const t = await runCase(8);
      try {
        // While it waits: the note names agent1, the code and what it means, and when an operator is asked.
        const waiting = await waitFor(
          dev.env.client,
          t.workflowId,
          (p) => step(p, 'normal-processing').note?.startsWith('normal processing:') ?? false,
        );
        expect(step(waiting, 'normal-processing').note).toMatch(
          new RegExp(
            `^normal processing: agent agent1 is at ${escape(AI_STALL)}; an operator is asked at \\S+Z ` +
              `\\(askOperatorAfterSeconds 8\\) unless it ends$`,
          ),
        );
        // connect-agents no longer says only "agent1 connected".
        expect(step(waiting, 'connect-agents').note).toBe(
          `agent1 connected after 1 try; but agent agent1 is at ${AI_STALL}`,
        );

        // Parked for an operator, within the bound (8 s + one 5 s poll, with room for a busy machine).
        const parked = await waitFor(dev.env.client, t.workflowId, (p) => p.status === 'awaiting-operator', 60_000);
        const parkedAfter = (Date.now() - t.startedAt) / 1000;
        expect(parkedAfter).toBeLessThan(40);
        expect(step(parked, 'normal-processing').status).toBe('awaiting-operator');
        expect(step(parked, 'normal-processing').lastError).toContain(
          `agent agent1 is at ${AI_STALL}; normal processing cannot go on, and it has not ended within 8 s ` +
            `(askOperatorAfterSeconds): end it on that database, then retry normal-processing; or abort the run`,
        );
        expect(parked.steps.map((s) => [s.id, s.status])).toEqual([
          ['check-properties', 'not-applicable'],
          ['start-server', 'done'],
          ['connect-agents', 'done'],
          ['synchronize', 'done'],
          ['normal-processing', 'awaiting-operator'],
        ]);

        // The target's AI file is archived: dsrutil says 3049; the operator retries and the run completes.
        await t.setCode('agent1', '3049');
        await t.decide('normal-processing', 'retry', 'AI extent archived on the target', 'dba-anna');
        const r = await t.result();
        expect(r.status).toBe('completed');
        expect(step(r.progress, 'normal-processing').note).toBe(
          'server 6021 Normal Processing; agent1 3049 Normal Processing',
        );
        expect(step(r.progress, 'normal-processing').attempts).toBe(2);
        expect(r.progress.decisions).toContainEqual(
          expect.objectContaining({
            kind: 'retry',
            step: 'normal-processing',
            actor: 'dba-anna',
            reason: 'AI extent archived on the target',
          }),
        );
      } finally {
        await t.stop();
      }
    },
  );

  it(
    'replication suspended (6023) during startup synchronization: with askOperatorAfterSeconds 0 the step ' +
      'parks at once, naming the server state',
    async () => {
      const t = await runCase(0, { server: '6023', agent1: '3049' });
      try {
        const parked = await waitFor(dev.env.client, t.workflowId, (p) => p.status === 'awaiting-operator', 60_000);
        expect(step(parked, 'synchronize').status).toBe('awaiting-operator');
        expect(step(parked, 'synchronize').lastError).toContain(
          `the replication server is at 6023 Replication is Suspended (${meaningOf(6023)}); startup ` +
            `synchronization cannot go on, and it has not ended within 0 s (askOperatorAfterSeconds)`,
        );
        await t.setCode('server', '6021');
        await t.decide('synchronize', 'retry', 'replication resumed', 'dba-anna');
        const r = await t.result();
        expect(r.status).toBe('completed');
        expect(step(r.progress, 'synchronize').note).toMatch(
          /^startup synchronization done \(6021 Normal Processing\)/,
        );
      } finally {
        await t.stop();
      }
    },
  );
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
