// Setting up merge replication for Personalization Server, as the seed's "Performing the Setup"
// (SetMasterUp, then AddSubscriber) and its "Branch Office Replication Scenario" give it:
// preflight (sysadmin, SQL Server Agent, versions, distributors, nothing replicated yet), read
// committed snapshot per database as the plan chose, the Config publication at the master and its
// Snapshot Agent waited for, the Data publication and its Snapshot Agent (twice, as the seed says),
// then the subscribers; in the branch-office form: Config at the master, branches then recovery
// databases subscribed to it, each branch publishing Data (its own distributor) to its recovery database.
import { ApplicationFailure } from '@temporalio/workflow';
import type { SetupPlan, SetupStepId } from '../plan/setup-replication/types.js';
import { setupSteps } from '../plan/setup-replication/steps.js';
import { setupFleetContext } from '../plan/setup-replication/fleet.js';
import { agentAccountNotes } from '../plan/setup-replication/agent-account.js';
import { subscribeConfigNote } from '../plan/setup-replication/gate-notes.js';
import * as F from '../plan/personalization-upgrade/fleet.js';
import type { DbRef, Publication, Site } from '../plan/personalization-upgrade/types.js';
import type { FleetContext, ScriptRef, UpgradeActivities } from '../activities/personalization-upgrade/activities.js';
import type { SetupActivities } from '../activities/setup-replication/activities.js';
import { SetupFailure } from '../activities/setup-replication/failures.js';
import type { SubscriptionRef } from '../activities/ports.js';
import { versionOrderProblems } from '../activities/personalization-upgrade/preflight.js';
import { fleetIdentity } from '../plan/personalization-upgrade/fleet-identity.js';
import { tagged } from '../common/activity-call.js';
import { FleetCalls, Runbook, temporalDriver, type RunbookDriver, type StepContext } from './engine/index.js';
import type { RunResult } from './messages.js';
import { count } from '../common/count.js';

export interface SetupInput {
  plan: SetupPlan;
  /** Who started the run (OS user or --actor). */
  requestedBy: string;
}

const TITLES: Record<SetupStepId, string> = {
  preflight: 'Check servers, versions, distributors and that nothing replicates yet',
  'configure-distributor': 'Install the distributor where a publisher distributes for itself',
  'read-committed-snapshot': 'Read committed snapshot per database, as the plan chose',
  'publish-config': 'Create the Config publication and wait for its Snapshot Agent',
  'publish-data': 'Create the Data publication and wait for its Snapshot Agent',
  'subscribe-config': 'Subscribe to Config (branches first, then recovery databases)',
  'publish-branch-data': 'Each branch publishes its Data (its own distributor)',
  'subscribe-data': 'Subscribe to Data (each recovery database to its branch)',
  'verify-replication': 'Every publication has its articles, every subscription merged and active',
};

/** Steps an operator may skip after a failure: none guards nothing but the final look. */
const SKIPPABLE = new Set<SetupStepId>(['verify-replication']);

/** One set-up per fleet at a time, whatever the spelling of its master. */
export function setupWorkflowId(plan: Pick<SetupPlan, 'publisher'>): string {
  return `setup-replication:${fleetIdentity(plan.publisher)}`;
}

type Acts = UpgradeActivities & SetupActivities;
export type SetupDriver = RunbookDriver<Acts>;

export async function setupReplication(input: SetupInput): Promise<RunResult> {
  const { plan } = input;
  const engine = new Runbook({
    runbook: plan.runbook,
    fleet: F.where(plan.publisher),
    planName: plan.name,
    approvals: plan.options.approvals,
    ...(plan.options.gates && { gates: plan.options.gates }),
    starter: input.requestedBy,
    ...(plan.notify && { notify: plan.notify }),
    steps: setupSteps(plan).map((s) => ({ ...s, title: TITLES[s.id], skippable: SKIPPABLE.has(s.id) })),
  });
  const { retry, maxParallel, childWorkflowThreshold: childThreshold } = plan.options;
  return engine.run(() => setupRunbook(temporalDriver<Acts>(engine, { retry, maxParallel, childThreshold }), input));
}

