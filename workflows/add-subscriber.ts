// Add a subscriber, as the seed's AddSubscriber gives it (seed 000, "Configure the SQL Server
// Subscription"): checked first (sysadmin, Agent, the publisher at an equal or later version,
// the publications with a ready snapshot, the subscriber database there and not subscribed yet);
// then the seed's caution, "all the existing data is deleted and replaced with data from the
// master", as an approval gate that names the database and its row counts; then the Config and
// Data push subscriptions by the vendor's scripts (sync type automatic: the snapshot), the merge
// agents, and the seed's topology test: a change at the master reaches the new subscriber.
import { ApplicationFailure } from '@temporalio/workflow';
import { REPLACE_GATE, where, type AddSubscriberPlan, type AddSubscriberStepId } from '../plan/add-subscriber/types.js';
import { addSubscriberSteps } from '../plan/add-subscriber/steps.js';
import type { SubscriptionRef } from '../activities/ports.js';
import type { NewSubscriberFacts } from '../activities/subscribers/activities.js';
import { UpgradeFailure } from '../common/failures.js';
import type { RunResult } from './messages.js';
import {
  acts,
  canaryReaches,
  canaryToken,
  checkServers,
  ref,
  subscriberContext,
  subscriberEngine,
  versionProblem,
} from './subscriber-fleet.js';
import { count } from '../common/count.js';

export interface AddSubscriberInput {
  plan: AddSubscriberPlan;
  /** Who started the run (OS user or --actor). */
  requestedBy: string;
}

const TITLES: Record<AddSubscriberStepId, string> = {
  preflight: 'Check servers, versions, publications and the subscriber database',
  'create-subscriptions': "Subscribe to Config and Data (the snapshot replaces the subscriber's data)",
  synchronize: 'Run the merge agents: deliver the snapshot',
  'verify-subscription': 'Verify a change at the master reaches the new subscriber',
};

/** Only the verification may be skipped (checked by hand as the seed does); the others change or guard data. */
const SKIPPABLE = new Set<string>(['verify-subscription']);

/** One run per subscriber database of a publisher at a time. */
export function addSubscriberWorkflowId(plan: Pick<AddSubscriberPlan, 'publisher' | 'subscriber'>): string {
  return `add-subscriber:${where(plan.publisher)}:${where(plan.subscriber)}`.toLowerCase();
}

/**
 * The approval's text: what the snapshot deletes, by table, with sys.dm_db_partition_stats'
 * approximate counts ("The approximate number of rows in the partition").
 */
export function replacementNote(plan: AddSubscriberPlan, facts: NewSubscriberFacts): string {
  const tables = facts.tables.length ? facts.tables.map((t) => `${t.table} ${t.rows}`).join(', ') : 'no user tables';
  return (
    `approve to delete the data of ${where(plan.subscriber)} and replace it with ${where(plan.publisher)}'s ` +
    (`(the vendor's Replication guide: "all the existing data is deleted and replaced with data from the ` +
      `master"): about ${facts.rows} rows `) +
    `in ${count(facts.tables.length, 'table')} will be lost (approximate counts, sys.dm_db_partition_stats): ${tables}`
  );
}

