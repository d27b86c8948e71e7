// The remove-subscriber plan: one subscriber's Config and Data subscriptions dropped at the
// publisher and cleaned at the subscriber, the rest of the fleet left replicating.
import { z } from 'zod';
import type { PlanKind, StepView } from '../kind.js';
import { parsePlanSource, type SourceResult } from '../source.js';
import {
  describeSubscriberPlan,
  subscriberFields,
  subscriberRules,
  toSubscriberBase,
} from '../add-subscriber/common-schema.js';
import {
  DROP_GATE,
  REMOVE_SUBSCRIBER_RUNBOOK,
  REMOVE_SUBSCRIBER_STEP_IDS,
  where,
  type RemoveSubscriberPlan,
} from '../add-subscriber/types.js';

export const removeSubscriberPlanSchema = z.strictObject({
  ...subscriberFields(REMOVE_SUBSCRIBER_STEP_IDS, DROP_GATE),
  runbook: z.literal(REMOVE_SUBSCRIBER_RUNBOOK),
});

export function removeSubscriberSteps(plan: RemoveSubscriberPlan): StepView[] {
  const subscriber = where(plan.subscriber);
  const reasons: Record<(typeof REMOVE_SUBSCRIBER_STEP_IDS)[number], string> = {
    preflight: `sysadmin at both ends; the subscriptions of ${subscriber} and the fleet's other subscribers`,
    'drop-subscriptions':
      `${plan.options.approvals.includes(DROP_GATE) ? 'after approval: ' : ''}sp_dropmergesubscription at ` +
      `${where(plan.publisher)}, sp_mergesubscription_cleanup at ${subscriber}, verified at both ends ` +
      '(its tables and rows stay)',
    'verify-fleet': 'a canary change at the publisher still reaches the other subscribers',
  };
  return REMOVE_SUBSCRIBER_STEP_IDS.map((id) => ({ id, applies: true, reason: reasons[id] }));
}

export function parseRemoveSubscriberPlan(text: string, file: string): SourceResult<RemoveSubscriberPlan> {
  const result = parsePlanSource(text, removeSubscriberPlanSchema, subscriberRules);
  if (!result.ok) return result;
  return { ok: true, value: { ...toSubscriberBase(result.value, file), runbook: REMOVE_SUBSCRIBER_RUNBOOK } };
}

export const removeSubscriberPlanKind: PlanKind<RemoveSubscriberPlan> = {
  runbook: REMOVE_SUBSCRIBER_RUNBOOK,
  title: "Remove a subscriber: drop its subscriptions, clean its merge metadata, keep the fleet replicating",
  parse: parseRemoveSubscriberPlan,
  steps: removeSubscriberSteps,
  describe: (plan) => describeSubscriberPlan(plan, REMOVE_SUBSCRIBER_RUNBOOK),
};
