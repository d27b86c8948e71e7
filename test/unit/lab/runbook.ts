// Shared by the lab tests: a small fleet plan, a fresh lab in a temp folder, and the upgrade
// runbook driven by hand through the ports (DOMAIN.md §1 steps 1-9), with switches for each
// wrong way of doing it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BACKGROUND_SERVICE, type SubscriptionRef } from '../../../activities/ports.js';
import { initLab, openLab, type Lab, type LabConditions } from '../../../activities/lab/index.js';
import { decodeScript, rewriteSyncType } from '../../../activities/sqlcmd/index.js';
import { afterAll, afterEach } from 'vitest';
import { isEarlierThan } from '../../../plan/version.js';
import type { DbRef, Site, UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import * as fleet from '../../../plan/personalization-upgrade/fleet.js';
import { createUpgradeActivities } from '../../../activities/personalization-upgrade/activities.js';
import { testFleetContext } from '../activities/fleet-context.js';

// Every write of a lab in these tests checks that no database changed without its operation
// naming it (the lab's file re-serialises only the databases an operation names).
process.env.REPLUP_LAB_CHECK_DIRTY ??= '1';

export const SCRIPTS_DIR = resolve(import.meta.dirname, '../../../examples/replication');

function site(server: string, role: Site['role'], hosts: string[]): Site {
  return {
    server,
    database: 'PersonalizationServer',
    key: `${server}/PersonalizationServer`,
    role,
    personalizationServers: hosts,
  };
}

/** One publisher (two personalization servers) and two subscribers, Config and Data. */
export function labPlan(statePath: string, from = '8.2.0.0', to = '10.4.0.0'): UpgradePlan {
  const publisher = site('LAB-PUB', 'publisher', ['ps-pub-1', 'ps-pub-2']);
  const sub1 = site('LAB-SUB1', 'subscriber', ['ps-sub1-1']);
  const sub2 = site('LAB-SUB2', 'subscriber', ['ps-sub2-1']);
  const subscribers = [sub1.key, sub2.key];
  return {
    name: 'lab-test',
    runbook: 'em-personalization-upgrade',
    from,
    to,
    target: { kind: 'lab', state: statePath },
    publisher,
    distributor: { server: 'LAB-PUB', database: 'distribution' },
    sites: [publisher, sub1, sub2],
    publications: [
      { name: 'Config', kind: 'Config', publisher: publisher.key, subscribers },
      { name: 'Data', kind: 'Data', publisher: publisher.key, subscribers },
    ],
    scripts: {
      dir: SCRIPTS_DIR,
      files: {
        createConfigPublication: 'CreateConfigPublication.sql',
        createDataPublication: 'CreateDataPublication.sql',
        createConfigSubscription: 'CreateConfigSubscription.sql',
        createDataSubscription: 'CreateDataSubscription.sql',
        convertRowGuids: 'ConvertRowGuids.sql',
        removeReplication: 'RemoveReplication.sql',
      },
    },
    credentials: { kind: 'windows' },
    hosts: { upgrade: 'manual' },
    backup: { dir: '/backups', copyOnly: true },
    options: {
      maxParallel: 4,
      sync: { quietRounds: 2, maxRounds: 20 },
      approvals: [],
      drainTimeoutSeconds: 60,
      childWorkflowThreshold: 10,
    },
  };
}

const tempDirs: string[] = [];

export function tempStatePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'replup-lab-'));
  tempDirs.push(dir);
  return join(dir, 'lab.json');
}

/** Removes the temp folders of the labs this test file made (call in afterAll). */
export function removeTempLabs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A new lab (no latency: the tests do not need to wait) and its plan. */
export async function freshLab(
  opts: {
    from?: string;
    to?: string;
    rows?: number;
    seed?: number;
    conflicts?: number;
    conditions?: LabConditions;
    distributor?: string;
  } = {},
): Promise<{ lab: Lab; plan: UpgradePlan; statePath: string }> {
  const statePath = tempStatePath();
  const plan = labPlan(statePath, opts.from, opts.to);
  // A distributor on a server of its own (not one of the fleet's sites).
  if (opts.distributor) plan.distributor = { server: opts.distributor, database: 'distribution' };
  await initLab(plan, {
    rows: opts.rows ?? 40,
    seed: opts.seed ?? 7,
    conflicts: opts.conflicts,
    conditions: opts.conditions,
  });
  return { lab: openLab(statePath, { latencyScale: 0 }), plan, statePath };
}

