// The OpenEdge Replication start-up's activities (runbook `openedge-replication-startup`, seed 002,
// DOMAIN.md §3): thin wrappers over its ports (./ports.ts; dsrutil in ./dsrutil-ports.ts). Each
// only reads the server's state or asks dsrutil for what is safe to repeat (status; connectagent
// leaves connected agents alone; the start command is skipped when the server already runs),
// because Temporal runs an activity at least once.
// dsrutil's own errors leave here classified: a missing database, replication not enabled, a
// command that cannot run or a usage error park the step for an operator; anything else retries.
import { heartbeating } from '../heartbeat.js';
import { basename } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { OpenEdgeAgent } from '../../plan/openedge-startup/schema.js';
import { dsrutilPorts } from './dsrutil-ports.js';
import { DsrutilError } from './errors.js';
import {
  formatPropertiesErrors,
  parseReplicationProperties,
  type ReplicationProperties,
  type StatusReading,
} from './index.js';
import type { AgentReading, OpenEdgeContext, OpenEdgePorts } from './ports.js';
import { OpenEdgeFailure } from '../../common/failures.js';

export type { AgentReading, OpenEdgeContext } from './ports.js';

/** `dsrutil <db> -C status -detail` for the server and for each agent. */
export interface ReplicationStatus {
  server: StatusReading;
  agents: AgentReading[];
}

export interface PropertiesExpectation {
  database: string;
  agents: OpenEdgeAgent[];
  deferAgentStartupMinutes: number;
}

/** Failure types the workflow and the report recognise (named once, in common/failures.ts). */
export { OpenEdgeFailure };

function classify(err: unknown): unknown {
  if (!(err instanceof DsrutilError)) return err;
  if (err.kind === 'open-error') {
    return ApplicationFailure.nonRetryable(
      `${err.message}; check source.database in the plan and that the database is on this worker's machine`,
      OpenEdgeFailure.openError,
    );
  }
  if (err.kind === 'not-enabled') {
    return ApplicationFailure.nonRetryable(
      `${err.message}; enable it on the source first (proutil <db> -C enableSiteReplication source)`,
      OpenEdgeFailure.notEnabled,
    );
  }
  // -1: the command cannot run; 0: no status code printed; 1: dsrutil refused its arguments. Retrying changes nothing.
  if (err.exitCode <= 1) return ApplicationFailure.nonRetryable(err.message, OpenEdgeFailure.command);
  return ApplicationFailure.retryable(err.message, OpenEdgeFailure.command);
}

/** Heartbeats while dsrutil or the start command runs, so a dead worker is noticed within the heartbeat timeout. */
function dsrutilActivity<T>(work: () => Promise<T>): Promise<T> {
  return heartbeating(work, classify);
}

const sameDatabase = (a: string, b: string) => basename(a).replace(/\.db$/, '') === basename(b).replace(/\.db$/, '');

/** Where the source's properties file and the plan disagree; the server reads the file, the run the plan. */
function planMismatches(file: string, props: ReplicationProperties, expect: PropertiesExpectation): string[] {
  const server = props.server!;
  const out: string[] = [];
  const at = (line: number, text: string) => out.push(`${file}:${line}: ${text}`);
  if (!sameDatabase(server.database, expect.database))
    at(server.line, `database=${server.database} but the plan's source.database is ${expect.database}`);
  if (server.deferAgentStartup !== expect.deferAgentStartupMinutes) {
    at(
      server.line,
      `defer-agent-startup=${server.deferAgentStartup} but the plan says deferAgentStartupMinutes: ` +
        `${expect.deferAgentStartupMinutes}; the server uses the file's value: make them agree`,
    );
  }
  for (const want of expect.agents) {
    const have = props.controlAgents.find((a) => a.name === want.name);
    if (!have) {
      at(
        server.line,
        `the plan's agent ${want.name} has no [control-agent.${want.name}] section: add it or remove the ` +
          `agent from the plan`,
      );
      continue;
    }
    const pairs: [string, string, string, string][] = [
      ['host', have.host, 'host', want.host],
      ['port', String(have.port), 'port', String(want.port)],
      ['replication-method', have.replicationMethod, 'replicationMethod', want.replicationMethod],
      ['critical', have.critical ? '1' : '0', 'critical', String(want.critical)],
    ];
    for (const [key, value, planKey, planValue] of pairs) {
      const same = key === 'critical' ? (value === '1') === (planValue === 'true') : value === planValue;
      if (!same)
        at(have.line, `[control-agent.${have.name}] ${key}=${value} but the plan says ${planKey}: ${planValue}`);
    }
  }
  for (const extra of props.controlAgents.filter((a) => !expect.agents.some((w) => w.name === a.name))) {
    at(
      extra.line,
      `[control-agent.${extra.name}] is not among the plan's agents: add it to the plan or remove the section`,
    );
  }
  return out;
}

