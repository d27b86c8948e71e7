// The lab fails where a real fleet would (issue #18 §5): for each condition a real fleet can be in,
// the runbook without the new check loses time or data in the lab, and the runbook's activities
// (activities/personalization-upgrade/activities.ts, on the lab's ports) stop before anything changed or complete with
// every invariant.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SqlError } from '../../../activities/ports.js';
import { recordSchedules } from '../../../activities/personalization-upgrade/preflight.js';
import type { Lab } from '../../../activities/lab/index.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import {
  SCRIPTS_DIR,
  failing,
  labsPerTest,
  ref,
  runUpgradeByHand,
  script,
  subscriptions,
  syncRound,
  errorOf,
  labActivities,
} from './runbook.js';

const lab = labsPerTest();

const planned = (plan: UpgradePlan) =>
  subscriptions(plan).map((s) => ({ publication: s.publication, subscriber: s.subscriber }));
/** Lab operations that change nothing but let time pass (an operator reading status while a step is parked). */
async function letTimePass(l: Lab, plan: UpgradePlan, ops: number) {
  for (let i = 0; i < ops; i++) await l.sql.replicationState(ref(plan.publisher));
}

/** The Config publication removed and created again by its script: its snapshot is to be made anew. */
async function republishConfig({ lab: l, plan }: { lab: Lab; plan: UpgradePlan }) {
  await l.sql.removeReplication(ref(plan.publisher));
  await l.sql.runScript(
    ref(plan.publisher),
    script('CreateConfigPublication.sql', {
      PublisherServer: 'LAB-PUB',
      PublisherDatabase: 'PersonalizationServer',
      Publication: 'Config',
    }),
  );
}

describe('an expired subscription (not merged within the retention period)', () => {
  // Its merges fail "has expired" and the sync never gets quiet.
  it('without the check: its changes are lost with replication (rows-replicated)', async () => {
    const { lab: l, plan } = await lab({ conditions: { expiredSubscriptions: 1 } });
    const session = await l.sql.runMergeAgent(subscriptions(plan)[0]!);
    expect(session).toMatchObject({ status: 'failed', message: expect.stringContaining('has expired') });
    const run = await runUpgradeByHand(l, plan);
    expect(run.quietAfter).toBeUndefined();
    expect(await failing(l)).toContain('rows-replicated');
  });

  // Before anything changes; a merge that finds it expired is a permanent failure, not retried.
  it('preflight stops, naming the subscription and the fix', async () => {
    const { lab: l, plan } = await lab({ conditions: { expiredSubscriptions: 1 } });
    const { ctx, acts } = labActivities(l, plan);
    const err = await errorOf(acts.checkSubscriptions(ctx, ref(plan.publisher), planned(plan), 8));
    expect(err?.message).toMatch(
      /^subscription Config → LAB-SUB1\/PersonalizationServer has expired \(last merged .*publication retention 14 days.*\): its changes can no longer merge/,
    );
    expect(err?.message).toContain("sp_reinitmergesubscription @upload_first = 'true'");
    expect((err as { nonRetryable?: boolean }).nonRetryable).toBe(true);
    // Nothing changed: every user still served, replication as it was.
    expect(await failing(l)).toEqual(expect.not.arrayContaining(['replication-enabled', 'serving-again']));
    const merge = await errorOf(acts.mergeSubscription(ctx, subscriptions(plan)[0]!));
    expect(merge).toMatchObject({ type: 'SubscriptionExpired', nonRetryable: true });
    expect(merge?.message).toContain('has expired');
  });
});

describe('a subscription about to expire', () => {
  it('preflight warns (retention ends within the planned run) and the run completes with every invariant', async () => {
    const { lab: l, plan } = await lab({ conditions: { expiringSubscriptions: 1 } });
    const { ctx, acts } = labActivities(l, plan);
    const found = await acts.checkSubscriptions(ctx, ref(plan.publisher), planned(plan), 8);
    expect(found.warnings).toEqual([
      expect.stringMatching(
        /^subscription Config → LAB-SUB1\/PersonalizationServer reaches the end of its retention period at .*, within the planned run of 8 h/,
      ),
    ]);
    expect((await acts.checkSubscriptions(ctx, ref(plan.publisher), planned(plan), 0.5)).warnings).toEqual([]);
    const run = await runUpgradeByHand(l, plan);
    expect(run.canary).toEqual([true, true]);
    expect(await failing(l)).toEqual([]);
  });
});

