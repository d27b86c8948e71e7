// Starting remove-subscriber (`runbook: remove-subscriber`): what `replup start` calls for such a plan.
import type { RemoveSubscriberPlan } from '../../plan/add-subscriber/types.js';
import { where } from '../../plan/add-subscriber/types.js';
import { removeSubscriber, removeSubscriberWorkflowId } from '../../workflows/remove-subscriber.js';
import { runbookStarter } from './runs.js';

/** `startRemoveSubscriber(client, plan, actor?, { taskQueue, workflowId }?)`. */
export const startRemoveSubscriber = runbookStarter(removeSubscriber, (plan: RemoveSubscriberPlan) => {
  const fleet = `${where(plan.publisher)} → ${where(plan.subscriber)}`;
  return {
    workflowId: removeSubscriberWorkflowId(plan),
    fleet,
    staticSummary: `${plan.name}: remove ${where(plan.subscriber)} from ${where(plan.publisher)}'s publications`,
    staticDetails:
      `**${plan.name}**: remove the subscriber ${where(plan.subscriber)} of ${where(plan.publisher)}\n\n` +
      `- drop at the publisher, clean up at the subscriber, verified at both ends; its data stays\n` +
      `- then a canary change must still reach the other subscribers\n` +
      `- approvals: ${plan.options.approvals.join(', ') || 'none'}`,
    what: `a remove-subscriber run for ${fleet}`,
    oneAtATime: 'one run removes a given subscriber database at a time; abort that run first if it must be replaced',
  };
});