/**
 * For a test file: `const lab = labsPerTest()` at its top, then `await lab(opts)` in a test gives
 * a fresh lab, closed after that test; the files are removed after the last test.
 */
export function labsPerTest(): (opts?: Parameters<typeof freshLab>[0]) => ReturnType<typeof freshLab> {
  let open: Lab[] = [];
  afterEach(() => {
    for (const l of open) l.admin.close();
    open = [];
  });
  afterAll(removeTempLabs);
  return async (opts = {}) => {
    const made = await freshLab(opts);
    open.push(made.lab);
    return made;
  };
}

export const ref: (s: Site) => DbRef = fleet.dbRef;

/** The plan's subscriptions in the runbook's order (plan/personalization-upgrade/fleet.ts). */
export function subscriptions(plan: UpgradePlan, kind?: 'Config' | 'Data'): SubscriptionRef[] {
  return fleet.subscriptions(plan, kind);
}

export function script(file: string, vars: Record<string, string>, rewrite = false) {
  const text = decodeScript(readFileSync(join(SCRIPTS_DIR, file)), file).text; // one reader for every script
  return { name: file, text: rewrite ? rewriteSyncType(text).text : text, vars };
}

/** Every merge of one round, one at a time (Config, then Data, per subscriber). */
export async function syncRound(lab: Lab, plan: UpgradePlan): Promise<number> {
  let moved = 0;
  for (const sub of subscriptions(plan)) moved += fleet.sessionMoved(await lab.sql.runMergeAgent(sub));
  return moved;
}

/**
 * Microsoft's quiesce rule (DOMAIN.md §1): rounds until two move nothing and nothing is pending.
 * Returns the rounds it took, or undefined when it never got quiet (an operator would go on anyway).
 */
export async function syncUntilQuiet(lab: Lab, plan: UpgradePlan, maxRounds = 20): Promise<number | undefined> {
  let quiet = 0;
  for (let round = 1; round <= maxRounds; round++) {
    const moved = await syncRound(lab, plan);
    let pending = 0;
    for (const sub of subscriptions(plan)) {
      const p = await lab.sql.pendingChanges(sub);
      pending += p.upload + p.download;
    }
    // A person reads the summary's rows moved and pending; conflicts are not part of this rule here.
    quiet = fleet.quietRoundsAfter(quiet, { moved, pending, conflicts: 0 });
    if (quiet === 2) return round;
  }
  return undefined;
}

export interface RunbookMistakes {
  skipDrain?: boolean;
  /** Stop after the first sync round instead of syncing until quiet. */
  stopSyncEarly?: boolean;
  /** Run the subscription scripts as shipped (@sync_type = N'Automatic'). */
  keepAutomaticSyncType?: boolean;
  skipRowGuidConversion?: boolean;
  leaveBackgroundServicesRunning?: boolean;
  /** Create the subscriptions right after the publication scripts, without waiting for the snapshot. */
  skipSnapshotWait?: boolean;
  /**
   * Converts one subscriber's row GUIDs instead of running ConvertRowGuids.sql once through the port (e.g. through an
   * activity).
   */
  convertRowGuids?: (db: DbRef) => Promise<void>;
  /** Runs just before replication is removed (e.g. recording the configuration). */
  beforeRemoval?: () => Promise<void>;
  /** Creates one publication instead of running its script once through the port. */
  createPublication?: (publication: string) => Promise<void>;
  /** Creates one subscription instead of running its script once through the port. */
  createSubscription?: (sub: SubscriptionRef) => Promise<void>;
  /** Runs once every subscription exists, before the canary (e.g. comparing the configuration). */
  afterEnable?: () => Promise<void>;
}

