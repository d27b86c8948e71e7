import { describe, expect, it } from 'vitest';
import { quoteIdent, sessionIdLiteral } from '../../../activities/sqlserver/quote.js';
import * as sql from '../../../activities/sqlserver/statements.js';
import { NIGHTLY } from './schedules.js';

// A database name with everything that breaks naive quoting: ], ', spaces and non-ASCII.
const DB = "Pers]onal 'Ü数据";
const Q = "[Pers]]onal 'Ü数据]";
const lines = (...l: string[]) => l.join('\n');

describe('quoteIdent', () => {
  it.each([
    ['PersonalizationServer', '[PersonalizationServer]'],
    ['a]b', '[a]]b]'],
    [']]', '[]]]]]'],
    ["O'Brien", "[O'Brien]"],
    ['with space', '[with space]'],
    ['Ünïcødé 数据', '[Ünïcødé 数据]'],
    ['x]; DROP DATABASE y; --', '[x]]; DROP DATABASE y; --]'],
  ])('%s → %s', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });
  it('refuses names SQL Server cannot have', () => {
    expect(() => quoteIdent('')).toThrow('an identifier cannot be empty');
    expect(() => quoteIdent('x'.repeat(129))).toThrow('is 129 characters; SQL Server allows at most 128');
    expect(() => quoteIdent('a\u0000b')).toThrow('an identifier cannot contain a NUL character');
  });
});

describe('KILL', () => {
  it('builds KILL only from a whole session id', () => {
    expect(sql.killSession(53)).toEqual({ sql: 'KILL 53;', params: {} });
  });
  it.each([0, -1, 1.5, 32768, Number.NaN])('refuses session id %s', (id) => {
    expect(() => sessionIdLiteral(id)).toThrow(
      `refusing to KILL session ${String(id)}: a session id is a whole number from 1 to 32767`,
    );
  });
  it('refuses a string smuggled in as a number', () => {
    expect(() => sql.killSession('53; DROP TABLE x' as unknown as number)).toThrow(
      'refusing to KILL session 53; DROP TABLE x',
    );
  });
});

