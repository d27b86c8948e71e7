// Environment Manager Personalization Server upgrade over SQL Server merge replication, as the
// vendor's runbook "Enable Replication without a Snapshot Delivery" gives it (shared/DOMAIN.md §1):
// drain the users, merge until nothing is pending, back up, remove replication, upgrade, keep the
// background service out of the way, convert row GUIDs, re-enable replication with sync type
// none (a snapshot would wipe every subscriber's archive), verify, and serve users again.
import { ApplicationFailure } from '@temporalio/workflow';
import { fleetIdentity } from '../plan/personalization-upgrade/fleet-identity.js';
import type { createFleetGuardActivities } from '../activities/personalization-upgrade/fleet-guard.js';
import {
  distributorOf,
  publishingSites,
  type PlannedStep,
  type Site,
  type UpgradePlan,
  type UpgradeStepId,
  type DbRef,
} from '../plan/personalization-upgrade/types.js';
import * as F from '../plan/personalization-upgrade/fleet.js';
import {
  DEFAULT_EXPECTED_RUN_HOURS,
  DEFAULT_SNAPSHOT_TIMEOUT_MINUTES,
  planSteps,
} from '../plan/personalization-upgrade/steps.js';
import { compareVersions } from '../plan/version.js';
import type {
  FleetContext,
  PreparedScript,
  ScriptRef,
  ScriptRuns,
  UpgradeActivities,
} from '../activities/personalization-upgrade/activities.js';
import type { PublicationConfig, SubscriptionRef } from '../activities/ports.js';
import { configParkMessage, identityRangeNote } from '../activities/personalization-upgrade/replication-config.js';
import {
  conflictStopMessage,
  summarizeConflicts,
  type ConflictSummary,
} from '../activities/sqlserver/conflict-types.js';
import {
  recordSchedules,
  scheduleOverlaps,
  versionOrderProblems,
  type RecordedSchedule,
} from '../activities/personalization-upgrade/preflight.js';
import {
  convergenceNote,
  convergenceStopMessage,
  type ProofPoint,
  type SubscriptionValidation,
} from '../activities/personalization-upgrade/convergence.js';
import {
  boundedAll,
  FleetCalls,
  Runbook,
  temporalDriver,
  type ActivityArgs,
  type ActivityCall,
  type ActivityName,
  type ActivityResult,
  type RunbookDriver,
  type StepContext,
} from './engine/index.js';
import { UpgradeFailure } from '../common/failures.js';
import { tagged } from '../common/activity-call.js';
import type { RunResult } from './messages.js';
import { count } from '../common/count.js';

export interface UpgradeInput {
  plan: UpgradePlan;
  /** Who started the run (OS user or --actor). */
  requestedBy: string;
}

const TITLES: Record<UpgradeStepId, string> = {
  preflight: 'Check servers, versions and scripts',
  'drain-users': 'Disconnect every user',
  'sync-until-quiet': 'Synchronize Config and Data until nothing is pending',
  backup: 'Copy-only backup of every database',
  'remove-replication': 'Remove replication',
  upgrade: 'Upgrade personalization servers and databases',
  'stop-background-services': 'Stop the background service (pre-8.3)',
  'convert-row-guids': 'Convert row GUIDs on subscribers (pre-8.3.253.0)',
  'prepare-scripts': 'Rewrite subscription scripts to sync type none',
  'enable-replication': 'Re-enable replication without a snapshot',
  'verify-replication': 'Verify a change at the master reaches every subscriber',
  'restore-service': 'Restart background services, admit users',
};

/**
 * Steps an operator may skip after a failure (recorded with a reason). The others guard data:
 * preflight too, since what it finds (missing scripts, a version mismatch) breaks a later step
 * after replication is gone.
 */
const SKIPPABLE = new Set<UpgradeStepId>([
  'backup',
  'stop-background-services',
  'verify-replication',
  'restore-service',
]);

/**
 * The workflow id: one upgrade per fleet at a time, whatever the spelling
 * (plan/personalization-upgrade/fleet-identity.ts):
 * `LAB-PUB/PersonalizationServer`, `lab-pub/personalizationserver`, `tcp:LAB-PUB,1433/…` are one fleet.
 */
export function upgradeWorkflowId(plan: Pick<UpgradePlan, 'publisher'>): string {
  return `upgrade:${fleetIdentity(plan.publisher)}`;
}

/**
 * Records the fleet's identity on this run (the ReplupFleetId search attribute) and stops when
 * another running upgrade has the same one. The attribute is set before the look, so two racing
 * runs see each other at least when one retries (the reasoning is in
 * activities/personalization-upgrade/fleet-guard.ts).
 * Returns a warning when the namespace lacks the attribute: the run goes on, guarded by its id only.
 */
async function guardFleet(run: UpgradeDriver, ctx: FleetContext, publisher: DbRef): Promise<string | undefined> {
  const found = await run.acts.fleetIdentity(
    `preflight: the fleet as ${publisher.server} names itself`,
    ctx,
    publisher,
  );
  if (found.warning) return found.warning;
  run.markFleet(found.identity);
  const { workflowId, runId } = run.ids;
  await run.acts.claimFleet(`preflight: no other run on ${found.server}/${publisher.database}`, {
    identity: found.identity,
    workflowId,
    runId,
  });
  return undefined;
}

/** Rows per published table in verify-replication's (primary key, rowguid) sample. */
const ROWGUID_SAMPLE_ROWS = 100;

const ref = F.dbRef;
const where = F.where;

/** The activities the upgrade calls: the fleet's, and the one-run-per-fleet guard's. */
export type UpgradeRunbookActivities = UpgradeActivities & ReturnType<typeof createFleetGuardActivities>;
type Acts = UpgradeRunbookActivities;
/** What the upgrade's steps run on: the workflow's engine, or a plain script (workflows/engine/driver.ts). */
export type UpgradeDriver = RunbookDriver<Acts>;

