// No silent divergence (issue #20 §1-2, §6) in the lab: for each path where the copies can differ
// while every old check passes, the old runbook (driven by hand, test/unit/lab/runbook.ts) ends
// with different copies, and the runbook's new activities (activities/personalization-upgrade/activities.ts on the
// lab's ports) find the difference, name it, and let the run complete with every invariant once fixed.
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../../activities/lab/index.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import {
  failing,
  labsPerTest,
  ref,
  runUpgradeByHand,
  subscriptions,
  syncUntilQuiet,
  errorOf,
  labActivities,
} from './runbook.js';

const lab = labsPerTest();

/** Every subscription validated, Config ones first, as the workflow's Fleet.validate does. */
async function validateAll(l: Lab, plan: UpgradePlan) {
  const { ctx, acts } = labActivities(l, plan);
  const out = [];
  for (const kind of ['Config', 'Data'] as const)
    for (const sub of subscriptions(plan, kind)) out.push(await acts.validateSubscription(ctx, sub));
  return out.map(
    (r) =>
      `${r.publication} → ${r.subscriber.server}: ${r.outcome}${r.tables.length ? ` (${r.tables.join(', ')})` : ''}`,
  );
}

async function totalPending(l: Lab, plan: UpgradePlan): Promise<number> {
  let n = 0;
  for (const sub of subscriptions(plan)) {
    const p = await l.sql.pendingChanges(sub);
    n += p.upload + p.download;
  }
  return n;
}

describe('rows in generation 0 that pending counts leave out', () => {
  // Quiet rounds with 0 pending, yet the copies differ, and after the upgrade they differ for good.
  it('the old runbook: 0 pending, yet the copies differ for good', async () => {
    const { lab: l, plan } = await lab({ conditions: { generationZeroRows: 3 } });
    for (const h of plan.sites.flatMap((s) => s.personalizationServers)) await l.hosts.drain(h);
    expect(await syncUntilQuiet(l, plan)).toBeDefined();
    // The old evidence: nothing pending anywhere.
    expect(await totalPending(l, plan)).toBe(0);
    await runUpgradeByHand(l, plan);
    expect(await failing(l)).toEqual(['rows-replicated', 'copies-validated-identical']);
    const copies = (await l.admin.check()).find((i) => i.name === 'copies-validated-identical')!;
    expect(copies.detail).toBe(
      'Data → LAB-SUB1/PersonalizationServer: ProfileData differ from LAB-PUB/PersonalizationServer',
    );
  });

  // Validation after the quiet rounds finds the Data table of LAB-SUB1 out of sync (not the others); after the DBA
  // fixes it the run completes with every invariant and validates identical after re-enable.
  it('the new runbook: validation finds the table out of sync; once fixed, the run completes', async () => {
    const { lab: l, plan } = await lab({ conditions: { generationZeroRows: 3 } });
    for (const h of plan.sites.flatMap((s) => s.personalizationServers)) await l.hosts.drain(h);
    await syncUntilQuiet(l, plan);
    expect(await validateAll(l, plan)).toEqual([
      'Config → LAB-SUB1: identical',
      'Config → LAB-SUB2: identical',
      'Data → LAB-SUB1: differs (ProfileData)',
      'Data → LAB-SUB2: identical',
    ]);
    // SQL Server's record of it, as the adapter reads it: the failed alert names the article.
    const state = await l.sql.validationState(subscriptions(plan, 'Data')[0]!);
    expect(state.alerts.filter((a) => !a.passed).map((a) => a.text)).toEqual([
      "Subscriber 'LAB-SUB1', subscription to article 'ProfileData' in publication 'Data' failed data validation.",
    ]);
    expect(state.attempted).toBeDefined();
    expect(state.lastValidated).toBeUndefined();

    // The DBA applies tablediff's fix script; the step's retry validates again.
    expect(await l.admin.fixGenerationZeroRows()).toBe(3 * 2); // to the publisher and LAB-SUB2
    await syncUntilQuiet(l, plan);
    expect((await validateAll(l, plan)).every((r) => r.endsWith('identical'))).toBe(true);
    await runUpgradeByHand(l, plan);
    expect(await failing(l)).toEqual([]);
    expect((await validateAll(l, plan)).every((r) => r.endsWith('identical'))).toBe(true);
  });

  // A second validation of the same subscription judges its own merge.
  it('a validation is repeatable (at-least-once)', async () => {
    const { lab: l, plan } = await lab({ conditions: { generationZeroRows: 1 } });
    const { ctx, acts } = labActivities(l, plan);
    const data1 = subscriptions(plan, 'Data')[0]!;
    for (const h of plan.sites.flatMap((s) => s.personalizationServers)) await l.hosts.drain(h);
    await syncUntilQuiet(l, plan);
    expect((await acts.validateSubscription(ctx, data1)).outcome).toBe('differs');
    expect((await acts.validateSubscription(ctx, data1)).outcome).toBe('differs');
    await l.admin.fixGenerationZeroRows();
    expect((await acts.validateSubscription(ctx, data1)).outcome).toBe('identical');
  });
});

