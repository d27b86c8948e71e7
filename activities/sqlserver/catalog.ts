// The SQL Server catalog replup relies on: every system table or view the adapter names, with its
// columns, and every system procedure, with its parameters, each read from Microsoft's page for it
// (the page's source in github.com/MicrosoftDocs/sql-docs, read 2026-11-29, the Agent schedule and snapshot tables
// 2026-12-05; the URL is the page it publishes). statements.ts is held to it by test/unit/sqlserver/catalog.test.ts
// (checkStatement),
// and the adapter test's fake server refuses anything outside it, as SQL Server would.
//
// Columns are the full documented lists, not only the ones used today, so that a new statement can
// be checked without another trip to the docs; a column missing from a page is not here. Where a
// fact is not on the page it says *(inferred)*. Add an object by reading its page; never from memory.
import { statementNames } from './sql-names.js';

/** Where an object lives: msdb, the distribution database, a database taking part in merge
 * replication (publication or subscription database), or every database (catalog views, DMVs). */
export type CatalogHome = 'msdb' | 'distribution' | 'replicated' | 'any';

export interface CatalogTable {
  /** `schema.name` as statements write it (`dbo.MSmerge_agents`, `sys.databases`). */
  name: string;
  home: CatalogHome;
  /** Microsoft's page the columns were read from. */
  url: string;
  columns: readonly string[];
  /** What the page does not say and replup assumes. */
  inferred?: string;
}

export interface CatalogProcedure {
  /** `schema.name` (`sys.sp_showpendingchanges`, `dbo.sp_start_job` in msdb). */
  name: string;
  home: CatalogHome;
  url: string;
  /** Parameters in the documented order (positional arguments map onto them). */
  parameters: readonly string[];
  /** Columns of its result set that the adapter reads by name. */
  resultColumns?: readonly string[];
  /** sp_executesql: after its own parameters come the dynamic statement's, named as it likes. */
  passesParameters?: true;
  inferred?: string;
}

const SQL_DOCS = 'https://learn.microsoft.com/en-us/sql/relational-databases';

// The two agent tables of the distribution database, MSmerge_agents and MSsnapshot_agents, list these columns alike
// on their pages (below): first the agent and its publication, last how it logs in to the Publisher and its job step.
const AGENT_OF_PUBLICATION = ['id', 'name', 'publisher_id', 'publisher_db', 'publication'];
const AGENT_PUBLISHER_LOGIN = ['publisher_security_mode', 'publisher_login', 'publisher_password', 'job_step_uid'];

// sp_addextendedproperty and sp_dropextendedproperty (pages below) name the object a property belongs to alike.
const EXTENDED_PROPERTY_OBJECT = [
  '@level0type',
  '@level0name',
  '@level1type',
  '@level1name',
  '@level2type',
  '@level2name',
];