export async function personalizationUpgrade(input: UpgradeInput): Promise<RunResult> {
  const { plan } = input;
  const planned: PlannedStep[] = planSteps(plan);
  const engine = new Runbook({
    runbook: plan.runbook,
    fleet: where(plan.publisher),
    planName: plan.name,
    approvals: plan.options.approvals,
    // Who may approve, and the maintenance window (#23): absent in plans before it, so those runs replay as they did.
    ...(plan.options.gates && { gates: plan.options.gates }),
    ...(plan.options.window && { window: plan.options.window }),
    starter: input.requestedBy,
    // Notifications (#23): a plan without notify: schedules none, so older runs replay unchanged.
    ...(plan.notify && { notify: plan.notify }),
    steps: planned.map((s) => ({ ...s, title: TITLES[s.id], skippable: SKIPPABLE.has(s.id) })),
  });
  const { retry, maxParallel, childWorkflowThreshold: childThreshold } = plan.options;
  return engine.run(() => upgradeRunbook(temporalDriver<Acts>(engine, { retry, maxParallel, childThreshold }), input));
}

/**
 * The runbook, step by step, on a driver: the workflow's (above) or a plain script's (the bench's
 * baseline, the lab tests), so both run the same steps.
 */
export async function upgradeRunbook(run: UpgradeDriver, input: UpgradeInput): Promise<void> {
  const { plan } = input;
  const fleet = new Fleet(plan, run);
  let replicationTouched = false;
  const stoppedServices: string[] = [];
  // The merge agent jobs' schedules as they were before the run, per publisher; set before any is
  // paused, so an abort after a lost reply still puts them back.
  let recordedSchedules: Map<string, RecordedSchedule[]> | undefined;
  // Each publisher's publications as they were before remove-replication (issue #20 §3, §5).
  let configBefore: Map<string, PublicationConfig[]> | undefined;
  run.fact('requestedBy', input.requestedBy);

  // Abort: undrain only while replication is intact (after removal, users would write into a
  // fleet that no longer replicates); restart the background services this run stopped; put the
  // merge agent schedules back as they were.
  run.onAbort(async () => {
    if (!replicationTouched) await fleet.eachHost('abort', 'undrainHost');
    await fleet.startServices('abort', stoppedServices);
    if (recordedSchedules) await fleet.restoreSchedules('abort', recordedSchedules);
  });

  await run.step('preflight', async (s) => {
    // One run per fleet whatever the plan calls its publisher (#21): first, before anything is
    // changed or checked, the fleet as the publisher names itself (activities/personalization-upgrade/fleet-guard.ts).
    const fleetWarning = run.patched('fleet-identity-at-preflight')
      ? await guardFleet(run, fleet.at('preflight'), ref(plan.publisher))
      : undefined;
    // Each publishing site's distributor is checked as one (a branch publisher distributes its
    // Data itself by default) and asked for with sp_get_distributor; runs started before replay without.
    const distributorPerSite = run.patched('distributor-per-publishing-site');
    const facts = await fleet.each(s, 'preflight', fleet.servers(), (server) =>
      run.batch.checkServer(`preflight: ${server.name}`, fleet.at('preflight'), {
        server: server.name,
        sqlVersion: server.sqlVersion,
        edition: server.edition,
        publishes: server.publishes,
        distributes: distributorPerSite ? fleet.distributes(server.name) : server.name === plan.distributor.server,
      }),
    );
    // The server answers with its own spelling of its name (SQL Server names ignore case).
    const publisherVersion = facts.find((f) => f.server.toLowerCase() === plan.publisher.server.toLowerCase())!.version;
    const higher = facts.filter((f) => compareVersions(f.version, publisherVersion) > 0);
    if (higher.length) {
      throw ApplicationFailure.nonRetryable(
        `the publisher ${plan.publisher.server} (SQL Server ${publisherVersion}) must run the highest ` +
          `version in the fleet; higher: ${higher.map((f) => `${f.server} ${f.version}`).join(', ')}`,
        UpgradeFailure.preflight,
      );
    }
    // Runs started before these checks existed replay without them (issue #18 §3, #21).
    const beforeTheDrain = run.patched('preflight-before-the-drain');
    const warnings: string[] = fleetWarning ? [fleetWarning] : [];
    if (beforeTheDrain) {
      // facts come in the order of fleet.servers(), one per server the plan names.
      const names = fleet.servers().map((x) => x.name.toLowerCase());
      const versionOf = (server: string) => facts[names.indexOf(server.toLowerCase())];
      const distributor = fleet.distributorOnItsOwn()
        ? await run.acts.checkServer(`preflight: distributor ${plan.distributor.server}`, fleet.at('preflight'), {
            server: plan.distributor.server,
            publishes: false,
            distributes: true,
          })
        : undefined;
      const pairs = fleet.versionPairs();
      const problems = versionOrderProblems(
        pairs.map((x) => ({
          publisher: { server: x.publisher, version: versionOf(x.publisher)!.version },
          subscriber: { server: x.subscriber, version: versionOf(x.subscriber)!.version },
        })),
        distributor && { server: plan.distributor.server, version: distributor.version },
      );
      if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), UpgradeFailure.preflight);
      if (distributorPerSite) await fleet.checkSiteDistributors(s, (server) => versionOf(server)!.version);
      await run.acts.checkProductVersions(
        `preflight: every database runs ${plan.from}`,
        fleet.at('preflight'),
        fleet.sites().map(ref),
        plan.from,
        plan.to,
      );
      const runHours = plan.options.expectedRunHours ?? DEFAULT_EXPECTED_RUN_HOURS;
      const checked = await fleet.onPublishers(s, 'preflight', (p) =>
        run.batch.checkSubscriptions(
          `preflight: subscriptions of ${where(p)}`,
          fleet.at('preflight'),
          ref(p),
          fleet.subscriptionsAt(p),
          runHours,
        ),
      );
      warnings.push(...checked.flatMap((c) => c.warnings));
      // Identity-range-managed articles need reseeding after re-publishing (issue #20 §4): said now,
      // before any change.
      if (run.patched('preflight-identity-ranges')) {
        const configs = await fleet.onPublishers(s, 'preflight', (p) =>
          run.batch.replicationConfig(
            `preflight: publications and articles of ${where(p)}`,
            fleet.at('preflight'),
            ref(p),
          ),
        );
        const notes = fleet
          .publishers()
          .map((p, i) => identityRangeNote(ref(p), configs[i]!))
          .filter((n): n is string => n !== undefined);
        warnings.push(...notes);
        if (notes.length) run.fact('identityRanges', notes);
      }
    }
    // A rowguid column replication added does not survive removal (issue #20 §2); runs started
    // before this check replay without it.
    if (run.patched('preflight-added-rowguids')) {
      await fleet.onPublishers(s, 'preflight', (p) =>
        run.batch.checkRowGuidColumns(
          `preflight: rowguid columns replication added on ${where(p)}`,
          fleet.at('preflight'),
          ref(p),
        ),
      );
    }
    fleet.prepared = await run.acts.prepareScripts(
      'preflight: scripts present and rewritable',
      fleet.at('preflight'),
      plan.scripts.files,
      fleet.applies('convert-row-guids'),
      fleet.scriptRuns(),
    );
    let paused = 0;
    if (beforeTheDrain) {
      // Nothing has changed yet; from here the merge agents run only when replup runs them
      // (Config's schedule every 5 minutes would merge beside replup's Data merges).
      // Recorded once: a retried preflight (a pause that failed half-way) must not take the
      // schedules it paused for the fleet's own.
      if (!recordedSchedules) {
        const jobs = await fleet.onPublishers(s, 'preflight', (p) =>
          run.batch.agentSchedules(`preflight: merge agent schedules of ${where(p)}`, fleet.at('preflight'), ref(p)),
        );
        recordedSchedules = new Map(fleet.publishers().map((p, i) => [where(p), recordSchedules(jobs[i]!)]));
        run.fact('agentSchedules', Object.fromEntries(recordedSchedules));
      }
      paused = (await fleet.pauseSchedules(s, 'preflight')).reduce((n, r) => n + r.paused, 0);
      // Said, not changed (#20 §5): the schedules are the DBA's, put back as recorded at restore-service.
      if (run.patched('preflight-schedule-overlaps')) {
        const kindOf = (name: string) =>
          plan.publications.find((p) => p.name.toLowerCase() === name.toLowerCase())?.kind;
        warnings.push(...[...recordedSchedules.values()].flatMap((r) => scheduleOverlaps(r, kindOf)));
      }
    }
    if (warnings.length) run.fact('preflightWarnings', warnings);
    // Articles a publication script adds beyond today's are fine (a new version may publish more): said, not refused.
    const extraArticles = fleet.prepared.flatMap((p) => (p.extraArticles ? [`; ${p.extraArticles}`] : [])).join('');
    s.note(
      beforeTheDrain
        ? `${facts.length} servers, ${fleet.subscriptions().length} subscriptions, ${fleet.prepared.length} ` +
            `scripts checked; ${paused} merge agent schedules paused for ` +
            `the run${warnings.length ? `; warning: ${warnings.join('; ')}` : ''}` +
            `${extraArticles}`
        : `${facts.length} servers, ${fleet.prepared.length} scripts checked${extraArticles}`,
    );
  });

  await run.step('drain-users', async (s) => {
    await fleet.eachHost('drain-users', 'drainHost', s);
    const deadline = Date.now() + plan.options.drainTimeoutSeconds * 1000;
    let sessions = await fleet.countSessions(s);
    const waitedFrom = sessions > 0 ? Date.now() : undefined;
    let pause = 1_000; // look again soon, then every 10 s: most sessions end within seconds
    while (sessions > 0 && Date.now() < deadline) {
      s.note(`${count(sessions, 'user session')} still open; waiting until ${sessions === 1 ? 'it ends' : 'they end'}`);
      await run.sleep(
        Math.min(pause, Math.max(1_000, deadline - Date.now())),
        `drain-users: ${count(sessions, 'user session')} open; look again`,
      );
      pause = Math.min(pause * 2, 10_000);
      sessions = await fleet.countSessions(s);
    }
    if (sessions > 0) {
      const left = await fleet.onSites(s, 'drain-users', (site) =>
        run.batch.disconnectUsers(
          `drain-users: disconnect users of ${where(site)}`,
          fleet.at('drain-users'),
          ref(site),
        ),
      );
      const remaining = left.reduce((n, r) => n + r.remaining, 0);
      if (remaining > 0) {
        throw ApplicationFailure.nonRetryable(
          `${count(remaining, 'user session')} ${remaining === 1 ? 'remains' : 'remain'} after the drain and KILL; ` +
            'find what reconnects and retry',
          UpgradeFailure.usersConnected,
        );
      }
      const killed = left.reduce((n, r) => n + r.killed, 0);
      s.note(`disconnected ${count(killed, 'session')} after the ${plan.options.drainTimeoutSeconds} s deadline`);
    } else {
      s.note(
        waitedFrom === undefined
          ? 'no user sessions'
          : `every user session ended within ${Math.max(1, Math.round((Date.now() - waitedFrom) / 1000))} s`,
      );
    }
  });

  await run.step('sync-until-quiet', async (s) => {
    const rounds: F.SyncRound[] = [];
    run.fact('syncRounds', rounds);
    let quiet = 0;
    let lastRound = '';
    while (quiet < plan.options.sync.quietRounds) {
      if (rounds.length >= plan.options.sync.maxRounds) {
        const last = rounds[rounds.length - 1]!;
        throw ApplicationFailure.nonRetryable(
          `not quiet after ${count(rounds.length, 'round')} (last round moved ${last.moved} rows, ${last.pending} ` +
            `pending); are users still writing?`,
          UpgradeFailure.notQuiet,
        );
      }
      const round = await fleet.syncRound(s, 'sync-until-quiet', rounds.length + 1);
      rounds.push(round);
      // Only failed changes stop the run; conflicts the resolver settled are reported (issue #18 §2).
      const conflicts = await fleet.conflictSummary('sync-until-quiet', run.startedAt);
      if (conflicts.stop)
        throw ApplicationFailure.nonRetryable(
          conflictStopMessage('sync-until-quiet', conflicts.stop) +
            labHint(plan, 'resolve-conflicts', 'resolves them as a DBA would by hand; then retry'),
          UpgradeFailure.conflicts,
        );
      quiet = F.quietRoundsAfter(quiet, round);
      lastRound =
        `round ${round.round}: ${round.moved} rows moved, ${round.pending} ` +
        `pending; ${quiet} of ${plan.options.sync.quietRounds} ` +
        `quiet rounds${conflicts.settled ? `; ${conflicts.settled}` : ''}`;
      s.note(lastRound);
    }
    // Quiet rounds are progress, not proof: pending counts leave out generation-0 rows (issue #20 §1).
    if (run.patched('validate-before-removal')) {
      const proof = await fleet.validate(s, 'sync-until-quiet', 'before-removal');
      run.fact('validatedBeforeRemoval', proof);
      s.note(`${convergenceNote(proof)}; ${lastRound}`);
    }
  });

  await run.step('backup', async (s) => {
    const backups = await fleet.onSites(s, 'backup', (site) =>
      run.batch.backupDatabase(
        `backup: ${where(site)} (copy-only)`,
        fleet.at('backup'),
        ref(site),
        plan.backup.dir,
        run.ids.firstRunId,
      ),
    );
    run.fact(
      'backups',
      backups.map((b) => ({ db: where(b.db), file: b.file, bytes: b.bytes })),
    );
    s.note(`${backups.length} copy-only backups in ${plan.backup.dir}`);
  });

  await run.gate('remove-replication');
  await run.step('remove-replication', async (s) => {
    // Recorded once, before anything is removed: a retried step must not take a half-removed fleet's
    // for the fleet's own.
    if (!configBefore && run.patched('capture-replication-config')) {
      const configs = await fleet.onPublishers(s, 'remove-replication', (p) =>
        run.batch.replicationConfig(
          `remove-replication: replication configuration of ${where(p)}`,
          fleet.at('remove-replication'),
          ref(p),
        ),
      );
      configBefore = new Map(fleet.publishers().map((p, i) => [where(p), configs[i]!]));
      run.fact('replicationConfig', { before: Object.fromEntries(configBefore) });
    }
    replicationTouched = true;
    // Publishers first: dropping a publication drops its subscriptions; then subscriber cleanup.
    for (const group of F.removalOrder(plan)) {
      await fleet.each(s, 'remove-replication', group, (site) =>
        run.batch.removeReplication(`remove-replication: ${where(site)}`, fleet.at('remove-replication'), ref(site)),
      );
    }
    s.note(`replication removed from ${fleet.sites().length} databases, verified`);
  });

  await run.step('upgrade', async (s) => {
    if (plan.hosts.upgrade === 'manual') {
      await run.manual(
        'upgrade',
        `upgrade every personalization server and database to ${plan.to}, then: replup confirm --step ` +
          `upgrade${labHint(plan, 'upgrade', 'does that upgrade by hand')}; or end the run: replup abort ` +
          `--step upgrade --reason "..."`,
      );
    } else {
      // The publisher first: it must never run an older version than its subscribers.
      for (const group of F.upgradeOrder(plan)) {
        await fleet.fan(
          s,
          'upgrade',
          group.flatMap((site) =>
            site.personalizationServers.map((h) =>
              run.batch.upgradeHost(
                `upgrade: personalization server ${h} to ${plan.to}`,
                fleet.at('upgrade'),
                h,
                plan.to,
              ),
            ),
          ),
        );
        await fleet.each(s, 'upgrade', group, (site) =>
          run.batch.upgradeDatabase(
            `upgrade: database ${where(site)} to ${plan.to}`,
            fleet.at('upgrade'),
            ref(site),
            plan.to,
          ),
        );
      }
    }
    await run.acts.verifyVersions(
      `upgrade: verify everything is at ${plan.to}`,
      fleet.at('upgrade'),
      fleet.sites().map(ref),
      fleet.hosts(),
      plan.to,
    );
    s.note(`all ${fleet.sites().length} databases and ${fleet.hosts().length} personalization servers at ${plan.to}`);
  });

  await run.step('stop-background-services', async (s) => {
    // The seed: stop it on every personalization server, restart it on every one once
    // replication works. Remembered before stopping: an activity whose reply was lost (a killed
    // worker) finds the service already stopped on its retry, and the restart must not miss it.
    for (const host of fleet.hosts()) if (!stoppedServices.includes(host)) stoppedServices.push(host);
    const results = await fleet.eachHost('stop-background-services', 'stopBackgroundService', s);
    run.fact('stoppedServices', stoppedServices);
    s.note(
      `stopped on ${results.length} personalization servers (${results.filter((r) => r.wasRunning).length} ` +
        `were running)`,
    );
  });

  await run.step('convert-row-guids', async (s) => {
    const script = await fleet.script('convertRowGuids');
    // At most once per subscriber, recorded in its database (issue #20 §4); runs started before
    // that replay the plain script runs.
    if (!run.patched('convert-row-guids-once')) {
      await fleet.each(s, 'convert-row-guids', fleet.subscriberSites(), (site) =>
        run.batch.runScript(
          `convert-row-guids: ${script.file} on ${where(site)}`,
          fleet.at('convert-row-guids'),
          ref(site),
          script,
          fleet.vars({ subscriber: site }),
        ),
      );
      s.note(`${script.file} ran on ${count(fleet.subscriberSites().length, 'subscriber')}`);
      return;
    }
    const results = await fleet.each(s, 'convert-row-guids', fleet.subscriberSites(), (site) =>
      run.batch.convertRowGuids(
        `convert-row-guids: ${script.file} once on ${where(site)}`,
        fleet.at('convert-row-guids'),
        ref(site),
        script,
        fleet.vars({ subscriber: site }),
        run.ids.firstRunId,
        fleet.publishersOf(site).map(ref),
      ),
    );
    const earlier = results.filter((r) => !r.ran);
    // An uncertain earlier attempt settled by the (primary key, rowguid) sample: say what it showed.
    const settled = results.flatMap((r) =>
      'checked' in r && r.checked
        ? [`${where(r.db)} found converted (${r.checked}), marked done`]
        : 'rerun' in r && r.rerun
          ? [`${where(r.db)} found not converted (${r.rerun}), run again`]
          : [],
    );
    s.note(
      `${script.file} ran on ${count(results.length - earlier.length, 'subscriber')}` +
        `${earlier.length ? `; already converted (marked done): ${earlier.map((r) => where(r.db)).join(', ')}` : ''}` +
        `${settled.length ? `; after a lost reply: ${settled.join('; ')}` : ''}`,
    );
  });

  await run.step('prepare-scripts', async (s) => {
    const before = fleet.prepared;
    const now = await run.acts.prepareScripts(
      'prepare-scripts: rewrite @sync_type to none and verify',
      fleet.at('prepare-scripts'),
      plan.scripts.files,
      fleet.applies('convert-row-guids'),
      fleet.scriptRuns(),
    );
    const changed = now.filter((p) => before && before.find((b) => b.file === p.file)?.sha256 !== p.sha256);
    fleet.prepared = now;
    run.fact(
      'scriptRewrites',
      now.filter((p) => p.rewrite).map((p) => ({ file: p.file, changes: p.changes })),
    );
    const edits = now.reduce((n, p) => n + p.changes.length, 0);
    const since = changed.length ? `; changed since preflight: ${changed.map((c) => c.file).join(', ')}` : '';
    s.note(`${edits} @sync_type rewrites${since}`);
  });

  await run.step('enable-replication', async (s) => {
    // SetMasterUp: the publications on their publishers; then AddSubscriber, Config before Data.
    const waitForSnapshots = run.patched('wait-for-snapshot');
    let waited = 0;
    for (const kind of F.KIND_ORDER) {
      const pubs = F.publicationsOf(plan, kind);
      const script = await fleet.script(F.SCRIPT_OF_KIND[kind].publication);
      await fleet.each(s, 'enable-replication', pubs, (p) => {
        const publisher = fleet.site(p.publisher);
        const args = [
          fleet.at('enable-replication'),
          ref(publisher),
          p.name,
          script,
          fleet.vars({ publication: p.name, publisher }),
        ] as const;
        const summary = `enable-replication: publication ${p.name} on ${p.publisher}`;
        // With the configuration recorded before removal, to put back; runs from before record none.
        return configBefore
          ? run.batch.createPublication(summary, ...args, configBefore.get(where(publisher)) ?? [])
          : run.batch.createPublication(summary, ...args);
      });
      // A subscription without a snapshot still needs the publication's snapshot (its system
      // objects and metadata): the vendor's SetMasterUp waits for the Snapshot Agent, so do we.
      if (waitForSnapshots)
        waited = Math.max(
          waited,
          ...(await boundedAll(pubs, plan.options.maxParallel, (p) =>
            fleet.waitForSnapshot(p.name, fleet.site(p.publisher)),
          )),
        );
    }
    for (const kind of F.KIND_ORDER) {
      const script = await fleet.script(F.SCRIPT_OF_KIND[kind].subscription);
      await fleet.each(s, 'enable-replication', fleet.subscriptions(kind), (sub) => {
        const vars = fleet.vars({ publication: sub.publication, publisher: sub.publisher, subscriber: sub.subscriber });
        const args = [fleet.at('enable-replication'), sub, script, vars] as const;
        const summary = `enable-replication: ${sub.publication} → ${where(sub.subscriber)} (sync type none)`;
        // checkAgent (runs that recorded the configuration); runs from before call it without.
        return configBefore
          ? run.batch.createSubscription(summary, ...args, true)
          : run.batch.createSubscription(summary, ...args);
      });
    }
    // The new agent jobs come with the scripts' schedules: paused too until restore-service.
    if (recordedSchedules) await fleet.pauseSchedules(s, 'enable-replication');
    // ... with the DBA's timing again (#20 §5), still paused: restore-service enables what was enabled.
    if (recordedSchedules && run.patched('agent-schedule-timing-at-enable')) {
      const recorded = recordedSchedules;
      await fleet.onPublishers(s, 'enable-replication', (p) =>
        run.batch.retimeAgentSchedules(
          `enable-replication: merge agent schedules of ${where(p)} timed as before the run`,
          fleet.at('enable-replication'),
          ref(p),
          recorded.get(where(p)) ?? [],
        ),
      );
    }
    // The configuration the DBA had (issue #20 §5): put back what can be without a snapshot; the rest parks.
    let reapplied = 0;
    if (configBefore) {
      const results = await fleet.onPublishers(s, 'enable-replication', (p) =>
        run.batch.reapplyConfig(
          `enable-replication: replication configuration of ${where(p)} as before removal`,
          fleet.at('enable-replication'),
          ref(p),
          configBefore!.get(where(p)) ?? [],
        ),
      );
      reapplied = results.reduce((n, r) => n + r.reapplied.length, 0);
      run.fact('replicationConfig', {
        before: Object.fromEntries(configBefore),
        after: Object.fromEntries(results.map((r) => [where(r.publisher), r.after])),
        reapplied: results.flatMap((r) => r.reapplied.map((d) => ({ publisher: where(r.publisher), ...d }))),
        left: results.flatMap((r) => r.left.map((d) => ({ publisher: where(r.publisher), ...d }))),
      });
      const left = results.filter((r) => r.left.length);
      if (left.length)
        throw ApplicationFailure.nonRetryable(
          left.map((r) => configParkMessage(r.publisher, r.left)).join(' | '),
          UpgradeFailure.configuration,
        );
    }
    s.note(
      `${plan.publications.length} publications, ${fleet.subscriptions().length} subscriptions without ` +
        `snapshot${waitForSnapshots ? `; snapshots ready within ${waited} s` : ''}` +
        `${configBefore ? `; configuration as before removal (${reapplied} properties put back)` : ''}`,
    );
  });

  await run.step('verify-replication', async (s) => {
    // Short: it goes into a column of the operator's canary table (target.canary).
    const token = `replup-${run.ids.firstRunId}`;
    const publishers = fleet.canarySites();
    await fleet.each(s, 'verify-replication', publishers, (p) =>
      run.batch.writeCanary(
        `verify-replication: canary row at ${where(p)}`,
        fleet.at('verify-replication'),
        ref(p),
        token,
      ),
    );
    const round = await fleet.syncRound(s, 'verify-replication', 1);
    const checks = await fleet.each(s, 'verify-replication', fleet.subscriptions(), (sub) =>
      run.batch.readCanary(
        `verify-replication: canary at ${where(sub.subscriber)} (${sub.publication})`,
        fleet.at('verify-replication'),
        sub.subscriber,
        token,
      ),
    );
    const missing = [...new Set(checks.filter((c) => !c.arrived).map((c) => where(c.db)))];
    const conflicts = await fleet.conflictSummary('verify-replication', run.startedAt);
    run.fact('verification', {
      canary: token,
      subscribersChecked: new Set(checks.map((c) => where(c.db))).size,
      missing,
      conflicts: round.conflicts,
      conflictSummary: conflicts.stop,
      ...(conflicts.settled && { settledConflicts: conflicts.settled }),
    });
    // The conflict table tells failed changes from settled ones; the merge sessions' counts do
    // not. Runs started before that distinction replay with the counts (issue #18 §2).
    const sessionConflictsStop = !run.patched('verify-judges-conflicts') && round.conflicts > 0;
    if (missing.length || sessionConflictsStop || conflicts.stop) {
      throw ApplicationFailure.nonRetryable(
        [
          missing.length ? `the canary change did not reach ${missing.join(', ')}` : '',
          conflicts.stop ? `conflicts: ${conflicts.stop}` : '',
        ]
          .filter(Boolean)
          .join('; ') || `${count(round.conflicts, 'conflict')} in the verification round`,
        UpgradeFailure.verification,
      );
    }
    const proof = run.patched('validate-after-re-enable')
      ? await fleet.validate(s, 'verify-replication', 'after-re-enable')
      : undefined;
    if (proof) run.fact('validatedAfterReEnable', proof);
    // Validation counts and checksums; the sample says whether rows kept their rowguids (#20 §2).
    const sampled = run.patched('rowguid-sample-after-re-enable')
      ? await boundedAll(plan.publications, plan.options.maxParallel, (p) =>
          run.acts.compareRowGuids(
            `verify-replication: (primary key, rowguid) sample of ${p.name}`,
            fleet.at('verify-replication'),
            ref(fleet.site(p.publisher)),
            p.name,
            p.subscribers.map((k) => ref(fleet.site(k))),
            ROWGUID_SAMPLE_ROWS,
          ),
        )
      : undefined;
    if (sampled) run.fact('rowGuidSample', sampled);
    const notCompared = sampled?.flatMap((x) => x.notCompared) ?? [];
    const sampleNote = sampled
      ? `; ${sampled.reduce((n, x) => n + x.rowsCompared, 0)} sampled rows carry the publisher's rowguid` +
        `${notCompared.length ? ` (not compared: ${notCompared.join(', ')})` : ''}`
      : '';
    s.note(
      `canary reached ${count(new Set(checks.map((c) => where(c.db))).size, 'subscriber')}; 0 conflicts that ` +
        `need a person${conflicts.settled ? `; ${conflicts.settled}` : ''}` +
        `${proof ? `; ${convergenceNote(proof)}` : ''}${sampleNote}`,
    );
  });

  await run.step('restore-service', async (s) => {
    if (recordedSchedules) await fleet.restoreSchedules('restore-service', recordedSchedules, s);
    await fleet.startServices('restore-service', stoppedServices, s);
    await fleet.eachHost('restore-service', 'undrainHost', s);
    s.note(
      `${stoppedServices.length} background services started, ${fleet.hosts().length} personalization servers serving`,
    );
  });
}

