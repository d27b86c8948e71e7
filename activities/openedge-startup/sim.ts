// A simulated OpenEdge Replication server and its agents (DOMAIN.md §3, seed 002), persisted in a
// JSON state file that the simulated dsrutil (./dsrutil.ts) reads and writes. No OpenEdge exists on
// Linux here. The model follows the seed:
// - the server starts and tries every agent once; an agent that cannot be reached puts the server
//   in deferred agent start-up: it tries again every retry interval (5 minutes) until all agents
//   connect or defer-agent-startup runs out (0: no deferral at all);
// - `dsrutil -C connectagent NAME|ALL` forces a try now;
// - once all agents are connected: handshake (identical databases, target made from the source),
//   startup synchronization (schema changes blocked), then normal processing.
// Time is wall-clock and evaluated lazily on every read, so the state survives any process.
// (inferred) What is not in the documents: the server shows 6002 while deferred; an agent not
// reached yet shows 1001; at the deadline a non-critical agent becomes 1032 and replication goes
// on without it, a critical one ends the server (6060, other agents 1063); a handshake failure
// is 1034.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ControlAgent, ReplicationProperties } from './properties.js';

export { STATUS_TEXT } from './codes.js';

export interface SimAgent {
  name: string;
  host: string;
  port: number;
  critical: boolean;
  replicationMethod: 'sync' | 'async';
  /** Can the server reach the agent's broker now? Tests flip this. */
  reachable: boolean;
  /** Handshake facts about the target database. */
  target: { identical: boolean; createdFromSource: boolean };
  attempts: number;
  connectedAt?: number;
  /** A terminal 1xxx code once the agent has failed. */
  failedCode?: number;
}

export interface SimState {
  version: 1;
  database: string;
  replicationEnabled: boolean;
  deferAgentStartupMinutes: number;
  /** The server's own retry interval while deferred: 300 s in OpenEdge; tests use seconds. */
  retryIntervalSeconds: number;
  /** How long each start-up phase (configuring, startup synchronization) lasts. */
  phaseSeconds: number;
  server: {
    startedAt?: number;
    lastAttemptAt?: number;
    deferredSince?: number;
    allConnectedAt?: number;
    endedAt?: number;
    endReason?: string;
  };
  agents: SimAgent[];
  /** What happened, for tests and for the workflow's audit. */
  events: Array<{ at: string; message: string }>;
}

export interface SimOptions {
  retryIntervalSeconds?: number;
  phaseSeconds?: number;
  replicationEnabled?: boolean;
  /** Agents unreachable at first. */
  unreachable?: string[];
}

/** A state for a source database configured by a properties file. */
export function createSimState(props: ReplicationProperties, opts: SimOptions = {}): SimState {
  if (!props.server) throw new Error('the simulation needs the source properties ([server] section)');
  return {
    version: 1,
    database: props.server.database,
    replicationEnabled: opts.replicationEnabled ?? true,
    deferAgentStartupMinutes: props.server.deferAgentStartup,
    retryIntervalSeconds: opts.retryIntervalSeconds ?? 300,
    phaseSeconds: opts.phaseSeconds ?? 1,
    server: {},
    agents: props.controlAgents.map((a: ControlAgent) => ({
      name: a.name,
      host: a.host,
      port: a.port,
      critical: a.critical,
      replicationMethod: a.replicationMethod,
      reachable: !(opts.unreachable ?? []).includes(a.name),
      target: { identical: true, createdFromSource: true },
      attempts: 0,
    })),
    events: [],
  };
}

function log(state: SimState, at: number, message: string): void {
  state.events.push({ at: new Date(at).toISOString(), message });
}

const pending = (state: SimState) =>
  state.agents.filter((a) => a.connectedAt === undefined && a.failedCode === undefined);
const deadlineOf = (state: SimState) => (state.server.startedAt ?? 0) + state.deferAgentStartupMinutes * 60_000;

function endServer(state: SimState, at: number, reason: string): void {
  state.server.endedAt = at;
  state.server.endReason = reason;
  for (const a of state.agents) if (a.failedCode === undefined) a.failedCode = 1063;
  log(state, at, `replication server ended: ${reason}`);
}

/** One connection attempt to every agent not connected yet (or only to `only`). */
function attempt(state: SimState, at: number, why: string, only?: string[]): void {
  state.server.lastAttemptAt = at;
  for (const agent of pending(state).filter((a) => !only || only.includes(a.name))) {
    agent.attempts++;
    if (!agent.reachable) {
      log(
        state,
        at,
        `${why}: agent ${agent.name} at ${agent.host}:${agent.port} could not be reached (attempt ${agent.attempts})`,
      );
      continue;
    }
    if (!agent.target.identical || !agent.target.createdFromSource) {
      agent.failedCode = 1034;
      const what = !agent.target.createdFromSource
        ? 'the target database was not created from the source'
        : 'the source and target databases are not identical';
      log(state, at, `${why}: handshake with agent ${agent.name} failed: ${what}`);
      if (agent.critical) endServer(state, at, `critical agent ${agent.name} failed the handshake: ${what}`);
      continue;
    }
    agent.connectedAt = at;
    log(
      state,
      at,
      `${why}: agent ${agent.name} connected; handshake passed (identical databases, target made from source)`,
    );
  }
  settle(state, at);
}

