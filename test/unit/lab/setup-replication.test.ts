// The set-up runbook in the lab (issue 24): done as the seed says, every set-up invariant holds;
// done wrong (Data before Config, subscribed before the snapshot, a publication without its
// articles, a subscriber newer than its publisher, the branch order broken), the lab says so.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openLab, readLabState, type Lab, type LabConditions } from '../../../activities/lab/index.js';
import { initSetupLab } from '../../../activities/lab/setup-replication.js';
import { labVerdict } from '../../../activities/lab/check.js';
import { createUpgradeActivities } from '../../../activities/personalization-upgrade/activities.js';
import { createSetupActivities } from '../../../activities/setup-replication/activities.js';
import { parseSetupPlan } from '../../../plan/setup-replication/schema.js';
import type { SetupPlan } from '../../../plan/setup-replication/types.js';
import { setupSteps } from '../../../plan/setup-replication/steps.js';
import { setupFleetContext } from '../../../plan/setup-replication/fleet.js';
import { setupRunbook } from '../../../workflows/setup-replication.js';
import { scriptDriver } from '../../../bench/script-driver.js';
import * as F from '../../../plan/personalization-upgrade/fleet.js';
import type { LabState } from '../../../activities/lab/model.js';
import { removeTempLabs, tempStatePath } from './runbook.js';

process.env.REPLUP_LAB_CHECK_DIRTY ??= '1';

const EXAMPLES = resolve(import.meta.dirname, '../../../examples');

/** An example set-up plan pointed at a fresh lab in a temp folder. */
export function setupPlan(example: 'setup-replication' | 'setup-branch-office', statePath: string): SetupPlan {
  const file = resolve(EXAMPLES, `${example}.yaml`);
  const parsed = parseSetupPlan(readFileSync(file, 'utf8'), file);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return { ...parsed.value, target: { kind: 'lab', state: statePath } };
}

const open: Lab[] = [];
afterEach(() => {
  for (const l of open.splice(0)) l.admin.close();
});
afterAll(removeTempLabs);

async function setupLab(
  example: 'setup-replication' | 'setup-branch-office',
  opts: { conditions?: LabConditions; change?: (s: LabState) => void } = {},
) {
  const statePath = tempStatePath();
  const plan = setupPlan(example, statePath);
  await initSetupLab(plan, { rows: 10, seed: 3, ...(opts.conditions && { conditions: opts.conditions }) });
  if (opts.change) {
    const s = readLabState(statePath);
    opts.change(s);
    writeFileSync(statePath, JSON.stringify(s));
  }
  const lab = openLab(statePath, { latencyScale: 0 });
  open.push(lab);
  const ports = { sql: lab.sql, hosts: lab.hosts };
  const acts = { ...createUpgradeActivities(() => ports), ...createSetupActivities(() => ports) };
  const ctx = setupFleetContext(plan);
  return { plan, statePath, lab, acts, ctx };
}

/** The runbook as a plain script over the lab (the workflow's steps, no Temporal). */
async function runByScript(l: Awaited<ReturnType<typeof setupLab>>) {
  const steps = setupSteps(l.plan);
  const driver = scriptDriver(l.acts, {
    ids: { workflowId: 'script', runId: 'r1', firstRunId: 'r1' },
    applies: (id) => steps.find((s) => s.id === id)?.applies ?? false,
  });
  await setupRunbook(driver, { plan: l.plan, requestedBy: 'test' });
}

const failing = (state: LabState) =>
  labVerdict(state)
    .invariants.filter((i) => !i.ok)
    .map((i) => i.name);

/** The building blocks of the runbook, called by hand in the order a test gives. */
async function byHand(l: Awaited<ReturnType<typeof setupLab>>) {
  const prepared = await l.acts.prepareScripts(l.ctx, { ...l.plan.scripts.files }, false, F.scriptRuns(l.plan, false));
  const ref = (file: string) => prepared.find((p) => p.file === file)!;
  const site = (key: string) => F.dbRef(F.siteOf(l.plan, key));
  const h = {
    publish: (kind: 'Config' | 'Data', publisher = l.plan.publisher.key) =>
      l.acts.createPublication(
        l.ctx,
        site(publisher),
        kind,
        ref(l.plan.scripts.files[F.SCRIPT_OF_KIND[kind].publication]),
        {},
      ),
    subscribe: async (
      kind: 'Config' | 'Data',
      filter: (subscriberKey: string) => boolean = () => true,
      merge = true,
    ) => {
      for (const sub of F.subscriptions(l.plan, kind).filter((x) =>
        filter(`${x.subscriber.server}/${x.subscriber.database}`),
      )) {
        await l.acts.subscribeWithSnapshot(l.ctx, sub, l.plan.scripts.files[F.SCRIPT_OF_KIND[kind].subscription]);
        // The lab's merge agent refuses a snapshot not generated yet, as SQL Server does.
        if (merge) await l.acts.mergeSubscription(l.ctx, sub);
      }
    },
    rcsi: async () => {
      for (const c of l.plan.readCommittedSnapshot) await l.acts.setReadCommittedSnapshot(l.ctx, site(c.site), c.on);
    },
    /** SetMasterUp's "set up the distributer" where a publisher distributes for itself. */
    distributors: async () => {
      for (const { site: at, distributor } of F.siteDistributors(l.plan))
        if (at.server === distributor.server) await l.acts.configureDistributor(l.ctx, F.dbRef(at), distributor);
    },
    /** Every step in the seed's order (SetMasterUp form), without the runbook's preflight. */
    seedOrder: async () => {
      await h.distributors();
      await h.rcsi();
      for (const kind of ['Config', 'Data'] as const) await h.publish(kind);
      for (const kind of ['Config', 'Data'] as const) await h.subscribe(kind);
    },
  };
  return h;
}