export async function addSubscriber(input: AddSubscriberInput): Promise<RunResult> {
  const { plan } = input;
  const run = subscriberEngine(plan, addSubscriberSteps(plan), TITLES, SKIPPABLE, input.requestedBy);
  return run.run(async () => {
    const a = acts(plan);
    const at = (step: AddSubscriberStepId) =>
      subscriberContext(plan, step, { dir: plan.scripts.dir, variables: plan.scripts.variables });
    const subscriptions: SubscriptionRef[] = plan.publications.map((p) => ({
      publication: p.name,
      publisher: ref(plan.publisher),
      subscriber: ref(plan.subscriber),
    }));
    run.fact('requestedBy', input.requestedBy);

    await run.step('preflight', async (s) => {
      const ctx = at('preflight');
      const servers = await checkServers(plan, ctx);
      const problem = versionProblem(servers.publisher, servers.subscriber);
      if (problem) throw ApplicationFailure.nonRetryable(problem, UpgradeFailure.preflight);
      const facts = await a.checkNewSubscriber(
        `preflight: ${where(plan.subscriber)} exists, not subscribed; its row counts`,
        ctx,
        ref(plan.publisher),
        ref(plan.subscriber),
        plan.publications.map((p) => p.name),
      );
      for (const p of plan.publications) {
        const r = await a.waitForSnapshot(
          `preflight: snapshot of ${p.name} on ${where(plan.publisher)} ready`,
          ctx,
          ref(plan.publisher),
          p.name,
          plan.options.snapshotTimeoutMinutes * 60,
        );
        if (!r.ready) {
          throw ApplicationFailure.nonRetryable(
            `the snapshot of ${p.name} on ${where(plan.publisher)} is not ready after ` +
              `${plan.options.snapshotTimeoutMinutes} minutes: run its Snapshot Agent, then retry`,
            UpgradeFailure.snapshotNotReady,
          );
        }
      }
      const express = /express/i.test(servers.subscriber.edition);
      run.fact('subscriberRows', { db: where(plan.subscriber), approximate: true, ...facts });
      run.describe(REPLACE_GATE, replacementNote(plan, facts));
      s.note(
        `${servers.publisher.server} ${servers.publisher.version} ≥ ${servers.subscriber.server} ` +
          `${servers.subscriber.version}; ${where(plan.subscriber)} holds about ${facts.rows} rows` +
          `${express ? `; ${servers.subscriber.edition}: push subscriptions, merge agents at the distributor` : ''}`,
      );
    });

    await run.gate(REPLACE_GATE);
    await run.step('create-subscriptions', async (s) => {
      const ctx = at('create-subscriptions');
      const approvers = run.progress.decisions
        .filter((d) => d.kind === 'approve' && d.step === REPLACE_GATE)
        .map((d) => d.actor);
      await a.markReplacementApproved(
        `create-subscriptions: record the approval in ${where(plan.subscriber)}`,
        ctx,
        ref(plan.subscriber),
        `${approvers.length ? approvers.join(', ') : 'not gated by the plan'} (run ${canaryToken()})`,
      );
      const files = {
        Config: plan.scripts.files.createConfigSubscription,
        Data: plan.scripts.files.createDataSubscription,
      };
      let created = 0;
      for (const p of plan.publications) {
        const sub = subscriptions.find((x) => x.publication === p.name)!;
        const r = await a.addSnapshotSubscription(
          `create-subscriptions: ${files[p.kind]} for ${p.name} → ${where(plan.subscriber)} (sync type automatic)`,
          ctx,
          sub,
          files[p.kind],
        );
        if (r.created) created += 1;
      }
      s.note(`${created} push subscriptions created (${plan.publications.length - created} were there)`);
    });

    await run.step('synchronize', async (s) => {
      const ctx = at('synchronize');
      // Config before Data: never both merges of one subscriber at once (the seed: deadlocks).
      let rows = 0;
      for (const sub of subscriptions) {
        const r = await a.mergeSubscription(
          `synchronize: merge ${sub.publication} → ${where(sub.subscriber)}`,
          ctx,
          sub,
        );
        rows += r.session.download.inserts;
      }
      s.note(`the snapshot and changes reached ${where(plan.subscriber)}: ${rows} rows downloaded`);
    });

    await run.step('verify-subscription', async (s) => {
      const reached = await canaryReaches(plan, at('verify-subscription'), 'verify-subscription', subscriptions);
      run.fact('verification', { canary: canaryToken(), reached });
      s.note(`the canary change at ${where(plan.publisher)} reached ${reached.join(', ')}`);
    });
  });
}
