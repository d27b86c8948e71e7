// The facts about a Personalization Server fleet that every layer needs the same way: its topology
// (sites, hosts, servers, who publishes to whom and through which distributor), its subscriptions
// in the order the runbook walks them, the sqlcmd variables each vendor script run gets, and how a
// sync round is counted. The workflow, the activities, the report, the bench's plain script and
// the lab tests all read them here, so a fleet fact changes in one place.
//
// Source: seed 000 (../shared/DOMAIN.md §1): Config and Data merges never run at once (deadlocks);
// the publisher runs the highest version; publications first, then subscriptions; quiet means a
// round with 0 inserts, updates and deletes on every subscription.
//
// Pure: no I/O, no Node or Temporal imports (only types), so Temporal's workflow sandbox can load
// it. Every function returns fresh arrays and objects, in plan order unless it says otherwise.
import type { ChangeCounts, PendingChanges, SubscriptionRef } from '../../activities/ports.js';
import type { FleetContext } from '../../activities/personalization-upgrade/activities.js';
import {
  distributorForPublisher,
  publisherDistributors,
  type PublisherDistributor,
} from '../../activities/personalization-upgrade/distributors.js';
import { expandScriptVariables, type ScriptFor } from '../../activities/sqlcmd/variables.js';
import {
  distributorOf,
  publishingSites,
  type DbRef,
  type Publication,
  type ScriptFiles,
  type Site,
  type UpgradePlan,
} from './types.js';

/** The plan parts the topology is read from. */
export type FleetPlan = Pick<UpgradePlan, 'sites' | 'publications' | 'distributor'>;

/** A publication's kind; also the order of one sync round: every Config merge, then every Data merge. */
export type PublicationKind = Publication['kind'];

/**
 * The kinds in the order the runbook treats them: a sync round merges Config then Data (never both
 * at once: DOMAIN.md §1), enable-replication creates Config's publications and subscriptions first.
 */
export const KIND_ORDER: readonly PublicationKind[] = ['Config', 'Data'];

// --- topology ----------------------------------------------------------------------------------

/** `server/database`, as step notes and activity summaries name a database. */
export const where = (db: DbRef): string => `${db.server}/${db.database}`;

/** A site as a bare database reference (what activities take). */
export const dbRef = (s: DbRef): DbRef => ({ server: s.server, database: s.database });

/** A plan names a site key (a publication's publisher or subscriber) that it does not define. */
export class UnknownSiteError extends Error {
  /** The failure type the workflow reports it as. */
  readonly type = 'PlanError';
  constructor(readonly key: string) {
    super(`the plan names site ${key} but does not define it`);
    this.name = 'UnknownSiteError';
  }
}

/**
 * The site with this key (`server/database`, exact).
 * @throws UnknownSiteError when the plan does not define it (plan validation refuses such plans)
 */
export function siteOf(plan: Pick<UpgradePlan, 'sites'>, key: string): Site {
  const s = plan.sites.find((x) => x.key === key);
  if (!s) throw new UnknownSiteError(key);
  return s;
}

/** The sites that publish something, in plan order (the central publisher, then branches). */
export function publishers(plan: Pick<UpgradePlan, 'sites' | 'publications'>): Site[] {
  return publishingSites(plan);
}

/** The sites that subscribe to some publication, in plan order. */
export function subscriberSites(plan: Pick<UpgradePlan, 'sites' | 'publications'>): Site[] {
  const keys = new Set(plan.publications.flatMap((p) => p.subscribers));
  return plan.sites.filter((s) => keys.has(s.key));
}

/** The distinct publishers of the publications a site subscribes to, in plan order. */
export function publishersOf(plan: Pick<UpgradePlan, 'sites' | 'publications'>, site: Site): Site[] {
  const keys = new Set(plan.publications.filter((p) => p.subscribers.includes(site.key)).map((p) => p.publisher));
  return plan.sites.filter((s) => keys.has(s.key));
}

/**
 * The publishing sites in the order of their first publication (verify-replication writes its
 * canary at each, in this order); a site publishing Config and Data is named once.
 */
export function canarySites(plan: Pick<UpgradePlan, 'sites' | 'publications'>): Site[] {
  return [...new Set(plan.publications.map((p) => p.publisher))].map((k) => siteOf(plan, k));
}

/** Every personalization server (IIS host) of the fleet, each once, in plan order. */
export function hosts(plan: Pick<UpgradePlan, 'sites'>): string[] {
  return [...new Set(plan.sites.flatMap((s) => s.personalizationServers))];
}