/** verify-replication's (primary key, rowguid) sample of every publication, as the workflow runs it. */
async function compareAll(l: Lab, plan: UpgradePlan) {
  const { ctx, acts } = labActivities(l, plan);
  const bySite = (key: string) => ref(plan.sites.find((s) => s.key === key)!);
  const out: string[] = [];
  for (const p of plan.publications) {
    const r = await errorOf(acts.compareRowGuids(ctx, bySite(p.publisher), p.name, p.subscribers.map(bySite), 100));
    out.push(r ? `${p.name}: ${r.message}` : `${p.name}: same`);
  }
  return out;
}

describe('the (primary key, rowguid) sample after re-enable', () => {
  it("after a right upgrade every sampled row carries the publisher's rowguid", async () => {
    const { lab: l, plan } = await lab();
    await runUpgradeByHand(l, plan);
    const { ctx, acts } = labActivities(l, plan);
    const data = plan.publications.find((p) => p.kind === 'Data')!;
    const r = await acts.compareRowGuids(
      ctx,
      ref(plan.publisher),
      data.name,
      data.subscribers.map((k) => ref(plan.sites.find((s) => s.key === k)!)),
      100,
    );
    expect(r.notCompared).toEqual([]);
    expect(r.rowsCompared).toBeGreaterThan(2 * 20);
    expect(await compareAll(l, plan)).toEqual(['Config: same', 'Data: same']);
  });

  // The sample names each table and the keys whose rowguid differs.
  it('the old runbook without ConvertRowGuids: the sample finds the rows', async () => {
    const { lab: l, plan } = await lab({ rows: 6 });
    await runUpgradeByHand(l, plan, { skipRowGuidConversion: true });
    const found = await compareAll(l, plan);
    expect(found[0]).toMatch(
      /^Config: publication Config: rows with the same primary key carry another rowguid than at the publisher LAB-PUB\/PersonalizationServer \(a sample by primary key\): PersonalizationGroup at LAB-SUB1\/PersonalizationServer: \d+ rows, keys \d+-\d+/,
    );
    expect(found[1]).toContain('ProfileData at LAB-SUB2/PersonalizationServer');
  });
});

describe('a publication whose rowguid columns replication added (preserve_rowguidcol = 0)', () => {
  // Re-publishing gives the publisher new GUIDs no subscriber has.
  it('the old runbook: the canary still arrives, yet every Data row differs', async () => {
    const { lab: l, plan } = await lab({ from: '8.3.253.0', conditions: { replicationAddedRowGuids: true } });
    const run = await runUpgradeByHand(l, plan);
    expect(run.canary).toEqual([true, true]);
    expect(await failing(l)).toEqual(['no-conflicting-rows', 'copies-validated-identical']);
    const copies = (await l.admin.check()).find((i) => i.name === 'copies-validated-identical')!;
    expect(copies.detail).toContain('Data → LAB-SUB1/PersonalizationServer: ProfileData differ');
    // And merge validation after the re-enable says the same.
    expect(await validateAll(l, plan)).toEqual(
      expect.arrayContaining([
        'Data → LAB-SUB1: differs (ProfileData)',
        'Data → LAB-SUB2: differs (ProfileData)',
        'Config → LAB-SUB1: identical',
      ]),
    );
    // And so does the (primary key, rowguid) sample: Data's rows, not Config's.
    const sample = await compareAll(l, plan);
    expect(sample[0]).toBe('Config: same');
    expect(sample[1]).toMatch(
      /^Data: publication Data: rows with the same primary key carry another rowguid .*ProfileData at LAB-SUB1\/PersonalizationServer: \d+ rows, keys .*; ProfileData at LAB-SUB2\/PersonalizationServer/,
    );
  });

  // Before anything changes, with the explanation; the fleet is as it was.
  it('the new runbook: preflight stops, naming publication and table', async () => {
    const { lab: l, plan } = await lab({ from: '8.3.253.0', conditions: { replicationAddedRowGuids: true } });
    const { ctx, acts } = labActivities(l, plan);
    const err = await errorOf(acts.checkRowGuidColumns(ctx, ref(plan.publisher)));
    expect(err).toMatchObject({ type: 'PreflightFailed', nonRetryable: true });
    expect(err?.message).toMatch(
      /^on LAB-PUB\/PersonalizationServer replication added the rowguid column of these articles \(sysmergearticles\.preserve_rowguidcol = 0\): publication Data: ProfileData\. Removing replication drops that column \(Microsoft KB 2646528/,
    );
    const verdict = (await l.admin.state()).timeline;
    expect(verdict.removedAt).toBeUndefined();
    // Without the condition the same check passes.
    const clean = await lab({ from: '8.3.253.0' });
    const c = labActivities(clean.lab, clean.plan);
    await expect(c.acts.checkRowGuidColumns(c.ctx, ref(clean.plan.publisher))).resolves.toMatchObject({
      checked: ref(clean.plan.publisher),
    });
  });
});
