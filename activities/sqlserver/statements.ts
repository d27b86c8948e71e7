// Every statement the SQL Server adapter sends, as pure functions returning { sql, params }.
// Values always travel as parameters; identifiers that T-SQL cannot take as parameters (the
// database part of a three-part name, ALTER DATABASE's name, KILL's session id) are built with
// quoteIdent / sessionIdLiteral. Facts: DOMAIN.md §1 "T-SQL facts for each step".
//
// Procedures that must run in a given database (sp_showpendingchanges, sp_dropmergepublication,
// …) are called as `[db].sys.sp_x`: a system procedure called through a database-qualified name
// runs in that database, so one pool per server serves every database on it.
import { quoteIdent, sessionIdLiteral } from './quote.js';
import type { ScheduleTiming } from '../ports.js';

export type SqlParam = string | number | boolean;

export interface Statement {
  sql: string;
  params: Record<string, SqlParam>;
}

export interface Subscriber {
  /** The subscriber's replication server name (@@SERVERNAME), as MSmerge_agents records it. */
  server: string;
  database: string;
}

const statement = (lines: string[], params: Record<string, SqlParam> = {}): Statement => ({
  sql: lines.join('\n'),
  params,
});
const proc = (database: string, name: string) => `EXEC ${quoteIdent(database)}.sys.${name}`;

/** One subscription as the statements about it bind it: @publication, @subscriber (its server), @subscriberDb. */
const subscriptionParams = (publication: string, subscriber: Subscriber): Record<string, SqlParam> => ({
  publication,
  subscriber: subscriber.server,
  subscriberDb: subscriber.database,
});

/**
 * The rows of sysmergepublications (as p) that are this database's own publications. *(inferred)* At a subscriber
 * the table also lists the publications it subscribes to: only rows whose publisher is this server and database are
 * its own.
 */
const OWN_PUBLICATION = 'p.publisher = @@SERVERNAME AND p.publisher_db = @database';

/**
 * `select` (its lines indented under the IF) when the table named by the parameter `@tableParam` exists, else an
 * empty result set with one column: the sysmerge* tables exist only once a database has taken part in merge
 * replication.
 */
const ifTableExists = (tableParam: string, emptyColumn: string, select: string[]): string[] => [
  `IF OBJECT_ID(@${tableParam}) IS NOT NULL`,
  ...select.map((line) => `  ${line}`),
  `ELSE SELECT CAST(NULL AS sysname) AS ${emptyColumn} WHERE 1 = 0;`,
];

/** The table of the object id `objectId` as schema and name, looked up in the database the statement names. */
const tableOf = (objectId: string) =>
  `OBJECT_SCHEMA_NAME(${objectId}, DB_ID(@database)) AS table_schema, OBJECT_NAME(${objectId}, DB_ID(@database)) AS ` +
  'table_name';

/**
 * A table's primary key columns (sys.index_columns.key_ordinal of its primary key index i, joined as ic) and its
 * ROWGUIDCOL, among its columns c: the columns selected (a SELECT's second line), then the join.
 */
const KEY_COLUMNS = '  c.name AS column_name, c.is_rowguidcol, ic.key_ordinal';
const keyColumnsJoin = (db: string) =>
  `LEFT JOIN ${db}.sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id ` +
  `AND ic.column_id = c.column_id`;

// ---- preflight -------------------------------------------------------------------------------

/**
 * Version, edition, replication server name, sysadmin, SQL Server Agent and the account it runs as
 * (service_account; null on Express: it has no Agent). The Agent is found by its executable
 * (sys.dm_server_services.filename, SQLAGENT.EXE), not by its display name, which is localised; status 4 =
 * Running (sys-dm-server-services-transact-sql).
 * *(inferred: the executable's name is SQLAGENT.EXE on every edition and language.)*
 */
export function serverFacts(): Statement {
  return statement([
    'SELECT',
    "  CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS version,",
    "  CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,",
    '  CAST(@@SERVERNAME AS nvarchar(128)) AS server_name,',
    "  CAST(IS_SRVROLEMEMBER('sysadmin') AS int) AS is_sysadmin,",
    "  (SELECT TOP (1) ss.status FROM sys.dm_server_services AS ss WHERE ss.filename LIKE N'%SQLAGENT%') AS " +
      'agent_status,',
    '  (SELECT TOP (1) ss.service_account FROM sys.dm_server_services AS ss ' +
      "WHERE ss.filename LIKE N'%SQLAGENT%') AS agent_account;",
  ]);
}

