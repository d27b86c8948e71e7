// Starting add-subscriber (`runbook: add-subscriber`): what `replup start` calls for such a plan.
// One run per (publisher, subscriber database) at a time: the workflow id says which.
import type { AddSubscriberPlan } from '../../plan/add-subscriber/types.js';
import { where } from '../../plan/add-subscriber/types.js';
import { addSubscriber, addSubscriberWorkflowId } from '../../workflows/add-subscriber.js';
import { runbookStarter } from './runs.js';

/** `startAddSubscriber(client, plan, actor?, { taskQueue, workflowId }?)`. */
export const startAddSubscriber = runbookStarter(addSubscriber, (plan: AddSubscriberPlan) => {
  const fleet = `${where(plan.publisher)} → ${where(plan.subscriber)}`;
  return {
    workflowId: addSubscriberWorkflowId(plan),
    fleet,
    staticSummary:
      `${plan.name}: subscribe ${where(plan.subscriber)} to ` + `${plan.publications.map((p) => p.name).join(' and ')}`,
    staticDetails:
      `**${plan.name}**: add ${where(plan.subscriber)} as a subscriber of ${where(plan.publisher)}\n\n` +
      `- publications: ${plan.publications.map((p) => p.name).join(', ')} (push, sync type automatic)\n` +
      `- caution: the snapshot deletes the data of ${where(plan.subscriber)} and replaces it with the master's\n` +
      `- approvals: ${plan.options.approvals.join(', ') || 'none'}`,
    what: `an add-subscriber run for ${fleet}`,
    oneAtATime: 'one run adds a given subscriber database at a time; abort that run first if it must be replaced',
  };
});
