// Which distributor serves which publisher (issue #18 §3): the central publisher uses the plan's
// distributor, a branch publisher by default distributes its Data itself. Everything that reads the
// distribution database (merge agents, their jobs and schedules, the Snapshot Agent's history,
// validation alerts) or passes {distributor.*} to a publication's script must use the distributor
// of that publication's publisher. Pure: the workflow, the activities, the adapter and plan show
// --sql all choose through it.
import {
  distributorOf,
  publishingSites,
  type DbRef,
  type UpgradePlan,
} from '../../plan/personalization-upgrade/types.js';

/** One publishing server and the distributor its publications are distributed by. */
export interface PublisherDistributor {
  /** The publishing site's server as the plan names it. */
  publisher: string;
  distributor: DbRef;
}

/**
 * Each publishing server's distributor. A SQL Server instance has one distributor
 * (sp_get_distributor reports one per server), so the publisher's server is the key.
 */
export function publisherDistributors(
  plan: Pick<UpgradePlan, 'distributor' | 'sites' | 'publications'>,
): PublisherDistributor[] {
  const out: PublisherDistributor[] = [];
  for (const site of publishingSites(plan)) {
    if (out.some((d) => sameServer(d.publisher, site.server))) continue;
    out.push({ publisher: site.server, distributor: distributorOf(plan, site) });
  }
  return out;
}

/**
 * The distributor of a publisher's publications; `fallback` (the plan's distributor) for a server
 * the list does not name, and for runs started before the list existed.
 */
export function distributorForPublisher(
  distributors: readonly PublisherDistributor[] | undefined,
  fallback: DbRef,
  publisherServer: string,
): DbRef {
  return distributors?.find((d) => sameServer(d.publisher, publisherServer))?.distributor ?? fallback;
}

/** Every distributor of the fleet, the fallback first, each once. */
export function allDistributors(distributors: readonly PublisherDistributor[] | undefined, fallback: DbRef): DbRef[] {
  const out = [fallback];
  for (const d of distributors ?? []) {
    if (
      !out.some(
        (x) =>
          sameServer(x.server, d.distributor.server) &&
          x.database.toLowerCase() === d.distributor.database.toLowerCase(),
      )
    )
      out.push(d.distributor);
  }
  return out;
}

// Server names compare case-insensitively (SQL Server names, Windows host names).
function sameServer(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
