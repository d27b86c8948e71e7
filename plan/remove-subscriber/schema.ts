// The remove-subscriber plan: one subscriber's Config and Data subscriptions dropped at the
// publisher and cleaned at the subscriber, the rest of the fleet left replicating.
import { z } from 'zod';
import type { PlanKind } from '../kind.js';
import { removeSubscriberSteps } from './steps.js';
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
  type RemoveSubscriberPlan,
} from '../add-subscriber/types.js';

export const removeSubscriberPlanSchema = z.strictObject({
  ...subscriberFields(REMOVE_SUBSCRIBER_STEP_IDS, DROP_GATE),
  runbook: z.literal(REMOVE_SUBSCRIBER_RUNBOOK),
});

export { removeSubscriberSteps };

export function parseRemoveSubscriberPlan(text: string, file: string): SourceResult<RemoveSubscriberPlan> {
  const result = parsePlanSource(text, removeSubscriberPlanSchema, subscriberRules);
  if (!result.ok) return result;
  return { ok: true, value: { ...toSubscriberBase(result.value, file), runbook: REMOVE_SUBSCRIBER_RUNBOOK } };
}

export const removeSubscriberPlanKind: PlanKind<RemoveSubscriberPlan> = {
  runbook: REMOVE_SUBSCRIBER_RUNBOOK,
  title: 'Remove a subscriber: drop its subscriptions, clean its merge metadata, keep the fleet replicating',
  parse: parseRemoveSubscriberPlan,
  steps: removeSubscriberSteps,
  describe: (plan) => describeSubscriberPlan(plan, REMOVE_SUBSCRIBER_RUNBOOK),
};