export const CATALOG_TABLES: readonly CatalogTable[] = [
  {
    name: 'sys.databases',
    home: 'any',
    url: `${SQL_DOCS}/system-catalog-views/sys-databases-transact-sql`,
    // The columns up to is_encrypted as the page lists them (the page goes on; read further before using more).
    columns: [
      'name',
      'database_id',
      'source_database_id',
      'owner_sid',
      'create_date',
      'compatibility_level',
      'collation_name',
      'user_access',
      'user_access_desc',
      'is_read_only',
      'is_auto_close_on',
      'is_auto_shrink_on',
      'state',
      'state_desc',
      'is_in_standby',
      'is_cleanly_shutdown',
      'is_supplemental_logging_enabled',
      'snapshot_isolation_state',
      'snapshot_isolation_state_desc',
      'is_read_committed_snapshot_on',
      'recovery_model',
      'recovery_model_desc',
      'page_verify_option',
      'page_verify_option_desc',
      'is_auto_create_stats_on',
      'is_auto_create_stats_incremental_on',
      'is_auto_update_stats_on',
      'is_auto_update_stats_async_on',
      'is_ansi_null_default_on',
      'is_ansi_nulls_on',
      'is_ansi_padding_on',
      'is_ansi_warnings_on',
      'is_arithabort_on',
      'is_concat_null_yields_null_on',
      'is_numeric_roundabort_on',
      'is_quoted_identifier_on',
      'is_recursive_triggers_on',
      'is_cursor_close_on_commit_on',
      'is_local_cursor_default',
      'is_fulltext_enabled',
      'is_trustworthy_on',
      'is_db_chaining_on',
      'is_parameterization_forced',
      'is_master_key_encrypted_by_server',
      'is_query_store_on',
      'is_published',
      'is_subscribed',
      'is_merge_published',
      'is_distributor',
      'is_sync_with_backup',
      'service_broker_guid',
      'is_broker_enabled',
      'log_reuse_wait',
      'log_reuse_wait_desc',
      'is_date_correlation_on',
      'is_cdc_enabled',
      'is_encrypted',
    ],
  },
  {
    // "Contains a row for each user-defined, schema-scoped object that is created within a database";
    // type 'U' = "Table (user-defined)". Read with the database's name (add-subscriber's row counts).
    name: 'sys.objects',
    home: 'any',
    url: `${SQL_DOCS}/system-catalog-views/sys-objects-transact-sql`,
    columns: [
      'name',
      'object_id',
      'principal_id',
      'schema_id',
      'parent_object_id',
      'type',
      'type_desc',
      'create_date',
      'modify_date',
      'is_ms_shipped',
      'is_published',
      'is_schema_published',
    ],
  },
  {
    // "Returns page and row-count information for every partition in the current database."
    // row_count: "The approximate number of rows in the partition." (add-subscriber's approval text)
    // *(inferred)* named through a database ([db].sys.dm_db_partition_stats) it reports that database.
    name: 'sys.dm_db_partition_stats',
    home: 'any',
    url: `${SQL_DOCS}/system-dynamic-management-views/sys-dm-db-partition-stats-transact-sql`,
    columns: [
      'partition_id',
      'object_id',
      'index_id',
      'partition_number',
      'in_row_data_page_count',
      'in_row_used_page_count',
      'in_row_reserved_page_count',
      'lob_used_page_count',
      'lob_reserved_page_count',
      'row_overflow_used_page_count',
      'row_overflow_reserved_page_count',
      'used_page_count',
      'reserved_page_count',
      'row_count',
      'pdw_node_id',
      'distribution_id',
    ],
  },
  {
    name: 'sys.dm_exec_sessions',
    home: 'any',
    url: `${SQL_DOCS}/system-dynamic-management-views/sys-dm-exec-sessions-transact-sql`,
    columns: [
      'session_id',
      'login_time',
      'host_name',
      'program_name',
      'host_process_id',
      'client_version',
      'client_interface_name',
      'security_id',
      'login_name',
      'nt_domain',
      'nt_user_name',
      'status',
      'context_info',
      'cpu_time',
      'memory_usage',
      'total_scheduled_time',
      'total_elapsed_time',
      'endpoint_id',
      'last_request_start_time',
      'last_request_end_time',
      'reads',
      'writes',
      'logical_reads',
      'is_user_process',
      'text_size',
      'language',
      'date_format',
      'date_first',
      'quoted_identifier',
      'arithabort',
      'ansi_null_dflt_on',
      'ansi_defaults',
      'ansi_warnings',
      'ansi_padding',
      'ansi_nulls',
      'concat_null_yields_null',
      'transaction_isolation_level',
      'lock_timeout',
      'deadlock_priority',
      'row_count',
      'prev_error',
      'original_security_id',
      'original_login_name',
      'last_successful_logon',
      'last_unsuccessful_logon',
      'unsuccessful_logons',
      'group_id',
      'database_id',
      'authenticating_database_id',
      'open_transaction_count',
      'pdw_node_id',
      'page_server_reads',
    ],
  },
  {
    name: 'sys.dm_server_services',
    home: 'any',
    url: `${SQL_DOCS}/system-dynamic-management-views/sys-dm-server-services-transact-sql`,
    columns: [
      'servicename',
      'startup_type',
      'startup_desc',
      'status',
      'status_desc',
      'process_id',
      'last_startup_time',
      'service_account',
      'filename',
      'is_clustered',
      'cluster_nodename',
      'instant_file_initialization_enabled',
    ],
    inferred:
      "the service's display name (servicename) is localised; filename holds the executable's path " +
      '(DOMAIN.md §1 2026-11-29)',
  },
  {
    name: 'dbo.MSmerge_agents',
    home: 'distribution',
    url: `${SQL_DOCS}/system-tables/msmerge-agents-transact-sql`,
    columns: [
      ...AGENT_OF_PUBLICATION,
      'subscriber_id',
      'subscriber_db',
      'local_job',
      'job_id',
      'profile_id',
      'anonymous_subid',
      'subscriber_name',
      'creation_date',
      'offload_enabled',
      'offload_server',
      'sid',
      'subscriber_security_mode',
      'subscriber_login',
      'subscriber_password',
      ...AGENT_PUBLISHER_LOGIN,
    ],
  },
  {
    name: 'dbo.MSmerge_sessions',
    home: 'distribution',
    url: `${SQL_DOCS}/system-tables/msmerge-sessions-transact-sql`,
    columns: [
      'session_id',
      'agent_id',
      'start_time',
      'end_time',
      'duration',
      'delivery_time',
      'upload_time',
      'download_time',
      'delivery_rate',
      'time_remaining',
      'percent_complete',
      'upload_inserts',
      'upload_updates',
      'upload_deletes',
      'upload_conflicts',
      'upload_conflicts_resolved',
      'upload_rows_retried',
      'download_inserts',
      'download_updates',
      'download_deletes',
      'download_conflicts',
      'download_conflicts_resolved',
      'download_rows_retried',
      'schema_changes',
      'metadata_rows_cleanedup',
      'runstatus',
      'estimated_upload_changes',
      'estimated_download_changes',
      'connection_type',
      'timestamp',
    ],
  },
  {
    name: 'dbo.MSmerge_history',
    // The page: in the distribution database and in each subscription database.
    home: 'distribution',
    url: `${SQL_DOCS}/system-tables/msmerge-history-transact-sql`,
    columns: ['session_id', 'agent_id', 'comments', 'error_id', 'timestamp', 'updatable_row'],
  },
  {
    name: 'dbo.MSmerge_conflicts_info',
    // The page: at the Publisher in the publication database, at the Subscriber in the subscription database.
    home: 'replicated',
    url: `${SQL_DOCS}/system-tables/msmerge-conflicts-info-transact-sql`,
    columns: [
      'tablenick',
      'rowguid',
      'origin_datasource',
      'conflict_type',
      'reason_code',
      'reason_text',
      'pubid',
      'MSrepl_create_time',
      'origin_datasource_id',
    ],
  },
  {
    name: 'dbo.sysmergepublications',
    home: 'replicated',
    url: `${SQL_DOCS}/system-tables/sysmergepublications-transact-sql`,
    columns: [
      'publisher',
      'publisher_db',
      'name',
      'description',
      'retention',
      'publication_type',
      'pubid',
      'designmasterid',
      'parentid',
      'sync_mode',
      'allow_push',
      'allow_pull',
      'allow_anonymous',
      'centralized_conflicts',
      'status',
      'snapshot_ready',
      'enabled_for_internet',
      'dynamic_filters',
      'snapshot_in_defaultfolder',
      'alt_snapshot_folder',
      'pre_snapshot_script',
      'post_snapshot_script',
      'compress_snapshot',
      'ftp_address',
      'ftp_port',
      'ftp_subdirectory',
      'ftp_login',
      'ftp_password',
      'conflict_retention',
      'keep_before_values',
      'allow_subscription_copy',
      'allow_synctoalternate',
      'validate_subscriber_info',
      'ad_guidname',
      'backward_comp_level',
      'max_concurrent_merge',
      'max_concurrent_dynamic_snapshots',
      'use_partition_groups',
      'dynamic_filters_function_list',
      'partition_id_eval_proc',
      'publication_number',
      'replicate_ddl',
      'allow_subscriber_initiated_snapshot',
      'dynamic_snapshot_queue_timeout',
      'dynamic_snapshot_ready_timeout',
      'distributor',
      'snapshot_jobid',
      'allow_web_synchronization',
      'web_synchronization_url',
      'allow_partition_realignment',
      'retention_period_unit',
      'decentralized_conflicts',
      'generation_leveling_threshold',
      'automatic_reinitialization_policy',
    ],
    inferred:
      "at a subscriber it also lists the publications the database subscribes to (the page: 'stored in the " +
      "publication and subscription databases')",
  },
  {
    name: 'dbo.sysmergearticles',
    home: 'replicated',
    url: `${SQL_DOCS}/system-tables/sysmergearticles-transact-sql`,
    columns: [
      'name',
      'type',
      'objid',
      'sync_objid',
      'view_type',
      'artid',
      'description',
      'pre_creation_command',
      'pubid',
      'nickname',
      'column_tracking',
      'status',
      'conflict_table',
      'creation_script',
      'conflict_script',
      'article_resolver',
      'ins_conflict_proc',
      'insert_proc',
      'update_proc',
      'select_proc',
      'metadata_select_proc',
      'delete_proc',
      'schema_option',
      'destination_object',
      'destination_owner',
      'resolver_clsid',
      'subset_filterclause',
      'missing_col_count',
      'missing_cols',
      'excluded_cols',
      'excluded_col_count',
      'columns',
      'deleted_cols',
      'resolver_info',
      'view_sel_proc',
      'gen_cur',
      'vertical_partition',
      'identity_support',
      'before_image_objid',
      'before_view_objid',
      'verify_resolver_signature',
      'allow_interactive_resolver',
      'fast_multicol_updateproc',
      'check_permissions',
      'maxversion_at_cleanup',
      'processing_order',
      'upload_options',
      'published_in_tran_pub',
      'lightweight',
      'procname_postfix',
      'well_partitioned_lightweight',
      'before_upd_view_objid',
      'delete_tracking',
      'compensate_for_errors',
      'pub_range',
      'range',
      'threshold',
      'stream_blob_columns',
      'preserve_rowguidcol',
    ],
    inferred:
      'at a subscriber the subscription database holds the same rows for the articles it receives ' +
      '(sp_mergesubscription_cleanup removes "entries in sysmergearticles" there)',
  },
  {
    name: 'dbo.sysmergesubscriptions',
    home: 'replicated',
    url: `${SQL_DOCS}/system-tables/sysmergesubscriptions-transact-sql`,
    columns: [
      'subscriber_server',
      'db_name',
      'pubid',
      'datasource_type',
      'subid',
      'replnickname',
      'replicastate',
      'status',
      'subscriber_type',
      'subscription_type',
      'sync_type',
      'description',
      'priority',
      'recgen',
      'recguid',
      'sentgen',
      'sentguid',
      'schemaversion',
      'schemaguid',
      'last_validated',
      'attempted_validate',
      'last_sync_date',
      'last_sync_status',
      'last_sync_summary',
      'metadatacleanuptime',
      'partition_id',
      'cleanedup_unsent_changes',
      'replica_version',
      'supportability_mode',
      'application_name',
      'subscriber_number',
      'last_makegeneration_datetime',
    ],
    inferred: 'a row whose subid equals its pubid stands for the publisher itself (statements.ts replicationState)',
  },
  {
    name: 'sys.columns',
    home: 'any',
    url: `${SQL_DOCS}/system-catalog-views/sys-columns-transact-sql`,
    columns: [
      'object_id',
      'name',
      'column_id',
      'system_type_id',
      'user_type_id',
      'max_length',
      'precision',
      'scale',
      'collation_name',
      'is_nullable',
      'is_ansi_padded',
      'is_rowguidcol',
      'is_identity',
      'is_computed',
      'is_filestream',
      'is_replicated',
      'is_non_sql_subscribed',
      'is_merge_published',
      'is_dts_replicated',
      'is_xml_document',
      'xml_collection_id',
      'default_object_id',
      'rule_object_id',
      'is_sparse',
      'is_column_set',
      'generated_always_type',
      'generated_always_type_desc',
      'encryption_type',
      'encryption_type_desc',
      'encryption_algorithm_name',
      'column_encryption_key_id',
      'column_encryption_key_database_name',
      'is_hidden',
      'is_masked',
    ],
  },
  {
    name: 'sys.indexes',
    home: 'any',
    url: `${SQL_DOCS}/system-catalog-views/sys-indexes-transact-sql`,
    columns: [
      'object_id',
      'name',
      'index_id',
      'type',
      'type_desc',
      'is_unique',
      'data_space_id',
      'ignore_dup_key',
      'is_primary_key',
      'is_unique_constraint',
      'fill_factor',
      'is_padded',
      'is_disabled',
      'is_hypothetical',
      'allow_row_locks',
      'allow_page_locks',
      'has_filter',
      'filter_definition',
      'auto_created',
    ],
  },
  {
    name: 'sys.index_columns',
    home: 'any',
    url: `${SQL_DOCS}/system-catalog-views/sys-index-columns-transact-sql`,
    columns: [
      'object_id',
      'index_id',
      'index_column_id',
      'column_id',
      'key_ordinal',
      'partition_ordinal',
      'is_descending_key',
      'is_included_column',
      'column_store_order_ordinal',
    ],
  },
  {
    name: 'dbo.sysreplicationalerts',
    home: 'msdb',
    url: `${SQL_DOCS}/system-tables/sysreplicationalerts-transact-sql`,
    columns: [
      'alert_id',
      'status',
      'agent_type',
      'agent_id',
      'error_id',
      'alert_error_code',
      'time',
      'publisher',
      'publisher_db',
      'publication',
      'publication_type',
      'subscriber',
      'subscriber_db',
      'article',
      'destination_object',
      'source_object',
      'alert_error_text',
    ],
    inferred:
      "which server's msdb receives a merge validation's rows is not stated: the distributor's for push " +
      'subscriptions (its merge agent runs there)',
  },
  {
    name: 'dbo.sysjobsteps',
    home: 'msdb',
    url: `${SQL_DOCS}/system-tables/dbo-sysjobsteps-transact-sql`,
    columns: [
      'job_id',
      'step_id',
      'step_name',
      'subsystem',
      'command',
      'flags',
      'additional_parameters',
      'cmdexec_success_code',
      'on_success_action',
      'on_success_step_id',
      'on_fail_action',
      'on_fail_step_id',
      'server',
      'database_name',
      'database_user_name',
      'retry_attempts',
      'retry_interval',
      'os_run_priority',
      'output_file_name',
      'last_run_outcome',
      'last_run_duration',
      'last_run_retries',
      'last_run_date',
      'last_run_time',
      'proxy_id',
      'step_uid',
    ],
  },
  {
    name: 'dbo.sysjobactivity',
    home: 'msdb',
    url: `${SQL_DOCS}/system-tables/dbo-sysjobactivity-transact-sql`,
    columns: [
      'session_id',
      'job_id',
      'run_requested_date',
      'run_requested_source',
      'queued_date',
      'start_execution_date',
      'last_executed_step_id',
      'last_executed_step_date',
      'stop_execution_date',
      'job_history_id',
      'next_scheduled_run_date',
    ],
  },
  {
    name: 'dbo.sysjobhistory',
    home: 'msdb',
    url: `${SQL_DOCS}/system-tables/dbo-sysjobhistory-transact-sql`,
    columns: [
      'instance_id',
      'job_id',
      'step_id',
      'step_name',
      'sql_message_id',
      'sql_severity',
      'message',
      'run_status',
      'run_date',
      'run_time',
      'run_duration',
      'operator_id_emailed',
      'operator_id_netsent',
      'operator_id_paged',
      'retries_attempted',
      'server',
    ],
  },
  {
    name: 'dbo.syssessions',
    home: 'msdb',
    url: `${SQL_DOCS}/system-tables/dbo-syssessions-transact-sql`,
    columns: ['session_id', 'agent_start_date'],
  },
  {
    name: 'dbo.sysjobschedules',
    home: 'msdb',
    url: `${SQL_DOCS}/system-tables/dbo-sysjobschedules-transact-sql`,
    columns: ['schedule_id', 'job_id', 'next_run_date', 'next_run_time'],
  },
  {
    name: 'dbo.sysschedules',
    home: 'msdb',
    url: `${SQL_DOCS}/system-tables/dbo-sysschedules-transact-sql`,
    columns: [
      'schedule_id',
      'schedule_uid',
      'originating_server_id',
      'name',
      'owner_sid',
      'enabled',
      'freq_type',
      'freq_interval',
      'freq_subday_type',
      'freq_subday_interval',
      'freq_relative_interval',
      'freq_recurrence_factor',
      'active_start_date',
      'active_end_date',
      'active_start_time',
      'active_end_time',
      'date_created',
      'date_modified',
      'version_number',
    ],
  },
  {
    name: 'dbo.MSsnapshot_agents',
    home: 'distribution',
    url: `${SQL_DOCS}/system-tables/mssnapshot-agents-transact-sql`,
    columns: [
      ...AGENT_OF_PUBLICATION,
      'publication_type',
      'local_job',
      'job_id',
      'profile_id',
      'dynamic_filter_login',
      'dynamic_filter_hostname',
      ...AGENT_PUBLISHER_LOGIN,
    ],
  },
  {
    name: 'dbo.MSsnapshot_history',
    home: 'distribution',
    url: `${SQL_DOCS}/system-tables/mssnapshot-history-transact-sql`,
    columns: [
      'agent_id',
      'runstatus',
      'start_time',
      'time',
      'duration',
      'comments',
      'delivered_transactions',
      'delivered_commands',
      'delivery_rate',
      'error_id',
      'timestamp',
    ],
  },
  {
    name: 'dbo.backupset',
    home: 'msdb',
    url: `${SQL_DOCS}/system-tables/backupset-transact-sql`,
    columns: [
      'backup_set_id',
      'backup_set_uuid',
      'media_set_id',
      'first_family_number',
      'first_media_number',
      'last_family_number',
      'last_media_number',
      'catalog_family_number',
      'catalog_media_number',
      'position',
      'expiration_date',
      'software_vendor_id',
      'name',
      'description',
      'user_name',
      'software_major_version',
      'software_minor_version',
      'software_build_version',
      'time_zone',
      'mtf_minor_version',
      'first_lsn',
      'last_lsn',
      'checkpoint_lsn',
      'database_backup_lsn',
      'database_creation_date',
      'backup_start_date',
      'backup_finish_date',
      'type',
      'sort_order',
      'code_page',
      'compatibility_level',
      'database_version',
      'backup_size',
      'database_name',
      'server_name',
      'machine_name',
      'flags',
      'unicode_locale',
      'unicode_compare_style',
      'collation_name',
      'Is_password_protected',
      'recovery_model',
      'has_bulk_logged_data',
      'is_snapshot',
      'is_readonly',
      'is_single_user',
      'has_backup_checksums',
      'is_damaged',
      'begins_log_chain',
      'has_incomplete_metadata',
      'is_force_offline',
      'is_copy_only',
      'first_recovery_fork_guid',
      'last_recovery_fork_guid',
      'fork_point_lsn',
      'database_guid',
      'family_guid',
      'differential_base_lsn',
      'differential_base_guid',
      'compressed_backup_size',
      'key_algorithm',
      'encryptor_thumbprint',
      'encryptor_type',
      'last_valid_restore_time',
      'compression_algorithm',
    ],
  },
  {
    name: 'dbo.backupmediafamily',
    home: 'msdb',
    url: `${SQL_DOCS}/system-tables/backupmediafamily-transact-sql`,
    columns: [
      'media_set_id',
      'family_sequence_number',
      'media_family_id',
      'media_count',
      'logical_device_name',
      'physical_device_name',
      'device_type',
      'physical_block_size',
      'mirror',
    ],
  },
  {
    name: 'sys.extended_properties',
    home: 'any',
    url: `${SQL_DOCS}/system-catalog-views/extended-properties-catalog-views-sys-extended-properties`,
    // class 0 = Database ("If class is 0, major_id is always 0").
    columns: ['class', 'class_desc', 'major_id', 'minor_id', 'name', 'value'],
  },
];

