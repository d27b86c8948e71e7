// Where the chaos suite may kill a worker: lab operations that change the fleet, in the order the
// runbook reaches them, each with how many calls any completed run of the plan makes at least.
// Counted from the plan (its steps and the fleet module), not from the example fleet, so a crash
// point keeps firing when the fleet or the runbook changes; one that cannot is refused.
import * as fleet from '../../plan/personalization-upgrade/fleet.js';
import { planSteps } from '../../plan/personalization-upgrade/steps.js';
import type { UpgradePlan, UpgradeStepId } from '../../plan/personalization-upgrade/types.js';

/** A lab operation (REPLUP_LAB_CRASH_AT's name) and the calls of it every run of the plan makes at least. */
export type CrashOp = [op: string, atLeast: number];

/** One kill: the worker kills itself right after the nth call of `op` took effect (REPLUP_LAB_CRASH_AT=op:n). */
export interface CrashPoint {
  op: string;
  n: number;
}

/**
 * The crash operations of `plan`'s runbook with their least call counts (lab-small: 4 drains, 8
 * merges, 3 backups, 1 removal, 3 database upgrades, 4 service stops, 8 scripts, 1 canary). An
 * operation the plan never reaches (a step that does not apply) is left out.
 */
export function crashOps(plan: UpgradePlan): CrashOp[] {
  const steps = planSteps(plan);
  const applies = (id: UpgradeStepId) => steps.find((s) => s.id === id)?.applies ?? false;
  const hosts = fleet.hosts(plan).length;
  const subscriptions = fleet.subscriptions(plan).length;
  const ops: CrashOp[] = [
    // drain-users: every personalization server once (each starts admitting users).
    ['drain', hosts],
    // sync-until-quiet: at least quietRounds rounds, each merging every subscription.
    ['runMergeAgent', plan.options.sync.quietRounds * subscriptions],
    ['backupDatabase', plan.sites.length],
    // The publishing sites'; dropping their publications leaves the subscribers nothing to remove.
    ['removeReplication', fleet.removalOrder(plan)[0].length],
    // By the plan's upgrade command; a manual upgrade is a person's, not the lab's worker's.
    ['upgradeDatabase', plan.hosts.upgrade === 'manual' ? 0 : plan.sites.length],
    ['stopService', applies('stop-background-services') ? hosts : 0],
    // ConvertRowGuids on each subscriber, then each publication script and each subscription script.
    [
      'runScript',
      (applies('convert-row-guids') ? fleet.subscriberSites(plan).length : 0) +
        plan.publications.length +
        subscriptions,
    ],
    ['writeCanary', fleet.canarySites(plan).length],
  ];
  return ops.filter(([, atLeast]) => atLeast > 0);
}

/**
 * Why a crash point cannot fire in a run of a plan with these operations, or undefined when it can.
 * A point past an operation's least count might never be reached; an unknown operation never is.
 */
export function crashPointProblem(ops: readonly CrashOp[], point: CrashPoint): string | undefined {
  const found = ops.find(([op]) => op === point.op);
  const where = `crash point ${point.op}:${point.n}`;
  if (!found) {
    const names = ops.map(([op]) => op).join(', ');
    return `${where}: the runbook makes no ${point.op} call it can be sure of (crash operations: ${names})`;
  }
  if (!Number.isInteger(point.n) || point.n < 1 || point.n > found[1]) {
    return `${where}: a run of this plan makes at least ${found[1]} ${point.op} calls, so n must be 1 to ${found[1]}`;
  }
  return undefined;
}