describe('a distributor on its own server whose SQL Server Agent is down', () => {
  // Preflight of the fleet passes and the users are drained before the first merge fails.
  it('without the check: no merge agent can start (22022)', async () => {
    const { lab: l, plan } = await lab({ distributor: 'LAB-DIST', conditions: { distributorAgentStopped: true } });
    const { ctx, acts } = labActivities(l, plan);
    for (const site of plan.sites)
      await acts.checkServer(ctx, { server: site.server, publishes: site.role !== 'subscriber', distributes: false });
    for (const h of plan.sites.flatMap((s) => s.personalizationServers)) await l.hosts.drain(h);
    const err = await errorOf(syncRound(l, plan));
    expect(err).toBeInstanceOf(SqlError);
    expect((err as SqlError).number).toBe(22022);
    expect(err?.message).toContain('SQLServerAgent is not currently running');
  });

  it('preflight checks the distributor itself and stops before the drain', async () => {
    const { lab: l, plan } = await lab({ distributor: 'LAB-DIST', conditions: { distributorAgentStopped: true } });
    const { ctx, acts } = labActivities(l, plan);
    const err = await errorOf(acts.checkServer(ctx, { server: 'LAB-DIST', publishes: false, distributes: true }));
    expect(err?.message).toBe(
      'SQL Server Agent is not running on LAB-DIST: the merge agents run as its jobs; start it',
    );
    expect(await failing(l)).toEqual(expect.not.arrayContaining(['serving-again']));
  });
});