/**
 * A system procedure with its Microsoft page: each is documented at system-stored-procedures/ under its name with
 * "-" for "_" (sys.sp_start_job: sp-start-job-transact-sql).
 */
function procedure(
  name: string,
  home: CatalogHome,
  parameters: readonly string[],
  more: Pick<CatalogProcedure, 'resultColumns' | 'passesParameters' | 'inferred'> = {},
): CatalogProcedure {
  const page = `${name.slice(name.indexOf('.') + 1).replaceAll('_', '-')}-transact-sql`;
  return { name, home, url: `${SQL_DOCS}/system-stored-procedures/${page}`, parameters, ...more };
}

export const CATALOG_PROCEDURES: readonly CatalogProcedure[] = [
  // Read 2026-12-05 (MicrosoftDocs/sql-docs sp-get-distributor-transact-sql.md): no arguments.
  procedure('sys.sp_get_distributor', 'any', [], {
    resultColumns: [
      'installed',
      'distribution server',
      'distribution db installed',
      'is distribution publisher',
      'has remote distribution publisher',
    ],
    inferred:
      'the page names it without a schema; it is called as sys.sp_get_distributor like the other system ' +
      'procedures, and distribution server is NULL when installed is 0',
  }),
  // The set-up's "set up the distributer" (issue 24), read 2026-12-05 (MicrosoftDocs/sql-docs): each "executed at the
  // Distributor on the master database" (sp_adddistpublisher: "on any database"); called as [master].sys.sp_….
  procedure('sys.sp_adddistributor', 'any', ['@distributor', '@heartbeat_interval', '@password', '@from_scripting']),
  procedure('sys.sp_adddistributiondb', 'any', [
    '@database',
    '@data_folder',
    '@data_file',
    '@data_file_size',
    '@log_folder',
    '@log_file',
    '@log_file_size',
    '@min_distretention',
    '@max_distretention',
    '@history_retention',
    '@security_mode',
    '@login',
    '@password',
    '@createmode',
    '@from_scripting',
    '@deletebatchsize_xact',
    '@deletebatchsize_cmd',
  ]),
  procedure(
    'sys.sp_adddistpublisher',
    'any',
    [
      '@publisher',
      '@distribution_db',
      '@security_mode',
      '@login',
      '@password',
      '@working_directory',
      '@trusted',
      '@encrypted_password',
      '@thirdparty_flag',
      '@publisher_type',
    ],
    { inferred: '@working_directory is the seed\'s SetMasterUp "snapshot folder path" prompt' },
  ),
  procedure('dbo.sp_start_job', 'msdb', [
    '@job_name',
    '@job_id',
    '@error_flag',
    '@server_name',
    '@step_name',
    '@output_flag',
  ]),
  procedure('dbo.sp_update_schedule', 'msdb', [
    '@schedule_id',
    '@name',
    '@new_name',
    '@enabled',
    '@freq_type',
    '@freq_interval',
    '@freq_subday_type',
    '@freq_subday_interval',
    '@freq_relative_interval',
    '@freq_recurrence_factor',
    '@active_start_date',
    '@active_end_date',
    '@active_start_time',
    '@active_end_time',
    '@owner_login_name',
    '@automatic_post',
  ]),
  procedure(
    'sys.sp_showpendingchanges',
    'replicated',
    ['@destination_server', '@publication', '@article', '@show_rows'],
    {
      resultColumns: [
        'destination_server',
        'pub_name',
        'destination_db_name',
        'is_dest_subscriber',
        'article_name',
        'pending_deletes',
        'pending_ins_and_upd',
        'is_delete',
        'rowguid',
      ],
    },
  ),
  procedure('sys.sp_validatemergesubscription', 'replicated', [
    '@publication',
    '@subscriber',
    '@subscriber_db',
    '@level',
  ]),
  procedure('sys.sp_dropmergesubscription', 'replicated', [
    '@publication',
    '@subscriber',
    '@subscriber_db',
    '@subscription_type',
    '@ignore_distributor',
    '@reserved',
  ]),
  procedure('sys.sp_mergesubscription_cleanup', 'replicated', ['@publisher', '@publisher_db', '@publication']),
  procedure('sys.sp_dropmergepublication', 'replicated', [
    '@publication',
    '@ignore_distributor',
    '@reserved',
    '@ignore_merge_metadata',
  ]),
  procedure('sys.sp_replicationdboption', 'any', [
    '@dbname',
    '@optname',
    '@value',
    '@ignore_distributor',
    '@from_scripting',
  ]),
  procedure('sys.sp_removedbreplication', 'any', ['@dbname', '@type']),
  procedure('sys.sp_executesql', 'any', ['@stmt', '@params'], { passesParameters: true }),
  procedure('sys.sp_changemergepublication', 'replicated', [
    '@publication',
    '@property',
    '@value',
    '@force_invalidate_snapshot',
    '@force_reinit_subscription',
  ]),
  // "If all object types and names are null, the property belongs to the current database itself."
  procedure('sys.sp_addextendedproperty', 'any', ['@name', '@value', ...EXTENDED_PROPERTY_OBJECT]),
  procedure('sys.sp_dropextendedproperty', 'any', ['@name', ...EXTENDED_PROPERTY_OBJECT]),
];

