// The subscriber runbooks' own activities (add-subscriber, remove-subscriber): thin, idempotent
// wrappers over the fleet's SqlFleetPort and the narrow SubscriberPort. The checks the upgrade
// already has (checkServer, waitForSnapshot, mergeSubscription, writeCanary, readCanary) are the
// upgrade's activities, called by the workflows with the same FleetContext.
import { ApplicationFailure } from '@temporalio/activity';
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import { heartbeating } from '../heartbeat.js';
import { toApplicationFailure } from '../sqlserver/failure.js';
import { loadScript } from '../sqlcmd/prepare.js';
import { scriptToRun, type FleetContext, type PortsFor } from '../personalization-upgrade/activities.js';
import type { SqlFleetPort, SubscriptionRef, SubscriptionState } from '../ports.js';
import type { SubscriberPort, TableRows } from './ports.js';
import { UpgradeFailure } from '../../common/failures.js';

export type SubscriberPortFor = (ctx: FleetContext) => SubscriberPort | Promise<SubscriberPort>;

const withHeartbeat = <T>(work: () => Promise<T>) => heartbeating(work, (err) => toApplicationFailure(err));
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const label = (db: DbRef) => `${db.server}/${db.database}`;

/** What add-subscriber's preflight found at the subscriber and the publisher. */
export interface NewSubscriberFacts {
  /** The subscriber's user tables with their approximate row counts (what the snapshot replaces). */
  tables: TableRows[];
  /** Their sum. */
  rows: number;
}

/** The publisher's subscriptions of `subscriber` (by its replication name), not deleted. */
async function subscriptionsOf(s: SqlFleetPort, publisher: DbRef, subscriber: DbRef): Promise<SubscriptionState[]> {
  const name = await s.replicationName(subscriber.server);
  return (await s.replicationState(publisher)).subscriptions.filter(
    (x) =>
      same(x.subscriber.server, name) &&
      same(x.subscriber.database, subscriber.database) &&
      same(x.publisher.database, publisher.database) &&
      x.status !== 'deleted',
  );
}