describe('a scheduled merge agent job that fires during the run', () => {
  /** The subscription script as shipped (sync type Automatic), as if the rewrite had missed it. */
  const automaticScript = () => {
    const text = readFileSync(join(SCRIPTS_DIR, 'CreateConfigSubscription.sql'), 'utf8');
    return {
      file: 'CreateConfigSubscription.sql',
      rewrite: false,
      sha256: createHash('sha256').update(text).digest('hex'),
    };
  };

  /** A lab whose merge agents run on their schedules, with replication removed and both publications made again. */
  async function removedScheduledFleet() {
    const { lab: l, plan } = await lab({ conditions: { scheduledJobs: true } });
    for (const s of plan.sites) await l.sql.removeReplication(ref(s));
    for (const p of ['Config', 'Data']) {
      await l.sql.runScript(
        ref(plan.publisher),
        script(`Create${p}Publication.sql`, {
          PublisherServer: plan.publisher.server,
          PublisherDatabase: plan.publisher.database,
          Publication: p,
        }),
      );
    }
    return { l, plan };
  }

  // A subscription left with sync type automatic gets its snapshot from the schedule while the step waits for a
  // person.
  it('without disabling it: the schedule delivers a snapshot (archives-intact)', async () => {
    const { l, plan } = await removedScheduledFleet();
    const sub = subscriptions(plan, 'Config')[0]!;
    // The script as shipped: sync type Automatic (a rewrite that missed it).
    await l.sql.runScript(
      ref(plan.publisher),
      script('CreateConfigSubscription.sql', {
        PublisherServer: plan.publisher.server,
        PublisherDatabase: plan.publisher.database,
        Publication: 'Config',
        SubscriberServer: sub.subscriber.server,
        SubscriberDatabase: sub.subscriber.database,
      }),
    );
    await letTimePass(l, plan, 20);
    expect((await l.admin.counters())['LAB-SUB1/PersonalizationServer']).toMatchObject({ snapshotDeliveries: 1 });
    expect((await l.admin.check()).find((i) => i.name === 'archives-intact')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('LAB-SUB1/PersonalizationServer lost 20 of 20 archive rows'),
    });
  });

  // Its schedule is disabled at once and the step parks saying so; no snapshot while it waits.
  it('with the check after the script (#19): the schedule is disabled', async () => {
    const { l, plan } = await removedScheduledFleet();
    const { ctx, acts } = labActivities(l, plan);
    const sub = subscriptions(plan, 'Config')[0]!;
    const err = await errorOf(acts.createSubscription(ctx, sub, automaticScript(), {}));
    expect(err).toMatchObject({ type: 'AutomaticSubscription', nonRetryable: true });
    expect(err?.message).toMatch(
      /^subscription Config → LAB-SUB1\/PersonalizationServer was created by CreateConfigSubscription\.sql with sync type automatic: its first merge would deliver a snapshot and wipe the subscriber's archive\. replup disabled the schedules of its merge agent job .* so that no scheduled run delivers the snapshot\. Decide: drop this subscription \(sp_dropmergesubscription\) and retry the step/,
    );
    const jobs = await l.sql.mergeAgentJobs(ref(plan.publisher));
    const mine = jobs.find((j) => j.publication === 'Config' && j.subscriber.server === 'LAB-SUB1')!;
    expect(mine.schedules.map((x) => x.enabled)).toEqual([false]);
    await letTimePass(l, plan, 20);
    expect((await l.admin.counters())['LAB-SUB1/PersonalizationServer']).toMatchObject({ snapshotDeliveries: 0 });
    expect((await l.admin.check()).find((i) => i.name === 'archives-intact')?.ok).toBe(true);
  });

  /** Sync rounds as replup runs them (Config, then Data, one merge at a time), counting the deadlocks they meet. */
  async function deadlocksOver(l: Lab, plan: UpgradePlan, rounds: number) {
    let deadlocks = 0;
    for (let i = 0; i < rounds; i++) {
      for (const sub of subscriptions(plan)) {
        const err = await errorOf(l.sql.runMergeAgent(sub));
        if (err instanceof SqlError && err.number === 1205) deadlocks += 1;
        else if (err) throw err;
      }
    }
    return deadlocks;
  }

  // The scheduled Config merge runs beside replup's Data merge of the same subscriber.
  it('without pausing them: one merge is the deadlock victim (1205)', async () => {
    const { lab: l, plan } = await lab({ conditions: { scheduledJobs: true } });
    expect(await deadlocksOver(l, plan, 30)).toBeGreaterThan(0);
  });

  it('paused at preflight: the same rounds meet no deadlock', async () => {
    const { lab: l, plan } = await lab({ conditions: { scheduledJobs: true } });
    const { ctx, acts } = labActivities(l, plan);
    await acts.pauseAgentSchedules(ctx, ref(plan.publisher));
    expect(await deadlocksOver(l, plan, 30)).toBe(0);
  });

  // One disabled before the run stays disabled.
  it('the schedules are recorded, paused for the run and restored as they were', async () => {
    const { lab: l, plan } = await lab({ conditions: { scheduledJobs: true } });
    const { ctx, acts } = labActivities(l, plan);
    const publisher = ref(plan.publisher);
    const dataSub2 = (await l.sql.mergeAgentJobs(publisher)).find(
      (j) => j.publication === 'Data' && j.subscriber.server === 'LAB-SUB2',
    )!;
    // the operator's choice before the run
    await l.sql.setScheduleEnabled(dataSub2.schedules[0]!.scheduleId, false, publisher);
    const before = await acts.agentSchedules(ctx, publisher);
    const state = (jobs: typeof before) =>
      jobs.map((j) => `${j.publication}/${j.subscriber.server}: ${j.schedules.map((x) => x.enabled).join()}`);
    expect(await acts.pauseAgentSchedules(ctx, publisher)).toEqual({ paused: 3 });
    expect(state(await l.sql.mergeAgentJobs(publisher)).every((x) => x.endsWith('false'))).toBe(true);
    expect(await acts.restoreAgentSchedules(ctx, publisher, recordSchedules(before))).toMatchObject({
      restored: 3,
      retimed: 0,
    });
    expect(state(await l.sql.mergeAgentJobs(publisher))).toEqual(state(before));
    expect(state(before)).toContain('Data/LAB-SUB2: false');
  });
});

