// The FleetContext the activity tests hand to the upgrade's activities: the plan's target,
// credentials, hosts, scripts folder and distributor (not the per-publisher distributors, version
// query or script options that fleetContext() adds for a run).
import type { FleetContext } from '../../../activities/personalization-upgrade/activities.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';

export function testFleetContext(plan: UpgradePlan): FleetContext {
  return {
    target: plan.target,
    credentials: plan.credentials,
    hosts: plan.hosts,
    scriptsDir: plan.scripts.dir,
    distributor: plan.distributor,
  };
}
