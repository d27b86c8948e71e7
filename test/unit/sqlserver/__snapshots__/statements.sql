-- serverFacts
SELECT
  CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS version,
  CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,
  CAST(@@SERVERNAME AS nvarchar(128)) AS server_name,
  CAST(IS_SRVROLEMEMBER('sysadmin') AS int) AS is_sysadmin,
  (SELECT TOP (1) ss.status FROM sys.dm_server_services AS ss WHERE ss.filename LIKE N'%SQLAGENT%') AS agent_status,
  (SELECT TOP (1) ss.service_account FROM sys.dm_server_services AS ss WHERE ss.filename LIKE N'%SQLAGENT%') AS agent_account;

-- distributorOfServer
EXEC sys.sp_get_distributor;

-- databaseFacts
SELECT d.name, d.is_read_committed_snapshot_on, d.is_merge_published, d.user_access_desc
FROM sys.databases AS d
WHERE d.name = @database;

-- userSessions
SELECT s.session_id, s.login_name, s.program_name, s.host_name
FROM sys.dm_exec_sessions AS s
WHERE s.database_id = DB_ID(@database) AND s.is_user_process = 1 AND s.session_id <> @@SPID
ORDER BY s.session_id;

-- restrictToAdmins
ALTER DATABASE [Pers]]onal 'Ü数据] SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE;

-- allowAllUsers
ALTER DATABASE [Pers]]onal 'Ü数据] SET MULTI_USER;

-- mergeAgents of a publication
SELECT a.id, a.name, a.subscriber_name, a.subscriber_db, CONVERT(uniqueidentifier, a.job_id) AS job_id
FROM [distribution].dbo.MSmerge_agents AS a
WHERE a.publisher_db = @publisherDb AND a.publication = @publication
ORDER BY a.id;

-- mergeAgents of one subscription
SELECT a.id, a.name, a.subscriber_name, a.subscriber_db, CONVERT(uniqueidentifier, a.job_id) AS job_id
FROM [Pers]]onal 'Ü数据].dbo.MSmerge_agents AS a
WHERE a.publisher_db = @publisherDb AND a.publication = @publication
  AND a.subscriber_name = @subscriberServer AND a.subscriber_db = @subscriberDb
ORDER BY a.id;

-- jobSteps
SELECT js.step_id, js.step_name, js.command
FROM msdb.dbo.sysjobsteps AS js
WHERE js.job_id = @jobId
ORDER BY js.step_id;

-- jobActivity
SELECT TOP (1) ja.run_requested_date, ja.start_execution_date, ja.stop_execution_date, h.run_status, h.message
FROM msdb.dbo.sysjobactivity AS ja
LEFT JOIN msdb.dbo.sysjobhistory AS h ON h.instance_id = ja.job_history_id
WHERE ja.job_id = @jobId
  AND ja.session_id = (SELECT MAX(ss.session_id) FROM msdb.dbo.syssessions AS ss)
ORDER BY ja.run_requested_date DESC;

-- startJob
EXEC msdb.dbo.sp_start_job @job_id = @jobId;

-- newestMergeSession
SELECT TOP (1) s.session_id, s.start_time, s.end_time, s.runstatus,
  s.upload_inserts, s.upload_updates, s.upload_deletes, s.upload_conflicts,
  s.download_inserts, s.download_updates, s.download_deletes, s.download_conflicts,
  (SELECT TOP (1) h.comments FROM [Pers]]onal 'Ü数据].dbo.MSmerge_history AS h WHERE h.session_id = s.session_id ORDER BY h.[timestamp] DESC) AS message
FROM [Pers]]onal 'Ü数据].dbo.MSmerge_sessions AS s
WHERE s.agent_id = @agentId
ORDER BY s.session_id DESC;

-- pendingChanges
EXEC [Pers]]onal 'Ü数据].sys.sp_showpendingchanges @destination_server = @destinationServer, @publication = @publication, @show_rows = 0;

