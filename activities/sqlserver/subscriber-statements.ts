// The statements of the subscriber runbooks' SubscriberPort (activities/subscribers/ports.ts), as
// pure functions returning { sql, params }, held to the catalog like statements.ts
// (test/unit/sqlserver/subscriber-statements.test.ts).
import { quoteIdent } from './quote.js';
import type { Statement } from './statements.js';

const proc = (database: string, name: string) => `EXEC ${quoteIdent(database)}.sys.${name}`;

/** Does the database exist on this server (sys.databases)? One row when it does. */
export function databaseExists(database: string): Statement {
  return { sql: 'SELECT d.database_id FROM sys.databases AS d WHERE d.name = @database;', params: { database } };
}

/**
 * Rows per user table in the database: sys.dm_db_partition_stats covers "every partition in the
 * current database", so it runs there (sp_executesql through the database's name); heaps (index 0)
 * and clustered indexes (1) hold the rows, summed over partitions. row_count is "the approximate
 * number of rows in the partition" (sys-dm-db-partition-stats-transact-sql).
 */
export function tableRowCounts(database: string): Statement {
  const query = [
    'SELECT OBJECT_SCHEMA_NAME(ps.object_id) AS schema_name, OBJECT_NAME(ps.object_id) AS table_name,',
    '  SUM(ps.row_count) AS row_count',
    'FROM sys.dm_db_partition_stats AS ps',
    "WHERE ps.index_id IN (0, 1) AND OBJECTPROPERTY(ps.object_id, 'IsUserTable') = 1",
    "  AND OBJECTPROPERTY(ps.object_id, 'IsMSShipped') = 0",
    'GROUP BY ps.object_id ORDER BY schema_name, table_name;',
  ].join('\n');
  return { sql: `${proc(database, 'sp_executesql')} @query;`, params: { query } };
}