/**
 * Whether a distributor is installed for this server and which server it is (sp_get_distributor's
 * result set: installed, distribution server, distribution db installed, …). It runs "on any
 * database" of the server asked, so from master. It names no distribution database: the plan's is
 * checked where it is used.
 */
export function distributorOfServer(): Statement {
  return statement(['EXEC sys.sp_get_distributor;']);
}

/** Per-database facts: RCSI, merge publishing, who may connect. */
export function databaseFacts(database: string): Statement {
  return statement(
    [
      'SELECT d.name, d.is_read_committed_snapshot_on, d.is_merge_published, d.user_access_desc',
      'FROM sys.databases AS d',
      'WHERE d.name = @database;',
    ],
    { database },
  );
}

// ---- drain-users -----------------------------------------------------------------------------

export function userSessions(database: string): Statement {
  return statement(
    [
      'SELECT s.session_id, s.login_name, s.program_name, s.host_name',
      'FROM sys.dm_exec_sessions AS s',
      'WHERE s.database_id = DB_ID(@database) AND s.is_user_process = 1 AND s.session_id <> @@SPID',
      'ORDER BY s.session_id;',
    ],
    { database },
  );
}

/** KILL takes no parameter: the id is checked to be a whole number in code. */
export function killSession(sessionId: number): Statement {
  return statement([`KILL ${sessionIdLiteral(sessionId)};`]);
}

/** Admits only db_owner/dbcreator/sysadmin; SINGLE_USER is avoided (it risks error 924). */
export function restrictToAdmins(database: string): Statement {
  return statement([`ALTER DATABASE ${quoteIdent(database)} SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE;`]);
}

export function allowAllUsers(database: string): Statement {
  return statement([`ALTER DATABASE ${quoteIdent(database)} SET MULTI_USER;`]);
}

// ---- sync-until-quiet: merge agents and their jobs (distribution database) ---------------------

/** The push merge agents of a publication (or of one subscription), with their Agent job ids. */
export function mergeAgents(
  distributionDb: string,
  publisherDb: string,
  publication: string,
  subscriber?: Subscriber,
): Statement {
  const params: Record<string, SqlParam> = { publisherDb, publication };
  const where = ['WHERE a.publisher_db = @publisherDb AND a.publication = @publication'];
  if (subscriber) {
    where.push('  AND a.subscriber_name = @subscriberServer AND a.subscriber_db = @subscriberDb');
    params.subscriberServer = subscriber.server;
    params.subscriberDb = subscriber.database;
  }
  return statement(
    [
      'SELECT a.id, a.name, a.subscriber_name, a.subscriber_db, CONVERT(uniqueidentifier, a.job_id) AS job_id',
      `FROM ${quoteIdent(distributionDb)}.dbo.MSmerge_agents AS a`,
      ...where,
      'ORDER BY a.id;',
    ],
    params,
  );
}

/** The job's step commands: a merge agent started with -Continuous never finishes. */
export function jobSteps(jobId: string): Statement {
  return statement(
    [
      'SELECT js.step_id, js.step_name, js.command',
      'FROM msdb.dbo.sysjobsteps AS js',
      'WHERE js.job_id = @jobId',
      'ORDER BY js.step_id;',
    ],
    { jobId },
  );
}

/**
 * The job's latest activity in the current Agent session, with its outcome once it has one
 * (sysjobhistory.run_status: 0 failed, 1 succeeded, 2 retry, 3 canceled, 4 in progress).
 * Running = started and not stopped.
 */
export function jobActivity(jobId: string): Statement {
  return statement(
    [
      'SELECT TOP (1) ja.run_requested_date, ja.start_execution_date, ja.stop_execution_date, h.run_status, h.message',
      'FROM msdb.dbo.sysjobactivity AS ja',
      'LEFT JOIN msdb.dbo.sysjobhistory AS h ON h.instance_id = ja.job_history_id',
      'WHERE ja.job_id = @jobId',
      '  AND ja.session_id = (SELECT MAX(ss.session_id) FROM msdb.dbo.syssessions AS ss)',
      'ORDER BY ja.run_requested_date DESC;',
    ],
    { jobId },
  );
}

export function startJob(jobId: string): Statement {
  return statement(['EXEC msdb.dbo.sp_start_job @job_id = @jobId;'], { jobId });
}

