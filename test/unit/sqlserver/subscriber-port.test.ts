// The SubscriberPort on SQL Server (activities/sqlserver/subscribers.ts) against a fake connection
// layer: which statement goes to which server, and how their rows are read.
import { describe, expect, it } from 'vitest';
import { createSqlServerSubscriberPort } from '../../../activities/sqlserver/subscribers.js';
import type { SqlConnections } from '../../../activities/sqlserver/connections.js';
import type { Statement } from '../../../activities/sqlserver/statements.js';
import type { SqlFleetPort } from '../../../activities/ports.js';

function fake(answer: (server: string, s: Statement) => Record<string, unknown>[]) {
  const sent: { server: string; sql: string; params: Statement['params'] }[] = [];
  const connections: SqlConnections = {
    execute: (server, statement) => {
      sent.push({ server, sql: statement.sql, params: statement.params });
      return Promise.resolve({ recordsets: [answer(server, statement)], messages: [] });
    },
    openSession: () => Promise.reject(new Error('no sessions here')),
    close: () => Promise.resolve(),
  };
  return { connections, sent };
}

const fleet = {
  replicationName: (server: string) => Promise.resolve(`${server.split(',')[0]}`),
  replicationState: () =>
    Promise.resolve({
      mergePublished: true,
      publications: [],
      subscriptions: [
        // At a subscriber that also publishes: its own publication's row, and the master's Config it subscribes to.
        {
          publication: 'Data',
          publisher: { server: 'BR7', database: 'PS' },
          subscriber: { server: 'REC7', database: 'PS' },
          syncType: 'automatic',
          status: 'active',
        },
        {
          publication: 'Config',
          publisher: { server: 'SQL01', database: 'PS' },
          subscriber: { server: 'BR7', database: 'PS' },
          syncType: 'automatic',
          status: 'active',
        },
      ],
    }),
} as unknown as SqlFleetPort;

describe('the SQL Server SubscriberPort', () => {
  it('reads row counts at the subscriber, sorted, as numbers', async () => {
    const { connections, sent } = fake(() => [
      { schema_name: 'dbo', table_name: 'ProfileData', row_count: '20' },
      { schema_name: 'dbo', table_name: 'Archive', row_count: 3 },
    ]);
    const port = createSqlServerSubscriberPort(connections, fleet);
    expect(await port.tableRowCounts({ server: 'BR7,1433', database: 'PS' })).toEqual([
      { table: 'dbo.Archive', rows: 3 },
      { table: 'dbo.ProfileData', rows: 20 },
    ]);
    expect(sent[0]!.server).toBe('BR7,1433');
    expect(sent[0]!.sql).toContain('[PS].sys.dm_db_partition_stats');
  });

  it("cleans up at the subscriber with the publisher's replication name", async () => {
    const { connections, sent } = fake(() => []);
    const port = createSqlServerSubscriberPort(connections, fleet);
    await port.cleanupSubscription(
      { server: 'BR7', database: 'PS' },
      { server: 'SQL01,1433', database: 'PS' },
      'Config',
    );
    expect(sent).toEqual([
      {
        server: 'BR7',
        sql: expect.stringContaining('EXEC [PS].sys.sp_mergesubscription_cleanup') as string,
        params: { publisher: 'SQL01', publisherDb: 'PS', publication: 'Config' },
      },
    ]);
  });

  it("lists only other databases' publications as the subscriber's merge metadata", async () => {
    const port = createSqlServerSubscriberPort(fake(() => []).connections, fleet);
    expect(await port.subscriberMetadata({ server: 'BR7', database: 'PS' })).toEqual([
      { publisher: { server: 'SQL01', database: 'PS' }, publication: 'Config' },
    ]);
  });

  it('a database exists when sys.databases has its row', async () => {
    const port = createSqlServerSubscriberPort(
      fake((_, s) => (s.params.database === 'PS' ? [{ database_id: 7 }] : [])).connections,
      fleet,
    );
    expect(await port.databaseExists({ server: 'BR7', database: 'PS' })).toBe(true);
    expect(await port.databaseExists({ server: 'BR7', database: 'Nope' })).toBe(false);
  });
});
