// The set-up plan's fleet as the upgrade's activities reach it. Pure: the workflow and the tests use it.
import type { FleetContext } from '../../activities/personalization-upgrade/activities.js';
import { fleetDistributors } from '../personalization-upgrade/fleet.js';
import type { SetupPlan } from './types.js';

/** What every activity call of a set-up carries: the target, credentials, scripts and distributors (no secrets). */
export function setupFleetContext(plan: SetupPlan): FleetContext {
  const { variables, onError } = plan.scripts;
  const scripts = { ...(variables && { variables }), ...(onError && { onError }) };
  return {
    target: plan.target,
    credentials: plan.credentials,
    // The set-up runs no command on the personalization servers.
    hosts: { upgrade: 'manual' },
    scriptsDir: plan.scripts.dir,
    distributor: plan.distributor,
    distributors: fleetDistributors(plan),
    ...((variables !== undefined || onError !== undefined) && { scripts }),
  };
}
