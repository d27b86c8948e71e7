// The ports of the OpenEdge Replication start-up (workflows/openedge-startup.ts): what it needs
// from the source machine, in the DBA's words (DOMAIN.md §3). ./dsrutil-ports.ts implements them
// with the plan's dsrutil and start commands (the real ones or the simulated ./dsrutil.ts and
// ./proserve.ts); ./fake-ports.ts in memory, so the workflow can be run without any command. As in
// activities/ports.ts, every call is safe to repeat (activities run at least once).
import type { StatusReading } from './index.js';

/** What an activity needs to reach the source database: command templates and names, no secrets. */
export interface OpenEdgeContext {
  /** The dsrutil command template (the real one or the simulated one). */
  dsrutil: string;
  /** The start command template; {db} is the source database. */
  startServer: string;
  database: string;
  agents: string[];
}

export interface AgentReading extends StatusReading {
  agent: string;
}

/**
 * The source database's replication server and its agents. Errors are DsrutilError (./errors.ts):
 * `open-error` (the database cannot be opened), `not-enabled` (replication is not enabled on it),
 * `failed` with dsrutil's exit code (-1 when the command cannot run).
 */
export interface ReplicationSource {
  /** `dsrutil <db> -C status -detail`: the replication server's detail code. */
  serverStatus(): Promise<StatusReading>;
  /** `dsrutil <db> -C status AGENT -detail`: one agent's detail code, seen from the source. */
  agentStatus(agent: string): Promise<AgentReading>;
  /** `dsrutil <db> -C connectagent AGENT|ALL`: a connection try now; connected agents are left alone. */
  connectAgent(agent: string): Promise<{ message: string }>;
  /** The plan's start command (proserve <db> -DBService replserv), unless the server runs (anything but 6060). */
  startServer(): Promise<{ started: boolean; status: StatusReading }>;
}

export interface OpenEdgePorts {
  /** The run's source database, as its plan names it and its commands reach it. */
  source(ctx: OpenEdgeContext): ReplicationSource;
  /**
   * The text of a replication properties file (the source's <db>.repl.properties).
   * @throws an error with the file system's `code` (ENOENT, EACCES) when it cannot be read
   */
  readPropertiesFile(file: string): Promise<string>;
}
