import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentStatus,
  connectAgent,
  DsrutilError,
  runDsrutil,
  serverStatus,
  startServer,
} from '../../../activities/openedge-startup/index.js';
import { dsrutilMain } from '../../../activities/openedge-startup/dsrutil.js';
import { proserveMain } from '../../../activities/openedge-startup/proserve.js';
import {
  parseReplicationProperties,
  type ReplicationProperties,
} from '../../../activities/openedge-startup/properties.js';
import {
  createSimState,
  readSimState,
  schemaChangesBlocked,
  setAgentReachable,
  updateSimState,
  writeSimState,
  type SimOptions,
} from '../../../activities/openedge-startup/sim.js';

const root = path.resolve(import.meta.dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'replup-oe-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function properties(
  defer: number,
  critical: { agent1: 0 | 1; agent2: 0 | 1 } = { agent1: 1, agent2: 0 },
): ReplicationProperties {
  const section = (name: string, crit: number, octet: number) =>
    `[control-agent.${name}]\nname=${name}\ndatabase=${name}db\nhost=10.0.0.${octet}` +
    `\nport=4901\nreplication-method=async\ncritical=${crit}\n`;
  const text =
    `[server]\ncontrol-agents=agent1,agent2\ndatabase=sports\ndefer-agent-startup=${defer}\n` +
    `${section('agent1', critical.agent1, 21)}${section('agent2', critical.agent2, 22)}`;
  const parsed = parseReplicationProperties(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

let counter = 0;
async function simulation(props: ReplicationProperties, opts: SimOptions): Promise<string> {
  const file = path.join(dir, `state-${++counter}.json`);
  await writeSimState(file, createSimState(props, opts));
  return file;
}

const T0 = Date.parse('2025-03-01T10:00:00Z');
const at = (seconds: number) => T0 + seconds * 1000;
/** `dsrutil sports -C status [agent] -detail` at a moment: the printed code. */
async function detail(file: string, seconds: number, agent?: string): Promise<string> {
  const r = await dsrutilMain(
    ['sports', '-C', 'status', ...(agent ? [agent] : []), '-detail', '--state', file],
    {},
    at(seconds),
  );
  expect(r.code).toBe(0);
  return r.stdout.trim();
}
const start = (file: string, seconds: number) =>
  proserveMain(['sports', '-DBService', 'replserv', '--state', file], {}, at(seconds));

describe('simulated dsrutil: start-up', () => {
  it(
    'with every agent reachable: connecting, startup synchronization (schema changes blocked), normal ' + 'processing',
    async () => {
      const file = await simulation(properties(0), { phaseSeconds: 10 });
      expect(await detail(file, 0)).toBe('6060');
      await start(file, 0);
      expect([await detail(file, 1), await detail(file, 1, 'agent1')]).toEqual(['6003', '1002']);
      expect([await detail(file, 12), await detail(file, 12, 'agent1'), await detail(file, 12, 'agent2')]).toEqual([
        '6005',
        '3048',
        '3048',
      ]);
      expect(schemaChangesBlocked(await readSimState(file), at(12))).toBe(true);
      expect([await detail(file, 25), await detail(file, 25, 'agent1')]).toEqual(['6021', '3049']);
      expect(schemaChangesBlocked(await readSimState(file), at(25))).toBe(false);
      // Without -detail: the group codes (1101 server processing, 2101 control agent processing).
      expect((await dsrutilMain(['sports', '-C', 'status', '--state', file], {}, at(25))).stdout).toBe('1101\n');
      expect((await dsrutilMain(['sports', '-C', 'status', 'agent2', '--state', file], {}, at(25))).stdout).toBe(
        '2101\n',
      );
      expect((await dsrutilMain(['sports', '-C', 'status', 'verbose', '--state', file], {}, at(25))).stdout).toBe(
        '6021 Normal Processing\n',
      );
    },
  );

  it(
    'an unreachable agent puts the server in deferred ' + 'agent start-up; it connects at the next 5-minute ' + 'retry',
    async () => {
      const file = await simulation(properties(60), { unreachable: ['agent2'] });
      await start(file, 0);
      expect([await detail(file, 1), await detail(file, 1, 'agent1'), await detail(file, 1, 'agent2')]).toEqual([
        '6002',
        '1001',
        '1001',
      ]);
      await setAgentReachable(file, 'agent2', true);
      expect(await detail(file, 299)).toBe('6002');
      expect(await detail(file, 300)).toBe('6003');
      expect(await detail(file, 303, 'agent2')).toBe('3049');
      const state = await readSimState(file);
      expect(state.agents.find((a) => a.name === 'agent2')?.attempts).toBe(2);
      expect(state.events.map((e) => e.message)).toEqual([
        'replication server started for sports',
        'start-up: agent agent1 connected; handshake passed (identical databases, target made from source)',
        'start-up: agent agent2 at 10.0.0.22:4901 could not be reached (attempt 1)',
        'deferred agent start-up: retrying every 300 s for up to 60 minutes',
        'deferred retry: agent agent2 connected; handshake passed (identical databases, target made from source)',
        'all agents connected: startup synchronization begins (schema changes are blocked until it ends)',
      ]);
    },
  );

  it('connectagent tries at once instead of waiting for the next retry', async () => {
    const file = await simulation(properties(60), { unreachable: ['agent2'] });
    await start(file, 0);
    await setAgentReachable(file, 'agent2', true);
    const forced = await dsrutilMain(['sports', '-C', 'connectagent', 'agent2', '--state', file], {}, at(42));
    expect(forced).toEqual({
      code: 0,
      stdout: 'Connect agent request for agent2 sent to the replication server.\n',
      stderr: '',
    });
    expect(await detail(file, 42)).toBe('6003');
  });

  it('the deadline with a critical agent down ends the server with the reason', async () => {
    const file = await simulation(properties(5), { unreachable: ['agent1'], retryIntervalSeconds: 60 });
    await start(file, 0);
    expect(await detail(file, 299)).toBe('6002');
    expect([await detail(file, 300), await detail(file, 300, 'agent1'), await detail(file, 300, 'agent2')]).toEqual([
      '6060',
      '1032',
      '1063',
    ]);
    const state = await readSimState(file);
    expect(state.agents.find((a) => a.name === 'agent1')?.attempts).toBe(5);
    expect(state.server.endReason).toBe(
      'critical agent agent1 could not be reached and defer-agent-startup (5 minutes) ran out',
    );
  });

  it('the deadline with a non-critical agent down goes on without it', async () => {
    const file = await simulation(properties(5), {
      unreachable: ['agent2'],
      retryIntervalSeconds: 60,
      phaseSeconds: 1,
    });
    await start(file, 0);
    expect([await detail(file, 302), await detail(file, 302, 'agent1'), await detail(file, 302, 'agent2')]).toEqual([
      '6021',
      '3049',
      '1032',
    ]);
  });

  it('a target not made from the source fails the handshake: 1034', async () => {
    const file = await simulation(properties(0, { agent1: 0, agent2: 0 }), {});
    await updateSimState(file, (s) => {
      s.agents[1]!.target.createdFromSource = false;
    });
    await start(file, 0);
    expect(await detail(file, 0, 'agent2')).toBe('1034');
    expect((await readSimState(file)).events.map((e) => e.message)).toContain(
      'start-up: handshake with agent agent2 failed: the target database was not created from the source',
    );
  });
});

describe('simulated dsrutil as a process, through runDsrutil', () => {
  const template = (file: string) =>
    `${tsx} ${path.join(root, 'activities/openedge-startup/dsrutil.ts')} --state ${file}`;

  it('exit 2 when the database cannot be opened, 3 when replication is not enabled', async () => {
    const file = await simulation(properties(0), { replicationEnabled: false });
    const wrongDb = await runDsrutil(template(file), ['payroll', '-C', 'status', '-detail']).catch((e: unknown) => e);
    expect(wrongDb).toBeInstanceOf(DsrutilError);
    expect(wrongDb).toMatchObject({ kind: 'open-error', exitCode: 2 });
    expect((wrongDb as Error).message).toContain('** Cannot find or open file payroll.db, errno = 2. (43)');
    const notEnabled = await runDsrutil(template(file), ['sports', '-C', 'status', '-detail']).catch((e: unknown) => e);
    expect(notEnabled).toMatchObject({ kind: 'not-enabled', exitCode: 3 });
  }, 30_000);

  it('start, status and connectagent through the activity functions', async () => {
    const file = await simulation(properties(60), { unreachable: ['agent2'] });
    const target = { dsrutil: template(file), database: 'sports' };
    const started = await startServer(
      target,
      `${tsx} ${path.join(root, 'activities/openedge-startup/proserve.ts')} --state ${file} {db} -DBService replserv`,
    );
    expect(started).toEqual({
      started: true,
      status: { code: 6002, phase: 'connecting', text: '6002 Connecting to Agents' },
    });
    expect(await agentStatus(target, 'agent2')).toEqual({
      agent: 'agent2',
      code: 1001,
      phase: 'connecting',
      text: '1001 Initial Connection',
    });
    await setAgentReachable(file, 'agent2', true);
    expect(await connectAgent(target, 'ALL')).toEqual({
      message: 'Connect agent request for ALL sent to the replication server.',
    });
    expect((await serverStatus(target)).phase).not.toBe('failed');
    expect((await readSimState(file)).server.allConnectedAt).toBeDefined();
  }, 30_000);
});