describe('statements (golden)', () => {
  const sub = { server: 'SUB]1\\INST', database: DB };
  const cases: [string, sql.Statement, string, Record<string, sql.SqlParam>][] = [
    [
      'serverFacts',
      sql.serverFacts(),
      lines(
        'SELECT',
        "  CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS version,",
        "  CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,",
        '  CAST(@@SERVERNAME AS nvarchar(128)) AS server_name,',
        "  CAST(IS_SRVROLEMEMBER('sysadmin') AS int) AS is_sysadmin,",
        "  (SELECT TOP (1) ss.status FROM sys.dm_server_services AS ss WHERE ss.filename LIKE N'%SQLAGENT%') " +
          'AS agent_status,',
        '  (SELECT TOP (1) ss.service_account FROM sys.dm_server_services AS ss ' +
          "WHERE ss.filename LIKE N'%SQLAGENT%') AS agent_account;",
      ),
      {},
    ],
    ['distributorOfServer', sql.distributorOfServer(), 'EXEC sys.sp_get_distributor;', {}],
    [
      'databaseFacts',
      sql.databaseFacts(DB),
      lines(
        'SELECT d.name, d.is_read_committed_snapshot_on, d.is_merge_published, d.user_access_desc',
        'FROM sys.databases AS d',
        'WHERE d.name = @database;',
      ),
      { database: DB },
    ],
    [
      'userSessions',
      sql.userSessions(DB),
      lines(
        'SELECT s.session_id, s.login_name, s.program_name, s.host_name',
        'FROM sys.dm_exec_sessions AS s',
        'WHERE s.database_id = DB_ID(@database) AND s.is_user_process = 1 AND s.session_id <> @@SPID',
        'ORDER BY s.session_id;',
      ),
      { database: DB },
    ],
    [
      'restrictToAdmins',
      sql.restrictToAdmins(DB),
      `ALTER DATABASE ${Q} SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE;`,
      {},
    ],
    ['allowAllUsers', sql.allowAllUsers(DB), `ALTER DATABASE ${Q} SET MULTI_USER;`, {}],
    [
      'mergeAgents of a publication',
      sql.mergeAgents('distribution', DB, 'Config'),
      lines(
        'SELECT a.id, a.name, a.subscriber_name, a.subscriber_db, CONVERT(uniqueidentifier, a.job_id) AS job_id',
        'FROM [distribution].dbo.MSmerge_agents AS a',
        'WHERE a.publisher_db = @publisherDb AND a.publication = @publication',
        'ORDER BY a.id;',
      ),
      { publisherDb: DB, publication: 'Config' },
    ],
    [
      'mergeAgents of one subscription',
      sql.mergeAgents(DB, 'PS', "Da'ta", sub),
      lines(
        'SELECT a.id, a.name, a.subscriber_name, a.subscriber_db, CONVERT(uniqueidentifier, a.job_id) AS job_id',
        `FROM ${Q}.dbo.MSmerge_agents AS a`,
        'WHERE a.publisher_db = @publisherDb AND a.publication = @publication',
        '  AND a.subscriber_name = @subscriberServer AND a.subscriber_db = @subscriberDb',
        'ORDER BY a.id;',
      ),
      { publisherDb: 'PS', publication: "Da'ta", subscriberServer: 'SUB]1\\INST', subscriberDb: DB },
    ],
    [
      'jobSteps',
      sql.jobSteps('6F9619FF-8B86-D011-B42D-00C04FC964FF'),
      lines(
        'SELECT js.step_id, js.step_name, js.command',
        'FROM msdb.dbo.sysjobsteps AS js',
        'WHERE js.job_id = @jobId',
        'ORDER BY js.step_id;',
      ),
      { jobId: '6F9619FF-8B86-D011-B42D-00C04FC964FF' },
    ],
    [
      'jobActivity',
      sql.jobActivity('6F9619FF-8B86-D011-B42D-00C04FC964FF'),
      lines(
        'SELECT TOP (1) ja.run_requested_date, ja.start_execution_date, ja.stop_execution_date, ' +
          'h.run_status, h.message',
        'FROM msdb.dbo.sysjobactivity AS ja',
        'LEFT JOIN msdb.dbo.sysjobhistory AS h ON h.instance_id = ja.job_history_id',
        'WHERE ja.job_id = @jobId',
        '  AND ja.session_id = (SELECT MAX(ss.session_id) FROM msdb.dbo.syssessions AS ss)',
        'ORDER BY ja.run_requested_date DESC;',
      ),
      { jobId: '6F9619FF-8B86-D011-B42D-00C04FC964FF' },
    ],
    [
      'startJob',
      sql.startJob('6F9619FF-8B86-D011-B42D-00C04FC964FF'),
      'EXEC msdb.dbo.sp_start_job @job_id = @jobId;',
      { jobId: '6F9619FF-8B86-D011-B42D-00C04FC964FF' },
    ],
    [
      'newestMergeSession',
      sql.newestMergeSession(DB, 7),
      lines(
        'SELECT TOP (1) s.session_id, s.start_time, s.end_time, s.runstatus,',
        '  s.upload_inserts, s.upload_updates, s.upload_deletes, s.upload_conflicts,',
        '  s.download_inserts, s.download_updates, s.download_deletes, s.download_conflicts,',
        `  (SELECT TOP (1) h.comments FROM ${Q}.dbo.MSmerge_history AS h WHERE h.session_id = s.session_id ` +
          `ORDER BY h.[timestamp] DESC) AS message`,
        `FROM ${Q}.dbo.MSmerge_sessions AS s`,
        'WHERE s.agent_id = @agentId',
        'ORDER BY s.session_id DESC;',
      ),
      { agentId: 7 },
    ],
    [
      'pendingChanges',
      sql.pendingChanges(DB, 'Config', 'SUB1'),
      `EXEC ${Q}.sys.sp_showpendingchanges @destination_server = @destinationServer, @publication = ` +
        `@publication, @show_rows = 0;`,
      { destinationServer: 'SUB1', publication: 'Config' },
    ],
    [
      'conflicts',
      sql.conflicts(DB, 'Data'),
      lines(
        'SELECT p.centralized_conflicts, p.decentralized_conflicts',
        `FROM ${Q}.dbo.sysmergepublications AS p`,
        'WHERE p.name = @publication;',
        'SELECT a.name AS table_name, c.conflict_type, c.reason_code, c.reason_text, c.origin_datasource,',
        '  CONVERT(nvarchar(36), c.rowguid) AS rowguid,',
        '  DATEADD(MINUTE, DATEDIFF(MINUTE, GETDATE(), GETUTCDATE()), c.MSrepl_create_time) AS created_utc',
        `FROM ${Q}.dbo.MSmerge_conflicts_info AS c`,
        `JOIN ${Q}.dbo.sysmergepublications AS p ON p.pubid = c.pubid`,
        `LEFT JOIN ${Q}.dbo.sysmergearticles AS a ON a.nickname = c.tablenick AND a.pubid = c.pubid`,
        'WHERE p.name = @publication',
        'ORDER BY c.MSrepl_create_time;',
      ),
      { publication: 'Data' },
    ],
    [
      'backupDatabase',
      sql.backupDatabase(DB, "D:\\Backups\\it's.bak"),
      'BACKUP DATABASE @database TO DISK = @file WITH COPY_ONLY, CHECKSUM, INIT;',
      { database: DB, file: "D:\\Backups\\it's.bak" },
    ],
    [
      'verifyBackup',
      sql.verifyBackup('D:\\b.bak'),
      'RESTORE VERIFYONLY FROM DISK = @file WITH CHECKSUM;',
      { file: 'D:\\b.bak' },
    ],
    [
      'backupInFile',
      sql.backupInFile(DB, 'D:\\b.bak'),
      lines(
        'SELECT TOP (1) bs.backup_size, bs.backup_finish_date, bs.is_copy_only, bs.has_backup_checksums',
        'FROM msdb.dbo.backupset AS bs',
        'JOIN msdb.dbo.backupmediafamily AS mf ON mf.media_set_id = bs.media_set_id',
        "WHERE bs.database_name = @database AND mf.physical_device_name = @file AND bs.type = 'D'",
        'ORDER BY bs.backup_finish_date DESC;',
      ),
      { database: DB, file: 'D:\\b.bak' },
    ],
    [
      'replicationState',
      sql.replicationState(DB),
      lines(
        'SELECT d.is_merge_published FROM sys.databases AS d WHERE d.name = @database;',
        'IF OBJECT_ID(@publicationsTable) IS NOT NULL',
        `  SELECT p.name FROM ${Q}.dbo.sysmergepublications AS p`,
        '  WHERE p.publisher = @@SERVERNAME AND p.publisher_db = @database ORDER BY p.name;',
        'ELSE SELECT CAST(NULL AS sysname) AS name WHERE 1 = 0;',
        'IF OBJECT_ID(@subscriptionsTable) IS NOT NULL',
        '  SELECT p.name AS publication, p.publisher, p.publisher_db, s.subscriber_server, s.db_name AS ' +
          'subscriber_db, s.sync_type, s.status',
        `  FROM ${Q}.dbo.sysmergesubscriptions AS s JOIN ${Q}.dbo.sysmergepublications AS p ON p.pubid = s.pubid`,
        '  WHERE s.subid <> s.pubid ORDER BY p.name, s.subscriber_server, s.db_name;',
        'ELSE SELECT CAST(NULL AS sysname) AS publication WHERE 1 = 0;',
      ),
      {
        database: DB,
        publicationsTable: `${Q}.dbo.sysmergepublications`,
        subscriptionsTable: `${Q}.dbo.sysmergesubscriptions`,
      },
    ],
    [
      'dropMergeSubscription',
      sql.dropMergeSubscription(DB, 'Config', sub),
      lines(
        `EXEC ${Q}.sys.sp_dropmergesubscription @publication = @publication, @subscriber = @subscriber,`,
        "  @subscriber_db = @subscriberDb, @subscription_type = N'all';",
      ),
      { publication: 'Config', subscriber: 'SUB]1\\INST', subscriberDb: DB },
    ],
    [
      'mergeSubscriptionCleanup',
      sql.mergeSubscriptionCleanup(DB, 'PUB', 'PS', 'Config'),
      `EXEC ${Q}.sys.sp_mergesubscription_cleanup @publisher = @publisher, @publisher_db = @publisherDb, ` +
        `@publication = @publication;`,
      { publisher: 'PUB', publisherDb: 'PS', publication: 'Config' },
    ],
    [
      'dropMergePublication',
      sql.dropMergePublication(DB, 'Data'),
      `EXEC ${Q}.sys.sp_dropmergepublication @publication = @publication;`,
      { publication: 'Data' },
    ],
    [
      'disableMergePublishing',
      sql.disableMergePublishing(DB),
      "EXEC sys.sp_replicationdboption @dbname = @database, @optname = N'merge publish', @value = N'false';",
      { database: DB },
    ],
    [
      'removeDbReplication',
      sql.removeDbReplication(DB),
      "EXEC sys.sp_removedbreplication @dbname = @database, @type = N'merge';",
      { database: DB },
    ],
    [
      'productVersion',
      sql.productVersion(DB, 'SELECT TOP (1) Version FROM dbo.SchemaVersion'),
      `EXEC ${Q}.sys.sp_executesql @query;`,
      { query: 'SELECT TOP (1) Version FROM dbo.SchemaVersion' },
    ],
    [
      'canary',
      sql.canary(DB, 'INSERT dbo.Canary (token) VALUES (@token)', "tok'en"),
      `EXEC ${Q}.sys.sp_executesql @query, N'@token nvarchar(200)', @token = @token;`,
      { query: 'INSERT dbo.Canary (token) VALUES (@token)', token: "tok'en" },
    ],
    ['sqlcmdSessionDefaults', sql.sqlcmdSessionDefaults(), 'SET QUOTED_IDENTIFIER OFF;', {}],
    [
      'mergeSubscriptionHealth',
      sql.mergeSubscriptionHealth(DB),
      lines(
        'IF OBJECT_ID(@subscriptionsTable) IS NOT NULL',
        '  SELECT p.name AS publication, p.retention, p.retention_period_unit, s.subscriber_server, ' +
          's.db_name AS subscriber_db,',
        '    s.subscription_type, s.status, s.last_sync_date',
        `  FROM ${Q}.dbo.sysmergesubscriptions AS s JOIN ${Q}.dbo.sysmergepublications AS p ON p.pubid = s.pubid`,
        '  WHERE s.subid <> s.pubid AND p.publisher = @@SERVERNAME AND p.publisher_db = @database',
        '  ORDER BY p.name, s.subscriber_server, s.db_name;',
        'ELSE SELECT CAST(NULL AS sysname) AS publication WHERE 1 = 0;',
      ),
      { database: DB, subscriptionsTable: `${Q}.dbo.sysmergesubscriptions` },
    ],
    [
      'mergeAgentJobSchedules',
      sql.mergeAgentJobSchedules('distribution', DB),
      lines(
        'SELECT a.id, a.name, a.publication, a.subscriber_name, a.subscriber_db, CONVERT(uniqueidentifier, ' +
          'a.job_id) AS job_id,',
        '  sc.schedule_id, sc.name AS schedule_name, sc.enabled, sc.freq_type, sc.freq_interval, ' +
          'sc.freq_subday_type, sc.freq_subday_interval,',
        '  sc.freq_relative_interval, sc.freq_recurrence_factor, sc.active_start_date, sc.active_end_date, ' +
          'sc.active_start_time, sc.active_end_time',
        'FROM [distribution].dbo.MSmerge_agents AS a',
        'LEFT JOIN msdb.dbo.sysjobschedules AS js ON js.job_id = CONVERT(uniqueidentifier, a.job_id)',
        'LEFT JOIN msdb.dbo.sysschedules AS sc ON sc.schedule_id = js.schedule_id',
        'WHERE a.publisher_db = @publisherDb AND a.job_id IS NOT NULL',
        'ORDER BY a.id, sc.schedule_id;',
      ),
      { publisherDb: DB },
    ],
    [
      'updateScheduleEnabled',
      sql.updateScheduleEnabled(12, false),
      'EXEC msdb.dbo.sp_update_schedule @schedule_id = @scheduleId, @enabled = @enabled;',
      { scheduleId: 12, enabled: 0 },
    ],
    [
      'updateScheduleTiming',
      sql.updateScheduleTiming(12, NIGHTLY, false),
      lines(
        'EXEC msdb.dbo.sp_update_schedule @schedule_id = @scheduleId, @enabled = @enabled,',
        '  @freq_type = @freqType, @freq_interval = @freqInterval, @freq_subday_type = @freqSubdayType, ' +
          '@freq_subday_interval = @freqSubdayInterval,',
        '  @freq_relative_interval = @freqRelativeInterval, @freq_recurrence_factor = @freqRecurrenceFactor,',
        '  @active_start_date = @activeStartDate, @active_end_date = @activeEndDate, @active_start_time = ' +
          '@activeStartTime, @active_end_time = @activeEndTime;',
      ),
      { scheduleId: 12, enabled: 0, ...NIGHTLY },
    ],
    [
      'updateScheduleEnabled (enable)',
      sql.updateScheduleEnabled(12, true),
      'EXEC msdb.dbo.sp_update_schedule @schedule_id = @scheduleId, @enabled = @enabled;',
      { scheduleId: 12, enabled: 1 },
    ],
    [
      'publicationSnapshotReady',
      sql.publicationSnapshotReady(DB, "Con'fig"),
      lines(
        'SELECT p.snapshot_ready',
        `FROM ${Q}.dbo.sysmergepublications AS p`,
        'WHERE p.name = @publication AND p.publisher = @@SERVERNAME AND p.publisher_db = @database;',
      ),
      { database: DB, publication: "Con'fig" },
    ],
    [
      'snapshotAgentLastRun',
      sql.snapshotAgentLastRun(DB, 'PS', 'Config'),
      lines(
        'SELECT TOP (1) h.runstatus, h.comments, h.[time]',
        `FROM ${Q}.dbo.MSsnapshot_history AS h`,
        `JOIN ${Q}.dbo.MSsnapshot_agents AS a ON a.id = h.agent_id`,
        'WHERE a.publisher_db = @publisherDb AND a.publication = @publication',
        'ORDER BY h.[time] DESC;',
      ),
      { publisherDb: 'PS', publication: 'Config' },
    ],
    ['mergeAgentNames', sql.mergeAgentNames(DB), `SELECT a.name FROM ${Q}.dbo.MSmerge_agents AS a;`, {}],
    [
      'rowGuidConversionMarks',
      sql.rowGuidConversionMarks(DB, 'replup.convertRowGuids.started', 'replup.convertRowGuids.done'),
      lines(
        'SELECT ep.name, CAST(ep.value AS nvarchar(4000)) AS value',
        `FROM ${Q}.sys.extended_properties AS ep`,
        'WHERE ep.class = 0 AND ep.name IN (@started, @done);',
      ),
      { started: 'replup.convertRowGuids.started', done: 'replup.convertRowGuids.done' },
    ],
    [
      'publicationProperties',
      sql.publicationProperties(DB),
      lines(
        'SELECT p.name, p.retention, p.retention_period_unit, p.conflict_retention, p.backward_comp_level, ' +
          'p.centralized_conflicts, p.decentralized_conflicts',
        `FROM ${Q}.dbo.sysmergepublications AS p`,
        'WHERE p.publisher = @@SERVERNAME AND p.publisher_db = @database',
        'ORDER BY p.name;',
      ),
      { database: DB },
    ],
    [
      'publicationArticles',
      sql.publicationArticles(DB),
      lines(
        'SELECT p.name AS publication, a.name, a.column_tracking, a.subset_filterclause, a.upload_options, ' +
          'a.processing_order, a.identity_support,',
        '  a.delete_tracking, a.compensate_for_errors',
        `FROM ${Q}.dbo.sysmergearticles AS a`,
        `JOIN ${Q}.dbo.sysmergepublications AS p ON p.pubid = a.pubid`,
        'WHERE p.publisher = @@SERVERNAME AND p.publisher_db = @database',
        'ORDER BY p.name, a.name;',
      ),
      { database: DB },
    ],
    [
      'changeMergePublication',
      sql.changeMergePublication(DB, "Con'fig", 'retention', '30'),
      `EXEC ${Q}.sys.sp_changemergepublication @publication = @publication, @property = @property, @value = @value;`,
      { publication: "Con'fig", property: 'retention', value: '30' },
    ],
    [
      'addRowGuidConversionMark',
      sql.addRowGuidConversionMark(DB, 'replup.convertRowGuids.started', "run x'; DROP DATABASE y; --"),
      lines(
        `IF NOT EXISTS (SELECT 1 FROM ${Q}.sys.extended_properties AS ep WHERE ep.class = 0 AND ep.name = @name)`,
        `  EXEC ${Q}.sys.sp_addextendedproperty @name = @name, @value = @value;`,
      ),
      { name: 'replup.convertRowGuids.started', value: "run x'; DROP DATABASE y; --" },
    ],
    // The ConvertRowGuids check after a lost reply (#20 §4): the started mark taken away, the tables by catalog, not by
    // publication.
    [
      'dropRowGuidConversionMark',
      sql.dropRowGuidConversionMark(DB, "replup.convertRowGuids.started'; --"),
      lines(
        `IF EXISTS (SELECT 1 FROM ${Q}.sys.extended_properties AS ep WHERE ep.class = 0 AND ep.name = @name)`,
        `  EXEC ${Q}.sys.sp_dropextendedproperty @name = @name;`,
      ),
      { name: "replup.convertRowGuids.started'; --" },
    ],
    [
      'rowGuidTableKeys',
      sql.rowGuidTableKeys(DB),
      lines(
        'SELECT OBJECT_SCHEMA_NAME(c.object_id, DB_ID(@database)) AS table_schema, OBJECT_NAME(c.object_id, ' +
          'DB_ID(@database)) AS table_name,',
        '  c.name AS column_name, c.is_rowguidcol, ic.key_ordinal',
        `FROM ${Q}.sys.columns AS c`,
        `JOIN ${Q}.sys.columns AS g ON g.object_id = c.object_id AND g.is_rowguidcol = 1`,
        `JOIN ${Q}.sys.indexes AS i ON i.object_id = c.object_id AND i.is_primary_key = 1`,
        `LEFT JOIN ${Q}.sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id ` +
          `AND ic.column_id = c.column_id`,
        'WHERE c.is_rowguidcol = 1 OR ic.key_ordinal > 0',
        'ORDER BY c.object_id, ic.key_ordinal;',
      ),
      { database: DB },
    ],
    // The convergence proof (issue #20 §1-2): level 3, the alert numbers, preserve_rowguidcol = 0, the sample's quoted
    // query.
    [
      'validateMergeSubscription',
      sql.validateMergeSubscription(DB, "Da'ta", { server: 'SUB1\\EM', database: "Sub'db" }),
      `EXEC ${Q}.sys.sp_validatemergesubscription @publication = @publication, @subscriber = @subscriber, ` +
        `@subscriber_db = @subscriberDb, @level = 3;`,
      { publication: "Da'ta", subscriber: 'SUB1\\EM', subscriberDb: "Sub'db" },
    ],
    [
      'mergeValidationDates',
      sql.mergeValidationDates(DB, 'Data', { server: 'SUB1', database: 'PS' }),
      lines(
        'SELECT s.last_validated, s.attempted_validate',
        `FROM ${Q}.dbo.sysmergesubscriptions AS s JOIN ${Q}.dbo.sysmergepublications AS p ON p.pubid = s.pubid`,
        'WHERE p.name = @publication AND s.subscriber_server = @subscriber AND s.db_name = @subscriberDb AND ' +
          's.subid <> s.pubid;',
      ),
      { publication: 'Data', subscriber: 'SUB1', subscriberDb: 'PS' },
    ],
    [
      'mergeValidationAlerts',
      sql.mergeValidationAlerts(DB, 'Data', { server: 'SUB1', database: 'PS' }),
      lines(
        'SELECT ra.alert_id, ra.alert_error_code, ra.article, CAST(ra.alert_error_text AS nvarchar(4000)) AS ' +
          'alert_error_text',
        'FROM msdb.dbo.sysreplicationalerts AS ra',
        'WHERE ra.agent_type = 4 AND ra.alert_error_code IN (20574, 20575)',
        '  AND ra.publisher_db = @publisherDb AND ra.publication = @publication AND ra.subscriber = ' +
          '@subscriber AND ra.subscriber_db = @subscriberDb',
        'ORDER BY ra.alert_id;',
      ),
      { publisherDb: DB, publication: 'Data', subscriber: 'SUB1', subscriberDb: 'PS' },
    ],
    [
      'replicationAddedRowGuids',
      sql.replicationAddedRowGuids(DB),
      lines(
        'IF OBJECT_ID(@articlesTable) IS NOT NULL',
        '  SELECT p.name AS publication, a.name AS article',
        `  FROM ${Q}.dbo.sysmergearticles AS a JOIN ${Q}.dbo.sysmergepublications AS p ON p.pubid = a.pubid`,
        '  WHERE a.preserve_rowguidcol = 0 AND p.publisher = @@SERVERNAME AND p.publisher_db = @database',
        '  ORDER BY p.name, a.name;',
        'ELSE SELECT CAST(NULL AS sysname) AS publication WHERE 1 = 0;',
      ),
      { database: DB, articlesTable: `${Q}.dbo.sysmergearticles` },
    ],
    [
      'publishedTableKeys',
      sql.publishedTableKeys(DB, 'Data'),
      lines(
        'SELECT a.name AS article, OBJECT_SCHEMA_NAME(a.objid, DB_ID(@database)) AS table_schema, ' +
          'OBJECT_NAME(a.objid, DB_ID(@database)) AS table_name,',
        '  c.name AS column_name, c.is_rowguidcol, ic.key_ordinal',
        `FROM ${Q}.dbo.sysmergearticles AS a`,
        `JOIN ${Q}.dbo.sysmergepublications AS p ON p.pubid = a.pubid`,
        `JOIN ${Q}.sys.columns AS c ON c.object_id = a.objid`,
        `LEFT JOIN ${Q}.sys.indexes AS i ON i.object_id = a.objid AND i.is_primary_key = 1`,
        `LEFT JOIN ${Q}.sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id ` +
          `AND ic.column_id = c.column_id`,
        'WHERE p.name = @publication AND a.type = 10 AND (c.is_rowguidcol = 1 OR ic.key_ordinal > 0)',
        'ORDER BY a.name, ic.key_ordinal;',
      ),
      { database: DB, publication: 'Data' },
    ],
    [
      'rowGuidSample',
      sql.rowGuidSample(
        DB,
        { schema: 'dbo', table: "Pro]file'Data", keyColumns: ['Id', 'Part]x'], rowguidColumn: 'rowguid' },
        100,
      ),
      `EXEC ${Q}.sys.sp_executesql @query, N'@limit int', @limit = @limit;`,
      {
        query:
          "SELECT TOP (@limit) CONVERT(nvarchar(4000), [Id]) + N'|' + CONVERT(nvarchar(4000), [Part]]x]) AS " +
          "row_key, CONVERT(nvarchar(36), [rowguid]) AS rowguid FROM [dbo].[Pro]]file'Data] ORDER BY [Id], " +
          '[Part]]x];',
        limit: 100,
      },
    ],
  ];

  it.each(cases)('%s', (_name, statement, expectedSql, expectedParams) => {
    expect(statement).toEqual({ sql: expectedSql, params: expectedParams });
  });

  it('covers every statement the module exports', () => {
    const tested = new Set(cases.map(([name]) => name.split(' ')[0]));
    const exported = Object.entries(sql)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
    expect(exported.filter((name) => name !== 'killSession' && !tested.has(name))).toEqual([]);
  });

  it('never puts a value into the SQL text: user text only reaches it quoted as an identifier', () => {
    const hostile = "x'; DROP DATABASE y; --";
    for (const statement of [
      sql.userSessions(hostile),
      sql.pendingChanges('db', hostile, hostile),
      sql.canary('db', hostile, hostile),
      sql.backupDatabase(hostile, hostile),
    ]) {
      expect(statement.sql).not.toContain(hostile);
    }
  });
});
