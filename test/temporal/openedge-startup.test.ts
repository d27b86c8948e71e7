// OpenEdge Replication start-up (seed 002) on a real Temporal dev server against the simulated
// dsrutil/proserve: what a DBA checks afterwards is the run's record (tries, decisions, outcome)
// and `dsrutil <db> -C status <agent> -detail`. The retry interval is a plan option, so the
// deferred tries come seconds apart here instead of every 5 minutes.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { createOpenEdgeActivities } from '../../activities/openedge-startup/activities.js';
import { runDsrutil } from '../../activities/openedge-startup/index.js';
import { parseReplicationProperties } from '../../activities/openedge-startup/properties.js';
import {
  createSimState,
  setAgentReachable,
  writeSimState,
  type SimOptions,
} from '../../activities/openedge-startup/sim.js';
import { loadPlanFile } from '../../plan/load.js';
import type { OpenEdgeStartupPlan } from '../../plan/openedge-startup/schema.js';
import type { Progress, RunResult } from '../../workflows/messages.js';
import type { AgentTry } from '../../workflows/openedge-startup.js';
import { connectAgentNow, startOpenEdge } from '../../cli/lib/start-openedge-startup.js';
import { EXPECTED_OPENEDGE_STEPS } from '../support/expected-steps.js';
import { connectWithScratch, expectAllDone, startWorker, uniqueQueue, waitFor } from './harness.js';

const root = resolve(import.meta.dirname, '../..');
// One node process per dsrutil call (node_modules/.bin/tsx would start two).
const node = `${process.execPath} --import ${pathToFileURL(join(root, 'node_modules/tsx/dist/esm/index.mjs')).href}`;
const examples = join(root, 'examples/openedge');

const dev = connectWithScratch('replup-oe-');
const { scratch } = dev;

/** A worker for one test's queue with the OpenEdge activities (the line worker/main.ts adds). */
const startOpenEdgeWorker = (taskQueue: string) => startWorker(dev.env, taskQueue, createOpenEdgeActivities());

let counter = 0;
/**
 * The example plan on a fresh simulation: agent1 (critical) and agent2 of `sports`, the plan's
 * commands pointed at the simulated dsrutil and proserve over this test's state file.
 */
async function setup(opts: { sim?: SimOptions; deferMinutes?: number } = {}) {
  const n = ++counter; // tests run concurrently: take the number before any await
  const loaded = await loadPlanFile(join(examples, 'plan.yaml'));
  if (!loaded.ok) throw new Error(`examples/openedge/plan.yaml is invalid: ${JSON.stringify(loaded.errors)}`);
  const plan = structuredClone(loaded.plan) as OpenEdgeStartupPlan;
  const props = parseReplicationProperties(await readFile(join(examples, 'sports.repl.properties'), 'utf8'));
  if (!props.ok) throw new Error(JSON.stringify(props.errors));
  const state = join(scratch, `sports-${n}.json`);
  const sim = createSimState(props.value, { phaseSeconds: 1, ...opts.sim });
  if (opts.deferMinutes !== undefined) {
    // Plans allow 0 or 5-10080 minutes; a deadline test cannot wait 5 minutes, so both sides get seconds.
    sim.deferAgentStartupMinutes = opts.deferMinutes;
    plan.deferAgentStartupMinutes = opts.deferMinutes;
    delete plan.propertiesFile; // the file says 60 minutes: checking it would (rightly) refuse the plan
  }
  await writeSimState(state, sim);
  plan.retryIntervalSeconds = sim.retryIntervalSeconds;
  plan.commands = {
    dsrutil: `${node} ${join(root, 'activities/openedge-startup/dsrutil.ts')} --state ${state}`,
    startServer:
      `${node} ${join(root, 'activities/openedge-startup/proserve.ts')} --state ${state} {db} -DBService ` + `replserv`,
  };
  const taskQueue = uniqueQueue('openedge');
  let worker = await startOpenEdgeWorker(taskQueue);
  const workflowId = `openedge-startup:sports#test-${process.pid}-${n}`;
  await startOpenEdge(dev.env.client, plan, 'test-operator', { taskQueue, workflowId });
  const handle = dev.env.client.workflow.getHandle(workflowId);
  return {
    plan,
    state,
    workflowId,
    handle,
    /** The run's result; a run that parks instead fails the test at once, saying where and why. */
    async result(): Promise<RunResult> {
      const p = await waitFor(
        dev.env.client,
        workflowId,
        (x) => ['completed', 'aborted', 'failed'].includes(x.status) || x.status.startsWith('awaiting-'),
      );
      if (p.status.startsWith('awaiting-')) {
        const s = p.steps.find((x) => x.status.startsWith('awaiting-'));
        throw new Error(`the run parked at ${s?.id} (${s?.status}): ${s?.lastError ?? ''}`);
      }
      return handle.result() as Promise<RunResult>;
    },
    /** What `dsrutil sports -C status [agent] -detail` prints now. */
    async detail(agent?: string): Promise<string> {
      const out = await runDsrutil(plan.commands.dsrutil, [
        'sports',
        '-C',
        'status',
        ...(agent ? [agent] : []),
        '-detail',
      ]);
      return out.stdout.trim();
    },
    async restartWorker(between: () => Promise<void>) {
      await worker.stop();
      await between();
      worker = await startOpenEdgeWorker(taskQueue);
    },
    stop: () => worker.stop(),
  };
}