/** The agent's newest MSmerge_sessions row with its counts and last history message. */
export function newestMergeSession(distributionDb: string, agentId: number): Statement {
  const db = quoteIdent(distributionDb);
  return statement(
    [
      'SELECT TOP (1) s.session_id, s.start_time, s.end_time, s.runstatus,',
      '  s.upload_inserts, s.upload_updates, s.upload_deletes, s.upload_conflicts,',
      '  s.download_inserts, s.download_updates, s.download_deletes, s.download_conflicts,',
      `  (SELECT TOP (1) h.comments FROM ${db}.dbo.MSmerge_history AS h WHERE h.session_id = s.session_id ` +
        `ORDER BY h.[timestamp] DESC) AS message`,
      `FROM ${db}.dbo.MSmerge_sessions AS s`,
      'WHERE s.agent_id = @agentId',
      'ORDER BY s.session_id DESC;',
    ],
    { agentId },
  );
}

/**
 * Changes not yet merged, per article: run in the publication database (changes going down to
 * destinationServer) and in the subscription database (changes going up to the publisher).
 */
export function pendingChanges(database: string, publication: string, destinationServer: string): Statement {
  return statement(
    [
      `${proc(database, 'sp_showpendingchanges')} @destination_server = @destinationServer, @publication = ` +
        `@publication, @show_rows = 0;`,
    ],
    { destinationServer, publication },
  );
}

/**
 * One publication's conflicts as this database records them, in two result sets: where the
 * publication keeps its conflict rows (sysmergepublications.centralized_conflicts = 1 at the
 * publisher, decentralized_conflicts = 1 at the subscriber that caused them), then the rows of
 * MSmerge_conflicts_info, oldest first, with their table (sysmergearticles.nickname = tablenick).
 * Run in the publication database; for a publication that logs at the subscriber only, in each
 * subscription database too (the table "is stored at the Publisher in the publication database and
 * at the Subscriber in the subscription database"). MSrepl_create_time is a datetime without a
 * zone: *(inferred)* the server's local time, turned into UTC with the server's current offset.
 * Sources: learn.microsoft.com/en-us/sql/relational-databases/system-tables/msmerge-conflicts-info-transact-sql,
 * …/sysmergepublications-transact-sql, …/sysmergearticles-transact-sql.
 */
export function conflicts(database: string, publication: string): Statement {
  const db = quoteIdent(database);
  const whereKept = [
    'SELECT p.centralized_conflicts, p.decentralized_conflicts',
    `FROM ${db}.dbo.sysmergepublications AS p`,
    'WHERE p.name = @publication;',
  ];
  const rows = [
    'SELECT a.name AS table_name, c.conflict_type, c.reason_code, c.reason_text, c.origin_datasource,',
    '  CONVERT(nvarchar(36), c.rowguid) AS rowguid,',
    '  DATEADD(MINUTE, DATEDIFF(MINUTE, GETDATE(), GETUTCDATE()), c.MSrepl_create_time) AS created_utc',
    `FROM ${db}.dbo.MSmerge_conflicts_info AS c`,
    `JOIN ${db}.dbo.sysmergepublications AS p ON p.pubid = c.pubid`,
    `LEFT JOIN ${db}.dbo.sysmergearticles AS a ON a.nickname = c.tablenick AND a.pubid = c.pubid`,
    'WHERE p.name = @publication',
    'ORDER BY c.MSrepl_create_time;',
  ];
  return statement([...whereKept, ...rows], { publication });
}

// ---- convergence proof (issue #20 §1-2; docs/research/convergence-sources.md) -------------------

/**
 * Marks one subscription for merge validation; the merge agent validates at its next run ("This
 * marks the selected subscription for validation", Validate Replicated Data). Level 3, rowcount and
 * binary checksum: "The value of 3 is the recommended value" (Merge Agent -Validate), and "Binary
 * checksum can be used with any published table" where level 2 cannot validate tables with column
 * filters or dropped/added columns. At the publisher, in the publication database.
 * learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-validatemergesubscription-transact-sql
 */
export function validateMergeSubscription(publisherDb: string, publication: string, subscriber: Subscriber): Statement {
  return statement(
    [
      `${proc(publisherDb, 'sp_validatemergesubscription')} @publication = @publication, @subscriber = ` +
        `@subscriber, @subscriber_db = @subscriberDb, @level = 3;`,
    ],
    subscriptionParams(publication, subscriber),
  );
}

