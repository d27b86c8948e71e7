// remove-subscriber's planned steps, pure (the workflow imports it: no Node, no zod).
import type { StepView } from '../kind.js';
import { DROP_GATE, REMOVE_SUBSCRIBER_STEP_IDS, where, type RemoveSubscriberPlan } from '../add-subscriber/types.js';

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