-- conflicts
SELECT p.centralized_conflicts, p.decentralized_conflicts
FROM [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p
WHERE p.name = @publication;
SELECT a.name AS table_name, c.conflict_type, c.reason_code, c.reason_text, c.origin_datasource,
  CONVERT(nvarchar(36), c.rowguid) AS rowguid,
  DATEADD(MINUTE, DATEDIFF(MINUTE, GETDATE(), GETUTCDATE()), c.MSrepl_create_time) AS created_utc
FROM [Pers]]onal 'Ü数据].dbo.MSmerge_conflicts_info AS c
JOIN [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p ON p.pubid = c.pubid
LEFT JOIN [Pers]]onal 'Ü数据].dbo.sysmergearticles AS a ON a.nickname = c.tablenick AND a.pubid = c.pubid
WHERE p.name = @publication
ORDER BY c.MSrepl_create_time;

-- backupDatabase
BACKUP DATABASE @database TO DISK = @file WITH COPY_ONLY, CHECKSUM, INIT;

-- verifyBackup
RESTORE VERIFYONLY FROM DISK = @file WITH CHECKSUM;

-- backupInFile
SELECT TOP (1) bs.backup_size, bs.backup_finish_date, bs.is_copy_only, bs.has_backup_checksums
FROM msdb.dbo.backupset AS bs
JOIN msdb.dbo.backupmediafamily AS mf ON mf.media_set_id = bs.media_set_id
WHERE bs.database_name = @database AND mf.physical_device_name = @file AND bs.type = 'D'
ORDER BY bs.backup_finish_date DESC;

-- replicationState
SELECT d.is_merge_published FROM sys.databases AS d WHERE d.name = @database;
IF OBJECT_ID(@publicationsTable) IS NOT NULL
  SELECT p.name FROM [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p
  WHERE p.publisher = @@SERVERNAME AND p.publisher_db = @database ORDER BY p.name;
ELSE SELECT CAST(NULL AS sysname) AS name WHERE 1 = 0;
IF OBJECT_ID(@subscriptionsTable) IS NOT NULL
  SELECT p.name AS publication, p.publisher, p.publisher_db, s.subscriber_server, s.db_name AS subscriber_db, s.sync_type, s.status
  FROM [Pers]]onal 'Ü数据].dbo.sysmergesubscriptions AS s JOIN [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p ON p.pubid = s.pubid
  WHERE s.subid <> s.pubid ORDER BY p.name, s.subscriber_server, s.db_name;
ELSE SELECT CAST(NULL AS sysname) AS publication WHERE 1 = 0;

-- dropMergeSubscription
EXEC [Pers]]onal 'Ü数据].sys.sp_dropmergesubscription @publication = @publication, @subscriber = @subscriber,
  @subscriber_db = @subscriberDb, @subscription_type = N'all';

-- mergeSubscriptionCleanup
EXEC [Pers]]onal 'Ü数据].sys.sp_mergesubscription_cleanup @publisher = @publisher, @publisher_db = @publisherDb, @publication = @publication;

-- dropMergePublication
EXEC [Pers]]onal 'Ü数据].sys.sp_dropmergepublication @publication = @publication;

-- disableMergePublishing
EXEC sys.sp_replicationdboption @dbname = @database, @optname = N'merge publish', @value = N'false';

-- removeDbReplication
EXEC sys.sp_removedbreplication @dbname = @database, @type = N'merge';

-- productVersion
EXEC [Pers]]onal 'Ü数据].sys.sp_executesql @query;

-- canary
EXEC [Pers]]onal 'Ü数据].sys.sp_executesql @query, N'@token nvarchar(200)', @token = @token;

-- sqlcmdSessionDefaults
SET QUOTED_IDENTIFIER OFF;

-- mergeSubscriptionHealth
IF OBJECT_ID(@subscriptionsTable) IS NOT NULL
  SELECT p.name AS publication, p.retention, p.retention_period_unit, s.subscriber_server, s.db_name AS subscriber_db,
    s.subscription_type, s.status, s.last_sync_date
  FROM [Pers]]onal 'Ü数据].dbo.sysmergesubscriptions AS s JOIN [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p ON p.pubid = s.pubid
  WHERE s.subid <> s.pubid AND p.publisher = @@SERVERNAME AND p.publisher_db = @database
  ORDER BY p.name, s.subscriber_server, s.db_name;
