// add-subscriber's planned steps, pure (the workflow imports it: no Node, no zod).
import type { StepView } from '../kind.js';
import { ADD_SUBSCRIBER_STEP_IDS, REPLACE_GATE, where, type AddSubscriberPlan } from './types.js';

/** The steps, each with why it applies (all do: a subscriber is added the one way). */
export function addSubscriberSteps(plan: AddSubscriberPlan): StepView[] {
  const subscriber = where(plan.subscriber);
  const gated = plan.options.approvals.includes(REPLACE_GATE);
  const reasons: Record<(typeof ADD_SUBSCRIBER_STEP_IDS)[number], string> = {
    preflight:
      'sysadmin, SQL Server Agent at the distributor, the publisher runs an equal or later version, publications ' +
      `with a ready snapshot, ${subscriber} exists and is not subscribed; its row counts for the approval`,
    'create-subscriptions':
      `${gated ? 'after approval: ' : ''}${plan.publications.map((p) => p.name).join(' and ')} push subscriptions ` +
      `with sync type automatic (the snapshot deletes and replaces the data in ${subscriber})`,
    synchronize: 'the merge agents deliver the snapshot, Config before Data',
    'verify-subscription': `a canary change at ${where(plan.publisher)} reaches ${subscriber}`,
  };
  return ADD_SUBSCRIBER_STEP_IDS.map((id) => ({ id, applies: true, reason: reasons[id] }));
}
