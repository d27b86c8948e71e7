// The subscriber runbooks' own statements (activities/sqlserver/subscriber-statements.ts) are held
// to the catalog like statements.ts: documented tables, columns, procedures; every bound variable read.
import { describe, expect, it } from 'vitest';
import { checkStatement } from '../../../activities/sqlserver/catalog.js';
import * as sql from '../../../activities/sqlserver/subscriber-statements.js';

const STATEMENTS = {
  databaseExists: sql.databaseExists('PersonalizationServer'),
  tableRowCounts: sql.tableRowCounts('PersonalizationServer'),
};

describe('subscriber statements', () => {
  it('covers every exported statement', () => {
    expect(Object.keys(sql).sort()).toEqual(Object.keys(STATEMENTS).sort());
  });

  it.each(Object.entries(STATEMENTS))('%s names only what the catalog documents', (_name, statement) => {
    expect(checkStatement(statement.sql, statement.params)).toEqual([]);
  });

  it('counts rows in the subscription database, approximate, heaps and clustered indexes only', () => {
    const s = sql.tableRowCounts('Branch]7');
    expect(s.sql).toContain('FROM [Branch]]7].sys.dm_db_partition_stats AS ps JOIN [Branch]]7].sys.objects AS o');
    expect(s.sql).toContain("WHERE o.type = 'U' AND o.is_ms_shipped = 0 AND ps.index_id IN (0, 1)");
  });
});
