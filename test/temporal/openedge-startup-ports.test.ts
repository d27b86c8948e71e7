// The OpenEdge Replication start-up (workflows/openedge-startup.ts) on the suite's dev server, its
// activities built on the in-memory OpenEdge ports (activities/openedge-startup/fake-ports.ts): no
// dsrutil or proserve process runs. What a DBA checks: the run completes at normal processing; a
// critical agent that never connects fails the run with the reason; an agent halted by an AI stall
// parks the step for an operator, and a retry once it is archived completes.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { createOpenEdgeActivities } from '../../activities/openedge-startup/activities.js';
import { meaningOf } from '../../activities/openedge-startup/codes.js';
import { createFakeOpenEdgePorts, type FakeOpenEdge } from '../../activities/openedge-startup/fake-ports.js';
import { parseReplicationProperties } from '../../activities/openedge-startup/properties.js';
import { createSimState, serverCode, type SimOptions } from '../../activities/openedge-startup/sim.js';
import { decide } from '../../cli/lib/runs.js';
import { startOpenEdge } from '../../cli/lib/start-openedge-startup.js';
import { loadPlanFile } from '../../plan/load.js';
import type { OpenEdgeStartupPlan } from '../../plan/openedge-startup/schema.js';
import { connectWithScratch, startWorker, uniqueQueue, waitFor } from './harness.js';
import { resultOf as runResult, settled, stepOf } from './run-outcome.js';

const examples = resolve(import.meta.dirname, '../../examples/openedge');
const dev = connectWithScratch('replup-oe-ports-');

let counter = 0;
/** The example plan (agent1 critical, agent2 not, of `sports`) on a fake source; the worker serves it. */
async function start(
  opts: { sim?: SimOptions; deferMinutes?: number; held?: Record<string, number>; askAfter?: number } = {},
) {
  const n = ++counter; // tests run concurrently: take the number before any await
  const loaded = await loadPlanFile(join(examples, 'plan.yaml'));
  if (!loaded.ok) throw new Error(`examples/openedge/plan.yaml is invalid: ${JSON.stringify(loaded.errors)}`);
  const plan = structuredClone(loaded.plan) as OpenEdgeStartupPlan;
  const text = await readFile(join(examples, 'sports.repl.properties'), 'utf8');
  const props = parseReplicationProperties(text);
  if (!props.ok) throw new Error(JSON.stringify(props.errors));
  const sim = createSimState(props.value, { retryIntervalSeconds: 2, phaseSeconds: 1, ...opts.sim });
  if (opts.deferMinutes !== undefined) {
    // A deadline test cannot wait the file's 60 minutes: both sides get seconds, and the file is not checked.
    sim.deferAgentStartupMinutes = opts.deferMinutes;
    plan.deferAgentStartupMinutes = opts.deferMinutes;
    delete plan.propertiesFile;
  }
  plan.retryIntervalSeconds = sim.retryIntervalSeconds;
  // A real source's commands: never run, the fake answers for them.
  plan.commands = { dsrutil: 'dsrutil', startServer: 'proserve {db} -DBService replserv' };
  if (opts.askAfter !== undefined) plan.askOperatorAfterSeconds = opts.askAfter;
  const fake = createFakeOpenEdgePorts(sim, plan.propertiesFile ? { [plan.propertiesFile]: text } : {});
  for (const [who, code] of Object.entries(opts.held ?? {})) fake.held.set(who, code);

  const taskQueue = uniqueQueue('oe-ports');
  const worker = await startWorker(dev.env, taskQueue, createOpenEdgeActivities({ ports: fake.ports }));
  const workflowId = `openedge-startup:sports#test-ports-${process.pid}-${n}`;
  await startOpenEdge(dev.env.client, plan, 'test-operator', { taskQueue, workflowId });
  // An operator's decision on this run (decide).
  const decideOn = (step: string, action: 'retry' | 'skip' | 'abort', reason: string, actor: string) =>
    decide(dev.env.client, workflowId, step, action, reason, actor);
  return { plan, fake, workflowId, stop: () => worker.stop(), decide: decideOn };
}

const step = stepOf;
const resultOf = (workflowId: string) => runResult(dev.env.client, workflowId);

const serverNow = (fake: FakeOpenEdge) => serverCode(fake.state, Date.now());

describe.concurrent('openedge-startup on in-memory ports: the workflow without dsrutil', () => {
  it('every agent reachable: properties checked, server started, agents connected, normal processing', async () => {
    const t = await start();
    try {
      const r = await resultOf(t.workflowId);
      expect(r.status).toBe('completed');
      expect(r.progress.steps.filter((s) => s.status !== 'done')).toEqual([]);
      expect(step(r.progress, 'check-properties').note).toBe(
        `${t.plan.propertiesFile}: valid; database sports, agents agent1, agent2, defer-agent-startup 60, ` +
          'as the plan says',
      );
      expect(step(r.progress, 'start-server').note).toMatch(
        /^started with proserve sports -DBService replserv: 600[1-5] /,
      );
      expect(step(r.progress, 'connect-agents').note).toBe('agent1, agent2 connected after 1 try');
      expect(step(r.progress, 'normal-processing').note).toBe(
        'server 6021 Normal Processing; agent1 3049 Normal Processing, agent2 3049 Normal Processing',
      );
      expect(serverNow(t.fake)).toBe(6021);
      expect(t.fake.commands).toContain('dsrutil sports -C status agent2 -detail');
    } finally {
      await t.stop();
    }
  });

  it('the deadline passes with the critical agent down: the run fails with the reason', async () => {
    // defer-agent-startup of 0.1 minutes (6 s), tries every 2 s; agent1 is critical and never reachable.
    const t = await start({ deferMinutes: 0.1, sim: { unreachable: ['agent1'] } });
    try {
      const err = await dev.env.client.workflow
        .getHandle(t.workflowId)
        .result()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause?.message).toBe(
        'critical agent agent1 (10.0.0.21:4901) did not connect within defer-agent-startup (6 s): ' +
          '1032 Initial Connection Failed; the replication server ended (6060 Server is ended)',
      );
      const p = await waitFor(dev.env.client, t.workflowId, settled);
      expect(p.status).toBe('failed');
      expect(step(p, 'connect-agents').status).toBe('aborted');
      expect(serverNow(t.fake)).toBe(6060);
    } finally {
      await t.stop();
    }
  });

  it(
    'agent1 halted in an AI stall (3054): the step parks within askOperatorAfterSeconds; archived, a retry ' +
      'completes',
    async () => {
      const t = await start({ held: { agent1: 3054 }, askAfter: 2 });
      try {
        const parked = await waitFor(dev.env.client, t.workflowId, settled);
        expect(parked.status).toBe('awaiting-operator');
        expect(step(parked, 'normal-processing').lastError).toContain(
          `agent agent1 is at 3054 Target Database in AI Stall (${meaningOf(3054)}); normal processing cannot go on, ` +
            'and it has not ended within 2 s (askOperatorAfterSeconds)',
        );

        t.fake.held.delete('agent1');
        await t.decide('normal-processing', 'retry', 'AI extent archived on the target', 'dba-anna');
        const r = await resultOf(t.workflowId);
        expect(r.status).toBe('completed');
        expect(step(r.progress, 'normal-processing')).toMatchObject({ status: 'done', attempts: 2 });
      } finally {
        await t.stop();
      }
    },
  );
});
