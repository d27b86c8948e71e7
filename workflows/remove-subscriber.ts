// Remove a subscriber: its Config and Data push subscriptions dropped at the publisher
// (sp_dropmergesubscription) and cleaned at the subscriber (sp_mergesubscription_cleanup), in
// Microsoft's order ("Delete a Push Subscription"), verified at both ends, after an approval; then
// a change at the master must still reach every other subscriber: the fleet keeps replicating.
// The subscriber's tables and rows stay ("Deleting a subscription does not remove objects or data").
import { ApplicationFailure } from '@temporalio/workflow';
import {
  DROP_GATE,
  where,
  type RemoveSubscriberPlan,
  type RemoveSubscriberStepId,
} from '../plan/add-subscriber/types.js';
import { removeSubscriberSteps } from '../plan/remove-subscriber/steps.js';
import type { SubscriptionRef } from '../activities/ports.js';
import { UpgradeFailure } from '../common/failures.js';
import type { RunResult } from './messages.js';
import * as S from './subscriber-fleet.js';
import { count } from '../common/count.js';

export interface RemoveSubscriberInput {
  plan: RemoveSubscriberPlan;
  requestedBy: string;
}

const TITLES: Record<RemoveSubscriberStepId, string> = {
  preflight: "Check servers and the subscriber's subscriptions",
  'drop-subscriptions': 'Drop the subscriptions at the publisher, clean up at the subscriber',
  'verify-fleet': 'Verify a change at the master still reaches the other subscribers',
};

const SKIPPABLE = new Set<string>(['verify-fleet']);

export function removeSubscriberWorkflowId(plan: Pick<RemoveSubscriberPlan, 'publisher' | 'subscriber'>): string {
  return `remove-subscriber:${where(plan.publisher)}:${where(plan.subscriber)}`.toLowerCase();
}

export async function removeSubscriber(input: RemoveSubscriberInput): Promise<RunResult> {
  const { plan } = input;
  const run = S.subscriberEngine(plan, removeSubscriberSteps(plan), TITLES, SKIPPABLE, input.requestedBy);
  return run.run(async () => {
    const a = S.acts(plan);
    const at = (step: RemoveSubscriberStepId) => S.subscriberContext(plan, step);
    const mine: SubscriptionRef[] = plan.publications.map((p) => ({
      publication: p.name,
      publisher: S.ref(plan.publisher),
      subscriber: S.ref(plan.subscriber),
    }));
    let others: SubscriptionRef[] = [];
    run.fact('requestedBy', input.requestedBy);

    await run.step('preflight', async (s) => {
      const ctx = at('preflight');
      await S.checkServers(plan, ctx);
      const fleet = await a.fleetSubscriptions(
        `preflight: subscriptions of ${where(plan.publisher)}`,
        ctx,
        S.ref(plan.publisher),
        S.ref(plan.subscriber),
      );
      const found = fleet.mine;
      others = fleet.others;
      if (found.length === 0) {
        throw ApplicationFailure.nonRetryable(
          `${where(plan.subscriber)} has no subscription at ${where(plan.publisher)}: nothing to remove`,
          UpgradeFailure.preflight,
        );
      }
      const otherSubscribers = new Set(others.map((x) => where(x.subscriber)));
      run.fact('fleet', { removing: found.map((x) => x.publication), otherSubscribers: [...otherSubscribers] });
      run.describe(
        DROP_GATE,
        `approve to drop ${found.map((x) => x.publication).join(' and ')} of ${where(plan.subscriber)} at ` +
          `${where(plan.publisher)}; its tables and rows stay, it no longer receives changes; ` +
          `${count(otherSubscribers.size, 'other subscriber')} ` +
          `${otherSubscribers.size === 1 ? 'keeps' : 'keep'} replicating`,
      );
      s.note(`${count(found.length, 'subscription')} to remove; ${count(otherSubscribers.size, 'other subscriber')}`);
    });

    await run.gate(DROP_GATE);
    await run.step('drop-subscriptions', async (s) => {
      const ctx = at('drop-subscriptions');
      let dropped = 0;
      for (const sub of mine) {
        const r = await a.dropAtPublisher(
          `drop-subscriptions: sp_dropmergesubscription ${sub.publication} → ${where(sub.subscriber)}`,
          ctx,
          sub,
        );
        if (r.dropped) dropped += 1;
      }
      for (const sub of mine) {
        await a.cleanupAtSubscriber(
          `drop-subscriptions: sp_mergesubscription_cleanup ${sub.publication} at ${where(sub.subscriber)}`,
          ctx,
          sub,
        );
      }
      await a.verifyRemoved(
        `drop-subscriptions: verify at ${where(plan.publisher)} and ${where(plan.subscriber)}`,
        ctx,
        S.ref(plan.publisher),
        S.ref(plan.subscriber),
      );
      s.note(`${count(dropped, 'subscription')} dropped, merge metadata cleaned, verified at both ends`);
    });

    await run.step('verify-fleet', async (s) => {
      if (others.length === 0) {
        s.note('no other subscriber to verify');
        return;
      }
      const reached = await S.canaryReaches(plan, at('verify-fleet'), 'verify-fleet', others);
      run.fact('verification', { canary: S.canaryToken(), reached });
      s.note(`the canary change at ${where(plan.publisher)} still reaches ${reached.join(', ')}`);
    });
  });
}
