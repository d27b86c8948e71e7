// The merge agent jobs' schedules across the upgrade (issue #20 §5), in the lab: the vendor's scripts
// re-create each job with the vendor's schedule (Config every 5 minutes, Data daily at midnight), so a
// DBA's Data at 02:00 is lost unless the run puts back what preflight recorded: timing and enabled state.
import { describe, expect, it } from 'vitest';
import type { MergeAgentJob } from '../../../activities/ports.js';
import { recordSchedules, type RecordedSchedule } from '../../../activities/personalization-upgrade/preflight.js';
import { createUpgradeActivities } from '../../../activities/personalization-upgrade/activities.js';
import { failing, labsPerTest, ref, runUpgradeByHand } from '../lab/runbook.js';
import { testFleetContext } from './fleet-context.js';

const lab = labsPerTest();
const DBA_DATA_TIME = 20000; // 02:00:00 as sysschedules.active_start_time holds it (hhmmss)

/** Each subscription's schedule as the distributor shows it: when it starts and whether it is enabled. */
const shown = (jobs: MergeAgentJob[]) =>
  jobs
    .flatMap((j) =>
      j.schedules.map(
        (s) =>
          `${j.publication} → ${j.subscriber.server}: starts ${s.timing?.activeStartTime}, subday ` +
          `${s.timing?.freqSubdayType}, ${s.enabled ? 'enabled' : 'disabled'}`,
      ),
    )
    .sort();

async function upgradeWithSchedules(keepTiming: boolean) {
  const { lab: l, plan } = await lab({ rows: 10, conditions: { customisedDataScheduleTime: DBA_DATA_TIME } });
  const acts = createUpgradeActivities(() => ({ sql: l.sql, hosts: l.hosts }));
  const ctx = testFleetContext(plan);
  const publisher = ref(plan.publisher);
  // preflight: recorded, then paused; the old runbook recorded the enabled state only.
  const before = await acts.agentSchedules(ctx, publisher);
  const recorded: RecordedSchedule[] = recordSchedules(before).map(({ timing, ...r }) =>
    keepTiming ? { ...r, ...(timing && { timing }) } : r,
  );
  await acts.pauseAgentSchedules(ctx, publisher);
  // enable-replication pauses the new jobs' schedules too, then (new runbook) gives them the recorded timing, still
  // paused.
  let retimed: number | undefined;
  await runUpgradeByHand(l, plan, {
    afterEnable: async () => {
      await acts.pauseAgentSchedules(ctx, publisher);
      if (keepTiming) retimed = (await acts.retimeAgentSchedules(ctx, publisher, recorded)).retimed;
    },
  });
  const recreated = await acts.agentSchedules(ctx, publisher);
  // restore-service
  await acts.restoreAgentSchedules(ctx, publisher, recorded);
  return { l, before, recreated, retimed, after: await acts.agentSchedules(ctx, publisher) };
}

describe("a DBA's Data schedule (daily at 02:00 instead of the vendor's midnight)", () => {
  // The old runbook puts back only the enabled state: the re-created Data jobs keep the vendor's
  // midnight, and configuration-preserved fails naming them.
  it("the old runbook: Data keeps the vendor's midnight, configuration-preserved fails", async () => {
    const { l, recreated, after } = await upgradeWithSchedules(false);
    expect(shown(recreated).filter((s) => s.startsWith('Data'))).toEqual([
      'Data → LAB-SUB1: starts 0, subday 1, disabled',
      'Data → LAB-SUB2: starts 0, subday 1, disabled',
    ]);
    expect(shown(after).filter((s) => s.startsWith('Data'))).toEqual([
      'Data → LAB-SUB1: starts 0, subday 1, enabled',
      'Data → LAB-SUB2: starts 0, subday 1, enabled',
    ]);
    expect(await failing(l)).toEqual(['configuration-preserved']);
    const inv = (await l.admin.check()).find((i) => i.name === 'configuration-preserved')!;
    expect(inv.detail).toContain(
      'Data → LAB-SUB1/PersonalizationServer: agent schedule freq_type 4, subday 1/0, from 0 to 235959, was ' +
        'freq_type 4, subday 1/0, from 20000 to 235959',
    );
  });

  // The new runbook records the timing at preflight, puts it back after enable-replication (still
  // paused) and the enabled state at restore-service: the schedules are as before and every invariant holds.
  it('the new runbook: the schedules are as before and every invariant holds', async () => {
    const { l, before, recreated, retimed, after } = await upgradeWithSchedules(true);
    // After enable-replication: the DBA's 02:00 on the re-created Data jobs, the run's pause kept.
    expect(retimed).toBe(2);
    expect(shown(recreated).filter((s) => s.startsWith('Data'))).toEqual([
      'Data → LAB-SUB1: starts 20000, subday 1, disabled',
      'Data → LAB-SUB2: starts 20000, subday 1, disabled',
    ]);
    expect(shown(before)).toEqual([
      'Config → LAB-SUB1: starts 0, subday 4, enabled',
      'Config → LAB-SUB2: starts 0, subday 4, enabled',
      'Data → LAB-SUB1: starts 20000, subday 1, enabled',
      'Data → LAB-SUB2: starts 20000, subday 1, enabled',
    ]);
    expect(shown(after)).toEqual(shown(before));
    expect(await failing(l)).toEqual([]);
  });
});