ELSE SELECT CAST(NULL AS sysname) AS publication WHERE 1 = 0;

-- mergeAgentJobSchedules
SELECT a.id, a.name, a.publication, a.subscriber_name, a.subscriber_db, CONVERT(uniqueidentifier, a.job_id) AS job_id,
  sc.schedule_id, sc.name AS schedule_name, sc.enabled, sc.freq_type, sc.freq_interval, sc.freq_subday_type, sc.freq_subday_interval,
  sc.freq_relative_interval, sc.freq_recurrence_factor, sc.active_start_date, sc.active_end_date, sc.active_start_time, sc.active_end_time
FROM [distribution].dbo.MSmerge_agents AS a
LEFT JOIN msdb.dbo.sysjobschedules AS js ON js.job_id = CONVERT(uniqueidentifier, a.job_id)
LEFT JOIN msdb.dbo.sysschedules AS sc ON sc.schedule_id = js.schedule_id
WHERE a.publisher_db = @publisherDb AND a.job_id IS NOT NULL
ORDER BY a.id, sc.schedule_id;

-- updateScheduleEnabled
EXEC msdb.dbo.sp_update_schedule @schedule_id = @scheduleId, @enabled = @enabled;

-- updateScheduleTiming
EXEC msdb.dbo.sp_update_schedule @schedule_id = @scheduleId, @enabled = @enabled,
  @freq_type = @freqType, @freq_interval = @freqInterval, @freq_subday_type = @freqSubdayType, @freq_subday_interval = @freqSubdayInterval,
  @freq_relative_interval = @freqRelativeInterval, @freq_recurrence_factor = @freqRecurrenceFactor,
  @active_start_date = @activeStartDate, @active_end_date = @activeEndDate, @active_start_time = @activeStartTime, @active_end_time = @activeEndTime;

-- updateScheduleEnabled (enable)
EXEC msdb.dbo.sp_update_schedule @schedule_id = @scheduleId, @enabled = @enabled;

-- publicationSnapshotReady
SELECT p.snapshot_ready
FROM [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p
WHERE p.name = @publication AND p.publisher = @@SERVERNAME AND p.publisher_db = @database;

-- snapshotAgentLastRun
SELECT TOP (1) h.runstatus, h.comments, h.[time]
FROM [Pers]]onal 'Ü数据].dbo.MSsnapshot_history AS h
JOIN [Pers]]onal 'Ü数据].dbo.MSsnapshot_agents AS a ON a.id = h.agent_id
WHERE a.publisher_db = @publisherDb AND a.publication = @publication
ORDER BY h.[time] DESC;

-- mergeAgentNames
SELECT a.name FROM [Pers]]onal 'Ü数据].dbo.MSmerge_agents AS a;

-- rowGuidConversionMarks
SELECT ep.name, CAST(ep.value AS nvarchar(4000)) AS value
FROM [Pers]]onal 'Ü数据].sys.extended_properties AS ep
WHERE ep.class = 0 AND ep.name IN (@started, @done);

-- publicationProperties
SELECT p.name, p.retention, p.retention_period_unit, p.conflict_retention, p.backward_comp_level, p.centralized_conflicts, p.decentralized_conflicts
FROM [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p
WHERE p.publisher = @@SERVERNAME AND p.publisher_db = @database
ORDER BY p.name;

-- publicationArticles
SELECT p.name AS publication, a.name, a.column_tracking, a.subset_filterclause, a.upload_options, a.processing_order, a.identity_support,
  a.delete_tracking, a.compensate_for_errors
FROM [Pers]]onal 'Ü数据].dbo.sysmergearticles AS a
JOIN [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p ON p.pubid = a.pubid
WHERE p.publisher = @@SERVERNAME AND p.publisher_db = @database
ORDER BY p.name, a.name;

-- changeMergePublication
EXEC [Pers]]onal 'Ü数据].sys.sp_changemergepublication @publication = @publication, @property = @property, @value = @value;

-- addRowGuidConversionMark
IF NOT EXISTS (SELECT 1 FROM [Pers]]onal 'Ü数据].sys.extended_properties AS ep WHERE ep.class = 0 AND ep.name = @name)
  EXEC [Pers]]onal 'Ü数据].sys.sp_addextendedproperty @name = @name, @value = @value;

