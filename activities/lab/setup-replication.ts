// The lab for the set-up runbook (issue 24): the fleet's databases with their tables and rows but
// no replication (no publication, no subscription, not enabled for publishing), distributors
// installed; and the invariants a set-up must keep, which fail when the procedure is done wrong.
// Pure, except initSetupLab (writes the state file through initLab).
import type { SetupPlan } from '../../plan/setup-replication/types.js';
import { NO_UPGRADE } from '../../plan/setup-replication/as-upgrade.js';
import { distributorOf, publishingSites, type UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { compareVersions } from '../../plan/version.js';
import { initLab } from './index.js';
import type { Invariant, LabVerdict } from './check.js';
import {
  TABLE_FOR_KIND,
  distributorOfServer,
  forgetSubscriptionIndex,
  type LabInitOptions,
  plannedPublications,
  type LabState,
} from './model.js';

/** The options of the lab's fleet: neutral, as its builder reads none (one at a time, one round, no gate). */
const LAB_FLEET_OPTIONS: UpgradePlan['options'] = {
  maxParallel: 1,
  sync: { quietRounds: 1, maxRounds: 1 },
  approvals: [],
  drainTimeoutSeconds: 0,
  childWorkflowThreshold: 50,
};

/** The set-up plan as the lab's fleet builder reads it (an upgrade-shaped plan with no upgrade). */
function asLabFleet(plan: SetupPlan): UpgradePlan {
  return { ...plan, ...NO_UPGRADE, options: LAB_FLEET_OPTIONS };
}

/** Makes `state` (a fleet as createLabState builds it) a fleet before set-up: replication taken out. */
export function withoutReplication(state: LabState, plan: SetupPlan): void {
  state.subscriptions = {};
  forgetSubscriptionIndex(state);
  for (const db of Object.values(state.databases)) {
    db.publications = {};
    db.mergePublished = false;
    db.readCommittedSnapshot = false;
  }
  // A fresh fleet: a server that is to distribute for itself has no distributor yet (the set-up installs it).
  const planned = Object.fromEntries(
    publishingSites(plan).map((site) => [site.server, distributorOf(plan, site).server]),
  );
  for (const [server, distributor] of Object.entries(planned))
    if (server === distributor) state.distributors = { ...state.distributors, [server]: null };
  state.configAtStart = {};
  state.schedulesAtStart = {};
  state.setup = {
    central: plan.publisher.key,
    publications: plannedPublications(plan.publications),
    readCommittedSnapshot: Object.fromEntries(plan.readCommittedSnapshot.map((c) => [c.site, c.on])),
    distributors: planned,
  };
}

/** `replup lab init` of a setup-replication plan: the fleet's databases, no replication yet. */
export function initSetupLab(plan: SetupPlan, opts: LabInitOptions & { statePath?: string; force?: boolean } = {}) {
  return initLab(asLabFleet(plan), { ...opts, shape: (state) => withoutReplication(state, plan) });
}

function invariant(name: string, description: string, problems: string[], okText: string): Invariant {
  const shown = problems.slice(0, 5).join('; ');
  return {
    name,
    description,
    ok: problems.length === 0,
    detail: problems.length ? shown + (problems.length > 5 ? `; and ${problems.length - 5} more` : '') : okText,
  };
}

/** What a completed set-up promises; `lab check` of a set-up lab holds the run to these. */
export function setupInvariants(state: LabState): Invariant[] {
  const setup = state.setup!;
  const pubOf = (key: string, name: string) => state.databases[key]?.publications[name];
  const subOf = (pub: string, publisher: string, subscriber: string) =>
    Object.values(state.subscriptions).find(
      (x) => x.publication === pub && x.publisherKey === publisher && x.subscriberKey === subscriber,
    );
  const serverVersion = (dbKey: string) => state.servers[state.databases[dbKey]?.server ?? '']?.version ?? '0';

  const articles: string[] = [];
  for (const p of setup.publications) {
    const pub = pubOf(p.publisher, p.name);
    if (!pub) articles.push(`publication ${p.name} missing at ${p.publisher}`);
    else if (!pub.articles.includes(TABLE_FOR_KIND[p.kind]))
      articles.push(`${p.name} at ${p.publisher} lacks article ${TABLE_FOR_KIND[p.kind]}`);
  }

  const initialized: string[] = [];
  for (const p of setup.publications)
    for (const s of p.subscribers) {
      const sub = subOf(p.name, p.publisher, s);
      if (!sub) initialized.push(`${p.name} → ${s} missing`);
      else if (sub.syncType !== 'automatic' || sub.snapshotPending || sub.status !== 'active')
        initialized.push(
          `${p.name} → ${s} is ${sub.syncType}, ${sub.status}${sub.snapshotPending ? ', snapshot not delivered' : ''}`,
        );
    }

  const versions: string[] = [];
  for (const sub of Object.values(state.subscriptions)) {
    const [pv, sv] = [serverVersion(sub.publisherKey), serverVersion(sub.subscriberKey)];
    if (compareVersions(sv, pv) > 0)
      versions.push(
        `${sub.subscriberKey} (SQL Server ${sv}) subscribes to ${sub.publication} of ${sub.publisherKey} (${pv})`,
      );
  }

  // The seed's order: Config published (its snapshot ready) before any Data; in the branch form every
  // Config subscription (branches, then recovery databases) before a branch publishes its Data.
  const order: string[] = [];
  const configs = setup.publications.filter((p) => p.kind === 'Config').map((p) => pubOf(p.publisher, p.name));
  const configReady = Math.max(
    -1,
    ...configs.map((c) => (c?.snapshot && 'readyAt' in c.snapshot ? c.snapshot.readyAt : Infinity)),
  );
  const configSubs = Object.values(state.subscriptions).filter((x) =>
    setup.publications.some((p) => p.kind === 'Config' && p.name === x.publication && p.publisher === x.publisherKey),
  );
  for (const p of setup.publications.filter((x) => x.kind === 'Data')) {
    const data = pubOf(p.publisher, p.name);
    if (data?.createdAt === undefined) continue;
    if (data.createdAt < configReady)
      order.push(`${p.name} at ${p.publisher} was published before Config's snapshot was ready`);
    if (p.publisher !== setup.central) {
      const later = configSubs.filter((x) => (x.createdAt ?? Infinity) > data.createdAt!);
      if (later.length)
        order.push(
          `${p.name} at ${p.publisher} was published before Config subscribed ` +
            later.map((x) => x.subscriberKey).join(', '),
        );
    }
  }
  const role = (key: string) => state.databases[key]?.role;
  const lastBranch = Math.max(
    -1,
    ...configSubs.filter((x) => role(x.subscriberKey) === 'publisher-subscriber').map((x) => x.createdAt ?? -1),
  );
  for (const x of configSubs.filter(
    (c) => role(c.subscriberKey) === 'subscriber' && (c.createdAt ?? Infinity) < lastBranch,
  ))
    if (setup.publications.some((p) => p.publisher !== setup.central))
      order.push(`recovery database ${x.subscriberKey} subscribed to Config before a branch`);

  const snapshots: string[] = [];
  for (const sub of Object.values(state.subscriptions)) {
    const snap = pubOf(sub.publisherKey, sub.publication)?.snapshot;
    if (snap && 'failed' in snap) snapshots.push(`${sub.key}: the Snapshot Agent of ${sub.publication} failed`);
    else if (snap && (sub.createdAt ?? Infinity) < snap.readyAt)
      snapshots.push(`${sub.key} subscribed before the snapshot of ${sub.publication} was ready`);
  }

  const rcsi = Object.entries(setup.readCommittedSnapshot)
    .filter(([key, on]) => (state.databases[key]?.readCommittedSnapshot ?? false) !== on)
    .map(([key, on]) => `${key} has read committed snapshot ${on ? 'off' : 'on'}, the plan chose ${on ? 'on' : 'off'}`);

  const distributors = Object.entries(setup.distributors ?? {})
    .filter(([server, planned]) => distributorOfServer(state, server)?.toLowerCase() !== planned.toLowerCase())
    .map(
      ([server, planned]) =>
        `${server} has distributor ${distributorOfServer(state, server) ?? 'none'}, planned ${planned}`,
    );

  return [
    invariant(
      'distributors-installed',
      "each publisher's distributor installed, the plan's",
      distributors,
      'every publisher has its distributor',
    ),
    invariant(
      'publications-complete',
      'every planned publication exists with its articles',
      articles,
      `${setup.publications.length} publications with their articles`,
    ),
    invariant(
      'subscriptions-initialized',
      'every planned subscription exists and got its snapshot',
      initialized,
      'every subscription initialized by its snapshot',
    ),
    invariant(
      'publisher-version-highest',
      'no subscriber runs a newer SQL Server than its publisher',
      versions,
      "every publisher at least its subscribers' version",
    ),
    invariant(
      'setup-order',
      "Config before Data; in branch offices the vendor's order",
      order,
      "publications and subscriptions in the vendor's order",
    ),
    invariant(
      'snapshot-before-subscribe',
      "every subscription made once its publication's snapshot was ready",
      snapshots,
      'every snapshot ready before its subscribers',
    ),
    invariant(
      'read-committed-snapshot',
      "each database's read committed snapshot as the plan chose",
      rcsi,
      'as the plan chose everywhere',
    ),
  ];
}

/** `lab check` of a set-up lab. */
export function setupVerdict(state: LabState): LabVerdict {
  return {
    phase: 'intact',
    title: 'set-up: checking what a completed set-up promises',
    invariants: setupInvariants(state),
  };
}