/** SERVERPROPERTY's properties that statements ask for. */
export const SERVER_PROPERTIES = {
  url: 'https://learn.microsoft.com/en-us/sql/t-sql/functions/serverproperty-transact-sql',
  names: [
    'Edition',
    'ProductVersion',
    'ProductLevel',
    'ProductMajorVersion',
    'EngineEdition',
    'MachineName',
    'ServerName',
    'InstanceName',
  ],
} as const;

/**
 * Finds a table or view by the name a statement uses: `schema.name` (or `db.schema.name`, of which
 * the last two parts count). Exact case: a server with a case-sensitive collation needs it.
 */
export function catalogTable(name: string): CatalogTable | undefined {
  return CATALOG_TABLES.find((t) => t.name === lastTwo(name));
}

export function catalogProcedure(name: string): CatalogProcedure | undefined {
  return CATALOG_PROCEDURES.find((p) => p.name === lastTwo(name));
}

function lastTwo(name: string): string {
  return name.split('.').slice(-2).join('.');
}

// ---- checking a statement against the catalog ---------------------------------------------------

/** What a statement names that the catalog does not have, with the error SQL Server would raise. */
export interface CatalogProblem {
  /**
   * The SQL Server error for it *(inferred from SQL Server's messages, not read from a page)*:
   * 207 invalid column name, 208 invalid object name, 2812 stored procedure not found, 8145 not a
   * parameter of the procedure, 137 variable not declared (a value not bound); 0 when the
   * statement is outside what the check can read (the check, not SQL Server, refuses it).
   */
  error: 207 | 208 | 2812 | 8145 | 137 | 0;
  message: string;
}