/** The fleet as the runbook walks it: its facts (plan/personalization-upgrade/fleet.ts) and typed activity calls. */
class Fleet extends FleetCalls<Acts> {
  readonly ctx: FleetContext;
  prepared: PreparedScript[] | undefined;
  private readonly steps: PlannedStep[];

  constructor(
    private readonly plan: UpgradePlan,
    run: UpgradeDriver,
  ) {
    super(run);
    this.ctx = F.fleetContext(plan);
    this.steps = planSteps(plan);
  }

  /** The context for an activity call of `step` (and sync `round`): the report reads which from the history. */
  at(step: string, round?: number): FleetContext {
    return tagged(this.ctx, { step, round });
  }

  /** A fleet fact; a site the plan names but does not define parks the step (plan validation refuses such plans). */
  private fact<R>(read: () => R): R {
    try {
      return read();
    } catch (err) {
      if (err instanceof F.UnknownSiteError) throw ApplicationFailure.nonRetryable(err.message, UpgradeFailure.plan);
      throw err;
    }
  }

  applies(id: UpgradeStepId): boolean {
    return this.steps.find((s) => s.id === id)?.applies ?? false;
  }

  sites(): Site[] {
    return this.plan.sites;
  }

  site(key: string): Site {
    return this.fact(() => F.siteOf(this.plan, key));
  }