/** The runbook, step by step, on a driver (the workflow's, or a plain script's in the lab tests). */
export async function setupRunbook(run: SetupDriver, input: SetupInput): Promise<void> {
  const { plan } = input;
  const fleet = new SetupFleet(plan, run);
  run.fact('requestedBy', input.requestedBy);
  let scripts: Map<string, ScriptRef> | undefined;
  let toInstall: F.SiteDistributor[] = [];

  await run.step('preflight', async (s) => {
    // Every server: reachable, sysadmin, Agent running where it distributes, the plan's version and edition.
    const facts = await fleet.each(s, 'preflight', F.servers(plan), (server) =>
      run.batch.checkServer(`preflight: ${server.name}`, fleet.at('preflight'), {
        server: server.name,
        ...(server.sqlVersion !== undefined && { sqlVersion: server.sqlVersion }),
        ...(server.edition !== undefined && { edition: server.edition }),
        publishes: server.publishes,
        distributes: F.distributes(plan, server.name),
      }),
    );
    const own = await fleet.each(s, 'preflight', F.ownDistributorServers(plan), (server) =>
      run.batch.checkServer(`preflight: distributor ${server}`, fleet.at('preflight'), {
        server,
        publishes: false,
        distributes: true,
      }),
    );
    // Each publisher an equal or later version than its subscribers (the master ≥ branches ≥ their
    // recovery databases), each distributor at least its publisher's.
    const names = F.servers(plan).map((x) => x.name.toLowerCase());
    const version = (server: string) => facts[names.indexOf(server.toLowerCase())]!.version;
    const problems = [
      ...versionOrderProblems(
        F.versionPairs(plan).map((x) => ({
          publisher: { server: x.publisher, version: version(x.publisher) },
          subscriber: { server: x.subscriber, version: version(x.subscriber) },
        })),
      ),
      // A distributor at least its publishers' version (Replication Backward Compatibility).
      ...F.ownDistributorServers(plan).flatMap((server, i) =>
        versionOrderProblems(
          F.siteDistributors(plan)
            .filter((d) => d.distributor.server === server)
            .map((d) => {
              const at = { server: d.site.server, version: version(d.site.server) };
              return { publisher: at, subscriber: at };
            }),
          { server, version: own[i]!.version },
        ),
      ),
    ];
    if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), SetupFailure.preflight);
    // Each publishing site's distributor: the plan's if installed, else installed by configure-distributor
    // when the site distributes for itself (sp_get_distributor).
    const found = await fleet.each(s, 'preflight', F.siteDistributors(plan), ({ site, distributor }) =>
      run.batch.distributorToInstall(
        `preflight: distributor of ${F.where(site)}`,
        fleet.at('preflight'),
        F.dbRef(site),
        distributor,
      ),
    );
    toInstall = F.siteDistributors(plan).filter((_, i) => found[i]!.install);
    // Every database there, none replicated yet: refused here, before any change.
    await run.acts.checkNotReplicated(
      'preflight: every database exists and replicates nothing yet',
      fleet.at('preflight'),
      plan.sites.map(F.dbRef),
    );
    const prepared = await run.acts.prepareScripts(
      "preflight: scripts present and parse with the run's variables",
      fleet.at('preflight'),
      { ...plan.scripts.files },
      false,
      F.scriptRuns(plan, false),
    );
    scripts = new Map(prepared.map((p) => [p.file, { file: p.file, rewrite: p.rewrite, sha256: p.sha256 }]));
    // The account each distributing server's Agent runs as, and what it needs on the other servers (the seed):
    // replup checks its own login's rights, not this account's, so these are warnings for the DBA to confirm.
    const serverNames = F.servers(plan).map((x) => x.name);
    const distributing = [...facts.filter((f) => F.distributes(plan, f.server)), ...own];
    const agentAccounts = agentAccountNotes(
      distributing.map((f) => ({ server: f.server, ...(f.agentAccount && { agentAccount: f.agentAccount }) })),
      (server) => serverNames.filter((x) => x.toLowerCase() !== server.toLowerCase()),
    );
    run.fact('preflightWarnings', agentAccounts);
    s.note(
      `${facts.length} servers, ${plan.sites.length} databases, ${prepared.length} scripts checked; ` +
        agentAccounts.join('; '),
    );
  });

  await run.step('configure-distributor', async (s) => {
    // Once per server: a server with two publishing databases has one distributor.
    const servers = toInstall.filter((d, i) => toInstall.findIndex((x) => x.site.server === d.site.server) === i);
    await fleet.each(s, 'configure-distributor', servers, ({ site, distributor }) =>
      run.batch.configureDistributor(
        `configure-distributor: ${site.server} distributes for itself (${distributor.database})`,
        fleet.at('configure-distributor'),
        F.dbRef(site),
        distributor,
        ...(plan.snapshotFolder !== undefined ? [plan.snapshotFolder] : []),
      ),
    );
    s.note(
      servers.length ? `installed at ${servers.map((d) => d.site.server).join(', ')}` : 'every distributor was there',
    );
  });

  await run.step('read-committed-snapshot', async (s) => {
    const on = new Map(plan.readCommittedSnapshot.map((c) => [c.site, c.on]));
    await fleet.each(s, 'read-committed-snapshot', plan.sites, (site) =>
      run.batch.setReadCommittedSnapshot(
        `read-committed-snapshot: ${on.get(site.key) ? 'on' : 'off'} at ${F.where(site)}`,
        fleet.at('read-committed-snapshot'),
        F.dbRef(site),
        on.get(site.key) ?? false,
      ),
    );
    s.note(`on at ${plan.readCommittedSnapshot.filter((c) => c.on).length} of ${plan.sites.length} databases`);
  });

  const central = plan.publisher.key;
  const publish = async (s: StepContext, step: string, pubs: Publication[]) => {
    const kind = pubs[0]?.kind ?? 'Config';
    const file = plan.scripts.files[F.SCRIPT_OF_KIND[kind].publication];
    const ref = scripts?.get(file);
    if (!ref) throw ApplicationFailure.nonRetryable(`script ${file} was not prepared`, SetupFailure.preflight);
    await fleet.each(s, step, pubs, (p) =>
      run.batch.createPublication(
        `${step}: publication ${p.name} at ${p.publisher}`,
        fleet.at(step),
        F.dbRef(fleet.site(p.publisher)),
        p.name,
        ref,
        F.scriptVariables(plan, { publication: p.name, publisher: fleet.site(p.publisher) }),
      ),
    );
    // The seed's SetMasterUp waits for each Snapshot Agent before it goes on.
    let waited = 0;
    for (const p of pubs) waited = Math.max(waited, await fleet.snapshot(step, p.name, fleet.site(p.publisher)));
    s.note(`${count(pubs.length, 'publication')} ${kind}; snapshot ready after ${waited} s`);
  };
  const subscribe = async (s: StepContext, step: string, subs: SubscriptionRef[]) => {
    const kind = subs[0] && plan.publications.find((p) => p.name === subs[0]!.publication)?.kind;
    const file = plan.scripts.files[F.SCRIPT_OF_KIND[kind ?? 'Config'].subscription];
    await fleet.each(s, step, subs, (sub) =>
      run.batch.subscribeWithSnapshot(
        `${step}: ${sub.publication} → ${F.where(sub.subscriber)} (snapshot)`,
        fleet.at(step),
        sub,
        file,
      ),
    );
    // The first merge delivers the snapshot: the subscription is initialized and active.
    await fleet.each(s, step, subs, (sub) =>
      run.batch.mergeSubscription(
        `${step}: first merge ${sub.publication} → ${F.where(sub.subscriber)}`,
        fleet.at(step),
        sub,
      ),
    );
  };

  await run.step('publish-config', (s) => publish(s, 'publish-config', F.publicationsOf(plan, 'Config')));
  await run.step('publish-data', (s) =>
    publish(
      s,
      'publish-data',
      F.publicationsOf(plan, 'Data').filter((p) => p.publisher === central),
    ),
  );

  await run.gate('subscribe-config', subscribeConfigNote(plan));
  await run.step('subscribe-config', async (s) => {
    // The seed's branch order: every branch office database, then every recovery database.
    const subs = F.subscriptions(plan, 'Config');
    const branch = (x: SubscriptionRef) => fleet.siteOf(x.subscriber).role === 'publisher-subscriber';
    await subscribe(s, 'subscribe-config', subs.filter(branch));
    await subscribe(
      s,
      'subscribe-config',
      subs.filter((x) => !branch(x)),
    );
    s.note(`${count(subs.length, 'subscriber')} to Config, each initialized by the snapshot`);
  });

  await run.step('publish-branch-data', (s) =>
    publish(
      s,
      'publish-branch-data',
      F.publicationsOf(plan, 'Data').filter((p) => p.publisher !== central),
    ),
  );

  await run.step('subscribe-data', async (s) => {
    const subs = F.subscriptions(plan, 'Data');
    await subscribe(s, 'subscribe-data', subs);
    s.note(`${count(subs.length, 'subscriber')} to Data, each initialized by the snapshot`);
  });

  await run.step('verify-replication', async (s) => {
    const publishers = F.publishers(plan);
    await fleet.each(s, 'verify-replication', publishers, (p) =>
      run.batch.verifyPublisher(`verify-replication: ${F.where(p)}`, fleet.at('verify-replication'), {
        publisher: F.dbRef(p),
        publications: plan.publications
          .filter((x) => x.publisher === p.key)
          .map((x) => ({ name: x.name, subscribers: x.subscribers.map((k) => F.dbRef(fleet.site(k))) })),
      }),
    );
    const at = count(publishers.length, 'publisher');
    s.note(`${count(plan.publications.length, 'publication')} and their subscriptions verified at ${at}`);
  });
}