/**
 * Checks every table, column, procedure, parameter and SERVERPROPERTY a statement names against
 * the catalog above. `params` (the statement's bound values) are checked both ways when given:
 * every @variable read must be bound, every bound value read. Returns [] when all is known.
 */
export function checkStatement(sql: string, params?: Record<string, unknown>): CatalogProblem[] {
  const names = statementNames(sql);
  const problems: CatalogProblem[] = names.unknown.map((message) => ({ error: 0, message }));
  for (const t of names.tables) {
    const problem = objectProblem('table', t, catalogTable(t.name));
    if (problem) problems.push(problem);
  }
  for (const c of names.columns) {
    const table = c.table === undefined ? undefined : catalogTable(c.table);
    if (table && !table.columns.includes(c.column)) {
      const near = table.columns.find((x) => x.toLowerCase() === c.column.toLowerCase());
      problems.push({
        error: 207,
        message:
          `Invalid column name '${c.column}' (${c.alias}.${c.column}): ${table.name} has no such column` +
          `${near ? `; it is spelt '${near}'` : ''} (${table.url})`,
      });
    }
  }
  for (const p of names.procedures) {
    const found = catalogProcedure(p.name);
    const problem = objectProblem('procedure', p, found);
    if (problem) problems.push(problem);
    if (!found) continue;
    for (const n of p.named) {
      if (!found.parameters.includes(n) && !found.passesParameters) {
        problems.push({
          error: 8145,
          message:
            `${n} is not a parameter for procedure ${found.name} (its parameters: ` +
            `${found.parameters.join(', ')}; ${found.url})`,
        });
      }
    }
    if (p.positional > found.parameters.length) {
      problems.push({
        error: 8145,
        message:
          `${found.name} takes ${found.parameters.length} parameters; the call passes ${p.positional} by ` + `position`,
      });
    }
  }
  for (const property of names.serverProperties) {
    if (!(SERVER_PROPERTIES.names as readonly string[]).includes(property)) {
      problems.push({
        error: 0,
        message: `SERVERPROPERTY('${property}') is not a property the catalog lists (${SERVER_PROPERTIES.url})`,
      });
    }
  }
  if (params) {
    const bound = new Set(Object.keys(params).map((k) => `@${k}`.toLowerCase()));
    const read = new Set(names.variables.map((v) => v.toLowerCase()));
    for (const v of names.variables)
      if (!bound.has(v.toLowerCase()))
        problems.push({
          error: 137,
          message: `Must declare the scalar variable "${v}": the statement reads it but binds no value for it`,
        });
    for (const k of Object.keys(params))
      if (!read.has(`@${k}`.toLowerCase()))
        problems.push({ error: 0, message: `@${k} is bound but the statement never reads it` });
  }
  return problems;
}