export function createSubscriberActivities(portsFor: PortsFor, subscriberPortFor: SubscriberPortFor) {
  const sql = async (ctx: FleetContext) => (await portsFor(ctx)).sql;

  return {
    /**
     * add-subscriber preflight: the subscriber database exists and is not subscribed to these
     * publications yet, the publisher has them; returns the subscriber's row counts for the approval.
     */
    async checkNewSubscriber(ctx: FleetContext, publisher: DbRef, subscriber: DbRef, publications: string[]) {
      const s = await sql(ctx);
      const port = await subscriberPortFor(ctx);
      return withHeartbeat(async (): Promise<NewSubscriberFacts> => {
        const problems: string[] = [];
        if (!(await port.databaseExists(subscriber))) {
          problems.push(
            `the subscriber database ${label(subscriber)} does not exist: create it (install the personalization ` +
              'server there) before it subscribes',
          );
        }
        const state = await s.replicationState(publisher);
        const missing = publications.filter((p) => !state.publications.some((x) => same(x, p)));
        if (missing.length) problems.push(`${label(publisher)} does not publish ${missing.join(', ')}`);
        if (problems.length === 0) {
          const existing = (await subscriptionsOf(s, publisher, subscriber)).filter((x) =>
            publications.some((p) => same(p, x.publication)),
          );
          if (existing.length) {
            problems.push(
              `${label(subscriber)} already subscribes to ${existing.map((x) => x.publication).join(', ')} of ` +
                `${label(publisher)}: nothing to add (remove-subscriber drops a subscription)`,
            );
          }
        }
        if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), UpgradeFailure.preflight);
        const tables = await port.tableRowCounts(subscriber);
        return { tables, rows: tables.reduce((n, t) => n + t.rows, 0) };
      });
    },

    /** Records in the subscriber database that a person approved replacing its data (before the first subscription). */
    async markReplacementApproved(ctx: FleetContext, subscriber: DbRef, value: string) {
      const port = await subscriberPortFor(ctx);
      return withHeartbeat(() => port.markReplacementApproved(subscriber, value));
    },

    /**
     * One push subscription with the vendor's subscription script as shipped (sync type automatic:
     * its first merge delivers the snapshot), through the sqlcmd runner at the publisher; a
     * subscription already there is kept. Verified: it exists afterwards.
     */
    async addSnapshotSubscription(ctx: FleetContext, sub: SubscriptionRef, file: string) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const find = async () =>
          (await subscriptionsOf(s, sub.publisher, sub.subscriber)).find((x) => same(x.publication, sub.publication));
        if (await find()) return { created: false };
        const text = (await loadScript(ctx.scriptsDir, file, false)).text;
        const script = await scriptToRun(s, ctx, file, text, sub.publisher, {
          publication: sub.publication,
          publisher: sub.publisher,
          subscriber: sub.subscriber,
        });
        const run = await s.runScript(sub.publisher, script);
        const created = await find();
        if (!created) {
          throw ApplicationFailure.nonRetryable(
            `${file} ran (${run.batches} batches) but ${label(sub.publisher)} has no ${sub.publication} ` +
              `subscription for ${label(sub.subscriber)}`,
            UpgradeFailure.verification,
          );
        }
        return { created: true, syncType: created.syncType };
      });
    },

    /**
     * The publisher's subscriptions, as merge and canary calls take them: `subscriber`'s (compared by
     * the name replication knows it by) and every other subscriber's.
     */
    async fleetSubscriptions(ctx: FleetContext, publisher: DbRef, subscriber: DbRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const name = await s.replicationName(subscriber.server);
        const all: SubscriptionRef[] = (await s.replicationState(publisher)).subscriptions
          .filter((x) => same(x.publisher.database, publisher.database) && x.status !== 'deleted')
          .map((x) => ({ publication: x.publication, publisher, subscriber: x.subscriber }));
        const isMine = (x: SubscriptionRef) =>
          same(x.subscriber.server, name) && same(x.subscriber.database, subscriber.database);
        return { mine: all.filter(isMine), others: all.filter((x) => !isMine(x)) };
      });
    },

    /** remove-subscriber: sp_dropmergesubscription at the publisher for one publication; already gone = done. */
    async dropAtPublisher(ctx: FleetContext, sub: SubscriptionRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const before = (await subscriptionsOf(s, sub.publisher, sub.subscriber)).some((x) =>
          same(x.publication, sub.publication),
        );
        if (before) await s.dropSubscription(sub);
        return { dropped: before };
      });
    },

    /** remove-subscriber: sp_mergesubscription_cleanup at the subscriber for one publication. */
    async cleanupAtSubscriber(ctx: FleetContext, sub: SubscriptionRef) {
      const port = await subscriberPortFor(ctx);
      return withHeartbeat(() => port.cleanupSubscription(sub.subscriber, sub.publisher, sub.publication));
    },

    /**
     * Verifies the removal at both ends: no subscription of `subscriber` at the publisher, no merge
     * metadata of the publisher's publications in the subscription database. Its tables stay.
     */
    async verifyRemoved(ctx: FleetContext, publisher: DbRef, subscriber: DbRef) {
      const s = await sql(ctx);
      const port = await subscriberPortFor(ctx);
      return withHeartbeat(async () => {
        const atPublisher = await subscriptionsOf(s, publisher, subscriber);
        const pubName = await s.replicationName(publisher.server);
        const atSubscriber = (await port.subscriberMetadata(subscriber)).filter(
          (m) => same(m.publisher.server, pubName) && same(m.publisher.database, publisher.database),
        );
        const problems = [
          ...atPublisher.map((x) => `${label(publisher)} still has its ${x.publication} subscription`),
          ...atSubscriber.map((m) => `${label(subscriber)} still holds merge metadata of ${m.publication}`),
        ];
        if (problems.length) {
          throw ApplicationFailure.nonRetryable(
            `${label(subscriber)} is not removed: ${problems.join('; ')}`,
            UpgradeFailure.verification,
          );
        }
        return { atPublisher: 0, atSubscriber: 0 };
      });
    },
  };
}

export type SubscriberActivities = ReturnType<typeof createSubscriberActivities>;