/**
 * The subscription's validation dates at the publisher: last_validated ("the last successful
 * validation of Subscriber data") and attempted_validate ("the last datetime that validation was
 * attempted"). *(inferred)* a merge after the mark that moves attempted_validate but not
 * last_validated failed validation (sysmergesubscriptions-transact-sql does not describe the pair).
 */
export function mergeValidationDates(publisherDb: string, publication: string, subscriber: Subscriber): Statement {
  const db = quoteIdent(publisherDb);
  return statement(
    [
      'SELECT s.last_validated, s.attempted_validate',
      `FROM ${db}.dbo.sysmergesubscriptions AS s JOIN ${db}.dbo.sysmergepublications AS p ON p.pubid = s.pubid`,
      'WHERE p.name = @publication AND s.subscriber_server = @subscriber AND s.db_name = @subscriberDb AND ' +
        's.subid <> s.pubid;',
    ],
    subscriptionParams(publication, subscriber),
  );
}

/**
 * The subscription's data validation alerts in msdb: 20574 "Subscriber has failed data validation"
 * (one per article: "subscription to article 'X' … failed data validation"), 20575 passed; agent_type
 * 4 = Merge Agent. Use Alerts for Replication Agent Events says both write sysreplicationalerts.
 * *(inferred)* a push subscription's merge agent runs at the distributor, so its msdb holds them.
 */
export function mergeValidationAlerts(publisherDb: string, publication: string, subscriber: Subscriber): Statement {
  return statement(
    [
      'SELECT ra.alert_id, ra.alert_error_code, ra.article, CAST(ra.alert_error_text AS nvarchar(4000)) AS ' +
        'alert_error_text',
      'FROM msdb.dbo.sysreplicationalerts AS ra',
      'WHERE ra.agent_type = 4 AND ra.alert_error_code IN (20574, 20575)',
      '  AND ra.publisher_db = @publisherDb AND ra.publication = @publication AND ra.subscriber = ' +
        '@subscriber AND ra.subscriber_db = @subscriberDb',
      'ORDER BY ra.alert_id;',
    ],
    { publisherDb, ...subscriptionParams(publication, subscriber) },
  );
}

/**
 * The articles of this database's own publications whose ROWGUIDCOL replication added
 * (sysmergearticles.preserve_rowguidcol = 0: "0 means that replication added the ROWGUIDCOL column").
 * Dropping the publication drops that column (KB 2646528), so its row GUIDs do not survive removal.
 */
export function replicationAddedRowGuids(database: string): Statement {
  const db = quoteIdent(database);
  return statement(
    ifTableExists('articlesTable', 'publication', [
      'SELECT p.name AS publication, a.name AS article',
      `FROM ${db}.dbo.sysmergearticles AS a JOIN ${db}.dbo.sysmergepublications AS p ON p.pubid = a.pubid`,
      `WHERE a.preserve_rowguidcol = 0 AND ${OWN_PUBLICATION}`,
      'ORDER BY p.name, a.name;',
    ]),
    { database, articlesTable: `${db}.dbo.sysmergearticles` },
  );
}

/** A published table as the (primary key, rowguid) sample needs it. */
export interface SampledTable {
  schema: string;
  table: string;
  /** Primary key columns in key order. */
  keyColumns: string[];
  /** The ROWGUIDCOL column (sys.columns.is_rowguidcol = 1). */
  rowguidColumn: string;
}

/**
 * The tables of a publication (sysmergearticles type 10 = table, its objid the base table) with
 * their primary key columns (sys.indexes.is_primary_key, sys.index_columns.key_ordinal in order)
 * and their ROWGUIDCOL (sys.columns.is_rowguidcol), one row per such column. At the publisher.
 */
export function publishedTableKeys(database: string, publication: string): Statement {
  const db = quoteIdent(database);
  return statement(
    [
      `SELECT a.name AS article, ${tableOf('a.objid')},`,
      KEY_COLUMNS,
      `FROM ${db}.dbo.sysmergearticles AS a`,
      `JOIN ${db}.dbo.sysmergepublications AS p ON p.pubid = a.pubid`,
      `JOIN ${db}.sys.columns AS c ON c.object_id = a.objid`,
      `LEFT JOIN ${db}.sys.indexes AS i ON i.object_id = a.objid AND i.is_primary_key = 1`,
      keyColumnsJoin(db),
      'WHERE p.name = @publication AND a.type = 10 AND (c.is_rowguidcol = 1 OR ic.key_ordinal > 0)',
      'ORDER BY a.name, ic.key_ordinal;',
    ],
    { database, publication },
  );
}