/** The plan's fleet as the set-up's steps use it. */
class SetupFleet extends FleetCalls<Acts> {
  private readonly ctx: FleetContext;

  constructor(
    private readonly plan: SetupPlan,
    run: SetupDriver,
  ) {
    super(run);
    this.ctx = setupFleetContext(plan);
  }

  /** The context of an activity call of `step` (the report reads the step from the history). */
  at(step: string): FleetContext {
    return tagged(this.ctx, { step });
  }

  site(key: string): Site {
    try {
      return F.siteOf(this.plan, key);
    } catch (err) {
      if (err instanceof F.UnknownSiteError) throw ApplicationFailure.nonRetryable(err.message, SetupFailure.preflight);
      throw err;
    }
  }

  siteOf(db: DbRef): Site {
    return this.site(`${db.server}/${db.database}`);
  }

  /**
   * Waits for one publication's Snapshot Agent, at most options.snapshotTimeoutMinutes, in
   * activities of at most 10 minutes; a failed agent fails the activity (the step parks).
   * Returns the seconds waited.
   */
  async snapshot(step: string, publication: string, site: Site): Promise<number> {
    const limit = this.plan.options.snapshotTimeoutMinutes * 60_000;
    const started = Date.now();
    while (Date.now() - started < limit) {
      const left = Math.ceil((limit - (Date.now() - started)) / 1000);
      const r = await this.run.acts.waitForSnapshot(
        `${step}: Snapshot Agent of ${publication} at ${F.where(site)}`,
        this.at(step),
        F.dbRef(site),
        publication,
        Math.max(1, Math.min(600, left)),
      );
      if (r.ready) return Math.round((Date.now() - started) / 1000);
    }
    throw ApplicationFailure.nonRetryable(
      `the snapshot of ${publication} at ${F.where(site)} is not ready after ` +
        `${this.plan.options.snapshotTimeoutMinutes} minutes (options.snapshotTimeoutMinutes): see its Snapshot ` +
        'Agent in Replication Monitor, then retry this step; nobody subscribed to it yet',
      SetupFailure.snapshotNotReady,
    );
  }
}