/** One SQL Server of the fleet as preflight checks it. */
export interface FleetServer {
  /** As the plan spells it (the first site's spelling). */
  name: string;
  /** Expected version and edition: the first site on this server that gives one. */
  sqlVersion?: string;
  edition?: string;
  /** Some site on it publishes (SQL Express cannot). */
  publishes: boolean;
}

/** The fleet's SQL Servers, each once (by exact name), in the order of their first site. */
export function servers(plan: Pick<UpgradePlan, 'sites' | 'publications'>): FleetServer[] {
  const byName = new Map<string, FleetServer>();
  const publishing = new Set(plan.publications.map((p) => p.publisher));
  for (const s of plan.sites) {
    const prev = byName.get(s.server);
    byName.set(s.server, {
      name: s.server,
      sqlVersion: prev?.sqlVersion ?? s.sqlVersion,
      edition: prev?.edition ?? s.edition,
      publishes: (prev?.publishes ?? false) || publishing.has(s.key),
    });
  }
  return [...byName.values()];
}

const sameServer = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Is this server the distributor of some publishing site (so its SQL Server Agent must run)? Names ignore case. */
export function distributes(plan: FleetPlan, server: string): boolean {
  return publishingSites(plan).some((site) => sameServer(distributorOf(plan, site).server, server));
}

/** Is the plan's distributor a server of its own (no site on it), so preflight checks it too? */
export function distributorOnItsOwn(plan: FleetPlan): boolean {
  return !plan.sites.some((s) => sameServer(s.server, plan.distributor.server));
}

/**
 * Distributor servers of publishing sites that are neither the plan's distributor nor a fleet
 * server (a branch distributing through a server of its own), each once, in site order.
 */
export function ownDistributorServers(plan: FleetPlan): string[] {
  const sites = publishingSites(plan);
  return [...new Set(sites.map((site) => distributorOf(plan, site).server))].filter(
    (server) => !sameServer(server, plan.distributor.server) && !plan.sites.some((x) => sameServer(x.server, server)),
  );
}

/** A publishing site and the distributor that serves it. */
export interface SiteDistributor {
  site: Site;
  distributor: DbRef;
}

/** Every publishing site with its distributor (the plan's unless the site names its own), in plan order. */
export function siteDistributors(plan: FleetPlan): SiteDistributor[] {
  return publishingSites(plan).map((site) => ({ site, distributor: distributorOf(plan, site) }));
}

/** Each publishing server's distributor, as FleetContext.distributors carries it (issue #18 §3). */
export function fleetDistributors(plan: FleetPlan): PublisherDistributor[] {
  return publisherDistributors(plan);
}

/**
 * The subscriptions, publication by publication in plan order, each publication's subscribers in
 * its order; only one kind's when `kind` is given. A sync round walks `subscriptions(plan, 'Config')`
 * then `subscriptions(plan, 'Data')`.
 */
export function subscriptions(
  plan: Pick<UpgradePlan, 'sites' | 'publications'>,
  kind?: PublicationKind,
): SubscriptionRef[] {
  return plan.publications
    .filter((p) => !kind || p.kind === kind)
    .flatMap((p) => {
      const publisher = dbRef(siteOf(plan, p.publisher));
      return p.subscribers.map((k) => ({ publication: p.name, publisher, subscriber: dbRef(siteOf(plan, k)) }));
    });
}

/** The subscriptions of one publisher's publications, as checkSubscriptions takes them. */
export function subscriptionsAt(
  plan: Pick<UpgradePlan, 'sites' | 'publications'>,
  publisher: DbRef,
): { publication: string; subscriber: DbRef }[] {
  return subscriptions(plan)
    .filter((x) => x.publisher.server === publisher.server && x.publisher.database === publisher.database)
    .map((x) => ({ publication: x.publication, subscriber: x.subscriber }));
}

/**
 * Every (publisher server, subscriber server) pair of a subscription, in subscription order: the
 * publisher must run an equal or later SQL Server version than each of its subscribers.
 */
export function versionPairs(
  plan: Pick<UpgradePlan, 'sites' | 'publications'>,
): { publisher: string; subscriber: string }[] {
  return plan.publications.flatMap((p) =>
    p.subscribers.map((k) => ({ publisher: siteOf(plan, p.publisher).server, subscriber: siteOf(plan, k).server })),
  );
}

/**
 * remove-replication's order: the sites that publish by role (publisher, publisher-subscriber)
 * first, since dropping a publication drops its subscriptions; then the subscribers' cleanup.
 */
export function removalOrder(plan: Pick<UpgradePlan, 'sites'>): [Site[], Site[]] {
  return [plan.sites.filter((x) => x.role !== 'subscriber'), plan.sites.filter((x) => x.role === 'subscriber')];
}

