// The fleet module's facts for the two example plans, exactly: the order the runbook walks
// subscriptions, the servers preflight checks, the variables each script run gets, the round sums.
import { describe, expect, it } from 'vitest';
import * as fleet from '../../../plan/personalization-upgrade/fleet.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import { loadExample } from './load-example.js';

const db = (server: string, database = 'PersonalizationServer') => ({ server, database });
const LAB_PUB = db('LAB-PUB');
const LAB_SUB1 = db('LAB-SUB1');
const LAB_SUB2 = db('LAB-SUB2\\PERSONALIZATION');
const HQ = db('HQ-SQL');
const LEEDS = db('LEEDS-SQL');
const REC_LEEDS = db('HQ-SQL\\RECOVERY', 'Recovery Leeds');
const MUC = db('MUENCHEN-SQL', 'PersonalizationServer [DE]');
const REC_MUC = db('HQ-SQL\\RECOVERY', "Recovery O'Brien's München");
const keys = (sites: { key: string }[]) => sites.map((s) => s.key);

describe('lab-small: one publisher, two subscribers, Config and Data', () => {
  let plan: UpgradePlan;
  const load = async () => (plan ??= await loadExample('lab-small.yaml'));

  it('walks Config subscriptions, then Data ones, each publication in its subscribers order', async () => {
    await load();
    const sub = (publication: string, subscriber: typeof LAB_SUB1) => ({ publication, publisher: LAB_PUB, subscriber });
    expect(fleet.subscriptions(plan, 'Config')).toEqual([sub('Config', LAB_SUB1), sub('Config', LAB_SUB2)]);
    expect(fleet.subscriptions(plan, 'Data')).toEqual([sub('Data', LAB_SUB1), sub('Data', LAB_SUB2)]);
    expect(fleet.subscriptions(plan)).toEqual([
      ...fleet.subscriptions(plan, 'Config'),
      ...fleet.subscriptions(plan, 'Data'),
    ]);
    expect(fleet.subscriptionsAt(plan, LAB_PUB)).toEqual(
      fleet.subscriptions(plan).map(({ publication, subscriber }) => ({ publication, subscriber })),
    );
  });

  it('names the topology: sites by role, hosts once, servers once with what preflight expects', async () => {
    await load();
    expect(keys(fleet.publishers(plan))).toEqual(['LAB-PUB/PersonalizationServer']);
    expect(keys(fleet.canarySites(plan))).toEqual(['LAB-PUB/PersonalizationServer']);
    expect(keys(fleet.subscriberSites(plan))).toEqual([
      'LAB-SUB1/PersonalizationServer',
      'LAB-SUB2\\PERSONALIZATION/PersonalizationServer',
    ]);
    expect(keys(fleet.publishersOf(plan, plan.sites[2]!))).toEqual(['LAB-PUB/PersonalizationServer']);
    expect(fleet.hosts(plan)).toEqual(['ps-pub-1', 'ps-pub-2', 'ps-sub1-1', 'ps-sub2-1']);
    expect(fleet.servers(plan)).toEqual([
      { name: 'LAB-PUB', sqlVersion: '15.0.2000.5', edition: 'Standard', publishes: true },
      { name: 'LAB-SUB1', sqlVersion: '15.0.2000.5', edition: 'Standard', publishes: false },
      { name: 'LAB-SUB2\\PERSONALIZATION', sqlVersion: '15.0.2000.5', edition: 'Express', publishes: false },
    ]);
    expect(fleet.distributes(plan, 'lab-pub')).toBe(true);
    expect(fleet.distributes(plan, 'LAB-SUB1')).toBe(false);
    expect(fleet.distributorOnItsOwn(plan)).toBe(false);
    expect(fleet.ownDistributorServers(plan)).toEqual([]);
    expect(fleet.versionPairs(plan)).toEqual([
      { publisher: 'LAB-PUB', subscriber: 'LAB-SUB1' },
      { publisher: 'LAB-PUB', subscriber: 'LAB-SUB2\\PERSONALIZATION' },
      { publisher: 'LAB-PUB', subscriber: 'LAB-SUB1' },
      { publisher: 'LAB-PUB', subscriber: 'LAB-SUB2\\PERSONALIZATION' },
    ]);
    expect(fleet.removalOrder(plan).map(keys)).toEqual([
      ['LAB-PUB/PersonalizationServer'],
      ['LAB-SUB1/PersonalizationServer', 'LAB-SUB2\\PERSONALIZATION/PersonalizationServer'],
    ]);
    expect(fleet.upgradeOrder(plan).map(keys)).toEqual([
      ['LAB-PUB/PersonalizationServer'],
      ['LAB-SUB1/PersonalizationServer', 'LAB-SUB2\\PERSONALIZATION/PersonalizationServer'],
    ]);
  });

  it('gives each script run the default variables, the plan distributor for ConvertRowGuids', async () => {
    await load();
    expect(fleet.scriptVariables(plan, { subscriber: LAB_SUB2 })).toEqual({
      DistributorServer: 'LAB-PUB',
      SubscriberServer: 'LAB-SUB2\\PERSONALIZATION',
      SubscriberDatabase: 'PersonalizationServer',
    });
    expect(fleet.scriptVariables(plan, { publication: 'Config', publisher: LAB_PUB })).toEqual({
      DistributorServer: 'LAB-PUB',
      Publication: 'Config',
      PublisherServer: 'LAB-PUB',
      PublisherDatabase: 'PersonalizationServer',
    });
    expect(fleet.scriptVariables(plan, { publication: 'Data', publisher: LAB_PUB, subscriber: LAB_SUB1 })).toEqual({
      DistributorServer: 'LAB-PUB',
      Publication: 'Data',
      PublisherServer: 'LAB-PUB',
      PublisherDatabase: 'PersonalizationServer',
      SubscriberServer: 'LAB-SUB1',
      SubscriberDatabase: 'PersonalizationServer',
    });
  });

  it('plans every run: publications at the publisher, subscriptions and ConvertRowGuids per subscriber', async () => {
    await load();
    const runs = fleet.scriptRuns(plan, true);
    expect(runs).toEqual({
      publications: [
        { name: 'Config', kind: 'Config', publisher: LAB_PUB, subscribers: [LAB_SUB1, LAB_SUB2] },
        { name: 'Data', kind: 'Data', publisher: LAB_PUB, subscribers: [LAB_SUB1, LAB_SUB2] },
      ],
      rowGuidSites: [LAB_SUB1, LAB_SUB2],
    });
    expect(fleet.scriptRuns(plan, false).rowGuidSites).toEqual([]);
    const dist = db('LAB-PUB', 'distribution');
    const planned = fleet.plannedScripts(
      plan.scripts.files,
      runs,
      true,
      fleet.fleetDistributors(plan),
      plan.distributor,
    );
    expect(planned.map((p) => [p.file, p.rewrite, p.publication, p.runs.length])).toEqual([
      ['CreateConfigPublication.sql', false, true, 1],
      ['CreateDataPublication.sql', false, true, 1],
      ['CreateConfigSubscription.sql', true, false, 2],
      ['CreateDataSubscription.sql', true, false, 2],
      ['ConvertRowGuids.sql', false, false, 2],
    ]);
    expect(planned[0]!.runs).toEqual([
      { for: { publication: 'Config', publisher: LAB_PUB, distributor: dist }, at: LAB_PUB },
    ]);
    expect(planned[3]!.runs[1]).toEqual({
      for: { publication: 'Data', publisher: LAB_PUB, subscriber: LAB_SUB2, distributor: dist },
      at: LAB_PUB,
    });
    expect(planned[4]!.runs[0]).toEqual({ for: { subscriber: LAB_SUB1, distributor: dist }, at: LAB_SUB1 });
    expect(fleet.plannedScripts(plan.scripts.files, runs, false, undefined, dist).map((p) => p.file)).not.toContain(
      'ConvertRowGuids.sql',
    );
  });

  it('builds the activities context: distributors, no scripts entry unless the plan sets one', async () => {
    await load();
    const ctx = fleet.fleetContext(plan);
    expect(ctx.distributors).toEqual([{ publisher: 'LAB-PUB', distributor: db('LAB-PUB', 'distribution') }]);
    expect('scripts' in ctx).toBe(false);
    expect(fleet.fleetContext({ ...plan, scripts: { ...plan.scripts, onError: 'ignore' } }).scripts).toEqual({
      onError: 'ignore',
    });
  });
});