/**
 * The first `limit` rows of a table by primary key, each as (key, rowguid): the key's columns as
 * text joined with '|'. The table's name is an identifier, so the query is built with quoteIdent
 * and run through sp_executesql, the limit a parameter. *(inferred)* the subscriber's table has
 * the publisher's schema and name (the vendor's articles do not rename their destination).
 */
export function rowGuidSample(database: string, t: SampledTable, limit: number): Statement {
  const keys = t.keyColumns.map(quoteIdent);
  const key = keys.map((k) => `CONVERT(nvarchar(4000), ${k})`).join(" + N'|' + ");
  const query =
    `SELECT TOP (@limit) ${key} AS row_key, CONVERT(nvarchar(36), ${quoteIdent(t.rowguidColumn)}) AS rowguid ` +
    `FROM ${quoteIdent(t.schema)}.${quoteIdent(t.table)} ORDER BY ${keys.join(', ')};`;
  return statement([`${proc(database, 'sp_executesql')} @query, N'@limit int', @limit = @limit;`], { query, limit });
}

// ---- backup ------------------------------------------------------------------------------------

/** BACKUP DATABASE accepts a variable for the name (`{ database_name | @database_name_var }`). */
export function backupDatabase(database: string, file: string): Statement {
  return statement(['BACKUP DATABASE @database TO DISK = @file WITH COPY_ONLY, CHECKSUM, INIT;'], { database, file });
}

export function verifyBackup(file: string): Statement {
  return statement(['RESTORE VERIFYONLY FROM DISK = @file WITH CHECKSUM;'], { file });
}

/** The newest full backup of the database written to this file (msdb's record of it). */
export function backupInFile(database: string, file: string): Statement {
  return statement(
    [
      'SELECT TOP (1) bs.backup_size, bs.backup_finish_date, bs.is_copy_only, bs.has_backup_checksums',
      'FROM msdb.dbo.backupset AS bs',
      'JOIN msdb.dbo.backupmediafamily AS mf ON mf.media_set_id = bs.media_set_id',
      "WHERE bs.database_name = @database AND mf.physical_device_name = @file AND bs.type = 'D'",
      'ORDER BY bs.backup_finish_date DESC;',
    ],
    { database, file },
  );
}

// ---- replication state and removal ---------------------------------------------------------------

/**
 * Three result sets: is_merge_published; the publications this database publishes; the merge
 * subscriptions it knows of. The sysmerge* tables exist only once a database has taken part in
 * merge replication, hence the OBJECT_ID guards. *(inferred)* At a subscriber, sysmergepublications
 * also lists the publications it subscribes to: only rows whose publisher is this server and
 * database are its own; sysmergesubscriptions rows with subid = pubid stand for the publisher.
 */
export function replicationState(database: string): Statement {
  const db = quoteIdent(database);
  return statement(
    [
      'SELECT d.is_merge_published FROM sys.databases AS d WHERE d.name = @database;',
      ...ifTableExists('publicationsTable', 'name', [
        `SELECT p.name FROM ${db}.dbo.sysmergepublications AS p`,
        `WHERE ${OWN_PUBLICATION} ORDER BY p.name;`,
      ]),
      ...ifTableExists('subscriptionsTable', 'publication', [
        'SELECT p.name AS publication, p.publisher, p.publisher_db, s.subscriber_server, s.db_name AS ' +
          'subscriber_db, s.sync_type, s.status',
        `FROM ${db}.dbo.sysmergesubscriptions AS s JOIN ${db}.dbo.sysmergepublications AS p ON p.pubid = s.pubid`,
        'WHERE s.subid <> s.pubid ORDER BY p.name, s.subscriber_server, s.db_name;',
      ]),
    ],
    {
      database,
      publicationsTable: `${db}.dbo.sysmergepublications`,
      subscriptionsTable: `${db}.dbo.sysmergesubscriptions`,
    },
  );
}

