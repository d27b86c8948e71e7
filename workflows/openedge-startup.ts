// OpenEdge Replication start-up with deferred agent start-up (seed 002, shared/DOMAIN.md §3): the
// replication server starts and tries each agent; an agent it cannot reach puts it in deferred
// agent start-up, retried every 5 minutes (plan option retryIntervalSeconds) until every agent is
// connected or defer-agent-startup runs out; `replup connect-agent` forces a try at once. Then the
// handshake (identical databases, target created from the source), startup synchronization
// (schema changes blocked) and normal processing, all read from `dsrutil -C status -detail` codes.
//
// How this run ends when an agent never connects: a non-critical agent is reported (step note and
// facts.agentsNotConnected) and the run goes on without it, as the server does. A critical agent
// that has not connected when defer-agent-startup runs out (or fails its handshake) ends the run
// FAILED with the reason. It does not park for an operator like other failing steps: the server
// itself has given up (6060), so a retry of the step has nothing to wait for; the remedy is to fix
// the agent and start a new run.
//
// A state only a person can end (an agent halted by a backup, quiet point, BI or AI stall; replication
// suspended; a transition; a code dsrutil's tables do not list: ATTENTION_PHASES in codes.ts) is
// named with its meaning in the step note, and the step parks for an operator once the plan's
// askOperatorAfterSeconds has passed: the run never waits on it silently.
import { ApplicationFailure, condition, defineUpdate, setHandler, sleep } from '@temporalio/workflow';
import {
  DEFAULT_ASK_OPERATOR_AFTER_SECONDS,
  openEdgePlanSteps,
  type OpenEdgeStartupPlan,
  type OpenEdgeStepId,
} from '../plan/openedge-startup/steps.js';
import { ATTENTION_PHASES, meaningOf } from '../activities/openedge-startup/codes.js';
import type {
  AgentReading,
  OpenEdgeActivities,
  OpenEdgeContext,
  ReplicationStatus,
} from '../activities/openedge-startup/activities.js';
import type { StatusReading } from '../activities/openedge-startup/index.js';
import { activities, Runbook, type StepContext } from './engine/index.js';
import type { Progress, RunResult } from './messages.js';
import { OpenEdgeFailure } from '../common/failures.js';
import { count } from '../common/count.js';

export interface OpenEdgeStartupInput {
  plan: OpenEdgeStartupPlan;
  /** Who started the run (OS user or --actor). */
  requestedBy: string;
}

export interface ConnectAgentInput {
  /** An agent of the plan, or ALL. */
  agent: string;
  actor: string;
  reason?: string;
}

/** `replup connect-agent`: `dsrutil <db> -C connectagent AGENT|ALL` now, while the run waits for agents. */
export const connectAgentUpdate = defineUpdate<Progress, [ConnectAgentInput]>('connect-agent');

/** One look at the agents, as recorded in facts.agentTries. */
export interface AgentTry {
  n: number;
  /**
   * start-up: the server's own first try; deferred: the run's timer; connect-agent: an operator;
   * deadline: defer-agent-startup ran out.
   */
  kind: 'start-up' | 'deferred' | 'connect-agent' | 'deadline';
  at: string;
  command: string;
  actor?: string;
  /** e.g. "6002 Connecting to Agents" */
  server: string;
  agents: Record<string, string>;
}

const TITLES: Record<OpenEdgeStepId, string> = {
  'check-properties': 'Validate the replication properties file',
  'start-server': 'Start the replication server',
  'connect-agents': 'Connect the agents (deferred agent start-up)',
  synchronize: 'Handshake and startup synchronization',
  'normal-processing': 'Normal processing on every connected agent',
};

/** The workflow id: one start-up per source database at a time. */
export function openEdgeWorkflowId(plan: Pick<OpenEdgeStartupPlan, 'source'>): string {
  return `openedge-startup:${plan.source.database}`;
}

/** Server codes while it has not got every agent yet: 6001 initialization, 6002 connecting to agents. */
const waitingForAgents = (s: ReplicationStatus) => s.server.code === 6001 || s.server.code === 6002;
const serverEnded = (s: ReplicationStatus) => s.server.phase === 'failed';
const now = () => new Date().toISOString();
const acts = activities<OpenEdgeActivities>();

function duration(ms: number): string {
  const minutes = ms / 60_000;
  return Number.isInteger(minutes) ? `${minutes} minutes` : `${Math.round(ms / 1000)} s`;
}

