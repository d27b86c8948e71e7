// What the two subscriber runbooks (add-subscriber.ts, remove-subscriber.ts) share: the engine for
// a subscriber plan, the FleetContext the upgrade's activities take, typed activity proxies, the
// preflight of the servers, and the canary check (the seed's topology test).
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { UpgradeActivities, FleetContext } from '../activities/personalization-upgrade/activities.js';
import type { SubscriberActivities } from '../activities/subscribers/activities.js';
import type { ServerFacts, SubscriptionRef } from '../activities/ports.js';
import type { DbRef } from '../plan/personalization-upgrade/types.js';
import { SUBSCRIBE_ONLY_EDITIONS, where, type SubscriberPlanBase } from '../plan/add-subscriber/types.js';
import type { StepView } from '../plan/kind.js';
import { compareVersions } from '../plan/version.js';
import { UpgradeFailure } from '../common/failures.js';
import { tagged } from '../common/activity-call.js';
import { activities, Runbook } from './engine/index.js';

/** The activities both runbooks call: the upgrade's checks and the subscribers' own. */
export type SubscriberRunActivities = UpgradeActivities & SubscriberActivities;
export const acts = (plan: SubscriberPlanBase) => activities<SubscriberRunActivities>({ retry: plan.options.retry });

export const ref = (db: DbRef): DbRef => ({ server: db.server, database: db.database });

/** The engine for a subscriber plan's steps (titles and skippable steps per runbook). */
export function subscriberEngine(
  plan: SubscriberPlanBase & { runbook: string },
  steps: StepView[],
  titles: Record<string, string>,
  skippable: Set<string>,
  requestedBy: string,
): Runbook {
  return new Runbook({
    runbook: plan.runbook,
    fleet: `${where(plan.publisher)} → ${where(plan.subscriber)}`,
    planName: plan.name,
    approvals: plan.options.approvals,
    ...(plan.options.gates && { gates: plan.options.gates }),
    starter: requestedBy,
    ...(plan.notify && { notify: plan.notify }),
    steps: steps.map((s) => ({ ...s, title: titles[s.id] ?? s.id, skippable: skippable.has(s.id) })),
  });
}

/** The context the upgrade's activities take, built from a subscriber plan (no hosts: nothing is drained). */
export function subscriberContext(
  plan: SubscriberPlanBase,
  step: string,
  scripts?: { dir: string; variables?: Record<string, string> },
): FleetContext {
  // Tagged with the step: the report reads which step a call belongs to from its context.
  return tagged<FleetContext>(
    {
      target: plan.target,
      credentials: plan.credentials,
      hosts: { upgrade: 'manual' },
      scriptsDir: scripts?.dir ?? '.',
      distributor: plan.distributor,
      ...(scripts?.variables && { scripts: { variables: scripts.variables } }),
    },
    { step },
  );
}

/**
 * preflight of the servers: sysadmin on each, SQL Server Agent at the distributor (the push merge
 * agents are its jobs; an Express subscriber has no Agent and needs none), the plan's versions and
 * editions; the publisher publishes, so it is no Express or Web edition. Returns each server's facts.
 */
export async function checkServers(plan: SubscriberPlanBase, ctx: FleetContext) {
  const a = acts(plan);
  const sameServer = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();
  const publisher = await a.checkServer(`preflight: publisher ${plan.publisher.server}`, ctx, {
    server: plan.publisher.server,
    publishes: true,
    distributes: sameServer(plan.publisher.server, plan.distributor.server),
    ...(plan.publisher.sqlVersion && { sqlVersion: plan.publisher.sqlVersion }),
    ...(plan.publisher.edition && { edition: plan.publisher.edition }),
  });
  if (!sameServer(plan.publisher.server, plan.distributor.server)) {
    await a.checkServer(`preflight: distributor ${plan.distributor.server}`, ctx, {
      server: plan.distributor.server,
      publishes: false,
      distributes: true,
    });
  }
  const subscriber = await a.checkServer(`preflight: subscriber ${plan.subscriber.server}`, ctx, {
    server: plan.subscriber.server,
    publishes: false,
    distributes: false,
    ...(plan.subscriber.sqlVersion && { sqlVersion: plan.subscriber.sqlVersion }),
    ...(plan.subscriber.edition && { edition: plan.subscriber.edition }),
  });
  if (SUBSCRIBE_ONLY_EDITIONS.test(publisher.edition)) {
    throw ApplicationFailure.nonRetryable(
      `the publisher ${plan.publisher.server} is ${publisher.edition}: that edition can only subscribe to merge ` +
        'publications',
      UpgradeFailure.preflight,
    );
  }
  return { publisher, subscriber };
}

/** The seed's rule: a publisher runs an equal or later SQL Server version than its subscriber. */
export function versionProblem(publisher: ServerFacts, subscriber: ServerFacts): string | undefined {
  return compareVersions(publisher.version, subscriber.version) < 0
    ? `the publisher ${publisher.server} runs SQL Server ${publisher.version}, older than the subscriber ` +
        `${subscriber.server} (${subscriber.version}): a publisher must run an equal or later version`
    : undefined;
}

/** The canary token of this run: short, unique, the same after a retry or continue-as-new. */
export const canaryToken = () => `replup-${workflowInfo().firstExecutionRunId}`;

/**
 * The seed's topology test: a change at the master, merged (Config before Data, never both at
 * once), reaches each of `subscriptions`' subscribers. Returns the subscribers it reached; throws
 * naming those it did not.
 */
export async function canaryReaches(
  plan: SubscriberPlanBase,
  ctx: FleetContext,
  step: string,
  subscriptions: SubscriptionRef[],
): Promise<string[]> {
  const a = acts(plan);
  const token = canaryToken();
  await a.writeCanary(`${step}: canary row at ${where(plan.publisher)}`, ctx, ref(plan.publisher), token);
  for (const kind of ['Config', 'Data']) {
    for (const sub of subscriptions.filter((x) => x.publication.toLowerCase() === kind.toLowerCase())) {
      await a.mergeSubscription(`${step}: merge ${sub.publication} → ${where(sub.subscriber)}`, ctx, sub);
    }
  }
  const subscribers = [
    ...new Map(subscriptions.map((s) => [where(s.subscriber).toLowerCase(), s.subscriber])).values(),
  ];
  const missing: string[] = [];
  for (const db of subscribers) {
    const r = await a.readCanary(`${step}: canary at ${where(db)}`, ctx, db, token);
    if (!r.arrived) missing.push(where(db));
  }
  if (missing.length) {
    throw ApplicationFailure.nonRetryable(
      `the canary change made at ${where(plan.publisher)} did not reach ${missing.join(', ')}`,
      UpgradeFailure.verification,
    );
  }
  return subscribers.map(where);
}
