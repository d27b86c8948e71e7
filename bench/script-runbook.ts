// The baseline the workflow is measured against: the same activity functions, called one after
// the other by a plain Node script, the way a PowerShell or Node runbook script would do it. No
// Temporal: no durability, no retries, no audit; a failure ends the script.
import type { UpgradePlan, DbRef, Site } from '../plan/personalization-upgrade/types.js';
import { planSteps } from '../plan/personalization-upgrade/steps.js';
import type { FleetContext, PreparedScript, ScriptRef, UpgradeActivities } from '../activities/personalization-upgrade/activities.js';
import type { SubscriptionRef } from '../activities/ports.js';

const ref = (s: Site): DbRef => ({ server: s.server, database: s.database });

/** Runs the Personalization Server upgrade in sequence; returns how many activity calls it made. */
export async function runbookScript(plan: UpgradePlan, acts: UpgradeActivities, runId: string): Promise<{ activities: number; syncRounds: number }> {
  const ctx: FleetContext = { target: plan.target, credentials: plan.credentials, hosts: plan.hosts, scriptsDir: plan.scripts.dir, distributor: plan.distributor, versionQuery: plan.versionQuery };
  const applies = (id: string) => planSteps(plan).find((s) => s.id === id)?.applies ?? false;
  let calls = 0;
  const call = async <K extends keyof UpgradeActivities>(name: K, ...args: Parameters<UpgradeActivities[K]> extends [FleetContext, ...infer A] ? A : never) => {
    calls += 1;
    return (acts[name] as (...a: unknown[]) => Promise<Awaited<ReturnType<UpgradeActivities[K]>>>)(ctx, ...args);
  };
  const sites = plan.sites;
  const hosts = [...new Set(sites.flatMap((s) => s.personalizationServers))];
  const site = (key: string) => sites.find((s) => s.key === key)!;
  const subscriptions = (kind?: 'Config' | 'Data'): SubscriptionRef[] =>
    plan.publications.filter((p) => !kind || p.kind === kind).flatMap((p) => p.subscribers.map((k) => ({ publication: p.name, publisher: ref(site(p.publisher)), subscriber: ref(site(k)) })));
  const vars = (v: { publication?: string; publisher?: DbRef; subscriber?: DbRef }) => ({
    DistributorServer: plan.distributor.server,
    ...(v.publication ? { Publication: v.publication } : {}),
    ...(v.publisher ? { PublisherServer: v.publisher.server, PublisherDatabase: v.publisher.database } : {}),
    ...(v.subscriber ? { SubscriberServer: v.subscriber.server, SubscriberDatabase: v.subscriber.database } : {}),
  });
  const servers = [...new Set(sites.map((s) => s.server))];
  const syncRound = async () => {
    let moved = 0;
    let pending = 0;
    let conflicts = 0;
    for (const kind of ['Config', 'Data'] as const) {
      for (const sub of subscriptions(kind)) {
        const r = await call('mergeSubscription', sub);
        const { upload: u, download: d } = r.session;
        moved += u.inserts + u.updates + u.deletes + d.inserts + d.updates + d.deletes;
        conflicts += u.conflicts + d.conflicts;
        pending += r.pending.upload + r.pending.download;
      }
    }
    for (const p of plan.publications) conflicts += (await call('conflicts', ref(site(p.publisher)), p.name)).length;
    return { moved, pending, conflicts };
  };

  // preflight
  for (const server of servers) {
    const s = sites.find((x) => x.server === server)!;
    await call('checkServer', { server, sqlVersion: s.sqlVersion, edition: s.edition, publishes: plan.publications.some((p) => p.publisher === s.key), distributes: server === plan.distributor.server });
  }
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
    quiet = r.moved === 0 && r.pending === 0 ? quiet + 1 : 0;
  }
  // backup, remove-replication (publishers first), upgrade (publisher first)
  for (const s of sites) await call('backupDatabase', ref(s), plan.backup.dir, runId);
  for (const s of [...sites.filter((x) => x.role !== 'subscriber'), ...sites.filter((x) => x.role === 'subscriber')]) await call('removeReplication', ref(s));
  for (const s of sites) {
    for (const h of s.personalizationServers) await call('upgradeHost', h, plan.to);
    await call('upgradeDatabase', ref(s), plan.to);
  }
  await call('verifyVersions', sites.map(ref), hosts, plan.to);
  const stopped: string[] = [];
  if (applies('stop-background-services')) {
    for (const h of hosts) if ((await call('stopBackgroundService', h)).wasRunning) stopped.push(h);
  }
  const subscriberSites = sites.filter((s) => plan.publications.some((p) => p.subscribers.includes(s.key)));
  if (applies('convert-row-guids')) {
    for (const s of subscriberSites) await call('runScript', ref(s), script(plan.scripts.files.convertRowGuids), vars({ subscriber: s }));
  }
  prepared = await call('prepareScripts', plan.scripts.files, applies('convert-row-guids'));
  // enable-replication: publications, then subscriptions, Config before Data
  for (const kind of ['Config', 'Data'] as const) {
    for (const p of plan.publications.filter((x) => x.kind === kind)) {
      const file = kind === 'Config' ? plan.scripts.files.createConfigPublication : plan.scripts.files.createDataPublication;
      await call('createPublication', ref(site(p.publisher)), p.name, script(file), vars({ publication: p.name, publisher: site(p.publisher) }));
    }
  }
  for (const kind of ['Config', 'Data'] as const) {
    const file = kind === 'Config' ? plan.scripts.files.createConfigSubscription : plan.scripts.files.createDataSubscription;
    for (const sub of subscriptions(kind)) await call('createSubscription', sub, script(file), vars({ publication: sub.publication, publisher: sub.publisher, subscriber: sub.subscriber }));
  }
  // verify-replication
  const token = `replup-canary-script-${runId}`;
  for (const p of new Set(plan.publications.map((x) => x.publisher))) await call('writeCanary', ref(site(p)), token);
  await syncRound();
  for (const sub of subscriptions()) {
    if (!(await call('readCanary', sub.subscriber, token)).arrived) throw new Error(`canary missing at ${sub.subscriber.server}`);
  }
  // restore-service
  for (const h of stopped) await call('startBackgroundService', h);
  for (const h of hosts) await call('undrainHost', h);
  return { activities: calls, syncRounds: rounds };
}