const listAgents = (agents: AgentReading[]) => agents.map((a) => `${a.agent} ${a.text}`).join(', ');

/** The server or an agent in a state that waits on a person (ATTENTION_PHASES). */
export interface Stuck {
  who: string;
  reading: StatusReading;
}

/** The server, and those of `agents` (all when undefined), in a state only a person can end. */
export function stuckParts(status: { server: StatusReading; agents?: AgentReading[] }, agents?: string[]): Stuck[] {
  const out: Stuck[] = [];
  if (ATTENTION_PHASES.includes(status.server.phase))
    out.push({ who: 'the replication server', reading: status.server });
  for (const a of status.agents ?? []) {
    if ((agents === undefined || agents.includes(a.agent)) && ATTENTION_PHASES.includes(a.phase))
      out.push({ who: `agent ${a.agent}`, reading: a });
  }
  return out;
}

/** "agent agent1 is at 3054 Target Database in AI Stall (activity halted: ...)" */
export function describeStuck(stuck: Stuck[]): string {
  return stuck.map((x) => `${x.who} is at ${x.reading.text} (${meaningOf(x.reading.code)})`).join('; ');
}

/**
 * How long a step has seen a stuck state: each reading either clears it or, once the plan's
 * askOperatorAfterSeconds has passed since it was first seen, parks the step for an operator.
 * Uses workflow time only (no timer of its own), so the step's commands are those it had before.
 */
class AskOperatorClock {
  private since: number | undefined;

  constructor(
    private readonly plan: OpenEdgeStartupPlan,
    private readonly step: OpenEdgeStepId,
  ) {}

  /** The note for this reading, or the park (thrown) when the bound has passed. */
  check(s: StepContext, stuck: Stuck[], waiting: string): boolean {
    if (stuck.length === 0) {
      this.since = undefined;
      return false;
    }
    const limit = this.plan.askOperatorAfterSeconds ?? DEFAULT_ASK_OPERATOR_AFTER_SECONDS;
    this.since ??= Date.now();
    const askAt = this.since + limit * 1000;
    const what = describeStuck(stuck);
    if (Date.now() >= askAt) {
      throw ApplicationFailure.nonRetryable(
        `${what}; ${waiting} cannot go on, and it has not ended within ${limit} s (askOperatorAfterSeconds): ` +
          `end it on that database, then retry ${this.step}; or abort the run`,
        OpenEdgeFailure.replicationHalted,
      );
    }
    s.note(
      `${waiting}: ${what}; an operator is asked at ${new Date(askAt).toISOString()} (askOperatorAfterSeconds ` +
        `${limit}) unless it ends`,
    );
    return true;
  }
}

/**
 * Who is down and whether that ends the run. Agents at 1063 (ended) are victims of the server
 * ending, never its cause.
 */
export function judgeAgents(
  plan: OpenEdgeStartupPlan,
  status: ReplicationStatus,
): { failure?: string; notConnected: AgentReading[] } {
  const agentOf = (name: string) => plan.agents.find((a) => a.name === name);
  const waiting = waitingForAgents(status);
  const down = status.agents.filter(
    (a) => (a.phase === 'failed' && a.code !== 1063) || (waiting && a.phase === 'connecting'),
  );
  const causes = down.filter((a) => agentOf(a.agent)?.critical);
  const server = serverEnded(status)
    ? `the replication server ended (${status.server.text})`
    : `the replication server reports ${status.server.text}`;
  // 1032 (or still connecting once we judge) is the server giving up on the agent: at its first
  // try without deferral, else when its defer-agent-startup ran out.
  const when = (a: AgentReading) =>
    a.code !== 1032 && a.phase !== 'connecting'
      ? ''
      : plan.deferAgentStartupMinutes > 0
        ? ` within defer-agent-startup (${duration(plan.deferAgentStartupMinutes * 60_000)})`
        : ' at start-up (defer-agent-startup is 0: no deferred start-up)';
  if (causes.length) {
    const what = causes.map((a) => {
      const def = agentOf(a.agent)!;
      const handshake =
        a.code === 1034
          ? ' (the handshake found the target not identical to the source or not created from it: re-create ' +
            'the target from a source backup)'
          : '';
      return `critical agent ${a.agent} (${def.host}:${def.port}) did not connect${when(a)}: ${a.text}${handshake}`;
    });
    return { failure: `${what.join('; ')}; ${server}`, notConnected: down };
  }
  if (serverEnded(status)) return { failure: `${server}; agents: ${listAgents(status.agents)}`, notConnected: down };
  if (waiting)
    return {
      failure: `defer-agent-startup ran out but ${server}; agents: ${listAgents(status.agents)}`,
      notConnected: down,
    };
  return { notConnected: down };
}

