// What approving a setup-replication gate lets happen, as the gate's note (`replup status`, the step table).
import type { SetupPlan } from './types.js';
import { subscriptions, where } from '../personalization-upgrade/fleet.js';
import { count } from '../../common/count.js';

/**
 * The subscribe-config gate's note: subscribing with sync type automatic deletes each subscriber database's
 * data and replaces it with the Config snapshot (the seed's caution); names every such database, once, in the
 * order they are subscribed in the plan.
 */
export function subscribeConfigNote(plan: Pick<SetupPlan, 'sites' | 'publications'>): string {
  const dbs = [...new Set(subscriptions(plan, 'Config').map((x) => where(x.subscriber)))];
  return (
    `approve to delete the data of ${count(dbs.length, 'subscriber database')} and replace ` +
    (`it with the Config snapshot (sync type automatic; the vendor's Replication guide: "all the existing ` +
      `data is deleted and replaced with `) +
    `data from the master"): ${dbs.join(', ')}`
  );
}