/** At the publisher, in the publication database. Already gone: 20026, 20021, 20017, 20032. */
export function dropMergeSubscription(publisherDb: string, publication: string, subscriber: Subscriber): Statement {
  return statement(
    [
      `${proc(publisherDb, 'sp_dropmergesubscription')} @publication = @publication, @subscriber = @subscriber,`,
      "  @subscriber_db = @subscriberDb, @subscription_type = N'all';",
    ],
    subscriptionParams(publication, subscriber),
  );
}

/** At the subscriber, in the subscription database: removes its side of the subscription. */
export function mergeSubscriptionCleanup(
  subscriberDb: string,
  publisher: string,
  publisherDb: string,
  publication: string,
): Statement {
  return statement(
    [
      `${proc(subscriberDb, 'sp_mergesubscription_cleanup')} @publisher = @publisher, @publisher_db = ` +
        `@publisherDb, @publication = @publication;`,
    ],
    { publisher, publisherDb, publication },
  );
}

export function dropMergePublication(publisherDb: string, publication: string): Statement {
  return statement([`${proc(publisherDb, 'sp_dropmergepublication')} @publication = @publication;`], { publication });
}

export function disableMergePublishing(database: string): Statement {
  return statement(
    ["EXEC sys.sp_replicationdboption @dbname = @database, @optname = N'merge publish', @value = N'false';"],
    { database },
  );
}

/** The fallback when the ordered removal fails (sysadmin; leaves distributor jobs alone). */
export function removeDbReplication(database: string): Statement {
  return statement(["EXEC sys.sp_removedbreplication @dbname = @database, @type = N'merge';"], { database });
}

// ---- product version, canary, scripts ------------------------------------------------------------

/** The plan's version query (vendor specific, configurable), run in the database. */
export function productVersion(database: string, query: string): Statement {
  return statement([`${proc(database, 'sp_executesql')} @query;`], { query });
}

/** A configured canary query (write or read), run in the database with @token bound. */
export function canary(database: string, query: string, token: string): Statement {
  return statement([`${proc(database, 'sp_executesql')} @query, N'@token nvarchar(200)', @token = @token;`], {
    query,
    token,
  });
}

/** sqlcmd's session default (it runs with QUOTED_IDENTIFIER OFF unless -I). */
export function sqlcmdSessionDefaults(): Statement {
  return statement(['SET QUOTED_IDENTIFIER OFF;']);
}

// ---- preflight: subscriptions, agent jobs, snapshots (issue #18 §3-4) ---------------------------

/**
 * Every merge subscription to this database's own publications, with the publication's retention
 * (sysmergepublications.retention in units of retention_period_unit: 0 day, 1 week, 2 month,
 * 3 year) and the subscription's type (0 push, 1 pull, 2 anonymous), status and last_sync_date.
 * Sources: learn.microsoft.com/sql/relational-databases/system-tables/sysmergesubscriptions-transact-sql,
 * …/sysmergepublications-transact-sql. subid <> pubid leaves out the publisher's own row *(inferred,
 * as replicationState)*.
 */
export function mergeSubscriptionHealth(database: string): Statement {
  const db = quoteIdent(database);
  return statement(
    ifTableExists('subscriptionsTable', 'publication', [
      'SELECT p.name AS publication, p.retention, p.retention_period_unit, s.subscriber_server, s.db_name ' +
        'AS subscriber_db,',
      '  s.subscription_type, s.status, s.last_sync_date',
      `FROM ${db}.dbo.sysmergesubscriptions AS s JOIN ${db}.dbo.sysmergepublications AS p ON p.pubid = s.pubid`,
      `WHERE s.subid <> s.pubid AND ${OWN_PUBLICATION}`,
      'ORDER BY p.name, s.subscriber_server, s.db_name;',
    ]),
    { database, subscriptionsTable: `${db}.dbo.sysmergesubscriptions` },
  );
}

/**
 * The push merge agent jobs of a publication database and their schedules, one row per schedule
 * (a job without one gives one row with NULL schedule columns). Sources: MSmerge_agents,
 * msdb.dbo.sysjobschedules, msdb.dbo.sysschedules (learn.microsoft.com/sql/relational-databases/system-tables/…).
 */