/** The connect-agents step: the start-up try, the deferred tries on durable timers, and `connect-agent`. */
class AgentStartup {
  /** True while the run waits in deferred agent start-up: the only time `connect-agent` is accepted. */
  private deferred = false;
  private requests: (ConnectAgentInput & { ticket: number })[] = [];
  private requested = 0;
  private handled = 0;
  readonly tries: AgentTry[] = [];

  constructor(
    private readonly run: Runbook,
    private readonly plan: OpenEdgeStartupPlan,
    private readonly ctx: OpenEdgeContext,
  ) {
    run.fact('agentTries', this.tries);
    setHandler(
      connectAgentUpdate,
      async (input: ConnectAgentInput) => {
        const ticket = ++this.requested;
        const agent = input.agent.toUpperCase() === 'ALL' ? 'ALL' : input.agent;
        this.requests.push({ ...input, agent, ticket });
        run.recordDecision({
          kind: 'connect-agent',
          step: 'connect-agents',
          actor: input.actor,
          reason: `connectagent ${agent}${input.reason ? `: ${input.reason}` : ''}`,
        });
        // Answer with the state after the try, so the operator sees what it did.
        await condition(() => this.handled >= ticket);
        return run.progress;
      },
      {
        validator: (input: ConnectAgentInput) => {
          if (typeof input?.actor !== 'string' || input.actor.trim() === '')
            throw new Error('an actor is required: say who asks (--actor)');
          const names = plan.agents.map((a) => a.name);
          if (
            typeof input.agent !== 'string' ||
            (input.agent.toUpperCase() !== 'ALL' && !names.includes(input.agent))
          ) {
            throw new Error(
              `unknown agent "${String(input.agent)}": the agents of ${plan.source.database} are ${names.join(', ')} ` +
                `(or ALL for every agent)`,
            );
          }
          if (!this.deferred) {
            throw new Error(
              `the run is not in deferred agent start-up (connect-agents is ${run.statusOf('connect-agents')}): ` +
                `connect-agent only applies while the run waits for agents`,
            );
          }
        },
      },
    );
  }

  private record(kind: AgentTry['kind'], command: string, status: ReplicationStatus, actor?: string): void {
    this.tries.push({
      n: this.tries.length + 1,
      kind,
      at: now(),
      command,
      ...(actor !== undefined && { actor }),
      server: status.server.text,
      agents: Object.fromEntries(status.agents.map((a) => [a.agent, a.text])),
    });
  }

  private async connectagent(
    kind: 'deferred' | 'connect-agent',
    agent: string,
    actor?: string,
  ): Promise<ReplicationStatus> {
    const command = `dsrutil ${this.ctx.database} -C connectagent ${agent}`;
    const label = kind === 'deferred' ? `deferred try ${this.tries.length + 1}` : `connect-agent by ${actor}`;
    const r = await acts.openedgeConnectAgent(`connect-agents: ${label}: ${command}`, this.ctx, agent);
    this.record(kind, command, r.status, actor);
    return r.status;
  }

  private async readStatus(kind: 'start-up' | 'deadline'): Promise<ReplicationStatus> {
    const command = `dsrutil ${this.ctx.database} -C status -detail`;
    const status = await acts.openedgeStatus(`connect-agents: ${kind}: ${command}`, this.ctx);
    this.record(kind, command, status);
    return status;
  }

