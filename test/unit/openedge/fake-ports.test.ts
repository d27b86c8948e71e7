// The in-memory OpenEdge ports answer as the dsrutil adapter does over the simulated dsrutil and
// proserve processes: the same readings and the same refusals, call for call, from the same start.
// Phases last an hour here, so both sides read the same state however slow the processes are.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dsrutilPorts } from '../../../activities/openedge-startup/dsrutil-ports.js';
import { DsrutilError } from '../../../activities/openedge-startup/errors.js';
import { createFakeOpenEdgePorts } from '../../../activities/openedge-startup/fake-ports.js';
import type { OpenEdgeContext, ReplicationSource } from '../../../activities/openedge-startup/ports.js';
import { parseReplicationProperties } from '../../../activities/openedge-startup/properties.js';
import { createSimState, writeSimState, type SimOptions } from '../../../activities/openedge-startup/sim.js';

const root = path.resolve(import.meta.dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const PROPERTIES = path.join(root, 'examples/openedge/sports.repl.properties');
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** The same simulated source behind both adapters: a state file for the processes, a copy in memory for the fake. */
async function bothSources(opts: SimOptions, database = 'sports') {
  const props = parseReplicationProperties(await readFile(PROPERTIES, 'utf8'));
  if (!props.ok) throw new Error(JSON.stringify(props.errors));
  const dir = await mkdtemp(path.join(tmpdir(), 'replup-oe-fake-'));
  dirs.push(dir);
  const state = path.join(dir, 'sports.json');
  await writeSimState(state, createSimState(props.value, { phaseSeconds: 3600, ...opts }));
  const ctx: OpenEdgeContext = {
    dsrutil: `${tsx} ${path.join(root, 'activities/openedge-startup/dsrutil.ts')} --state ${state}`,
    startServer:
      `${tsx} ${path.join(root, 'activities/openedge-startup/proserve.ts')} --state ${state} ` +
      `{db} -DBService replserv`,
    database,
    agents: ['agent1', 'agent2'],
  };
  const fake = createFakeOpenEdgePorts(createSimState(props.value, { phaseSeconds: 3600, ...opts }));
  return { real: dsrutilPorts().source(ctx), fake: fake.ports.source(ctx) };
}

/** What a call gave: its value, or the kind and exit code of the DsrutilError it threw. */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof DsrutilError) return { error: err.kind, exitCode: err.exitCode };
    throw err;
  }
}

/** Every call, in order, on one source. */
async function session(source: ReplicationSource): Promise<unknown[]> {
  const calls: (() => Promise<unknown>)[] = [
    () => source.serverStatus(),
    () => source.connectAgent('ALL'),
    () => source.startServer(),
    () => source.startServer(),
    () => source.agentStatus('agent1'),
    () => source.agentStatus('agent2'),
    () => source.connectAgent('agent9'),
  ];
  const out: unknown[] = [];
  for (const call of calls) out.push(await outcome(call));
  return out;
}

describe('the in-memory OpenEdge ports agree with the dsrutil adapter over the simulated processes', () => {
  it('a start-up with agent2 unreachable: the same readings, the same refusal of an unknown agent', async () => {
    const { real, fake } = await bothSources({ unreachable: ['agent2'] });
    const seen = await session(fake);
    expect(seen).toEqual(await session(real));
    expect(seen).toEqual([
      { code: 6060, phase: 'failed', text: '6060 Server is ended' },
      { message: 'The replication server for sports is not running.' },
      { started: true, status: { code: 6002, phase: 'connecting', text: '6002 Connecting to Agents' } },
      { started: false, status: { code: 6002, phase: 'connecting', text: '6002 Connecting to Agents' } },
      { agent: 'agent1', code: 1001, phase: 'connecting', text: '1001 Initial Connection' },
      { agent: 'agent2', code: 1001, phase: 'connecting', text: '1001 Initial Connection' },
      { error: 'failed', exitCode: 1 },
    ]);
  }, 60_000);

  it('a database the source does not have, and one without replication: the same refusals', async () => {
    const missing = await bothSources({}, 'payroll');
    expect(await outcome(() => missing.fake.serverStatus())).toEqual({ error: 'open-error', exitCode: 2 });
    expect(await outcome(() => missing.real.serverStatus())).toEqual({ error: 'open-error', exitCode: 2 });
    const disabled = await bothSources({ replicationEnabled: false });
    expect(await outcome(() => disabled.fake.serverStatus())).toEqual({ error: 'not-enabled', exitCode: 3 });
    expect(await outcome(() => disabled.real.serverStatus())).toEqual({ error: 'not-enabled', exitCode: 3 });
  }, 60_000);
});
