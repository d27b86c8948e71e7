// The chaos suite's crash points come from the plan's runbook: for lab-small they are the counts the
// suite was tuned with (so seeds keep their kills), for another fleet they follow it, and a point
// that cannot fire is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chaosPlan, planRun } from '../../chaos/chaos.js';
import { crashOps, crashPointProblem } from '../../chaos/crash-points.js';
import { loadExample } from '../plan/load-example.js';

const dir = mkdtempSync(join(tmpdir(), 'replup-crash-points-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('chaos crash points', () => {
  it("lab-small's: 4 hosts, 2 rounds of 4 merges, 3 databases, 1 publisher, 2 + 2 + 4 scripts, 1 canary", async () => {
    const { plan } = await chaosPlan(dir, 'chaos-t', 'CHAOS-PUB-T');
    expect(crashOps(plan)).toEqual([
      ['drain', 4],
      ['runMergeAgent', 8],
      ['backupDatabase', 3],
      ['removeReplication', 1],
      ['upgradeDatabase', 3],
      ['stopService', 4],
      ['runScript', 8],
      ['writeCanary', 1],
    ]);
    // The fixed seeds of test/temporal/chaos.test.ts keep their kills.
    const points = [1, 2, 3].flatMap((seed) => planRun(seed, 2, plan).crashAt.map((p) => `${p.op}:${p.n}`));
    expect(points).toEqual(expect.arrayContaining(['stopService:3', 'runScript:6', 'upgradeDatabase:3']));
  });

  it('follow the fleet and the steps that apply: branch-office from 8.3.100.0 stops no service', async () => {
    const plan = await loadExample('branch-office.yaml');
    expect(crashOps(plan)).toEqual([
      ['drain', 6],
      ['runMergeAgent', 12],
      ['backupDatabase', 5],
      ['removeReplication', 3],
      ['upgradeDatabase', 5],
      ['runScript', 4 + 3 + 6],
      ['writeCanary', 3],
    ]);
  });

  it('refuse a point the runbook cannot reach, and more points than it has operations', async () => {
    const { plan } = await chaosPlan(dir, 'chaos-u', 'CHAOS-PUB-U');
    const ops = crashOps(plan);
    expect(crashPointProblem(ops, { op: 'runScript', n: 8 })).toBeUndefined();
    expect(crashPointProblem(ops, { op: 'runScript', n: 9 })).toBe(
      'crash point runScript:9: a run of this plan makes at least 8 runScript calls, so n must be 1 to 8',
    );
    expect(crashPointProblem(ops, { op: 'killSessions', n: 1 })).toMatch(
      /^crash point killSessions:1: the runbook makes no killSessions call/,
    );
    expect(() => planRun(1, 9, plan)).toThrow(
      /^9 crash points asked for, but the runbook of chaos-u makes only 8 kinds/,
    );
  });
});