/** upgrade's order: the first site (the publisher: never older than its subscribers), then the rest at once. */
export function upgradeOrder(plan: Pick<UpgradePlan, 'sites'>): [Site[], Site[]] {
  const [first, ...rest] = plan.sites;
  return [first ? [first] : [], rest];
}

/** The publications of one kind, in plan order. */
export function publicationsOf(plan: Pick<UpgradePlan, 'publications'>, kind: PublicationKind): Publication[] {
  return plan.publications.filter((p) => p.kind === kind);
}

/**
 * What every activity needs to reach the fleet (FleetContext), from the plan: the scripts' mapping
 * and on-error choice only when the plan sets them (runs started before they existed replay unchanged).
 */
export function fleetContext(plan: UpgradePlan): FleetContext {
  const { target, credentials, hosts, distributor, versionQuery } = plan;
  const { dir: scriptsDir, variables, onError } = plan.scripts;
  // Each publisher's distributor (#18 §3): activity input only, the command sequence is unchanged.
  const distributors = publisherDistributors(plan);
  const scripts = { ...(variables && { variables }), ...(onError && { onError }) };
  const withScripts = variables !== undefined || onError !== undefined ? { scripts } : {};
  return { target, credentials, hosts, scriptsDir, distributor, distributors, versionQuery, ...withScripts };
}

// --- the vendor scripts and their sqlcmd variables ----------------------------------------------

type RequiredScript = Exclude<keyof ScriptFiles, 'removeReplication'>;

/** Which of the plan's script files creates a kind's publication and its subscriptions. */
export const SCRIPT_OF_KIND: Readonly<
  Record<PublicationKind, { publication: RequiredScript; subscription: RequiredScript }>
> = {
  Config: { publication: 'createConfigPublication', subscription: 'createConfigSubscription' },
  Data: { publication: 'createDataPublication', subscription: 'createDataSubscription' },
};

/** What one script run is for: a publication script has no subscriber, ConvertRowGuids no publication. */
export type ScriptTarget = Omit<ScriptFor, 'distributor'>;

/**
 * {distributor.*} of a script run: the distributor of the publication's publisher (a branch's Data:
 * its own), the fallback (the plan's distributor) for a run without a publisher (ConvertRowGuids).
 * @param distributors FleetContext.distributors; absent in runs started before it: the fallback for all
 */
export function scriptDistributor(
  distributors: readonly PublisherDistributor[] | undefined,
  fallback: DbRef,
  publisher: DbRef | undefined,
): DbRef {
  return publisher ? distributorForPublisher(distributors, fallback, publisher.server) : fallback;
}

/**
 * The `sqlcmd -v` variables (name → value) of one script run, from the plan's scripts.variables
 * (default DEFAULT_SCRIPT_VARIABLES: DistributorServer, Publication, PublisherServer, …), with
 * servers as the plan names them. The workflow records these; the activity builds the same ones
 * with servers named as replication knows them (@@SERVERNAME).
 */
export function scriptVariables(
  plan: Pick<UpgradePlan, 'sites' | 'publications' | 'distributor' | 'scripts'>,
  v: ScriptTarget,
): Record<string, string> {
  const distributor = scriptDistributor(publisherDistributors(plan), plan.distributor, v.publisher);
  return expandScriptVariables(plan.scripts.variables, { ...v, distributor });
}

/** Every run of the vendor scripts the workflow makes, so preflight can check each one's values (activity input). */
export interface ScriptRuns {
  publications: { name: string; kind: PublicationKind; publisher: DbRef; subscribers: DbRef[] }[];
  /** The subscribers ConvertRowGuids.sql runs on. */
  rowGuidSites: DbRef[];
}

/**
 * The runs the workflow will make, for prepareScripts.
 * @param convertsRowGuids whether convert-row-guids applies (planSteps): without it, no ConvertRowGuids runs
 */
export function scriptRuns(plan: Pick<UpgradePlan, 'sites' | 'publications'>, convertsRowGuids: boolean): ScriptRuns {
  return {
    publications: plan.publications.map((p) => ({
      name: p.name,
      kind: p.kind,
      publisher: dbRef(siteOf(plan, p.publisher)),
      subscribers: p.subscribers.map((k) => dbRef(siteOf(plan, k))),
    })),
    rowGuidSites: convertsRowGuids ? subscriberSites(plan).map(dbRef) : [],
  };
}

/** One run of a script: what it runs for (with its distributor) and the database it runs in (sqlcmd -S/-d). */
export interface PlannedScriptRun {
  for: ScriptFor;
  at: DbRef;
}

/** One script prepareScripts reads and checks, with every run the workflow will make of it. */
export interface PlannedScript {
  file: string;
  /** A subscription script: its @sync_type is rewritten to none. */
  rewrite: boolean;
  /** A publication script (its articles are compared with today's). */
  publication: boolean;
  runs: PlannedScriptRun[];
}

