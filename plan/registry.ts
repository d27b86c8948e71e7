// The plan kinds, by the value of a plan file's `runbook` field. Adding a runbook's plan is one
// entry here (plus its import) and one member of AnyPlan.
import type { PlanKind } from './kind.js';
import type { UpgradePlan } from './personalization-upgrade/types.js';
import { upgradePlanKind } from './personalization-upgrade/schema.js';
import { bdbPlanKind, type BdbReplicantPlan } from './bdb-replicant/schema.js';
import { openEdgePlanKind, type OpenEdgeStartupPlan } from './openedge-startup/schema.js';
import { setupPlanKind } from './setup-replication/schema.js';
import type { SetupPlan } from './setup-replication/types.js';
import { agentSchedulesPlanKind } from './agent-schedules/schema.js';
import type { AgentSchedulesPlan } from './agent-schedules/types.js';
import { addSubscriberPlanKind } from './add-subscriber/schema.js';
import { removeSubscriberPlanKind } from './remove-subscriber/schema.js';
import type { AddSubscriberPlan, RemoveSubscriberPlan } from './add-subscriber/types.js';

/** Every runbook's normalized plan; each has a distinct `runbook` value. */
export type AnyPlan =
  | UpgradePlan
  | BdbReplicantPlan
  | OpenEdgeStartupPlan
  | SetupPlan
  | AgentSchedulesPlan
  | AddSubscriberPlan
  | RemoveSubscriberPlan;

export const PLAN_KINDS: { readonly [R in AnyPlan['runbook']]: PlanKind<Extract<AnyPlan, { runbook: R }>> } = {
  'em-personalization-upgrade': upgradePlanKind,
  'bdb-replicant': bdbPlanKind,
  'openedge-replication-startup': openEdgePlanKind,
  'setup-replication': setupPlanKind,
  'add-subscriber': addSubscriberPlanKind,
  'remove-subscriber': removeSubscriberPlanKind,
  'agent-schedules': agentSchedulesPlanKind,
};

export const KNOWN_RUNBOOKS = Object.keys(PLAN_KINDS) as AnyPlan['runbook'][];

export function planKindFor(runbook: string): PlanKind<AnyPlan> | undefined {
  return Object.hasOwn(PLAN_KINDS, runbook) ? PLAN_KINDS[runbook as AnyPlan['runbook']] : undefined;
}