describe('a snapshot that takes time', () => {
  it('without waiting: the new subscriptions cannot merge yet, and the canary never arrives', async () => {
    const { lab: l, plan } = await lab({ conditions: { snapshotTicks: 60 } });
    const run = await runUpgradeByHand(l, plan, { skipSnapshotWait: true });
    expect(run.canary).toEqual([false, false]);
    expect(await l.sql.runMergeAgent(subscriptions(plan)[0]!)).toMatchObject({
      status: 'failed',
      message: expect.stringContaining("The initial snapshot for publication 'Config' is not yet available"),
    });
  });

  it('waiting for it (heartbeating, bounded): the run completes with every invariant', async () => {
    const { lab: l, plan } = await lab({ conditions: { snapshotTicks: 60 } });
    const run = await runUpgradeByHand(l, plan);
    expect(run.canary).toEqual([true, true]);
    expect(await failing(l)).toEqual([]);
  });

  // Not ready at its bound; when the Snapshot Agent failed, it parks with the agent's message.
  it('waitForSnapshot: not ready at its bound, or the agent failed', async () => {
    const slow = await lab({ conditions: { snapshotTicks: 100_000 } });
    const a = labActivities(slow.lab, slow.plan);
    await republishConfig(slow);
    expect(await a.acts.waitForSnapshot(a.ctx, ref(slow.plan.publisher), 'Config', 1)).toMatchObject({
      ready: false,
    });

    const failed = await lab({
      conditions: { snapshotFails: "The process could not bulk copy out of table '[dbo].[syncobj_0x41]'." },
    });
    const b = labActivities(failed.lab, failed.plan);
    await republishConfig(failed);
    const err = await errorOf(b.acts.waitForSnapshot(b.ctx, ref(failed.plan.publisher), 'Config', 60));
    expect(err).toMatchObject({ type: 'SnapshotFailed', nonRetryable: true });
    expect(err?.message).toBe(
      'the Snapshot Agent of publication Config on LAB-PUB/PersonalizationServer failed: The process could ' +
        "not bulk copy out of table '[dbo].[syncobj_0x41]'.; fix its cause (see the agent's history in " +
        'Replication Monitor), start the Snapshot Agent again, then retry this step',
    );
  });
});

describe("replication agents' sessions during the drain", () => {
  // The drain never reaches 0: the KILLed agents reconnect.
  it('counted as users: the drain parks with "sessions remain"', async () => {
    const { lab: l, plan } = await lab({ conditions: { agentSessions: true } });
    for (const h of plan.sites.flatMap((s) => s.personalizationServers)) await l.hosts.drain(h);
    const db = ref(plan.sites[1]!);
    const all = await l.sql.activeSessions(db);
    await l.sql.killSessions(
      db,
      all.map((x) => x.sessionId),
    );
    const left = await l.sql.activeSessions(db);
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((x) => x.replicationAgent)).toBe(true);
  });

  it("the drain leaves them alone: no user counted, none of the agents' sessions KILLed", async () => {
    const { lab: l, plan } = await lab({ conditions: { agentSessions: true } });
    const { ctx, acts } = labActivities(l, plan);
    for (const h of plan.sites.flatMap((s) => s.personalizationServers)) await acts.drainHost(ctx, h);
    const db = ref(plan.sites[1]!);
    const result = await acts.disconnectUsers(ctx, db);
    expect(result.remaining).toBe(0);
    expect(await acts.userSessions(ctx, db)).toEqual([]);
    const agents = (await l.sql.activeSessions(db)).filter((x) => x.replicationAgent);
    expect(agents).toHaveLength(1);
    expect(agents[0]!.program).toMatch(/-Config-|-Data-/);
  });
});

describe("every database's product version against the plan's from (#21)", () => {
  it('a fleet at from passes; the same fleet already at the target stops preflight with "nothing to do"', async () => {
    const { lab: l, plan } = await lab();
    const { ctx, acts } = labActivities(l, plan);
    const dbs = plan.sites.map(ref);
    expect(await acts.checkProductVersions(ctx, dbs, plan.from, plan.to)).toEqual({ checked: 3 });
    for (const db of dbs) await l.sql.removeReplication(db);
    for (const db of dbs) await l.hosts.upgradeDatabase(db, plan.to);
    const err = await errorOf(acts.checkProductVersions(ctx, dbs, plan.from, plan.to));
    expect(err).toMatchObject({ type: 'PreflightFailed', nonRetryable: true });
    expect(err?.message).toBe(
      'every database already runs 10.4.0.0 or later (LAB-PUB/PersonalizationServer 10.4.0.0, ' +
        'LAB-SUB1/PersonalizationServer 10.4.0.0, LAB-SUB2/PersonalizationServer 10.4.0.0): this fleet is ' +
        'already upgraded; there is nothing to do, or correct from/to in the plan',
    );
  });
});