  /**
   * Waits for every agent. Each deferred try is a durable timer, then `connectagent ALL` (connected
   * agents are left alone), so every try is an action on the record and survives a worker restart;
   * an operator's `connect-agent` is tried at once and restarts the interval, as on the server.
   */
  async connect(
    s: StepContext,
    serverSeenAt: number,
    startup: ReplicationStatus | undefined,
  ): Promise<{ status: ReplicationStatus; notConnected: AgentReading[] }> {
    const { plan } = this;
    let status: ReplicationStatus;
    if (startup) {
      status = startup;
      this.record('start-up', `dsrutil ${this.ctx.database} -C status -detail`, status);
    } else status = await this.readStatus('start-up');

    const deferral = plan.deferAgentStartupMinutes > 0;
    const deadline = serverSeenAt + plan.deferAgentStartupMinutes * 60_000;
    const interval = plan.retryIntervalSeconds * 1000;
    if (waitingForAgents(status) && deferral) {
      this.deferred = true;
      this.run.fact('deferredAgentStartup', {
        since: now(),
        deadline: new Date(deadline).toISOString(),
        retryIntervalSeconds: plan.retryIntervalSeconds,
      });
      try {
        let nextTry = Date.now() + interval;
        while (waitingForAgents(status)) {
          const wakeAt = Math.min(nextTry, deadline);
          const last = this.tries[this.tries.length - 1]!;
          s.note(
            `deferred agent start-up: try ${last.n} (${last.kind}) saw ${listAgents(status.agents)}; next ` +
              `try ${new Date(wakeAt).toISOString()}, ` +
              `every ${plan.retryIntervalSeconds} s until ${new Date(deadline).toISOString()}; try now: replup ` +
              `connect-agent --agent NAME|ALL`,
          );
          if (wakeAt > Date.now())
            await condition(() => this.requests.length > 0, wakeAt - Date.now(), {
              summary: `defer-agent-startup: next try at ${new Date(wakeAt).toISOString()}, or at replup connect-agent`,
            });
          const request = this.requests.shift();
          if (request) {
            status = await this.connectagent('connect-agent', request.agent, request.actor);
            this.handled = request.ticket;
            nextTry = Date.now() + interval;
          } else if (Date.now() >= deadline) {
            break;
          } else {
            status = await this.connectagent('deferred', 'ALL');
            nextTry = Date.now() + interval;
          }
        }
      } finally {
        // Also when a try fails and the step parks: requests that came in as the wait ended are
        // answered by the state the run reached, and no new ones are taken.
        this.deferred = false;
        this.requests = [];
        this.handled = this.requested;
      }
      // The server has judged at its own deadline (counted from its start, before ours): read its verdict.
      if (waitingForAgents(status)) status = await this.readStatus('deadline');
    }

    const verdict = judgeAgents(plan, status);
    if (verdict.failure) this.run.fail('connect-agents', verdict.failure, OpenEdgeFailure.criticalAgentNotConnected);
    const connected = status.agents.filter((a) => !verdict.notConnected.includes(a)).map((a) => a.agent);
    const stuck = stuckParts(status, connected);
    s.note(
      `${connected.join(', ')} connected after ${count(this.tries.length, 'try')}` +
        (verdict.notConnected.length
          ? `; not connected (not critical, replication goes on without them): ${listAgents(verdict.notConnected)}`
          : '') +
        (stuck.length ? `; but ${describeStuck(stuck)}` : ''),
    );
    return { status, notConnected: verdict.notConnected };
  }
}