export function mergeAgentJobSchedules(distributionDb: string, publisherDb: string): Statement {
  return statement(
    [
      'SELECT a.id, a.name, a.publication, a.subscriber_name, a.subscriber_db, CONVERT(uniqueidentifier, ' +
        'a.job_id) AS job_id,',
      '  sc.schedule_id, sc.name AS schedule_name, sc.enabled, sc.freq_type, sc.freq_interval, ' +
        'sc.freq_subday_type, sc.freq_subday_interval,',
      '  sc.freq_relative_interval, sc.freq_recurrence_factor, sc.active_start_date, sc.active_end_date, ' +
        'sc.active_start_time, sc.active_end_time',
      `FROM ${quoteIdent(distributionDb)}.dbo.MSmerge_agents AS a`,
      'LEFT JOIN msdb.dbo.sysjobschedules AS js ON js.job_id = CONVERT(uniqueidentifier, a.job_id)',
      'LEFT JOIN msdb.dbo.sysschedules AS sc ON sc.schedule_id = js.schedule_id',
      'WHERE a.publisher_db = @publisherDb AND a.job_id IS NOT NULL',
      'ORDER BY a.id, sc.schedule_id;',
    ],
    { publisherDb },
  );
}

/**
 * One schedule's enabled state; "when the schedule is not enabled, no jobs will run on this schedule"
 * (sp_update_schedule).
 */
export function updateScheduleEnabled(scheduleId: number, enabled: boolean): Statement {
  return statement(['EXEC msdb.dbo.sp_update_schedule @schedule_id = @scheduleId, @enabled = @enabled;'], {
    scheduleId,
    enabled: enabled ? 1 : 0,
  });
}

/**
 * When one schedule runs, and whether it is enabled. Every timing parameter is passed: which of the
 * omitted ones keep their value is not what the page promises for all of them (@enabled defaults to 1;
 * sp_update_schedule, https://learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-update-schedule-transact-sql).
 */
export function updateScheduleTiming(scheduleId: number, timing: ScheduleTiming, enabled: boolean): Statement {
  return statement(
    [
      'EXEC msdb.dbo.sp_update_schedule @schedule_id = @scheduleId, @enabled = @enabled,',
      '  @freq_type = @freqType, @freq_interval = @freqInterval, @freq_subday_type = @freqSubdayType, ' +
        '@freq_subday_interval = @freqSubdayInterval,',
      '  @freq_relative_interval = @freqRelativeInterval, @freq_recurrence_factor = @freqRecurrenceFactor,',
      '  @active_start_date = @activeStartDate, @active_end_date = @activeEndDate, @active_start_time = ' +
        '@activeStartTime, @active_end_time = @activeEndTime;',
    ],
    { scheduleId, enabled: enabled ? 1 : 0, ...timing },
  );
}

/**
 * sysmergepublications.snapshot_ready of one own publication: 0 not ready, 1 ready, 2 a new snapshot must be created.
 */
export function publicationSnapshotReady(database: string, publication: string): Statement {
  return statement(
    [
      'SELECT p.snapshot_ready',
      `FROM ${quoteIdent(database)}.dbo.sysmergepublications AS p`,
      `WHERE p.name = @publication AND ${OWN_PUBLICATION};`,
    ],
    { database, publication },
  );
}

/**
 * The newest history row of the publication's Snapshot Agent (MSsnapshot_history.runstatus 6 = fail, with comments).
 */
export function snapshotAgentLastRun(distributionDb: string, publisherDb: string, publication: string): Statement {
  const db = quoteIdent(distributionDb);
  return statement(
    [
      'SELECT TOP (1) h.runstatus, h.comments, h.[time]',
      `FROM ${db}.dbo.MSsnapshot_history AS h`,
      `JOIN ${db}.dbo.MSsnapshot_agents AS a ON a.id = h.agent_id`,
      'WHERE a.publisher_db = @publisherDb AND a.publication = @publication',
      'ORDER BY h.[time] DESC;',
    ],
    { publisherDb, publication },
  );
}

/** The names of the merge agents the distributor runs (MSmerge_agents.name), to tell their sessions from users'. */
export function mergeAgentNames(distributionDb: string): Statement {
  return statement([`SELECT a.name FROM ${quoteIdent(distributionDb)}.dbo.MSmerge_agents AS a;`]);
}

// ---- convert-row-guids -----------------------------------------------------------------------

/**
 * replup's record that ConvertRowGuids.sql started / finished on this database: database-level
 * extended properties ("If all object types and names are null, the property belongs to the current
 * database itself", sp_addextendedproperty; class 0 = Database in sys.extended_properties).
 */
