// Every code of dsrutil's -detail tables (issue 22): its description, class and what the runbook
// does with it. The expected rows are Progress's tables (URLs in activities/openedge-startup/codes.ts),
// written out here so that a code dropped or moved in codes.ts fails.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DETAIL_CODES,
  describeCode,
  meaningOf,
  phaseOf,
  serverStatus,
  agentStatus,
  type ReplicationPhase,
} from '../../../activities/openedge-startup/index.js';
import { groupCode } from '../../../activities/openedge-startup/dsrutil.js';
import { describeStuck, stuckParts } from '../../../workflows/openedge-startup.js';

/** [code, Progress's description, class (group code), what the runbook does]. */
const TABLE: [number, string, number, ReplicationPhase][] = [
  [0, 'Unknown', 255, 'unknown'],
  [1001, 'Initial Connection', 100, 'connecting'],
  [1002, 'Initializing', 100, 'connecting'],
  [1003, 'Target in Quiet Point', 102, 'halted'],
  [1032, 'Initial Connection Failed', 199, 'failed'],
  [1033, 'Recovery Failed', 199, 'failed'],
  [1034, 'Invalid Target Database Configuration', 199, 'failed'],
  [1035, 'Agent Failed', 199, 'failed'],
  [1036, 'Agent is Ignored', 199, 'failed'],
  [1037, 'Agent is Stopped', 199, 'failed'],
  [1038, 'Agent is Terminated', 199, 'failed'],
  [1063, 'Agent is Ended', 199, 'failed'],
  [2080, 'Pre Transition', 103, 'transition'],
  [2081, 'Applying After-image Extent', 103, 'transition'],
  [2082, 'Transitioning', 105, 'transition'],
  [2083, 'Listening', 104, 'transition'],
  [2084, 'Waiting while JTA transactions are resolved', 103, 'transition'],
  [3048, 'Startup Synchronization', 101, 'synchronizing'],
  [3049, 'Normal Processing', 101, 'normal'],
  [3050, 'Recovery Synchronization', 101, 'recovery'],
  [3051, 'Online backup of Target Database', 102, 'halted'],
  [3052, 'Target Database in Quiet Point', 102, 'halted'],
  [3053, 'Target Database in BI Stall', 102, 'halted'],
  [3054, 'Target Database in AI Stall', 102, 'halted'],
  [3055, 'Being Transitioned', 105, 'transition'],
  [6001, 'Server Initialization', 100, 'connecting'],
  [6002, 'Connecting to Agents', 100, 'connecting'],
  [6003, 'Configuring Agent(s)', 100, 'connecting'],
  [6004, 'Recovery Processing', 101, 'recovery'],
  [6005, 'Startup Synchronization', 101, 'synchronizing'],
  [6021, 'Normal Processing', 101, 'normal'],
  [6022, 'Performing Transition', 105, 'transition'],
  [6023, 'Replication is Suspended', 102, 'suspended'],
  [6060, 'Server is ended', 199, 'failed'],
];
/** The states only a person can end: the run names them and asks an operator (bounded). */
const ASKS: ReplicationPhase[] = ['halted', 'suspended', 'transition', 'unknown'];

// A dsrutil stand-in like the operators' case: prints the code in a file beside it.
let dir: string;
let dsrutil: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'replup-oecodes-'));
  dsrutil = path.join(dir, 'dsrutil.sh');
  await writeFile(dsrutil, '#!/bin/sh\ncat "$(dirname "$0")/code"\n');
  await chmod(dsrutil, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("dsrutil -detail codes (Progress's tables)", () => {
  it('knows exactly the codes of the tables', () => {
    expect(
      Object.keys(DETAIL_CODES)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(TABLE.map(([code]) => code));
  });

  it.each(TABLE)(
    '%i is read from dsrutil as "%s", class %i, and the runbook treats it as %s',
    async (code, text, group, phase) => {
      await writeFile(path.join(dir, 'code'), `${code}\n`);
      const reading = await agentStatus({ dsrutil, database: 'stallsrc' }, 'agent1');
      expect(reading).toEqual({ agent: 'agent1', code, phase, text: `${code} ${text}` });
      expect((await serverStatus({ dsrutil, database: 'stallsrc' })).text).toBe(`${code} ${text}`);
      expect(groupCode(code, 1)).toBe(1000 + group);
      expect(meaningOf(code).length).toBeGreaterThan(20);

      // What the run does with it: a state only a person can end is named with its meaning.
      const status = { server: { code: 6021, phase: phaseOf(6021), text: describeCode(6021) }, agents: [reading] };
      const stuck = stuckParts(status, ['agent1']);
      if (ASKS.includes(phase)) {
        expect(describeStuck(stuck)).toBe(`agent agent1 is at ${code} ${text} (${DETAIL_CODES[code]!.meaning})`);
      } else {
        expect(stuck).toEqual([]);
      }
    },
  );

  it('names the four halted codes with what halted the agent', () => {
    expect(meaningOf(3051)).toMatch(/^activity halted: an online backup of the target runs/);
    expect(meaningOf(3052)).toMatch(/^activity halted: the target database is held at a quiet point/);
    expect(meaningOf(3053)).toMatch(/^activity halted: the target database waits for before-image space/);
    expect(meaningOf(3054)).toMatch(/^activity halted: every after-image file of the target is full/);
    expect(meaningOf(6023)).toMatch(/^replication is suspended/);
  });

  it(
    'a server suspended or in transition is named too; a ' + 'code not in the tables is unknown and asked about',
    async () => {
      const server = (code: number) => ({ code, phase: phaseOf(code), text: describeCode(code) });
      expect(describeStuck(stuckParts({ server: server(6023) }))).toBe(
        `the replication server is at 6023 Replication is Suspended (${meaningOf(6023)})`,
      );
      expect(stuckParts({ server: server(6022) }).map((x) => x.reading.phase)).toEqual(['transition']);
      await writeFile(path.join(dir, 'code'), '4711\n');
      const odd = await serverStatus({ dsrutil, database: 'stallsrc' });
      expect(odd).toEqual({ code: 4711, phase: 'unknown', text: "4711 not a code of dsrutil's -detail tables" });
      expect(describeStuck(stuckParts({ server: odd }))).toContain(
        'replup cannot tell what it means: check the dsrutil command in the plan (it must print the -detail code)',
      );
      // Agents the run does not wait for (never connected, not critical) are not asked about.
      const halted = { agent: 'agent2', code: 3054, phase: phaseOf(3054), text: describeCode(3054) };
      expect(stuckParts({ server: server(6021), agents: [halted] }, ['agent1'])).toEqual([]);
      // Without -detail, a code outside the tables is class 255 (unknown), as 0 is.
      expect([groupCode(3054, 2), groupCode(4711, 1)]).toEqual([2102, 1255]);
    },
  );
});