  /** The distinct publishers of the publications a site subscribes to. */
  publishersOf(site: Site): Site[] {
    return F.publishersOf(this.plan, site);
  }

  subscriberSites(): Site[] {
    return F.subscriberSites(this.plan);
  }

  hosts(): string[] {
    return F.hosts(this.plan);
  }

  servers(): F.FleetServer[] {
    return F.servers(this.plan);
  }

  /** The sites that publish something, in plan order. */
  publishers(): Site[] {
    return F.publishers(this.plan);
  }

  /** Is this server the distributor of some publishing site (so its SQL Server Agent must run)? */
  distributes(server: string): boolean {
    return F.distributes(this.plan, server);
  }

  /** Every (publisher server, subscriber server) pair of a subscription. */
  versionPairs(): { publisher: string; subscriber: string }[] {
    return this.fact(() => F.versionPairs(this.plan));
  }

  /** The subscriptions of one publisher's publications, as checkSubscriptions takes them. */
  subscriptionsAt(publisher: DbRef): { publication: string; subscriber: DbRef }[] {
    return this.fact(() => F.subscriptionsAt(this.plan, publisher));
  }

  /**
   * preflight: a branch publisher's distributor on a server of its own is checked like the central
   * one (reachable, Agent, sysadmin, version at least its publishers'), then every publishing site's
   * server is asked for its distributor and it must be the plan's. `versionOf` gives a fleet server's version.
   */
  async checkSiteDistributors(s: StepContext, versionOf: (server: string) => string): Promise<void> {
    const sites = publishingSites(this.plan);
    const own = F.ownDistributorServers(this.plan);
    const facts = own.length
      ? await this.each(s, 'preflight', own, (server) =>
          this.run.batch.checkServer(`preflight: distributor ${server}`, this.at('preflight'), {
            server,
            publishes: false,
            distributes: true,
          }),
        )
      : [];
    const problems = own.flatMap((server, i) =>
      versionOrderProblems(
        sites
          .filter((site) => distributorOf(this.plan, site).server === server)
          .map((site) => ({
            publisher: { server: site.server, version: versionOf(site.server) },
            subscriber: { server: site.server, version: versionOf(site.server) },
          })),
        { server, version: facts[i]!.version },
      ),
    );
    if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), UpgradeFailure.preflight);
    await this.fan(
      s,
      'preflight',
      F.siteDistributors(this.plan).map(({ site, distributor }) =>
        this.run.batch.checkDistributor(
          `preflight: distributor of ${where(site)}`,
          this.at('preflight'),
          ref(site),
          distributor,
        ),
      ),
    );
  }

  /** Is the distributor a server of its own (not one of the fleet's), so preflight checks it too? */
  distributorOnItsOwn(): boolean {
    return F.distributorOnItsOwn(this.plan);
  }

  /** Disables the merge agent schedules of every publisher (verified by the activity). */
  pauseSchedules(s: StepContext, step: string) {
    return this.onPublishers(s, step, (p) =>
      this.run.batch.pauseAgentSchedules(`${step}: pause merge agent schedules of ${where(p)}`, this.at(step), ref(p)),
    );
  }

  /** Puts every publisher's merge agent schedules back as recorded before the run. */
  async restoreSchedules(step: string, recorded: Map<string, RecordedSchedule[]>, s?: StepContext): Promise<void> {
    await this.onPublishers(s, step, (p) =>
      this.run.batch.restoreAgentSchedules(
        `${step}: restore merge agent schedules of ${where(p)}`,
        this.at(step),
        ref(p),
        recorded.get(where(p)) ?? [],
      ),
    );
  }

  /**
   * Waits for one publication's snapshot, at most options.snapshotTimeoutMinutes, in activities
   * of at most 10 minutes each (an activity's own timeout is 30). Returns the seconds waited.
   */
  async waitForSnapshot(publication: string, site: Site): Promise<number> {
    const minutes = this.plan.options.snapshotTimeoutMinutes ?? DEFAULT_SNAPSHOT_TIMEOUT_MINUTES;
    const started = Date.now();
    for (;;) {
      const left = Math.ceil((minutes * 60_000 - (Date.now() - started)) / 1000);
      const r = await this.run.acts.waitForSnapshot(
        `enable-replication: snapshot of ${publication} on ${where(site)}`,
        this.at('enable-replication'),
        ref(site),
        publication,
        Math.max(1, Math.min(600, left)),
      );
      if (r.ready) return Math.round((Date.now() - started) / 1000);
      if (Date.now() - started >= minutes * 60_000) {
        throw ApplicationFailure.nonRetryable(
          `the snapshot of publication ${publication} on ${where(site)} is not ready after ${minutes} ` +
            `minutes (options.snapshotTimeoutMinutes): see its Snapshot Agent in Replication Monitor (is ` +
            `it running, is SQL Server Agent running on the distributor ${distributorOf(this.plan, site).server}?), ` +
            `then retry this step; no subscription was created for it yet`,
          UpgradeFailure.snapshotNotReady,
        );
      }
    }
  }

  /** The publishing sites in the order of their first publication: where verify-replication writes its canary. */
  canarySites(): Site[] {
    return this.fact(() => F.canarySites(this.plan));
  }

  subscriptions(kind?: 'Config' | 'Data'): SubscriptionRef[] {
    return this.fact(() => F.subscriptions(this.plan, kind));
  }

  /**
   * sqlcmd -v variables for the vendor scripts, as the plan's scripts.variables maps them (recorded
   * for the audit; the activity builds the same ones with servers named as replication knows them).
   */
  vars(v: F.ScriptTarget): Record<string, string> {
    return F.scriptVariables(this.plan, v);
  }

  /** Every run of the vendor scripts this workflow will make: preflight checks each one's values. */
  scriptRuns(): ScriptRuns {
    return this.fact(() => F.scriptRuns(this.plan, this.applies('convert-row-guids')));
  }

  async script(key: keyof UpgradePlan['scripts']['files']): Promise<ScriptRef> {
    this.prepared ??= await this.run.acts.prepareScripts(
      'prepare-scripts: check the scripts',
      this.at('prepare-scripts'),
      this.plan.scripts.files,
      this.applies('convert-row-guids'),
      this.scriptRuns(),
    );
    const file = this.plan.scripts.files[key]!;
    const found = this.prepared.find((p) => p.file === file);
    if (!found) throw ApplicationFailure.nonRetryable(`script ${file} was not prepared`, UpgradeFailure.script);
    return { file: found.file, rewrite: found.rewrite, sha256: found.sha256 };
  }

  /** One call per publishing site, in plan order (`call` describes it), as one fan-out. */
  onPublishers<K extends ActivityName<Acts>>(
    s: StepContext | undefined,
    key: string,
    call: (p: Site) => ActivityCall<Acts, K>,
  ) {
    return this.fan(s, key, this.publishers().map(call));
  }

  /** One call per site (database) of the fleet, in plan order, as one fan-out. */
  onSites<K extends ActivityName<Acts>>(
    s: StepContext | undefined,
    key: string,
    call: (site: Site) => ActivityCall<Acts, K>,
  ) {
    return this.fan(s, key, this.sites().map(call));
  }

  /** One activity per personalization server. */
  eachHost<K extends 'drainHost' | 'undrainHost' | 'stopBackgroundService'>(
    step: string,
    activity: K,
    s?: StepContext,
  ): Promise<ActivityResult<Acts, K>[]> {
    const label = {
      drainHost: 'drain',
      undrainHost: 'admit users on',
      stopBackgroundService: 'stop background service on',
    }[activity];
    // Each of the three takes (ctx, host): TypeScript cannot see that through the generic K.
    const args = (h: string) => [this.at(step), h] as unknown as ActivityArgs<Acts, K>;
    return this.each(s, step, this.hosts(), (h) => ({ activity, args: args(h), summary: `${step}: ${label} ${h}` }));
  }

  /** Restarts the background service on these hosts (those this run stopped), all at once. */
  async startServices(step: string, hosts: string[], s?: StepContext): Promise<void> {
    // Runs started before this change restarted them one host at a time; they replay that way.
    if (!this.run.patched('restore-services-at-once')) {
      for (const host of hosts)
        await this.run.acts.startBackgroundService(`${step}: start background service on ${host}`, this.at(step), host);
      return;
    }
    await this.each(s, step, hosts, (h) =>
      this.run.batch.startBackgroundService(`${step}: start background service on ${h}`, this.at(step), h),
    );
  }

  async countSessions(s: StepContext): Promise<number> {
    const all = await this.onSites(s, 'drain-users', (site) =>
      this.run.batch.userSessions(`drain-users: user sessions on ${where(site)}`, this.at('drain-users'), ref(site)),
    );
    return all.reduce((n, x) => n + x.length, 0);
  }

  /** One round: every Config merge, then every Data merge (never both at once: deadlocks). */
  async syncRound(s: StepContext, step: string, round: number): Promise<F.SyncRound> {
    const results: F.MergeOutcome[] = [];
    for (const kind of F.KIND_ORDER) {
      results.push(
        ...(await this.each(s, `${step}/round-${round}/${kind}`, this.subscriptions(kind), (sub) =>
          this.run.batch.mergeSubscription(
            `${step}: merge ${sub.publication} → ${where(sub.subscriber)}, round ${round}`,
            this.at(step, round),
            sub,
          ),
        )),
      );
    }
    return { round, ...F.sumMerges(results) };
  }

  /**
   * The convergence proof: every subscription marked for merge validation and merged (Config ones,
   * then Data ones: never both merges of a subscriber at once); parks the step, naming subscriptions
   * and tables, when a copy differs or was not validated.
   */
  async validate(s: StepContext, step: string, point: ProofPoint): Promise<SubscriptionValidation[]> {
    const results: SubscriptionValidation[] = [];
    for (const kind of F.KIND_ORDER) {
      results.push(
        ...(await this.each(s, `${step}/validate/${kind}`, this.subscriptions(kind), (sub) =>
          this.run.batch.validateSubscription(
            `${step}: validate ${sub.publication} → ${where(sub.subscriber)} (row counts and checksums)`,
            this.at(step),
            sub,
          ),
        )),
      );
    }
    const stop = convergenceStopMessage(point, results);
    if (stop) throw ApplicationFailure.nonRetryable(stop, UpgradeFailure.copiesDiffer);
    return results;
  }

  /**
   * Conflicts recorded on any publication (at its subscribers too where it logs them there), sorted
   * into those that stop the run and those it only reports; `since` is the run's start.
   */
  async conflictSummary(step: string, since: string): Promise<ConflictSummary> {
    const lists = await boundedAll(this.plan.publications, this.plan.options.maxParallel, (p) =>
      this.run.acts.conflicts(
        `${step}: conflicts of ${p.name} on ${p.publisher}`,
        this.at(step),
        ref(this.site(p.publisher)),
        p.name,
        { since, subscribers: p.subscribers.map((k) => ref(this.site(k))) },
      ),
    );
    return summarizeConflicts(lists.flat());
  }
}

/**
 * On a lab plan, the lab command that does what the operator would do by hand, after the real-fleet
 * wording: ". In this lab, `replup lab <command> --state <file>` <what>"; '' on a real fleet.
 */
export function labHint(plan: UpgradePlan, command: string, what: string): string {
  if (plan.target.kind !== 'lab') return '';
  const state = /^[\w./:@-]+$/.test(plan.target.state)
    ? plan.target.state
    : `'${plan.target.state.replace(/'/g, `'\\''`)}'`;
  return `. In this lab, \`replup lab ${command} --state ${state}\` ${what}`;
}