export function rowGuidConversionMarks(database: string, started: string, done: string): Statement {
  return statement(
    [
      'SELECT ep.name, CAST(ep.value AS nvarchar(4000)) AS value',
      `FROM ${quoteIdent(database)}.sys.extended_properties AS ep`,
      'WHERE ep.class = 0 AND ep.name IN (@started, @done);',
    ],
    { started, done },
  );
}

/** Adds one such mark unless it is there (sp_addextendedproperty refuses a property that exists). */
export function addRowGuidConversionMark(database: string, name: string, value: string): Statement {
  const db = quoteIdent(database);
  return statement(
    [
      `IF NOT EXISTS (SELECT 1 FROM ${db}.sys.extended_properties AS ep WHERE ep.class = 0 AND ep.name = @name)`,
      `  ${proc(database, 'sp_addextendedproperty')} @name = @name, @value = @value;`,
    ],
    { name, value },
  );
}

/** Takes one such mark away when it is there (sp_dropextendedproperty: the same database-level property). */
export function dropRowGuidConversionMark(database: string, name: string): Statement {
  const db = quoteIdent(database);
  return statement(
    [
      `IF EXISTS (SELECT 1 FROM ${db}.sys.extended_properties AS ep WHERE ep.class = 0 AND ep.name = @name)`,
      `  ${proc(database, 'sp_dropextendedproperty')} @name = @name;`,
    ],
    { name },
  );
}

/**
 * The tables of a database that have a ROWGUIDCOL (sys.columns.is_rowguidcol) and a primary key
 * (sys.indexes.is_primary_key, sys.index_columns.key_ordinal in order): one row per ROWGUIDCOL or
 * key column. For the ConvertRowGuids check after removal, when sysmergearticles is gone.
 * *(inferred)* a table with a primary key is a user table (views have no sys.indexes primary key).
 */
export function rowGuidTableKeys(database: string): Statement {
  const db = quoteIdent(database);
  return statement(
    [
      `SELECT ${tableOf('c.object_id')},`,
      KEY_COLUMNS,
      `FROM ${db}.sys.columns AS c`,
      `JOIN ${db}.sys.columns AS g ON g.object_id = c.object_id AND g.is_rowguidcol = 1`,
      `JOIN ${db}.sys.indexes AS i ON i.object_id = c.object_id AND i.is_primary_key = 1`,
      keyColumnsJoin(db),
      'WHERE c.is_rowguidcol = 1 OR ic.key_ordinal > 0',
      'ORDER BY c.object_id, ic.key_ordinal;',
    ],
    { database },
  );
}

// ---- replication configuration (issue #20 §3, §5) ---------------------------------------------

/**
 * The database's own merge publications' properties a DBA may have changed since set-up
 * (sysmergepublications: retention in retention_period_unit units, conflict_retention in days,
 * backward_comp_level 90 / 100, where conflicts are logged).
 */
export function publicationProperties(database: string): Statement {
  return statement(
    [
      'SELECT p.name, p.retention, p.retention_period_unit, p.conflict_retention, p.backward_comp_level, ' +
        'p.centralized_conflicts, p.decentralized_conflicts',
      `FROM ${quoteIdent(database)}.dbo.sysmergepublications AS p`,
      `WHERE ${OWN_PUBLICATION}`,
      'ORDER BY p.name;',
    ],
    { database },
  );
}

/** The articles of the database's own merge publications with the options replup compares (sysmergearticles). */
export function publicationArticles(database: string): Statement {
  const db = quoteIdent(database);
  return statement(
    [
      'SELECT p.name AS publication, a.name, a.column_tracking, a.subset_filterclause, a.upload_options, ' +
        'a.processing_order, a.identity_support,',
      '  a.delete_tracking, a.compensate_for_errors',
      `FROM ${db}.dbo.sysmergearticles AS a`,
      `JOIN ${db}.dbo.sysmergepublications AS p ON p.pubid = a.pubid`,
      `WHERE ${OWN_PUBLICATION}`,
      'ORDER BY p.name, a.name;',
    ],
    { database },
  );
}

/**
 * One publication property back as it was (sp_changemergepublication; replup sends only properties that need no
 * snapshot or reinitialization).
 */
export function changeMergePublication(
  database: string,
  publication: string,
  property: string,
  value: string,
): Statement {
  return statement(
    [
      `${proc(database, 'sp_changemergepublication')} @publication = @publication, @property = @property, ` +
        `@value = @value;`,
    ],
    { publication, property, value },
  );
}