const triesOf = (p: Progress) => (p.facts.agentTries ?? []) as AgentTry[];
const kinds = (p: Progress) => triesOf(p).map((t) => t.kind);
const gapsSeconds = (tries: AgentTry[]) =>
  tries.slice(1).map((t, i) => (Date.parse(t.at) - Date.parse(tries[i]!.at)) / 1000);

describe.concurrent('OpenEdge Replication start-up with deferred agent start-up', () => {
  it('every agent reachable: properties checked, connected at start-up, synchronized, normal processing', async () => {
    // Each start-up phase lasts 3 s, so the run sees synchronization happen.
    const t = await setup({ sim: { retryIntervalSeconds: 2, phaseSeconds: 3 } });
    try {
      const r = await t.result();
      expectAllDone(r, EXPECTED_OPENEDGE_STEPS);
      const step = (id: string) => r.progress.steps.find((s) => s.id === id)!;
      expect(step('check-properties').note).toBe(
        `${t.plan.propertiesFile}: valid; database sports, agents agent1, agent2, defer-agent-startup 60, as ` +
          `the plan says`,
      );
      expect(kinds(r.progress)).toEqual(['start-up']);
      expect(step('connect-agents').note).toBe('agent1, agent2 connected after 1 try');
      // Startup synchronization is on the record, with the time schema changes were blocked.
      const sync = r.progress.facts.synchronization as {
        schemaChangesBlocked: { from: string; to: string };
        serverStatus: string[];
      };
      expect(sync.serverStatus.at(-1)).toBe('6021 Normal Processing');
      expect(Date.parse(sync.schemaChangesBlocked.to)).toBeGreaterThan(Date.parse(sync.schemaChangesBlocked.from));
      expect(step('normal-processing').note).toBe(
        'server 6021 Normal Processing; agent1 3049 Normal Processing, agent2 3049 Normal Processing',
      );
      expect([await t.detail(), await t.detail('agent1'), await t.detail('agent2')]).toEqual(['6021', '3049', '3049']);
      expect(r.progress.decisions).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('an agent reachable only after two deferred tries: the third try connects it and the run completes', async () => {
    const t = await setup({ sim: { retryIntervalSeconds: 3, unreachable: ['agent2'] } });
    try {
      const waiting = await waitFor(
        dev.env.client,
        t.workflowId,
        (p) => kinds(p).filter((k) => k === 'deferred').length === 2,
      );
      expect(waiting.status).toBe('running');
      expect(waiting.steps.find((s) => s.id === 'connect-agents')!.note).toMatch(
        /^deferred agent start-up: try 3 \(deferred\) saw agent1 1001 Initial Connection, agent2 1001 Initial Connection; next try /,
      );
      await setAgentReachable(t.state, 'agent2', true);
      const r = await t.result();
      expect(r.status).toBe('completed');
      const tries = triesOf(r.progress);
      expect(tries.map((x) => [x.kind, x.server])).toEqual([
        ['start-up', '6002 Connecting to Agents'],
        ['deferred', '6002 Connecting to Agents'],
        ['deferred', '6002 Connecting to Agents'],
        ['deferred', expect.not.stringMatching(/^600[12]/)],
      ]);
      expect(tries[3]!.command).toBe('dsrutil sports -C connectagent ALL');
      // Durable timers: every deferred try waited the interval.
      for (const gap of gapsSeconds(tries)) expect(gap).toBeGreaterThanOrEqual(3);
      expect(r.progress.steps.find((s) => s.id === 'connect-agents')!.note).toBe(
        'agent1, agent2 connected after 4 tries',
      );
      expect([await t.detail('agent1'), await t.detail('agent2')]).toEqual(['3049', '3049']);
      // Every durable wait says in the Web UI what it waits for (its timer's summary).
      const history = await dev.env.client.workflow.getHandle(t.workflowId).fetchHistory();
      const timers = (history.events ?? []).filter((e) => e.timerStartedEventAttributes);
      expect(timers.length).toBeGreaterThanOrEqual(2);
      const summaries = timers.map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
      expect(summaries.filter((x) => x.startsWith('defer-agent-startup: next try at '))).toHaveLength(tries.length - 1);
      expect(summaries.every((x) => /^(defer-agent-startup|synchronize|normal-processing): /.test(x))).toBe(true);
    } finally {
      await t.stop();
    }
  });

  it('connect-agent tries at once, before the next deferred try, and is recorded with who and why', async () => {
    // A 30 s interval: a connection within seconds can only be the forced try.
    const t = await setup({ sim: { retryIntervalSeconds: 30, unreachable: ['agent2'], phaseSeconds: 3 } });
    try {
      await waitFor(
        dev.env.client,
        t.workflowId,
        (p) => p.steps.find((s) => s.id === 'connect-agents')?.note?.startsWith('deferred agent start-up') ?? false,
      );
      await expect(connectAgentNow(dev.env.client, t.workflowId, 'agent9', 'typo', 'dba-anna')).rejects.toThrow(
        'refused: unknown agent "agent9": the agents of sports are agent1, agent2 (or ALL for every agent)',
      );
      await expect(connectAgentNow(dev.env.client, t.workflowId, 'agent2', 'no actor', ' ')).rejects.toThrow(
        'refused: an actor is required: say who asks (--actor)',
      );

      await setAgentReachable(t.state, 'agent2', true);
      const asked = Date.now();
      const { progress, latest } = await connectAgentNow(
        dev.env.client,
        t.workflowId,
        'agent2',
        'firewall opened for port 4901',
        'dba-anna',
      );
      expect(Date.now() - asked).toBeLessThan(15_000);
      // Every agent connected: the server is past 6002 (configuring, synchronizing or done, depending on the machine's
      // speed).
      expect(latest).toMatchObject({
        kind: 'connect-agent',
        actor: 'dba-anna',
        command: 'dsrutil sports -C connectagent agent2',
      });
      expect(latest!.server).toMatch(
        /^(6003 Configuring Agent\(s\)|6005 Startup Synchronization|6021 Normal Processing)$/,
      );
      expect(latest!.agents.agent2).not.toBe('1001 Initial Connection');
      expect(kinds(progress)).toEqual(['start-up', 'connect-agent']);
      expect(progress.decisions).toMatchObject([
        {
          kind: 'connect-agent',
          step: 'connect-agents',
          actor: 'dba-anna',
          reason: 'connectagent agent2: firewall opened for port 4901',
        },
      ]);

      // Every agent is connected: the run no longer waits for agents, so a second request is refused.
      await expect(connectAgentNow(dev.env.client, t.workflowId, 'ALL', 'again', 'dba-anna')).rejects.toThrow(
        /^refused: the run is not in deferred agent start-up \(connect-agents is (done|running)\): connect-agent only applies while the run waits for agents$/,
      );
      const r = await t.result();
      expect(r.status).toBe('completed');
      expect(kinds(r.progress)).toEqual(['start-up', 'connect-agent']);
      expect(r.progress.decisions).toHaveLength(1);
      expect(await t.detail('agent2')).toBe('3049');
    } finally {
      await t.stop();
    }
  });

  it('the deadline passes with the critical agent down: the run fails with the reason', async () => {
    // defer-agent-startup of 0.4 minutes (24 s: room for deferred tries on a busy machine), tries every 2 s; agent1 is
    // critical.
    const t = await setup({ sim: { retryIntervalSeconds: 2, unreachable: ['agent1'] }, deferMinutes: 0.4 });
    try {
      const p = await waitFor(
        dev.env.client,
        t.workflowId,
        (x) => x.status === 'failed' || x.status.startsWith('awaiting-'),
      );
      const reason =
        'critical agent agent1 (10.0.0.21:4901) did not connect within defer-agent-startup (24 s): 1032 ' +
        'Initial Connection Failed; the replication server ended (6060 Server is ended)';
      expect(p.status).toBe('failed');
      expect(p.outcome).toBe(`failed at connect-agents: ${reason}`);
      expect(p.steps.map((s) => [s.id, s.status])).toEqual([
        ['check-properties', 'not-applicable'],
        ['start-server', 'done'],
        ['connect-agents', 'aborted'],
        ['synchronize', 'aborted'],
        ['normal-processing', 'aborted'],
      ]);
      expect(p.steps.find((s) => s.id === 'connect-agents')!.lastError).toBe(reason);
      // The start-up try, deferred tries, and the server's verdict: read at the deadline, or seen
      // by a deferred try that came after the server's own deadline.
      const tries = triesOf(p);
      expect(tries[0]!.kind).toBe('start-up');
      expect(tries.slice(1, -1).every((x) => x.kind === 'deferred')).toBe(true);
      expect(
        tries.filter((x) => x.kind === 'deferred' && x.server === '6002 Connecting to Agents').length,
      ).toBeGreaterThanOrEqual(1);
      for (const gap of gapsSeconds(tries.filter((x) => x.kind !== 'deadline'))) expect(gap).toBeGreaterThanOrEqual(2);
      expect(tries.at(-1)).toMatchObject({
        kind: expect.stringMatching(/^(deferred|deadline)$/),
        server: '6060 Server is ended',
      });
      // The Temporal execution itself failed, with the same reason.
      const err = await t.handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause?.message).toBe(reason);
      expect((await t.handle.describe()).status.name).toBe('FAILED');
      expect([await t.detail(), await t.detail('agent1')]).toEqual(['6060', '1032']);
      // No connect-agent once the run has ended.
      await expect(connectAgentNow(dev.env.client, t.workflowId, 'agent1', 'too late', 'dba-anna')).rejects.toThrow(
        `run ${t.workflowId} has ended (failed); there is no agent to connect`,
      );
    } finally {
      await t.stop();
    }
  });

  it('a non-critical agent that never connects is reported, and replication goes on without it', async () => {
    // defer-agent-startup of 0.1 minutes (6 s); agent2 is not critical.
    const t = await setup({ sim: { retryIntervalSeconds: 2, unreachable: ['agent2'] }, deferMinutes: 0.1 });
    try {
      const r = await t.result();
      expect(r.status).toBe('completed');
      const step = (id: string) => r.progress.steps.find((s) => s.id === id)!;
      expect(r.progress.facts.agentsNotConnected).toEqual([
        { agent: 'agent2', status: '1032 Initial Connection Failed' },
      ]);
      expect(step('connect-agents').note).toMatch(
        /^agent1 connected after \d+ tries; not connected \(not critical, replication goes on without them\): agent2 1032 Initial Connection Failed$/,
      );
      expect(step('normal-processing').note).toBe(
        'server 6021 Normal Processing; agent1 3049 Normal Processing; never connected (not critical): ' +
          'agent2 1032 Initial Connection Failed',
      );
      expect([await t.detail(), await t.detail('agent1'), await t.detail('agent2')]).toEqual(['6021', '3049', '1032']);
    } finally {
      await t.stop();
    }
  });

  it('a worker restart during the deferred wait: the timer survives and the run completes', async () => {
    const t = await setup({ sim: { retryIntervalSeconds: 3, unreachable: ['agent2'] } });
    try {
      await waitFor(
        dev.env.client,
        t.workflowId,
        (p) => p.steps.find((s) => s.id === 'connect-agents')?.note?.startsWith('deferred agent start-up') ?? false,
      );
      let restartedAt = 0;
      await t.restartWorker(async () => {
        await setAgentReachable(t.state, 'agent2', true);
        // Long enough for the timer to fire while no worker runs.
        await new Promise((r) => setTimeout(r, 4_000));
        restartedAt = Date.now();
      });
      const r = await t.result();
      expect(r.status).toBe('completed');
      const tries = triesOf(r.progress);
      expect(tries.map((x) => x.kind)).toEqual(['start-up', 'deferred']);
      expect(Date.parse(tries[1]!.at)).toBeGreaterThanOrEqual(restartedAt - 1_000);
      const history = await t.handle.fetchHistory();
      expect(history.events?.some((e) => e.timerFiredEventAttributes)).toBe(true);
      expect([await t.detail('agent1'), await t.detail('agent2')]).toEqual(['3049', '3049']);
    } finally {
      await t.stop();
    }
  });
});
