// Golden text of the convergence proof's statements (issue #20 §1-2): identifiers quoted, every
// value a parameter, and the facts each one relies on (level 3, the alert numbers, preserve_rowguidcol = 0).
import { describe, expect, it } from 'vitest';
import * as sql from '../../../activities/sqlserver/statements.js';

// A database name with everything that breaks naive quoting: ], ', spaces and non-ASCII.
const DB = "Pers]onal 'Ü数据";
const Q = "[Pers]]onal 'Ü数据]";
const SUB = { server: 'SUB1\\EM', database: "Sub'db" };
const lines = (...l: string[]) => l.join('\n');

describe('convergence proof statements', () => {
  it('validateMergeSubscription marks one subscription at level 3 (rowcount and binary checksum) in the publication database', () => {
    expect(sql.validateMergeSubscription(DB, "Da'ta", SUB)).toEqual({
      sql: `EXEC ${Q}.sys.sp_validatemergesubscription @publication = @publication, @subscriber = @subscriber, @subscriber_db = @subscriberDb, @level = 3;`,
      params: { publication: "Da'ta", subscriber: 'SUB1\\EM', subscriberDb: "Sub'db" },
    });
  });

  it("mergeValidationDates reads the subscription's last_validated and attempted_validate, leaving out the publisher's own row", () => {
    expect(sql.mergeValidationDates(DB, 'Data', SUB)).toEqual({
      sql: lines(
        'SELECT s.last_validated, s.attempted_validate',
        `FROM ${Q}.dbo.sysmergesubscriptions AS s JOIN ${Q}.dbo.sysmergepublications AS p ON p.pubid = s.pubid`,
        'WHERE p.name = @publication AND s.subscriber_server = @subscriber AND s.db_name = @subscriberDb AND s.subid <> s.pubid;',
      ),
      params: { publication: 'Data', subscriber: 'SUB1\\EM', subscriberDb: "Sub'db" },
    });
  });

  it("mergeValidationAlerts reads the Merge Agent's (agent_type 4) failed (20574) and passed (20575) validation alerts of the subscription in msdb", () => {
    expect(sql.mergeValidationAlerts(DB, 'Data', SUB)).toEqual({
      sql: lines(
        'SELECT ra.alert_id, ra.alert_error_code, ra.article, CAST(ra.alert_error_text AS nvarchar(4000)) AS alert_error_text',
        'FROM msdb.dbo.sysreplicationalerts AS ra',
        'WHERE ra.agent_type = 4 AND ra.alert_error_code IN (20574, 20575)',
        '  AND ra.publisher_db = @publisherDb AND ra.publication = @publication AND ra.subscriber = @subscriber AND ra.subscriber_db = @subscriberDb',
        'ORDER BY ra.alert_id;',
      ),
      params: { publisherDb: DB, publication: 'Data', subscriber: 'SUB1\\EM', subscriberDb: "Sub'db" },
    });
  });

  it("replicationAddedRowGuids lists the own publications' articles with preserve_rowguidcol = 0, and nothing where merge never ran", () => {
    expect(sql.replicationAddedRowGuids(DB)).toEqual({
      sql: lines(
        'IF OBJECT_ID(@articlesTable) IS NOT NULL',
        '  SELECT p.name AS publication, a.name AS article',
        `  FROM ${Q}.dbo.sysmergearticles AS a JOIN ${Q}.dbo.sysmergepublications AS p ON p.pubid = a.pubid`,
        '  WHERE a.preserve_rowguidcol = 0 AND p.publisher = @@SERVERNAME AND p.publisher_db = @database',
        '  ORDER BY p.name, a.name;',
        'ELSE SELECT CAST(NULL AS sysname) AS publication WHERE 1 = 0;',
      ),
      params: { database: DB, articlesTable: `${Q}.dbo.sysmergearticles` },
    });
  });
});

describe('(primary key, rowguid) sample statements', () => {
  it("publishedTableKeys lists each published table's primary key columns in key order and its ROWGUIDCOL", () => {
    expect(sql.publishedTableKeys(DB, 'Data')).toEqual({
      sql: lines(
        'SELECT a.name AS article, OBJECT_SCHEMA_NAME(a.objid, DB_ID(@database)) AS table_schema, OBJECT_NAME(a.objid, DB_ID(@database)) AS table_name,',
        '  c.name AS column_name, c.is_rowguidcol, ic.key_ordinal',
        `FROM ${Q}.dbo.sysmergearticles AS a`,
        `JOIN ${Q}.dbo.sysmergepublications AS p ON p.pubid = a.pubid`,
        `JOIN ${Q}.sys.columns AS c ON c.object_id = a.objid`,
        `LEFT JOIN ${Q}.sys.indexes AS i ON i.object_id = a.objid AND i.is_primary_key = 1`,
        `LEFT JOIN ${Q}.sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.column_id = c.column_id`,
        'WHERE p.name = @publication AND a.type = 10 AND (c.is_rowguidcol = 1 OR ic.key_ordinal > 0)',
        'ORDER BY a.name, ic.key_ordinal;',
      ),
      params: { database: DB, publication: 'Data' },
    });
  });

  it('rowGuidSample quotes every identifier of the query it hands to sp_executesql; the limit is a parameter', () => {
    expect(sql.rowGuidSample(DB, { schema: 'dbo', table: "Pro]file'Data", keyColumns: ['Id', 'Part]x'], rowguidColumn: 'rowguid' }, 100)).toEqual({
      sql: `EXEC ${Q}.sys.sp_executesql @query, N'@limit int', @limit = @limit;`,
      params: {
        query: "SELECT TOP (@limit) CONVERT(nvarchar(4000), [Id]) + N'|' + CONVERT(nvarchar(4000), [Part]]x]) AS row_key, CONVERT(nvarchar(36), [rowguid]) AS rowguid FROM [dbo].[Pro]]file'Data] ORDER BY [Id], [Part]]x];",
        limit: 100,
      },
    });
  });
});