-- dropRowGuidConversionMark
IF EXISTS (SELECT 1 FROM [Pers]]onal 'Ü数据].sys.extended_properties AS ep WHERE ep.class = 0 AND ep.name = @name)
  EXEC [Pers]]onal 'Ü数据].sys.sp_dropextendedproperty @name = @name;

-- rowGuidTableKeys
SELECT OBJECT_SCHEMA_NAME(c.object_id, DB_ID(@database)) AS table_schema, OBJECT_NAME(c.object_id, DB_ID(@database)) AS table_name,
  c.name AS column_name, c.is_rowguidcol, ic.key_ordinal
FROM [Pers]]onal 'Ü数据].sys.columns AS c
JOIN [Pers]]onal 'Ü数据].sys.columns AS g ON g.object_id = c.object_id AND g.is_rowguidcol = 1
JOIN [Pers]]onal 'Ü数据].sys.indexes AS i ON i.object_id = c.object_id AND i.is_primary_key = 1
LEFT JOIN [Pers]]onal 'Ü数据].sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.column_id = c.column_id
WHERE c.is_rowguidcol = 1 OR ic.key_ordinal > 0
ORDER BY c.object_id, ic.key_ordinal;

-- validateMergeSubscription
EXEC [Pers]]onal 'Ü数据].sys.sp_validatemergesubscription @publication = @publication, @subscriber = @subscriber, @subscriber_db = @subscriberDb, @level = 3;

-- mergeValidationDates
SELECT s.last_validated, s.attempted_validate
FROM [Pers]]onal 'Ü数据].dbo.sysmergesubscriptions AS s JOIN [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p ON p.pubid = s.pubid
WHERE p.name = @publication AND s.subscriber_server = @subscriber AND s.db_name = @subscriberDb AND s.subid <> s.pubid;

-- mergeValidationAlerts
SELECT ra.alert_id, ra.alert_error_code, ra.article, CAST(ra.alert_error_text AS nvarchar(4000)) AS alert_error_text
FROM msdb.dbo.sysreplicationalerts AS ra
WHERE ra.agent_type = 4 AND ra.alert_error_code IN (20574, 20575)
  AND ra.publisher_db = @publisherDb AND ra.publication = @publication AND ra.subscriber = @subscriber AND ra.subscriber_db = @subscriberDb
ORDER BY ra.alert_id;

-- replicationAddedRowGuids
IF OBJECT_ID(@articlesTable) IS NOT NULL
  SELECT p.name AS publication, a.name AS article
  FROM [Pers]]onal 'Ü数据].dbo.sysmergearticles AS a JOIN [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p ON p.pubid = a.pubid
  WHERE a.preserve_rowguidcol = 0 AND p.publisher = @@SERVERNAME AND p.publisher_db = @database
  ORDER BY p.name, a.name;
ELSE SELECT CAST(NULL AS sysname) AS publication WHERE 1 = 0;

-- publishedTableKeys
SELECT a.name AS article, OBJECT_SCHEMA_NAME(a.objid, DB_ID(@database)) AS table_schema, OBJECT_NAME(a.objid, DB_ID(@database)) AS table_name,
  c.name AS column_name, c.is_rowguidcol, ic.key_ordinal
FROM [Pers]]onal 'Ü数据].dbo.sysmergearticles AS a
JOIN [Pers]]onal 'Ü数据].dbo.sysmergepublications AS p ON p.pubid = a.pubid
JOIN [Pers]]onal 'Ü数据].sys.columns AS c ON c.object_id = a.objid
LEFT JOIN [Pers]]onal 'Ü数据].sys.indexes AS i ON i.object_id = a.objid AND i.is_primary_key = 1
LEFT JOIN [Pers]]onal 'Ü数据].sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.column_id = c.column_id
WHERE p.name = @publication AND a.type = 10 AND (c.is_rowguidcol = 1 OR ic.key_ordinal > 0)
ORDER BY a.name, ic.key_ordinal;

-- rowGuidSample
EXEC [Pers]]onal 'Ü数据].sys.sp_executesql @query, N'@limit int', @limit = @limit;
