// The SubscriberPort on SQL Server (activities/subscribers/ports.ts): its statements are in
// subscriber-statements.ts; what the fleet's adapter already reads (replication state, the
// extended-property marks) comes from it.
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import type { SqlFleetPort } from '../ports.js';
import { REPLACEMENT_APPROVED, type SubscriberPort } from '../subscribers/ports.js';
import type { SqlConnections } from './connections.js';
import { addRowGuidConversionMark, mergeSubscriptionCleanup, type Statement } from './statements.js';
import * as sql from './subscriber-statements.js';

/** The port over `connections` (the worker's pools) and the fleet adapter `fleet` of the same plan. */
export function createSqlServerSubscriberPort(connections: SqlConnections, fleet: SqlFleetPort): SubscriberPort {
  const rows = async (server: string, statement: Statement) =>
    (await connections.execute(server, statement)).recordsets.flat();
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  return {
    async databaseExists(db: DbRef) {
      return (await rows(db.server, sql.databaseExists(db.database))).length > 0;
    },
    async tableRowCounts(db: DbRef) {
      return (await rows(db.server, sql.tableRowCounts(db.database)))
        .map((r) => ({ table: `${String(r.schema_name)}.${String(r.table_name)}`, rows: Number(r.row_count) }))
        .sort((x, y) => x.table.localeCompare(y.table));
    },
    async markReplacementApproved(db: DbRef, value: string) {
      // A database-level extended property, kept when there (the same statement as the ConvertRowGuids marks).
      await connections.execute(db.server, addRowGuidConversionMark(db.database, REPLACEMENT_APPROVED, value));
    },
    async cleanupSubscription(subscriber: DbRef, publisher: DbRef, publication: string) {
      const name = await fleet.replicationName(publisher.server);
      await connections.execute(
        subscriber.server,
        mergeSubscriptionCleanup(subscriber.database, name, publisher.database, publication),
      );
    },
    async subscriberMetadata(subscriber: DbRef) {
      // At a subscriber, sysmergesubscriptions ⋈ sysmergepublications lists what it subscribes to
      // (statements.ts replicationState).
      const self = await fleet.replicationName(subscriber.server);
      return (await fleet.replicationState(subscriber)).subscriptions
        .filter((x) => !(same(x.publisher.server, self) && same(x.publisher.database, subscriber.database)))
        .map((x) => ({ publisher: x.publisher, publication: x.publication }));
    },
  };
}
