// The lab is only worth something if a wrong runbook loses data in it exactly where it would in
// production. The correct runbook, driven by hand through the ports, keeps every invariant; each
// wrong variant breaks the invariant it should (or raises the error it should).
import { describe, expect, it } from 'vitest';
import { SqlError } from '../../../activities/ports.js';
import { failing, labsPerTest, runUpgradeByHand, subscriptions, syncRound, type RunbookMistakes } from './runbook.js';

const lab = labsPerTest();

/** A fresh lab (`opts`) and the runbook driven by hand on it with `mistakes`: the lab, its plan and the run. */
async function byHand(mistakes: RunbookMistakes, opts?: Parameters<typeof lab>[0]) {
  const { lab: l, plan } = await lab(opts);
  return { l, plan, run: await runUpgradeByHand(l, plan, mistakes) };
}

describe('the upgrade runbook against the lab', () => {
  it('the correct runbook from 8.2 keeps every invariant and the canary arrives everywhere', async () => {
    const { l, run } = await byHand({});
    expect(run.canary).toEqual([true, true]);
    expect(run.quietAfter).toBeGreaterThanOrEqual(2);
    const invariants = await l.admin.check();
    expect(invariants.map((i) => [i.name, i.ok])).toEqual([
      ['rows-replicated', true],
      ['archives-intact', true],
      ['no-conflicting-rows', true],
      ['copies-validated-identical', true],
      ['versions-at-target', true],
      ['replication-enabled', true],
      ['configuration-preserved', true],
      ['background-services-running', true],
      ['serving-again', true],
    ]);
    const counters = await l.admin.counters();
    // Exactly one backup and one new subscription per publication per subscriber, no snapshot.
    expect(counters['LAB-SUB1/PersonalizationServer']).toMatchObject({
      backups: 1,
      subscriptionCreations: 2,
      snapshotDeliveries: 0,
    });
  });

  it(
    'skipping the drain: rows written while replication ' +
      'was gone never reach the other copies ' +
      '(rows-replicated)',
    async () => {
      const { l, run } = await byHand({ skipDrain: true });
      expect(run.quietAfter).toBeUndefined(); // users keep writing: the sync never gets quiet
      const rows = (await l.admin.check()).find((i) => i.name === 'rows-replicated')!;
      expect(rows.ok).toBe(false);
      expect(rows.detail).toMatch(
        /^(PersonalizationGroup|ProfileData)\/\d+-\d+ .*\(written at tick \d+ on LAB-\w+\/PersonalizationServer\).*; and \d+ more$/,
      );
    },
  );

  it(
    'stopping the sync after one round: changes still pending are lost with the merge metadata ' + '(rows-replicated)',
    async () => {
      const { l } = await byHand({ stopSyncEarly: true });
      // The copies differ for good too: the no-snapshot subscriptions never compare rows again.
      expect(await failing(l)).toEqual(['rows-replicated', 'copies-validated-identical']);
    },
  );

  it(
    "running the subscription scripts as shipped (sync type Automatic): the snapshot wipes every subscriber's " +
      'archive (archives-intact)',
    async () => {
      const { l } = await byHand({ keepAutomaticSyncType: true });
      const check = await l.admin.check();
      expect(check.find((i) => i.name === 'archives-intact')).toMatchObject({
        ok: false,
        detail:
          'LAB-SUB1/PersonalizationServer lost 20 of 20 archive rows; LAB-SUB2/PersonalizationServer lost 20 ' +
          'of 20 archive rows',
      });
      expect(check.find((i) => i.name === 'replication-enabled')?.detail).toContain(
        'Config subscription for LAB-SUB1/PersonalizationServer has sync type automatic',
      );
    },
  );

  it(
    'skipping ConvertRowGuids from 8.2: subscriber rows carry other GUIDs, merges hit PK violations ' +
      '(no-conflicting-rows)',
    async () => {
      const { l, plan } = await byHand({ skipRowGuidConversion: true });
      // Users write again: their updates of old rows cannot merge.
      await syncRound(l, plan);
      await syncRound(l, plan);
      const conflicting = (await l.admin.check()).find((i) => i.name === 'no-conflicting-rows')!;
      expect(conflicting.ok).toBe(false);
      expect(conflicting.detail).toMatch(
        /rows have a different rowguid on a subscriber than on the publisher .*ConvertRowGuids\.sql was not run/,
      );
      expect(conflicting.detail).toMatch(
        /reason 2627.*Violation of PRIMARY KEY constraint 'PK_(ProfileData|PersonalizationGroup)'/,
      );
    },
  );

  it('the same runbook from 8.3.253.0 needs no conversion: row GUIDs already match', async () => {
    const { l } = await byHand({ skipRowGuidConversion: true }, { from: '8.3.253.0' });
    expect(await failing(l)).toEqual([]);
  });

  it(
    'leaving the background services running from 8.2: their writes during re-enable become conflicts ' +
      '(no-conflicting-rows)',
    async () => {
      const { l } = await byHand({ leaveBackgroundServicesRunning: true });
      const conflicting = (await l.admin.check()).find((i) => i.name === 'no-conflicting-rows')!;
      expect(conflicting.ok).toBe(false);
      expect(conflicting.detail).toMatch(
        /conflicts in MSmerge_conflicts_info \(\d+ Data reason 1\).*Background Service was upgrading users/,
      );
    },
  );

  it('running the Config and Data merges of one subscriber in parallel deadlocks (SqlError 1205)', async () => {
    const { lab: l, plan } = await lab();
    const [config, data] = [subscriptions(plan, 'Config')[0]!, subscriptions(plan, 'Data')[0]!];
    const results = await Promise.allSettled([l.sql.runMergeAgent(config), l.sql.runMergeAgent(data)]);
    expect(results[0].status).toBe('fulfilled');
    const failure = results[1] as PromiseRejectedResult;
    expect(failure.reason).toBeInstanceOf(SqlError);
    expect(failure.reason.number).toBe(1205);
    expect(failure.reason.message).toContain(
      'the config merge of LAB-SUB1/PersonalizationServer was running at the same time as Data',
    );
    // One after the other is fine.
    await expect(l.sql.runMergeAgent(data)).resolves.toMatchObject({ status: 'succeeded' });
  });

  it('configured PK conflicts stay through any number of merges until a DBA resolves them', async () => {
    const { lab: l, plan } = await lab({ conflicts: 3 });
    await syncRound(l, plan);
    await syncRound(l, plan);
    const all = (
      await Promise.all(
        ['Config', 'Data'].map((p) => l.sql.conflicts({ server: 'LAB-PUB', database: 'PersonalizationServer' }, p)),
      )
    ).flat();
    expect(all).toHaveLength(3);
    expect(all.every((c) => c.reasonCode === 2627 && c.conflictType === 5)).toBe(true);
    expect(await l.admin.resolveConflicts()).toBe(3);
  });
});