/**
 * The scripts a run needs and their runs: the publication scripts (Config, Data) at each
 * publication's publisher, the subscription scripts once per subscription, at the publisher (push
 * subscriptions), and ConvertRowGuids at each of `runs.rowGuidSites` when `needRowGuids`.
 * @param distributors, fallback as scriptDistributor takes them
 */
export function plannedScripts(
  files: ScriptFiles,
  runs: ScriptRuns | undefined,
  needRowGuids: boolean,
  distributors: readonly PublisherDistributor[] | undefined,
  fallback: DbRef,
): PlannedScript[] {
  const pubs = (kind: PublicationKind) => (runs?.publications ?? []).filter((p) => p.kind === kind);
  const distributor = (publisher: DbRef) => scriptDistributor(distributors, fallback, publisher);
  const publicationRuns = (kind: PublicationKind): PlannedScriptRun[] =>
    pubs(kind).map((p) => ({
      for: { publication: p.name, publisher: p.publisher, distributor: distributor(p.publisher) },
      at: p.publisher,
    }));
  const subscriptionRuns = (kind: PublicationKind): PlannedScriptRun[] =>
    pubs(kind).flatMap((p) =>
      p.subscribers.map((sub) => ({
        for: { publication: p.name, publisher: p.publisher, subscriber: sub, distributor: distributor(p.publisher) },
        at: p.publisher,
      })),
    );
  const out: PlannedScript[] = [
    ...KIND_ORDER.map((kind) => ({
      file: files[SCRIPT_OF_KIND[kind].publication],
      rewrite: false,
      publication: true,
      runs: publicationRuns(kind),
    })),
    ...KIND_ORDER.map((kind) => ({
      file: files[SCRIPT_OF_KIND[kind].subscription],
      rewrite: true,
      publication: false,
      runs: subscriptionRuns(kind),
    })),
  ];
  if (needRowGuids) {
    const rowGuidRuns = (runs?.rowGuidSites ?? []).map((db) => ({
      for: { subscriber: db, distributor: fallback },
      at: db,
    }));
    out.push({ file: files.convertRowGuids, rewrite: false, publication: false, runs: rowGuidRuns });
  }
  return out;
}

// --- sync rounds -------------------------------------------------------------------------------

/** What one merge (the mergeSubscription activity) reports: the agent's session and what is still pending after it. */
export interface MergeOutcome {
  session: { upload: ChangeCounts; download: ChangeCounts };
  pending: PendingChanges;
}

/** A round's sums, in rows: changed rows moved both ways, conflicts the sessions counted, rows still pending. */
export interface RoundTotals {
  moved: number;
  conflicts: number;
  pending: number;
}

/** One sync round as the workflow records it (progress facts `syncRounds`); `round` counts from 1. */
export interface SyncRound extends RoundTotals {
  round: number;
}

/** Rows one direction of a merge changed: inserts + updates + deletes (what the replication summary shows). */
export function changedRows(c: Pick<ChangeCounts, 'inserts' | 'updates' | 'deletes'>): number {
  return c.inserts + c.updates + c.deletes;
}

/** Rows a merge session moved, upload and download. */
export function sessionMoved(s: {
  upload: Pick<ChangeCounts, 'inserts' | 'updates' | 'deletes'>;
  download: Pick<ChangeCounts, 'inserts' | 'updates' | 'deletes'>;
}): number {
  return changedRows(s.upload) + changedRows(s.download);
}

/** One merge's contribution to its round. */
export function mergeTotals(r: MergeOutcome): RoundTotals {
  return {
    moved: sessionMoved(r.session),
    conflicts: r.session.upload.conflicts + r.session.download.conflicts,
    pending: r.pending.upload + r.pending.download,
  };
}

/** The sums of a round's merges (all zero for none). */
export function sumMerges(results: readonly MergeOutcome[]): RoundTotals {
  const total = { moved: 0, conflicts: 0, pending: 0 };
  for (const r of results) {
    const t = mergeTotals(r);
    total.moved += t.moved;
    total.conflicts += t.conflicts;
    total.pending += t.pending;
  }
  return total;
}

/** Quiet: the round moved nothing, counted no conflict and left nothing pending (DOMAIN.md §1 step 2). */
export function isQuiet(r: RoundTotals): boolean {
  return r.moved === 0 && r.conflicts === 0 && r.pending === 0;
}

/** Quiet rounds in a row after this round: one more after a quiet round, none after any other. */
export function quietRoundsAfter(quietSoFar: number, r: RoundTotals): number {
  return isQuiet(r) ? quietSoFar + 1 : 0;
}
