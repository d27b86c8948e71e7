// Conflicts in the lab as on a real fleet (issue #18 §2, §5): rows kept from before the run, some
// settled by the resolver (reported, never a reason to stop) and some failed changes nobody
// resolved (they stop the run until a person does). The rule the workflow applies is
// summarizeConflicts; the rule it replaced stopped on every row.
import { describe, expect, it } from 'vitest';
import { summarizeConflicts } from '../../../activities/sqlserver/conflict-types.js';
import type { Lab } from '../../../activities/lab/index.js';
import { labsPerTest, runUpgradeByHand } from './runbook.js';

const lab = labsPerTest();
const PUBLISHER = { server: 'LAB-PUB', database: 'PersonalizationServer' };
const RUN_START = new Date().toISOString();

async function conflictRows(l: Lab) {
  return (await Promise.all(['Config', 'Data'].map((p) => l.sql.conflicts(PUBLISHER, p, { since: RUN_START })))).flat();
}

describe('conflicts kept from before the run', () => {
  // The old rule (every row stops) would park the run; the right one reports them, completes, and every invariant
  // holds.
  it('settled update conflicts are reported, not a reason to stop', async () => {
    const { lab: l, plan } = await lab({ conditions: { settledConflicts: 3 } });
    const rows = await conflictRows(l);
    expect(rows.map((c) => [c.conflictType, c.verdict, c.beforeRun])).toEqual([
      [1, 'settled', true],
      [1, 'settled', true],
      [1, 'settled', true],
    ]);
    // The rule replaced stopped sync-until-quiet on any row, on every retry: these 3 would park it
    // for 14 days (the conflict retention), though nobody has anything to resolve.
    const summary = summarizeConflicts(rows);
    expect(summary.stop).toBe('');
    expect(summary.settled).toMatch(/^3 conflicts the resolver settled, .*; 3 recorded before the run began\)$/);

    const run = await runUpgradeByHand(l, plan);
    expect(run.canary).toEqual([true, true]);
    expect((await l.admin.check()).filter((i) => !i.ok).map((i) => i.name)).toEqual([]);
    // A DBA's resolving leaves them: they are kept for the conflict retention period.
    expect(await l.admin.resolveConflicts()).toBe(0);
    expect(await conflictRows(l)).toHaveLength(3);
  });

  // Failed changes from before the run; once resolved, only they are gone.
  it('unsettled failed changes stop the run until a person resolves them', async () => {
    const { lab: l, plan } = await lab({ conditions: { settledConflicts: 1, unsettledConflicts: 2 } });
    const summary = summarizeConflicts(await conflictRows(l));
    expect(summary.stop).toMatch(
      /^2 conflicts \(\d× (Config|Data)\.\w+ reason 2627.*; 2 recorded before the run began\)$/,
    );
    expect(summary.settled).toMatch(/^1 conflict the resolver settled/);
    // The lab's invariant sees them as damage until they are resolved.
    expect((await l.admin.check()).find((i) => i.name === 'no-conflicting-rows')).toMatchObject({ ok: false });

    expect(await l.admin.resolveConflicts()).toBe(2);
    expect(summarizeConflicts(await conflictRows(l)).stop).toBe('');
    const run = await runUpgradeByHand(l, plan);
    expect(run.canary).toEqual([true, true]);
    expect((await l.admin.check()).filter((i) => !i.ok).map((i) => i.name)).toEqual([]);
  });

  // The run causes one by leaving the background services running.
  it('a conflict the run itself causes is still damage, settled or not', async () => {
    const { lab: l, plan } = await lab({ conditions: { settledConflicts: 1 } });
    await runUpgradeByHand(l, plan, { leaveBackgroundServicesRunning: true });
    const conflicting = (await l.admin.check()).find((i) => i.name === 'no-conflicting-rows')!;
    expect(conflicting.ok).toBe(false);
    expect(conflicting.detail).toMatch(/Background Service was upgrading users/);
  });
});