/** SQL Server's error and message for a table or procedure it cannot find. */
const NOT_FOUND = {
  table: { error: 208, says: 'Invalid object name' },
  procedure: { error: 2812, says: 'Could not find stored procedure' },
} as const;

/**
 * What SQL Server would raise for a table or procedure a statement names (`used`, with its name's parts), given the
 * catalog's entry for it: not in the catalog, or named from a database it does not live in; undefined when neither.
 */
function objectProblem(
  what: 'table' | 'procedure',
  used: { name: string; parts: string[] },
  found: { home: CatalogHome } | undefined,
): CatalogProblem | undefined {
  const { error, says } = NOT_FOUND[what];
  if (!found) {
    return {
      error,
      message:
        `${says} '${used.name}': not in the catalog (activities/sqlserver/catalog.ts); read its Microsoft page ` +
        `and add it`,
    };
  }
  const where = homeProblem(found.home, used.parts, what);
  return where ? { error, message: `'${used.name}': ${where}` } : undefined;
}

/** The adapter's connections are in master: an object elsewhere must carry its database. */
function homeProblem(home: CatalogHome, parts: string[], what: 'table' | 'procedure'): string | undefined {
  if (home === 'msdb' && (parts.length < 3 || parts[0] !== 'msdb'))
    return `a ${what} of msdb: write msdb.${parts.slice(-2).join('.')}`;
  if ((home === 'distribution' || home === 'replicated') && parts.length < 3) {
    return (
      `it lives in the ${home === 'distribution' ? 'distribution' : 'publication or subscription'} database: ` +
      `name the database ([db].${parts.slice(-2).join('.')}), the connection is in master`
    );
  }
  return undefined;
}