/** The upgrade, step by step through the ports. Returns the canary's arrival per subscriber. */
export async function runUpgradeByHand(
  lab: Lab,
  plan: UpgradePlan,
  mistakes: RunbookMistakes = {},
): Promise<{ canary: boolean[]; quietAfter?: number }> {
  const { sql, hosts } = lab;
  const allHosts = fleet.hosts(plan);
  const subscriberSites = fleet.subscriberSites(plan);
  const publisher = ref(plan.publisher);

  // 1. Disconnect every user.
  if (!mistakes.skipDrain) {
    for (const h of allHosts) await hosts.drain(h);
    for (const s of plan.sites) {
      const sessions = await sql.activeSessions(ref(s));
      await sql.killSessions(
        ref(s),
        sessions.map((x) => x.sessionId),
      );
    }
  }
  // 2. Synchronize Config and Data until the summary shows nothing moving.
  let quietAfter: number | undefined;
  if (mistakes.stopSyncEarly) await syncRound(lab, plan);
  else quietAfter = await syncUntilQuiet(lab, plan, plan.options.sync.maxRounds);
  for (const s of plan.sites) await sql.backupDatabase(ref(s), plan.backup.dir, 'run-1');
  // 3. Remove replication.
  await mistakes.beforeRemoval?.();
  for (const s of plan.sites) await sql.removeReplication(ref(s));
  // 4. Upgrade the personalization servers and their databases.
  for (const h of allHosts) await hosts.upgradeHost(h, plan.to);
  for (const s of plan.sites) await hosts.upgradeDatabase(ref(s), plan.to);
  // 7. From before 8.3: stop the background service until replication works again.
  const pre83 = isEarlierThan(plan.from, '8.3');
  if (pre83 && !mistakes.leaveBackgroundServicesRunning)
    for (const h of allHosts) await hosts.stopService(h, BACKGROUND_SERVICE);
  // 6. From before 8.3.253.0: convert the subscribers' row GUIDs.
  if (isEarlierThan(plan.from, '8.3.253.0') && !mistakes.skipRowGuidConversion) {
    for (const s of subscriberSites) {
      if (mistakes.convertRowGuids) await mistakes.convertRowGuids(ref(s));
      else
        await sql.runScript(
          ref(s),
          script(plan.scripts.files.convertRowGuids, fleet.scriptVariables(plan, { subscriber: s })),
        );
    }
  }
  // 8. Re-enable: publications on the publisher, then subscriptions rewritten to sync type none.
  for (const kind of fleet.KIND_ORDER) {
    const publication = kind;
    const vars = fleet.scriptVariables(plan, { publication, publisher });
    if (mistakes.createPublication) await mistakes.createPublication(publication);
    else await sql.runScript(publisher, script(plan.scripts.files[fleet.SCRIPT_OF_KIND[kind].publication], vars));
    // As SetMasterUp does: wait for the Snapshot Agent (each look is a lab operation: time passes).
    for (
      let look = 0;
      !mistakes.skipSnapshotWait && look < 500 && !(await sql.snapshotStatus(publisher, publication)).ready;
      look++
    );
  }
  for (const sub of subscriptions(plan)) {
    const file =
      plan.scripts.files[fleet.SCRIPT_OF_KIND[sub.publication === 'Config' ? 'Config' : 'Data'].subscription];
    const vars = fleet.scriptVariables(plan, sub);
    if (mistakes.createSubscription) await mistakes.createSubscription(sub);
    else await sql.runScript(publisher, script(file, vars, !mistakes.keepAutomaticSyncType));
  }
  await mistakes.afterEnable?.();
  // 9. Test the topology: a change at the master shows up at every subscriber.
  await sql.writeCanary(publisher, 'after-upgrade');
  await syncRound(lab, plan);
  const arrived = await Promise.all(subscriberSites.map((s) => sql.readCanary(ref(s), 'after-upgrade')));
  // Then back to service.
  if (pre83 && !mistakes.leaveBackgroundServicesRunning)
    for (const h of allHosts) await hosts.startService(h, BACKGROUND_SERVICE);
  if (!mistakes.skipDrain) for (const h of allHosts) await hosts.undrain(h);
  return { canary: arrived, quietAfter };
}

export async function failing(lab: Lab): Promise<string[]> {
  return (await lab.admin.check()).filter((i) => !i.ok).map((i) => i.name);
}

/** The upgrade's activities on the lab's ports, with the plan's fleet context, as the workflow calls them. */
export function labActivities(lab: Lab, plan: UpgradePlan) {
  return { ctx: testFleetContext(plan), acts: createUpgradeActivities(() => ({ sql: lab.sql, hosts: lab.hosts })) };
}

/** What `p` rejects with (undefined when it resolves): the failure's type and flags to assert on. */
export const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error & { type?: string; nonRetryable?: boolean }) => e,
  );