describe('set-up in the lab', () => {
  it('a lab made from a set-up plan has the databases and no replication', async () => {
    const l = await setupLab('setup-replication');
    const s = readLabState(l.statePath);
    expect(Object.keys(s.databases)).toHaveLength(3);
    expect(Object.values(s.subscriptions)).toHaveLength(0);
    expect(s.distributors).toMatchObject({ 'LAB-MASTER': null });
    expect(Object.values(s.databases).every((d) => !d.mergePublished && !Object.keys(d.publications).length)).toBe(
      true,
    );
    // Nothing is set up yet: the set-up's promises fail.
    expect(failing(s)).toContain('publications-complete');
  });

  it('the runbook, as the seed gives it, keeps every invariant (SetMasterUp form)', async () => {
    const l = await setupLab('setup-replication', { conditions: { snapshotTicks: 3 } });
    await runByScript(l);
    const s = readLabState(l.statePath);
    expect(labVerdict(s).invariants.filter((i) => !i.ok)).toEqual([]);
    expect(s.databases['LAB-MASTER/PersonalizationServer']!.readCommittedSnapshot).toBe(true);
  });

  it('the runbook keeps every invariant in the branch-office form', async () => {
    const l = await setupLab('setup-branch-office', { conditions: { snapshotTicks: 3 } });
    await runByScript(l);
    expect(labVerdict(readLabState(l.statePath)).invariants.filter((i) => !i.ok)).toEqual([]);
  });

  it('Data published before Config, and subscribed before the snapshot was ready, fail', async () => {
    const l = await setupLab('setup-replication', { conditions: { snapshotTicks: 50 } });
    const h = await byHand(l);
    await h.distributors();
    await h.rcsi();
    await h.publish('Data');
    await h.publish('Config');
    await h.subscribe('Config', () => true, false);
    await h.subscribe('Data', () => true, false);
    expect(failing(readLabState(l.statePath))).toEqual([
      'subscriptions-initialized',
      'setup-order',
      'snapshot-before-subscribe',
    ]);
  });

  it('a publication without its articles fails', async () => {
    const l = await setupLab('setup-replication');
    await (await byHand(l)).seedOrder();
    const s = readLabState(l.statePath);
    expect(failing(s)).toEqual([]);
    s.databases['LAB-MASTER/PersonalizationServer']!.publications.Data!.articles = [];
    expect(failing(s)).toEqual(['publications-complete']);
  });

  it('a subscriber on a newer SQL Server than its publisher fails (by hand, without preflight)', async () => {
    const l = await setupLab('setup-replication', {
      change: (s) => (s.servers['LAB-SITE1']!.version = '17.0.1000.6'),
    });
    await (await byHand(l)).seedOrder();
    expect(failing(readLabState(l.statePath))).toEqual(['publisher-version-highest']);
  });

  it('the runbook refuses that subscriber at preflight and changes nothing', async () => {
    const l = await setupLab('setup-replication', {
      change: (s) => (s.servers['LAB-SITE1']!.version = '17.0.1000.6'),
    });
    const before = readLabState(l.statePath);
    await expect(runByScript(l)).rejects.toThrow(/LAB-SITE1 runs SQL Server 17.0.1000.6|newer than/);
    // Users go on writing rows; replication and its settings are as they were.
    const replication = (s: LabState) =>
      Object.values(s.databases).map((d) => [d.key, d.mergePublished, d.publications, d.readCommittedSnapshot]);
    const after = readLabState(l.statePath);
    expect(replication(after)).toEqual(replication(before));
    expect(after.subscriptions).toEqual({});
  });

  it('a branch publishing Data before the recovery databases subscribed to Config fails the branch order', async () => {
    const l = await setupLab('setup-branch-office');
    const h = await byHand(l);
    const branches = l.plan.sites.filter((x) => x.role === 'publisher-subscriber');
    await h.distributors();
    await h.rcsi();
    await h.publish('Config');
    await h.subscribe('Config', (k) => branches.some((b) => b.key === k));
    for (const b of branches) await h.publish('Data', b.key);
    await h.subscribe('Config', (k) => !branches.some((b) => b.key === k));
    await h.subscribe('Data');
    expect(failing(readLabState(l.statePath))).toEqual(['setup-order']);
  });

  it('publications and subscriptions made without installing the distributor fail', async () => {
    const l = await setupLab('setup-replication');
    const h = await byHand(l);
    await h.rcsi();
    await h.publish('Config');
    await h.publish('Data');
    // The lab's merge agent has no distributor to run at, as on SQL Server: the subscriptions stay uninitialized.
    await h.subscribe('Config', () => true, false);
    await h.subscribe('Data', () => true, false);
    expect(failing(readLabState(l.statePath))).toEqual(['distributors-installed', 'subscriptions-initialized']);
  });

  it('the wrong read committed snapshot choice fails', async () => {
    const l = await setupLab('setup-replication');
    await runByScript(l);
    await l.acts.setReadCommittedSnapshot(l.ctx, F.dbRef(l.plan.publisher), false);
    expect(failing(readLabState(l.statePath))).toEqual(['read-committed-snapshot']);
  });
});