describe('branch-office: HQ publishes Config, each branch its own Data to a recovery database', () => {
  let plan: UpgradePlan;
  const load = async () => (plan ??= await loadExample('branch-office.yaml'));

  it('walks HQ Config to every branch and recovery database, then each branch Data', async () => {
    await load();
    expect(fleet.subscriptions(plan, 'Config')).toEqual(
      [LEEDS, REC_LEEDS, MUC, REC_MUC].map((subscriber) => ({ publication: 'Config', publisher: HQ, subscriber })),
    );
    expect(fleet.subscriptions(plan, 'Data')).toEqual([
      { publication: 'Data', publisher: LEEDS, subscriber: REC_LEEDS },
      { publication: 'Data', publisher: MUC, subscriber: REC_MUC },
    ]);
    expect(fleet.subscriptionsAt(plan, LEEDS)).toEqual([{ publication: 'Data', subscriber: REC_LEEDS }]);
  });

  it('names branches as publishers and subscribers; the recovery instance is one server', async () => {
    await load();
    expect(keys(fleet.publishers(plan))).toEqual([
      'HQ-SQL/PersonalizationServer',
      'LEEDS-SQL/PersonalizationServer',
      'MUENCHEN-SQL/PersonalizationServer [DE]',
    ]);
    expect(keys(fleet.canarySites(plan))).toEqual(keys(fleet.publishers(plan)));
    expect(keys(fleet.subscriberSites(plan))).toEqual([
      'LEEDS-SQL/PersonalizationServer',
      'HQ-SQL\\RECOVERY/Recovery Leeds',
      'MUENCHEN-SQL/PersonalizationServer [DE]',
      "HQ-SQL\\RECOVERY/Recovery O'Brien's München",
    ]);
    expect(keys(fleet.publishersOf(plan, plan.sites[2]!))).toEqual([
      'HQ-SQL/PersonalizationServer',
      'LEEDS-SQL/PersonalizationServer',
    ]);
    expect(fleet.hosts(plan)).toEqual(['ps-hq-1', 'ps-leeds-1', 'ps-rec-leeds', 'ps-muc-1', 'ps-muc-2', 'ps-rec-muc']);
    expect(fleet.servers(plan)).toEqual([
      { name: 'HQ-SQL', sqlVersion: '16.0.1000.6', edition: 'Enterprise', publishes: true },
      { name: 'LEEDS-SQL', sqlVersion: '15.0.2000.5', edition: 'Standard', publishes: true },
      { name: 'HQ-SQL\\RECOVERY', sqlVersion: '15.0.2000.5', publishes: false },
      { name: 'MUENCHEN-SQL', sqlVersion: '15.0.2000.5', edition: 'Standard', publishes: true },
    ]);
    expect(['HQ-SQL', 'LEEDS-SQL', 'MUENCHEN-SQL', 'HQ-SQL\\RECOVERY'].map((s) => fleet.distributes(plan, s))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(fleet.siteDistributors(plan).map((d) => [d.site.server, d.distributor.server])).toEqual([
      ['HQ-SQL', 'HQ-SQL'],
      ['LEEDS-SQL', 'LEEDS-SQL'],
      ['MUENCHEN-SQL', 'MUENCHEN-SQL'],
    ]);
    expect(fleet.removalOrder(plan).map(keys)).toEqual([
      ['HQ-SQL/PersonalizationServer', 'LEEDS-SQL/PersonalizationServer', 'MUENCHEN-SQL/PersonalizationServer [DE]'],
      ['HQ-SQL\\RECOVERY/Recovery Leeds', "HQ-SQL\\RECOVERY/Recovery O'Brien's München"],
    ]);
  });

  it("gives a branch's Data scripts the branch as distributor, Config's the central one", async () => {
    await load();
    expect(fleet.scriptVariables(plan, { publication: 'Data', publisher: LEEDS, subscriber: REC_LEEDS })).toEqual({
      DistributorServer: 'LEEDS-SQL',
      Publication: 'Data',
      PublisherServer: 'LEEDS-SQL',
      PublisherDatabase: 'PersonalizationServer',
      SubscriberServer: 'HQ-SQL\\RECOVERY',
      SubscriberDatabase: 'Recovery Leeds',
    });
    expect(fleet.scriptVariables(plan, { publication: 'Config', publisher: HQ }).DistributorServer).toBe('HQ-SQL');
    expect(fleet.scriptVariables(plan, { subscriber: MUC }).DistributorServer).toBe('HQ-SQL');
    const planned = fleet.plannedScripts(
      plan.scripts.files,
      fleet.scriptRuns(plan, true),
      true,
      fleet.fleetDistributors(plan),
      plan.distributor,
    );
    expect(planned.map((p) => p.runs.length)).toEqual([1, 2, 4, 2, 4]);
    expect(planned[1]!.runs.map((r) => [r.at.server, r.for.distributor.server])).toEqual([
      ['LEEDS-SQL', 'LEEDS-SQL'],
      ['MUENCHEN-SQL', 'MUENCHEN-SQL'],
    ]);
  });

  it("maps variables through the plan's own names when it sets scripts.variables", async () => {
    await load();
    const mapped = {
      ...plan,
      scripts: {
        ...plan.scripts,
        variables: { Dist: '{distributor.server}', Target: '{subscriber.server}:{subscriber.database}' },
      },
    };
    expect(fleet.scriptVariables(mapped, { subscriber: REC_MUC })).toEqual({
      Dist: 'HQ-SQL',
      Target: "HQ-SQL\\RECOVERY:Recovery O'Brien's München",
    });
    // A variable whose placeholder is unknown for this run is left out (preflight names it).
    expect(fleet.scriptVariables(mapped, { publication: 'Config', publisher: HQ })).toEqual({ Dist: 'HQ-SQL' });
  });

  it('refuses a site key the plan does not define', async () => {
    await load();
    expect(() => fleet.siteOf(plan, 'NOWHERE/db')).toThrow(new fleet.UnknownSiteError('NOWHERE/db'));
    expect(new fleet.UnknownSiteError('x').message).toBe('the plan names site x but does not define it');
  });
});

describe('sync round arithmetic', () => {
  const counts = (inserts: number, updates: number, deletes: number, conflicts = 0) => ({
    inserts,
    updates,
    deletes,
    conflicts,
  });
  const merge = (
    up: ReturnType<typeof counts>,
    down: ReturnType<typeof counts>,
    pending = { upload: 0, download: 0 },
  ) => ({ session: { upload: up, download: down }, pending });

  it('sums rows moved both ways, conflicts and pending over a round', () => {
    expect(fleet.changedRows(counts(1, 2, 3, 9))).toBe(6);
    expect(fleet.mergeTotals(merge(counts(1, 0, 0, 1), counts(0, 2, 1, 2), { upload: 4, download: 5 }))).toEqual({
      moved: 4,
      conflicts: 3,
      pending: 9,
    });
    expect(
      fleet.sumMerges([
        merge(counts(1, 1, 1), counts(0, 0, 0)),
        merge(counts(0, 0, 0), counts(2, 0, 0, 1), { upload: 0, download: 3 }),
      ]),
    ).toEqual({ moved: 5, conflicts: 1, pending: 3 });
    expect(fleet.sumMerges([])).toEqual({ moved: 0, conflicts: 0, pending: 0 });
  });

  it('counts quiet rounds in a row: one with anything moved, conflicting or pending starts again', () => {
    expect(fleet.isQuiet({ moved: 0, conflicts: 0, pending: 0 })).toBe(true);
    expect(
      [
        { moved: 1, conflicts: 0, pending: 0 },
        { moved: 0, conflicts: 1, pending: 0 },
        { moved: 0, conflicts: 0, pending: 1 },
      ].map(fleet.isQuiet),
    ).toEqual([false, false, false]);
    expect(fleet.quietRoundsAfter(1, { moved: 0, conflicts: 0, pending: 0 })).toBe(2);
    expect(fleet.quietRoundsAfter(1, { moved: 0, conflicts: 0, pending: 2 })).toBe(0);
    expect(fleet.KIND_ORDER).toEqual(['Config', 'Data']);
  });
});
