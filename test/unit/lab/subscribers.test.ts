// The subscriber runbooks in the lab, driven by hand through their activities: the right procedure
// keeps the lab's invariants; each wrong one (a snapshot without the approval, a drop without the
// subscriber's cleanup, replication removed at the publisher) fails the invariant that guards it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initLab, readLabState } from '../../../activities/lab/index.js';
import { addLabSubscriberDatabase, subscriberInvariants } from '../../../activities/lab/subscribers.js';
import { createUpgradeActivities, type FleetContext } from '../../../activities/personalization-upgrade/activities.js';
import { createSubscriberActivities } from '../../../activities/subscribers/activities.js';
import { createPortsFor } from '../../../worker/ports.js';
import { createSubscriberPortsFor } from '../../../worker/subscriber-ports.js';
import type { SubscriptionRef } from '../../../activities/ports.js';
import { labPlan, SCRIPTS_DIR } from './runbook.js';

const PUB = { server: 'LAB-PUB', database: 'PersonalizationServer' };
const NEW = { server: 'LAB-SUB3', database: 'PersonalizationServer' };
const SUB1 = { server: 'LAB-SUB1', database: 'PersonalizationServer' };
const SUB2 = { server: 'LAB-SUB2', database: 'PersonalizationServer' };
const FILES = { Config: 'CreateConfigSubscription.sql', Data: 'CreateDataSubscription.sql' } as const;

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** A lab of labPlan's fleet plus LAB-SUB3, a database with 5 rows of its own per table, and the activities over it. */
async function subscriberLab() {
  const dir = mkdtempSync(join(tmpdir(), 'replup-subscribers-'));
  const statePath = join(dir, 'lab.json');
  await initLab(labPlan(statePath), { statePath, rows: 6 });
  await addLabSubscriberDatabase(statePath, { ...NEW, rows: 5 });
  const portsFor = createPortsFor();
  const subscriberPorts = createSubscriberPortsFor(portsFor);
  cleanup = async () => {
    await subscriberPorts.close();
    await portsFor.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const ctx: FleetContext = {
    target: { kind: 'lab', state: statePath },
    credentials: { kind: 'windows' },
    hosts: { upgrade: 'manual' },
    scriptsDir: SCRIPTS_DIR,
    distributor: { server: 'LAB-PUB', database: 'distribution' },
  };
  const acts = { ...createUpgradeActivities(portsFor), ...createSubscriberActivities(portsFor, subscriberPorts) };
  const sub = (publication: 'Config' | 'Data', subscriber = NEW): SubscriptionRef => ({
    publication,
    publisher: PUB,
    subscriber,
  });
  return { statePath, ctx, acts, sub, state: () => readLabState(statePath) };
}

type Lab = Awaited<ReturnType<typeof subscriberLab>>;
const verdict = (lab: Lab, intent: Parameters<typeof subscriberInvariants>[1]) =>
  Object.fromEntries(subscriberInvariants(lab.state(), intent).map((i) => [i.name, i]));

/** add-subscriber's steps, with `approve` false for the wrong way: no approval recorded before the snapshot. */
async function addSubscriber(lab: Lab, approve: boolean) {
  const facts = await lab.acts.checkNewSubscriber(lab.ctx, PUB, NEW, ['Config', 'Data']);
  if (approve) await lab.acts.markReplacementApproved(lab.ctx, NEW, 'alice (test)');
  for (const p of ['Config', 'Data'] as const) await lab.acts.addSnapshotSubscription(lab.ctx, lab.sub(p), FILES[p]);
  for (const p of ['Config', 'Data'] as const) await lab.acts.mergeSubscription(lab.ctx, lab.sub(p));
  return facts;
}

describe('add-subscriber in the lab', () => {
  it('names the rows the snapshot replaces; approved, the subscriber is added, its loss on the record', async () => {
    const lab = await subscriberLab();
    const facts = await addSubscriber(lab, true);
    expect(facts.rows).toBe(15);
    expect(facts.tables).toContainEqual({ table: 'dbo.ProfileData', rows: 5 });
    await lab.acts.writeCanary(lab.ctx, PUB, 'replup-test');
    await lab.acts.mergeSubscription(lab.ctx, lab.sub('Config'));
    expect((await lab.acts.readCanary(lab.ctx, NEW, 'replup-test')).arrived).toBe(true);
    const v = verdict(lab, { added: NEW });
    expect(v['subscriber-data-approved']!.ok).toBe(true);
    expect(v['subscriber-added']!.ok).toBe(true);
    expect(v['fleet-replicating']!.ok).toBe(true);
  });

  it('fails when the snapshot replaced the data without an approval (the wrong procedure)', async () => {
    const lab = await subscriberLab();
    await addSubscriber(lab, false);
    const v = verdict(lab, { added: NEW });
    expect(v['subscriber-data-approved']!.ok).toBe(false);
    expect(v['subscriber-data-approved']!.detail).toBe(
      'LAB-SUB3/PersonalizationServer lost 15 rows of its own without an approval',
    );
  });

  it('preflight refuses a database that already subscribes', async () => {
    const lab = await subscriberLab();
    await expect(lab.acts.checkNewSubscriber(lab.ctx, PUB, SUB1, ['Config'])).rejects.toThrow(
      /already subscribes to Config/,
    );
  });
});

describe('remove-subscriber in the lab', () => {
  it('dropped at the publisher and cleaned at the subscriber: removed at both ends, the fleet replicates', async () => {
    const lab = await subscriberLab();
    const { mine, others } = await lab.acts.fleetSubscriptions(lab.ctx, PUB, SUB1);
    expect(mine.map((x) => x.publication).sort()).toEqual(['Config', 'Data']);
    for (const s of mine) await lab.acts.dropAtPublisher(lab.ctx, s);
    for (const s of mine) await lab.acts.cleanupAtSubscriber(lab.ctx, { ...s, subscriber: SUB1 });
    await lab.acts.verifyRemoved(lab.ctx, PUB, SUB1);
    await lab.acts.writeCanary(lab.ctx, PUB, 'replup-rest');
    for (const s of others) await lab.acts.mergeSubscription(lab.ctx, s);
    expect((await lab.acts.readCanary(lab.ctx, SUB2, 'replup-rest')).arrived).toBe(true);
    expect((await lab.acts.readCanary(lab.ctx, SUB1, 'replup-rest')).arrived).toBe(false);
    const v = verdict(lab, { removed: SUB1 });
    expect(Object.values(v).every((i) => i.ok)).toBe(true);
    // Deleting a subscription does not remove its data.
    expect(
      Object.keys(lab.state().databases['LAB-SUB1/PersonalizationServer']!.tables.ProfileData!).length,
    ).toBeGreaterThan(0);
  });

  it('fails when only the publisher dropped the subscriptions (no sp_mergesubscription_cleanup)', async () => {
    const lab = await subscriberLab();
    for (const p of ['Config', 'Data'] as const) await lab.acts.dropAtPublisher(lab.ctx, lab.sub(p, SUB1));
    await expect(lab.acts.verifyRemoved(lab.ctx, PUB, SUB1)).rejects.toThrow(/still holds merge metadata of Config/);
    const v = verdict(lab, { removed: SUB1 });
    expect(v['subscriber-removed']!.ok).toBe(false);
    expect(v['subscriber-removed']!.detail).toMatch(/no sp_mergesubscription_cleanup/);
  });

  it('fails when replication was removed at the publisher: the rest of the fleet no longer replicates', async () => {
    const lab = await subscriberLab();
    await lab.acts.removeReplication(lab.ctx, PUB);
    const v = verdict(lab, { removed: SUB1 });
    expect(v['fleet-replicating']!.ok).toBe(false);
    expect(v['fleet-replicating']!.detail).toMatch(/Config → LAB-SUB2\/PersonalizationServer is gone/);
  });
});
