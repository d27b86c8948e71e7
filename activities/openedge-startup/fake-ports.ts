// The OpenEdge ports (./ports.ts) in memory: the simulated replication server and agents of
// ./sim.ts held in a variable instead of a state file, and properties files as text; no command
// runs. Tests run the real workflow on it (test/temporal/openedge-startup-ports.test.ts). It
// answers as the simulated dsrutil does (same codes, same refusals), and can hold a code the
// simulation never reaches (an agent halted by an AI stall, 3054) until the test ends it.
import { describeCode, phaseOf } from './codes.js';
import { DsrutilError } from './errors.js';
import type { StatusReading } from './index.js';
import type { OpenEdgePorts } from './ports.js';
import { agentCode, connectAgent, evaluate, serverCode, simOpenProblem, startServer, type SimState } from './sim.js';

export interface FakeOpenEdge {
  ports: OpenEdgePorts;
  /** The server and its agents; tests change them (an agent's broker reachable) as ./sim.ts allows. */
  state: SimState;
  /** Properties files by path. */
  files: Map<string, string>;
  /** Codes dsrutil shows instead of the simulation's, by agent name or 'server'; delete one to end it. */
  held: Map<string, number>;
  /** Every dsrutil command asked, as a DBA would type it. */
  commands: string[];
}

const reading = (code: number): StatusReading => ({ code, phase: phaseOf(code), text: describeCode(code) });

/** @param now the clock the simulation runs on (wall-clock by default, as the workflow's timers). */
export function createFakeOpenEdgePorts(
  state: SimState,
  files: Record<string, string> = {},
  now = () => Date.now(),
): FakeOpenEdge {
  const fake: Omit<FakeOpenEdge, 'ports'> = {
    state,
    files: new Map(Object.entries(files)),
    held: new Map(),
    commands: [],
  };

  const ports: OpenEdgePorts = {
    source(ctx) {
      const db = ctx.database;
      /** One dsrutil call: recorded, refused as dsrutil refuses, the simulation brought up to now. */
      const dsrutil = (args: string): number => {
        const command = `dsrutil ${db} -C ${args}`;
        fake.commands.push(command);
        const problem = simOpenProblem(fake.state, db);
        if (problem?.exit === 2)
          throw new DsrutilError(
            `${command}: the database cannot be opened (exit 2): ${problem.message}`,
            'open-error',
            2,
          );
        if (problem)
          throw new DsrutilError(
            `${command}: replication is not enabled on the database (exit 3): ${problem.message}`,
            'not-enabled',
            3,
          );
        const at = now();
        evaluate(fake.state, at);
        return at;
      };
      const unknownAgent = (command: string, agent: string) =>
        new DsrutilError(
          `dsrutil ${db} -C ${command} failed (exit 1): Agent ${agent} is not a control agent of ${db}.`,
          'failed',
          1,
        );
      const server = (): StatusReading => {
        const at = dsrutil('status -detail');
        return reading(fake.held.get('server') ?? serverCode(fake.state, at));
      };
      return {
        async serverStatus() {
          return server();
        },
        async agentStatus(agent) {
          const at = dsrutil(`status ${agent} -detail`);
          const code = fake.held.get(agent) ?? agentCode(fake.state, agent, at);
          if (code === undefined) throw unknownAgent(`status ${agent} -detail`, agent);
          return { agent, ...reading(code) };
        },
        async connectAgent(agent) {
          const at = dsrutil(`connectagent ${agent}`);
          if (agent.toUpperCase() !== 'ALL' && !fake.state.agents.some((a) => a.name === agent))
            throw unknownAgent(`connectagent ${agent}`, agent);
          if (serverCode(fake.state, at) === 6060)
            return { message: `The replication server for ${db} is not running.` };
          connectAgent(fake.state, agent, at);
          return { message: `Connect agent request for ${agent} sent to the replication server.` };
        },
        async startServer() {
          const before = server();
          if (before.code !== 6060) return { started: false, status: before };
          startServer(fake.state, now());
          return { started: true, status: server() };
        },
      };
    },
    async readPropertiesFile(file) {
      const text = fake.files.get(file);
      if (text === undefined)
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
      return text;
    },
  };
  // The same object, so a test's change to `held` or `state` is seen by the ports.
  return Object.assign(fake, { ports });
}
