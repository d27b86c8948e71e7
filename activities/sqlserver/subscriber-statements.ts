// The statements of the subscriber runbooks' SubscriberPort (activities/subscribers/ports.ts), as
// pure functions returning { sql, params }, held to the catalog like statements.ts
// (test/unit/sqlserver/subscriber-statements.test.ts).
import { quoteIdent } from './quote.js';
import type { Statement } from './statements.js';

/** Does the database exist on this server (sys.databases)? One row when it does. */
export function databaseExists(database: string): Statement {
  return { sql: 'SELECT d.database_id FROM sys.databases AS d WHERE d.name = @database;', params: { database } };
}

/**
 * Rows per user table of the database, from sys.dm_db_partition_stats ("every partition in the current
 * database") named through the database, joined to sys.objects for user tables (type U); heaps (index 0)
 * and clustered indexes (1) hold the rows, summed over partitions. row_count is "the approximate number
 * of rows in the partition" (sys-dm-db-partition-stats-transact-sql).
 */
export function tableRowCounts(database: string): Statement {
  const db = quoteIdent(database);
  return {
    sql: [
      'SELECT OBJECT_SCHEMA_NAME(o.object_id, DB_ID(@database)) AS schema_name, o.name AS table_name,',
      '  SUM(ps.row_count) AS row_count',
      `FROM ${db}.sys.dm_db_partition_stats AS ps JOIN ${db}.sys.objects AS o ON o.object_id = ps.object_id`,
      "WHERE o.type = 'U' AND o.is_ms_shipped = 0 AND ps.index_id IN (0, 1)",
      'GROUP BY o.object_id, o.name;',
    ].join('\n'),
    params: { database },
  };
}