/** After an attempt or at the deadline: start synchronization, defer, or give up. */
function settle(state: SimState, at: number): void {
  if (state.server.endedAt !== undefined || state.server.allConnectedAt !== undefined) return;
  const waiting = pending(state);
  if (waiting.length === 0) {
    if (state.agents.some((a) => a.connectedAt !== undefined)) {
      state.server.allConnectedAt = at;
      state.server.deferredSince = undefined;
      log(state, at, 'all agents connected: startup synchronization begins (schema changes are blocked until it ends)');
    } else endServer(state, at, 'no agent could connect');
    return;
  }
  if (state.deferAgentStartupMinutes > 0 && at < deadlineOf(state)) {
    if (state.server.deferredSince === undefined) {
      state.server.deferredSince = at;
      log(
        state,
        at,
        `deferred agent start-up: retrying every ${state.retryIntervalSeconds} s for up to ` +
          `${state.deferAgentStartupMinutes} minutes`,
      );
    }
    return;
  }
  const why =
    state.deferAgentStartupMinutes > 0
      ? `defer-agent-startup (${state.deferAgentStartupMinutes} minutes) ran out`
      : 'defer-agent-startup is 0';
  const critical = waiting.find((a) => a.critical);
  for (const a of waiting) a.failedCode = 1032;
  if (critical) endServer(state, at, `critical agent ${critical.name} could not be reached and ${why}`);
  else {
    log(state, at, `${why}: going on without ${waiting.map((a) => a.name).join(', ')}`);
    settle(state, at);
  }
}

/** Bring the state up to `now`: the server's own retries and the deadline. */
export function evaluate(state: SimState, now: number): void {
  const { server } = state;
  if (server.startedAt === undefined || server.endedAt !== undefined || server.allConnectedAt !== undefined) return;
  const interval = state.retryIntervalSeconds * 1000;
  for (;;) {
    if (server.deferredSince === undefined) return;
    const next = (server.lastAttemptAt ?? server.startedAt) + interval;
    const deadline = deadlineOf(state);
    if (next <= now && next < deadline) attempt(state, next, 'deferred retry');
    else if (deadline <= now) {
      settle(state, deadline);
      return;
    } else return;
  }
}

export function startServer(state: SimState, now: number): void {
  if (state.server.startedAt !== undefined && state.server.endedAt === undefined) return;
  state.server = { startedAt: now };
  for (const a of state.agents) {
    a.connectedAt = undefined;
    a.failedCode = undefined;
    a.attempts = 0;
  }
  log(state, now, `replication server started for ${state.database}`);
  attempt(state, now, 'start-up');
}

/** dsrutil -C connectagent NAME|ALL: a try now (no effect on agents already connected). */
export function connectAgent(state: SimState, which: string, now: number): void {
  evaluate(state, now);
  if (state.server.startedAt === undefined || state.server.endedAt !== undefined) return;
  attempt(state, now, `connectagent ${which}`, which.toUpperCase() === 'ALL' ? undefined : [which]);
}

export function terminateServer(state: SimState, now: number): void {
  evaluate(state, now);
  if (state.server.startedAt !== undefined && state.server.endedAt === undefined)
    endServer(state, now, 'dsrutil -C terminate server');
}

export function serverCode(state: SimState, now: number): number {
  const { server } = state;
  if (server.startedAt === undefined || server.endedAt !== undefined) return 6060;
  if (server.allConnectedAt === undefined) return now - server.startedAt < 0 ? 6001 : 6002;
  const phase = (now - server.allConnectedAt) / (state.phaseSeconds * 1000);
  return phase < 1 ? 6003 : phase < 2 ? 6005 : 6021;
}

export function agentCode(state: SimState, name: string, now: number): number | undefined {
  const agent = state.agents.find((a) => a.name === name);
  if (!agent) return undefined;
  if (agent.failedCode !== undefined) return agent.failedCode;
  if (state.server.startedAt === undefined) return 1063;
  if (agent.connectedAt === undefined || state.server.allConnectedAt === undefined) return 1001;
  const phase = (now - state.server.allConnectedAt) / (state.phaseSeconds * 1000);
  return phase < 1 ? 1002 : phase < 2 ? 3048 : 3049;
}

/**
 * Why dsrutil cannot work on `db` in this state, as it says so (exit 2: the database cannot be
 * opened; 3: replication is not enabled on it), or undefined when it can.
 */
export function simOpenProblem(state: SimState | undefined, db: string): { exit: 2 | 3; message: string } | undefined {
  const dbName = db.replace(/\.db$/, '');
  if (!state || state.database.replace(/\.db$/, '') !== dbName) {
    return { exit: 2, message: `** Cannot find or open file ${dbName}.db, errno = 2. (43)` };
  }
  if (!state.replicationEnabled)
    return { exit: 3, message: `Replication is not enabled for database ${dbName}. (10696)` };
  return undefined;
}

/** Schema changes are refused during startup synchronization (seed 002). */
export function schemaChangesBlocked(state: SimState, now: number): boolean {
  return [6003, 6005].includes(serverCode(state, now));
}

// ---- The state file. Tests use these to make an agent reachable later, or to break a target.

export async function readSimState(file: string): Promise<SimState> {
  return JSON.parse(await readFile(file, 'utf8')) as SimState;
}

export async function writeSimState(file: string, state: SimState): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2));
  await rename(tmp, file);
}

/** Read, bring up to now, change, write. */
export async function updateSimState<T>(
  file: string,
  change: (state: SimState, now: number) => T,
  now = Date.now(),
): Promise<T> {
  const state = await readSimState(file);
  evaluate(state, now);
  const result = change(state, now);
  await writeSimState(file, state);
  return result;
}

/** Make an agent's broker reachable (or not) from now on; the server notices at its next try. */
export async function setAgentReachable(file: string, agent: string, reachable: boolean): Promise<void> {
  const state = await readSimState(file);
  const a = state.agents.find((x) => x.name === agent);
  if (!a) throw new Error(`no agent ${agent} in ${file}`);
  a.reachable = reachable;
  await writeSimState(file, state);
}