/**
 * The runbook's activities over its ports (./ports.ts): by default the plan's dsrutil and start
 * commands, run with `env`; tests give the in-memory fake of ./fake-ports.ts.
 */
export function createOpenEdgeActivities(opts: { env?: NodeJS.ProcessEnv; ports?: OpenEdgePorts } = {}) {
  const ports = opts.ports ?? dsrutilPorts(opts.env);
  // One dsrutil at a time: each status call brings the server's state up to date.
  const readStatus = async (ctx: OpenEdgeContext, server?: StatusReading): Promise<ReplicationStatus> => {
    const source = ports.source(ctx);
    const seen = server ?? (await source.serverStatus());
    const agents: AgentReading[] = [];
    for (const agent of ctx.agents) agents.push(await source.agentStatus(agent));
    return { server: seen, agents };
  };

  return {
    /** check-properties: the source's replication properties file is valid and says what the plan says. */
    async openedgeCheckProperties(
      file: string,
      expect: PropertiesExpectation,
    ): Promise<{ database: string; agents: string[]; deferAgentStartupMinutes: number }> {
      let text: string;
      try {
        text = await ports.readPropertiesFile(file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        throw ApplicationFailure.nonRetryable(
          `cannot read the replication properties file ${file} (${code}); check propertiesFile in the plan`,
          OpenEdgeFailure.properties,
        );
      }
      const parsed = parseReplicationProperties(text);
      if (!parsed.ok)
        throw ApplicationFailure.nonRetryable(
          formatPropertiesErrors(file, parsed.errors).join('; '),
          OpenEdgeFailure.properties,
        );
      if (!parsed.value.server) {
        throw ApplicationFailure.nonRetryable(
          `${file} has no [server] section: it is a target's file; point propertiesFile at the source database's file`,
          OpenEdgeFailure.properties,
        );
      }
      const mismatches = planMismatches(file, parsed.value, expect);
      if (mismatches.length) throw ApplicationFailure.nonRetryable(mismatches.join('; '), OpenEdgeFailure.properties);
      return {
        database: parsed.value.server.database,
        agents: parsed.value.server.controlAgents,
        deferAgentStartupMinutes: parsed.value.server.deferAgentStartup,
      };
    },

    /** start-server: the plan's start command, unless the server already runs (anything but 6060); then the status. */
    async openedgeStartServer(ctx: OpenEdgeContext): Promise<{ started: boolean; status: ReplicationStatus }> {
      return dsrutilActivity(async () => {
        const { started, status } = await ports.source(ctx).startServer();
        return { started, status: await readStatus(ctx, status) };
      });
    },

    /** `dsrutil <db> -C status -detail`, for the server and every agent. */
    async openedgeStatus(ctx: OpenEdgeContext): Promise<ReplicationStatus> {
      return dsrutilActivity(() => readStatus(ctx));
    },

    /** `dsrutil <db> -C status -detail`, the server only: enough while waiting for a phase to end. */
    async openedgeServerStatus(ctx: OpenEdgeContext): Promise<StatusReading> {
      return dsrutilActivity(() => ports.source(ctx).serverStatus());
    },

    /** `dsrutil <db> -C connectagent AGENT|ALL`, then the status it led to. */
    async openedgeConnectAgent(
      ctx: OpenEdgeContext,
      agent: string,
    ): Promise<{ message: string; status: ReplicationStatus }> {
      return dsrutilActivity(async () => {
        const { message } = await ports.source(ctx).connectAgent(agent);
        return { message, status: await readStatus(ctx) };
      });
    },
  };
}

export type OpenEdgeActivities = ReturnType<typeof createOpenEdgeActivities>;
