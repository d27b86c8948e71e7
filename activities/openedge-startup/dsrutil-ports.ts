// The OpenEdge ports (./ports.ts) on the plan's commands: dsrutil and the start command run as
// processes (./index.ts), the properties file read from this machine's disk. The production
// adapter, and the default of createOpenEdgeActivities.
import { readFile } from 'node:fs/promises';
import { agentStatus, connectAgent, serverStatus, startServer } from './index.js';
import type { OpenEdgePorts } from './ports.js';

/** @param env the environment dsrutil and the start command run with (default: the worker's). */
export function dsrutilPorts(env?: NodeJS.ProcessEnv): OpenEdgePorts {
  return {
    source(ctx) {
      const target = { dsrutil: ctx.dsrutil, database: ctx.database, env };
      return {
        serverStatus: () => serverStatus(target),
        agentStatus: (agent) => agentStatus(target, agent),
        connectAgent: (agent) => connectAgent(target, agent),
        startServer: () => startServer(target, ctx.startServer),
      };
    },
    readPropertiesFile: (file) => readFile(file, 'utf8'),
  };
}
