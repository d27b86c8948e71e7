// The baseline the workflow is measured against: the same activity functions, called one after
// the other by a plain Node script, the way a PowerShell or Node runbook script would do it. No
// Temporal: no durability, no retries, no audit; a failure ends the script.
import type { UpgradePlan } from '../plan/personalization-upgrade/types.js';
import { planSteps } from '../plan/personalization-upgrade/steps.js';
import * as fleet from '../plan/personalization-upgrade/fleet.js';
import type { PreparedScript, ScriptRef, UpgradeActivities } from '../activities/personalization-upgrade/activities.js';

const ref = fleet.dbRef;

/** Runs the Personalization Server upgrade in sequence; returns how many activity calls it made. */
export async function runbookScript(
  plan: UpgradePlan,
  acts: UpgradeActivities,
  runId: string,
): Promise<{ activities: number; syncRounds: number }> {
  const ctx = fleet.fleetContext(plan);
  const applies = (id: string) => planSteps(plan).find((s) => s.id === id)?.applies ?? false;
  let calls = 0;
  const call = async <K extends keyof UpgradeActivities>(
    name: K,
    ...args: Parameters<UpgradeActivities[K]> extends [typeof ctx, ...infer A] ? A : never
  ) => {
    calls += 1;
    return (acts[name] as (...a: unknown[]) => Promise<Awaited<ReturnType<UpgradeActivities[K]>>>)(ctx, ...args);
  };
  const sites = plan.sites;
  const hosts = fleet.hosts(plan);
  const site = (key: string) => fleet.siteOf(plan, key);
  const subscriptions = (kind?: 'Config' | 'Data') => fleet.subscriptions(plan, kind);
  const vars = (v: fleet.ScriptTarget) => fleet.scriptVariables(plan, v);
  // One round: every Config merge, then every Data merge, one at a time; conflict rows counted too.
  const syncRound = async () => {
    const merges = [];
    for (const kind of fleet.KIND_ORDER)
      for (const sub of subscriptions(kind)) merges.push(await call('mergeSubscription', sub));
    const round = fleet.sumMerges(merges);
    for (const p of plan.publications)
      round.conflicts += (await call('conflicts', ref(site(p.publisher)), p.name)).length;
    return round;
  };

  // preflight
  for (const server of fleet.servers(plan))
    await call('checkServer', {
      server: server.name,
      sqlVersion: server.sqlVersion,
      edition: server.edition,
      publishes: server.publishes,
      distributes: fleet.distributes(plan, server.name),
    });
  let prepared: PreparedScript[] = await call('prepareScripts', plan.scripts.files, applies('convert-row-guids'));
  const script = (file: string): ScriptRef => {
    const p = prepared.find((x) => x.file === file)!;
    return { file: p.file, rewrite: p.rewrite, sha256: p.sha256 };
  };
  // drain-users (drainTimeoutSeconds as in the plan; the bench fleets use 0)
  for (const h of hosts) await call('drainHost', h);
  let open = 0;
  for (const s of sites) open += (await call('userSessions', ref(s))).length;
  if (open > 0) for (const s of sites) await call('disconnectUsers', ref(s));
  // sync-until-quiet
  let quiet = 0;
  let rounds = 0;
  while (quiet < plan.options.sync.quietRounds) {
    if (rounds >= plan.options.sync.maxRounds) throw new Error(`not quiet after ${rounds} rounds`);
    const r = await syncRound();
    rounds += 1;
    if (r.conflicts) throw new Error(`${r.conflicts} conflicts`);
    quiet = fleet.quietRoundsAfter(quiet, r);
  }
  // backup, remove-replication (publishers first), upgrade (publisher first)
  for (const s of sites) await call('backupDatabase', ref(s), plan.backup.dir, runId);
  for (const s of fleet.removalOrder(plan).flat()) await call('removeReplication', ref(s));
  for (const s of sites) {
    for (const h of s.personalizationServers) await call('upgradeHost', h, plan.to);
    await call('upgradeDatabase', ref(s), plan.to);
  }
  await call('verifyVersions', sites.map(ref), hosts, plan.to);
  const stopped: string[] = [];
  if (applies('stop-background-services')) {
    for (const h of hosts) if ((await call('stopBackgroundService', h)).wasRunning) stopped.push(h);
  }
  const subscriberSites = fleet.subscriberSites(plan);
  if (applies('convert-row-guids')) {
    for (const s of subscriberSites)
      await call('runScript', ref(s), script(plan.scripts.files.convertRowGuids), vars({ subscriber: s }));
  }
  prepared = await call('prepareScripts', plan.scripts.files, applies('convert-row-guids'));
  // enable-replication: publications, then subscriptions, Config before Data
  for (const kind of fleet.KIND_ORDER) {
    for (const p of fleet.publicationsOf(plan, kind)) {
      const file = plan.scripts.files[fleet.SCRIPT_OF_KIND[kind].publication];
      await call(
        'createPublication',
        ref(site(p.publisher)),
        p.name,
        script(file),
        vars({ publication: p.name, publisher: site(p.publisher) }),
      );
    }
  }
  for (const kind of fleet.KIND_ORDER) {
    const file = plan.scripts.files[fleet.SCRIPT_OF_KIND[kind].subscription];
    for (const sub of subscriptions(kind))
      await call(
        'createSubscription',
        sub,
        script(file),
        vars({ publication: sub.publication, publisher: sub.publisher, subscriber: sub.subscriber }),
      );
  }
  // verify-replication
  const token = `replup-canary-script-${runId}`;
  for (const p of fleet.canarySites(plan)) await call('writeCanary', ref(p), token);
  await syncRound();
  for (const sub of subscriptions()) {
    if (!(await call('readCanary', sub.subscriber, token)).arrived)
      throw new Error(`canary missing at ${sub.subscriber.server}`);
  }
  // restore-service
  for (const h of stopped) await call('startBackgroundService', h);
  for (const h of hosts) await call('undrainHost', h);
  return { activities: calls, syncRounds: rounds };
}