export async function openEdgeStartup(input: OpenEdgeStartupInput): Promise<RunResult> {
  const { plan } = input;
  const db = plan.source.database;
  const run = new Runbook({
    runbook: plan.runbook,
    fleet: db,
    planName: plan.name,
    approvals: [],
    ...(plan.notify && { notify: plan.notify }),
    // Only the properties check may be skipped (recorded); the others are the start-up itself.
    steps: openEdgePlanSteps(plan).map((s) => ({
      ...s,
      title: TITLES[s.id as OpenEdgeStepId],
      skippable: s.id === 'check-properties',
    })),
  });
  run.fact('requestedBy', input.requestedBy);
  const ctx: OpenEdgeContext = {
    dsrutil: plan.commands.dsrutil,
    startServer: plan.commands.startServer,
    database: db,
    agents: plan.agents.map((a) => a.name),
  };
  const agents = new AgentStartup(run, plan, ctx);
  const statusCommand = `dsrutil ${db} -C status -detail`;
  const readStatus = (step: OpenEdgeStepId) => acts.openedgeStatus(`${step}: ${statusCommand}`, ctx);
  // Synchronization can take long: look at most every 10 s (the deferred tries keep their own interval).
  const pollMs = Math.min(plan.retryIntervalSeconds, 10) * 1000;

  let serverSeenAt = Date.now();
  let startup: ReplicationStatus | undefined;
  let last: ReplicationStatus | undefined;
  let notConnected: AgentReading[] = [];

  return run.run(async () => {
    await run.step('check-properties', async (s) => {
      const file = plan.propertiesFile!;
      const found = await acts.openedgeCheckProperties(`check-properties: ${file}`, file, {
        database: db,
        agents: plan.agents,
        deferAgentStartupMinutes: plan.deferAgentStartupMinutes,
      });
      s.note(
        `${file}: valid; database ${found.database}, agents ${found.agents.join(', ')}, defer-agent-startup ` +
          `${found.deferAgentStartupMinutes}, as the plan says`,
      );
    });

    await run.step('start-server', async (s) => {
      const command = plan.commands.startServer.replaceAll('{db}', db);
      const r = await acts.openedgeStartServer(`start-server: ${command}`, ctx);
      // The deadline counts from here: never before the server's own start, so the server has judged by then.
      serverSeenAt = Date.now();
      startup = r.status;
      s.note(
        r.started
          ? `started with ${command}: ${r.status.server.text}`
          : `already running (${r.status.server.text}): not started again`,
      );
    });

    await run.step('connect-agents', async (s) => {
      const result = await agents.connect(s, serverSeenAt, startup);
      startup = undefined; // an operator's retry of this step looks again
      last = result.status;
      notConnected = result.notConnected;
      run.fact(
        'agentsNotConnected',
        notConnected.map((a) => ({ agent: a.agent, status: a.text })),
      );
    });

    await run.step('synchronize', async (s) => {
      const status = last ?? (await readStatus('synchronize'));
      last = undefined; // a retry of this step (after it parked) reads the status again
      const passed = status.agents.filter((a) => !notConnected.some((x) => x.agent === a.agent)).map((a) => a.agent);
      const blockedFrom = agents.tries[agents.tries.length - 1]?.at ?? now();
      run.fact('handshake', { passed, checks: ['identical databases', 'target created from the source'] });
      s.note(
        `handshake passed for ${passed.join(', ')}; startup synchronization: schema changes on ${db} ` +
          `are blocked until it ends`,
      );
      // The server's code alone says when synchronization ends; the agents are read after.
      let server = status.server;
      const seen = [server.text];
      const clock = new AskOperatorClock(plan, 'synchronize');
      while (server.phase !== 'normal') {
        if (server.phase === 'failed') {
          run.fail(
            'synchronize',
            `the replication server ended during startup synchronization (${server.text})`,
            OpenEdgeFailure.replicationEnded,
          );
        }
        clock.check(s, stuckParts({ server }), 'startup synchronization');
        await sleep(pollMs, { summary: `synchronize: read the server status again in ${pollMs / 1000} s` });
        server = await acts.openedgeServerStatus(`synchronize: ${statusCommand}`, ctx);
        if (!seen.includes(server.text)) seen.push(server.text);
      }
      const blockedTo = now();
      run.fact('synchronization', { schemaChangesBlocked: { from: blockedFrom, to: blockedTo }, serverStatus: seen });
      s.note(
        `startup synchronization done (${seen.join(' → ')}); schema changes on ${db} were blocked from ` +
          `${blockedFrom} to ${blockedTo}`,
      );
      last = undefined;
    });

    await run.step('normal-processing', async (s) => {
      const expected = plan.agents.map((a) => a.name).filter((n) => !notConnected.some((x) => x.agent === n));
      let status = last ?? (await readStatus('normal-processing'));
      const normal = (st: ReplicationStatus) =>
        st.server.phase === 'normal' && st.agents.every((a) => !expected.includes(a.agent) || a.phase === 'normal');
      const clock = new AskOperatorClock(plan, 'normal-processing');
      while (!normal(status)) {
        if (serverEnded(status)) {
          run.fail(
            'normal-processing',
            `the replication server ended (${status.server.text}); agents: ${listAgents(status.agents)}`,
            OpenEdgeFailure.replicationEnded,
          );
        }
        if (!clock.check(s, stuckParts(status, expected), 'normal processing')) {
          const waiting = status.agents.filter((a) => expected.includes(a.agent) && a.phase !== 'normal');
          const agents = waiting.map((a) => `${a.agent} ${a.text} (${meaningOf(a.code)})`).join(', ');
          s.note(`waiting for normal processing: server ${status.server.text}${waiting.length ? `; ${agents}` : ''}`);
        }
        await sleep(pollMs, { summary: `normal-processing: read the status again in ${pollMs / 1000} s` });
        status = await readStatus('normal-processing');
      }
      const working = status.agents.filter((a) => expected.includes(a.agent));
      run.fact('normalProcessing', {
        server: status.server.text,
        agents: Object.fromEntries(working.map((a) => [a.agent, a.text])),
      });
      const never = notConnected.length ? `; never connected (not critical): ${listAgents(notConnected)}` : '';
      s.note(`server ${status.server.text}; ${listAgents(working)}${never}`);
    });
  });
}
