// The ports: what the runbooks need from the world, in the DBA's words. The lab
// (activities/lab) and the real adapters (activities/sqlserver, activities/hosts) implement the
// same interfaces, so the workflow cannot tell them apart. Every mutating operation must be safe
// to call twice (activities are at-least-once): observe first, act only when needed.
import type { DbRef } from '../plan/personalization-upgrade/types.js';

export interface SubscriptionRef {
  publication: string;
  publisher: DbRef;
  subscriber: DbRef;
}

export interface ServerFacts {
  server: string;
  /** SERVERPROPERTY('ProductVersion'), e.g. 15.0.2000.5 */
  version: string;
  /** SERVERPROPERTY('Edition'), e.g. 'Enterprise Edition (64-bit)', 'Express Edition' */
  edition: string;
  agentRunning: boolean;
  isSysadmin: boolean;
  /**
   * The account SQL Server Agent runs as (sys.dm_server_services.service_account), e.g. `CORP\svc-sqlagent` or
   * `NT Service\SQLSERVERAGENT`; absent where there is no Agent (Express) or the server did not say.
   */
  agentAccount?: string;
}

/** What a server says of its distributor (sp_get_distributor). */
export interface DistributorFacts {
  /** A distributor is configured for this server (`installed` 1). */
  installed: boolean;
  /** The distributor's server as replication names it (`distribution server`); absent when none is installed. */
  server?: string;
}

export interface UserSession {
  sessionId: number;
  login: string;
  program: string;
  host: string;
  /**
   * A replication agent's own connection (a merge agent working for the distributor), not a
   * user's: the drain neither waits for it nor KILLs it.
   */
  replicationAgent?: boolean;
}

export interface ChangeCounts {
  inserts: number;
  updates: number;
  deletes: number;
  conflicts: number;
}

/** One merge agent run, as MSmerge_sessions records it. */
export interface MergeSession {
  sessionId: number;
  agent: string;
  /** MSmerge_sessions.runstatus mapped: 2 succeeded, 6 failed. */
  status: 'succeeded' | 'failed';
  startTime: string;
  endTime: string;
  upload: ChangeCounts;
  download: ChangeCounts;
  message?: string;
}

/** sp_showpendingchanges summed: rows waiting to go up (subscriber→publisher) and down. */
export interface PendingChanges {
  upload: number;
  download: number;
}

/** A row of MSmerge_conflicts_info. */
export interface Conflict {
  publication: string;
  table: string;
  /**
   * 1-4 decided by the resolver, 5/6 insert failed, 7/8 delete failed, 9/10 update failed, 11-14 see conflict-types.ts
   */
  conflictType: number;
  /** e.g. 2627 PK violation, 547 FK violation */
  reasonCode: number;
  reasonText: string;
  origin: string;
  rowguid?: string;
  /** MSrepl_create_time in UTC, ISO 8601. */
  createdAt?: string;
  /**
   * The database whose conflict table holds the row: the publication database, or a subscription database when the
   * publication logs conflicts at the subscriber.
   */
  loggedAt?: DbRef;
  /**
   * What it asks of the run (activities/sqlserver/conflict-types.ts judgeConflict): 'needs-person'
   * (a failed change) stops it, 'settled' (decided by the resolver) is reported. Absent on results
   * recorded before the field existed: those stopped the run, and still do on replay.
   */
  verdict?: 'needs-person' | 'settled';
  /** Recorded before the run began (ConflictQuery.since). */
  beforeRun?: boolean;
}

/** What conflicts() needs beyond the publication. */
export interface ConflictQuery {
  /** The run's start (ISO 8601): rows recorded before it are marked beforeRun. */
  since?: string;
  /** The publication's subscription databases, read when it logs its conflicts at the subscriber only. */
  subscribers?: DbRef[];
}

export interface BackupRecord {
  db: DbRef;
  file: string;
  bytes: number;
  copyOnly: true;
  checksum: true;
  finishedAt: string;
}

export interface SubscriptionState {
  publication: string;
  publisher: DbRef;
  subscriber: DbRef;
  /** sysmergesubscriptions.sync_type: 1 automatic, 2 none */
  syncType: 'automatic' | 'none';
  /** sysmergesubscriptions.status: 0 inactive, 1 active, 2 deleted */
  status: 'inactive' | 'active' | 'deleted';
}

/**
 * One merge subscription as the publication database records it (sysmergesubscriptions joined to
 * sysmergepublications), for preflight: does it exist, is it active, push, and merged recently
 * enough that the publication's retention period has not run out.
 */
export interface SubscriptionHealth {
  publication: string;
  /** Replication names (@@SERVERNAME) as sysmergesubscriptions records them. */
  subscriber: DbRef;
  /** sysmergesubscriptions.subscription_type: 0 push, 1 pull, 2 anonymous */
  type: 'push' | 'pull' | 'anonymous';
  /** sysmergesubscriptions.status: 0 inactive, 1 active, 2 deleted */
  status: 'inactive' | 'active' | 'deleted';
  /** sysmergesubscriptions.last_sync_date as ISO 8601; undefined when it never merged. */
  lastSync?: string;
  /** sysmergepublications.retention in days (retention_period_unit applied); 0 = never expires. */
  retentionDays: number;
}

/** A SQL Server Agent schedule of a merge agent job (msdb.dbo.sysschedules). */
export interface AgentJobSchedule {
  scheduleId: number;
  name: string;
  /** sysschedules.enabled: "If the schedule is not enabled, no jobs will run on the schedule." */
  enabled: boolean;
  /** When it runs (absent where the source does not say, e.g. a run recorded before replup read it). */
  timing?: ScheduleTiming;
}

/**
 * The msdb.dbo.sysschedules columns that say when a schedule runs, as the table holds them
 * (https://learn.microsoft.com/en-us/sql/relational-databases/system-tables/dbo-sysschedules-transact-sql):
 * dates yyyymmdd, times hhmmss, both int.
 */
export interface ScheduleTiming {
  freqType: number;
  freqInterval: number;
  freqSubdayType: number;
  freqSubdayInterval: number;
  freqRelativeInterval: number;
  freqRecurrenceFactor: number;
  activeStartDate: number;
  activeEndDate: number;
  activeStartTime: number;
  activeEndTime: number;
}

/** A push subscription's merge agent job and its schedules, as the distributor knows it. */
export interface MergeAgentJob {
  /** msdb.dbo.sysjobs.job_id */
  jobId: string;
  name: string;
  publication: string;
  /** Replication names (MSmerge_agents.subscriber_name / subscriber_db). */
  subscriber: DbRef;
  schedules: AgentJobSchedule[];
}

/** Whether a publication's snapshot is ready for its subscriptions (sysmergepublications.snapshot_ready). */
export interface SnapshotStatus {
  ready: boolean;
  /** The Snapshot Agent's last message when its newest run failed (MSsnapshot_history.runstatus 6). */
  failure?: string;
}

/**
 * replup's marks on a subscriber database that ConvertRowGuids.sql started and finished there
 * (each holds the run that wrote it). Started without done = the outcome is unknown.
 */
export interface RowGuidConversionMarks {
  started?: string;
  done?: string;
}

/** The names of those marks: database-level extended properties on the subscriber (statements.ts). */
export const ROWGUID_MARKS = {
  started: 'replup.convertRowGuids.started',
  done: 'replup.convertRowGuids.done',
} as const;

/**
 * A subscription's merge validation as SQL Server records it (issue #20 §1): sysmergesubscriptions'
 * dates at the publisher and the Merge Agent's validation alerts in msdb (sysreplicationalerts).
 */
export interface ValidationState {
  /** sysmergesubscriptions.last_validated (ISO 8601): the last successful validation. */
  lastValidated?: string;
  /** sysmergesubscriptions.attempted_validate (ISO 8601): the last validation attempted. */
  attempted?: string;
  /** Alerts 20574 (failed, per article) and 20575 (passed) of this subscription, oldest first. */
  alerts: { alertId: number; passed: boolean; article: string; text: string }[];
}

/** A published table with its primary key and ROWGUIDCOL, for the (primary key, rowguid) sample. */
export interface PublishedTable {
  article: string;
  schema: string;
  table: string;
  /** Primary key columns in key order; empty when the table has no primary key. */
  keyColumns: string[];
  /** The ROWGUIDCOL column; absent when the table has none. */
  rowguidColumn?: string;
}

/** One row of the sample: its primary key as text ('|' between columns) and its rowguid. */
export interface RowGuidPair {
  key: string;
  rowguid: string;
}

/** An article whose ROWGUIDCOL replication added (sysmergearticles.preserve_rowguidcol = 0). */
export interface AddedRowGuidArticle {
  publication: string;
  article: string;
}

/** An article of a merge publication with the options replup compares across the upgrade (sysmergearticles). */
export interface ArticleConfig {
  name: string;
  columnTracking: boolean;
  /** subset_filterclause: the row filter ('' none). */
  subsetFilter: string;
  /** upload_options: 0 no restrictions, 1 changes not uploaded, 2 changes not allowed. */
  uploadOptions: number;
  processingOrder: number;
  /** identity_support: automatic identity range management. */
  identityRange: boolean;
  deleteTracking: boolean;
  compensateForErrors: boolean;
}

/**
 * A merge publication's configuration as a DBA may have changed it since set-up (sysmergepublications,
 * sysmergearticles).
 */
export interface PublicationConfig {
  name: string;
  /** retention in retentionUnit units (retention_period_unit 0 day, 1 week, 2 month, 3 year). */
  retention: number;
  retentionUnit: 'day' | 'week' | 'month' | 'year';
  conflictRetentionDays: number;
  /** backward_comp_level: 90 SQL Server 2005, 100 SQL Server 2008. */
  compatibilityLevel: number;
  centralizedConflicts: boolean;
  decentralizedConflicts: boolean;
  articles: ArticleConfig[];
}

export interface ReplicationState {
  /** sys.databases.is_merge_published */
  mergePublished: boolean;
  /** sysmergepublications names */
  publications: string[];
  /** sysmergesubscriptions rows seen from this database */
  subscriptions: SubscriptionState[];
}

export interface Script {
  /** File name, for messages and the audit. */
  name: string;
  text: string;
  /** sqlcmd -v variables. */
  vars: Record<string, string>;
  /** A failed batch before the script's own `:on error`: stop (sqlcmd -b, the default) or go on (plain sqlcmd). */
  onError?: 'exit' | 'ignore';
  /** The files the script pulls in with `:r`, read by the activity, keyed by the path as written. */
  includes?: Record<string, { file: string; text: string }>;
}

export interface ScriptRun {
  batches: number;
  messages: string[];
}

/** The SQL Server side of a Personalization Server fleet. */
export interface SqlFleetPort {
  serverFacts(server: string): Promise<ServerFacts>;
  /** The distributor a (publishing) server is set up with, as the server itself reports it. */
  distributorOf(server: string): Promise<DistributorFacts>;
  /**
   * The name replication knows a server by (@@SERVERNAME) for a server as the plan names it
   * (HOST, HOST\INSTANCE, HOST,PORT): replicationState reports servers by it, and the vendor
   * scripts' server variables must carry it.
   */
  replicationName(server: string): Promise<string>;
  /** The product (Personalization Server) schema version of a database. */
  databaseVersion(db: DbRef): Promise<string>;
  activeSessions(db: DbRef): Promise<UserSession[]>;
  /** KILL each session still present; returns how many were killed. */
  killSessions(db: DbRef, sessionIds: number[]): Promise<number>;
  /** Start the push merge agent's job, wait for it, return the new MSmerge_sessions row. */
  runMergeAgent(sub: SubscriptionRef): Promise<MergeSession>;
  pendingChanges(sub: SubscriptionRef): Promise<PendingChanges>;
  /** The publication's conflict rows, each judged (verdict, beforeRun); read where the publication logs them. */
  conflicts(publisher: DbRef, publication: string, query?: ConflictQuery): Promise<Conflict[]>;
  /** BACKUP DATABASE … COPY_ONLY, CHECKSUM into dir; reuses an existing verified backup of this run. */
  backupDatabase(db: DbRef, dir: string, runId: string): Promise<BackupRecord>;
  replicationState(db: DbRef): Promise<ReplicationState>;
  /** Drop merge subscriptions and publications of a database and disable merge publishing. Already gone = done. */
  removeReplication(db: DbRef): Promise<void>;
  /** Run a sqlcmd script's batches in order on one connection. */
  runScript(db: DbRef, script: Script): Promise<ScriptRun>;
  /** Every merge subscription the publication database knows of, with its publication's retention. */
  mergeSubscriptions(publisher: DbRef): Promise<SubscriptionHealth[]>;
  /** The merge agent jobs of a publication database's push subscriptions, with their schedules. */
  mergeAgentJobs(publisher: DbRef): Promise<MergeAgentJob[]>;
  /**
   * Enables or disables one Agent schedule (sp_update_schedule); a no-op when it already is. The
   * schedule is one of `publisher`'s merge agent jobs: it lives in the msdb of that publisher's distributor.
   */
  setScheduleEnabled(scheduleId: number, enabled: boolean, publisher: DbRef): Promise<void>;
  /**
   * Sets when one Agent schedule runs and whether it is enabled, every sp_update_schedule timing parameter given (same
   * msdb as setScheduleEnabled).
   */
  setScheduleTiming(scheduleId: number, timing: ScheduleTiming, enabled: boolean, publisher: DbRef): Promise<void>;
  /** The publication's snapshot: ready, or what its Snapshot Agent said when it failed. */
  snapshotStatus(publisher: DbRef, publication: string): Promise<SnapshotStatus>;
  /** The configuration of the database's own merge publications, with their articles. */
  publicationConfigs(publisher: DbRef): Promise<PublicationConfig[]>;
  /** sp_changemergepublication for one property that needs no snapshot or reinitialization. */
  changePublication(
    publisher: DbRef,
    publication: string,
    property: 'retention' | 'retention_period_unit' | 'conflict_retention' | 'publication_compatibility_level',
    value: string,
  ): Promise<void>;
  /** Drops one publication that has no subscriptions (sp_dropmergepublication); already gone = done. */
  dropPublication(publisher: DbRef, publication: string): Promise<void>;
  /** Drops one push subscription at the publisher (sp_dropmergesubscription); already gone = done. */
  dropSubscription(sub: SubscriptionRef): Promise<void>;
  /** replup's marks that ConvertRowGuids.sql started / finished on this database. */
  rowGuidConversionMarks(db: DbRef): Promise<RowGuidConversionMarks>;
  /** Adds one mark (kept when it is already there: the first writer's value stays). */
  markRowGuidConversion(db: DbRef, phase: 'started' | 'done', value: string): Promise<void>;
  /** Takes the started mark away (the samples showed the script rolled back); not there = done. */
  clearRowGuidConversionStarted(db: DbRef): Promise<void>;
  /**
   * The database's tables with a ROWGUIDCOL and a primary key (no publication needed: ConvertRowGuids runs after
   * removal).
   */
  rowGuidTables(db: DbRef): Promise<PublishedTable[]>;
  /**
   * Marks the subscription for merge validation (rowcount and binary checksum); its merge agent validates at its next
   * run.
   */
  markForValidation(sub: SubscriptionRef): Promise<void>;
  /** What the publisher and the distributor record of the subscription's validations. */
  validationState(sub: SubscriptionRef): Promise<ValidationState>;
  /** The articles of the database's own publications whose ROWGUIDCOL replication added. */
  replicationAddedRowGuids(publisher: DbRef): Promise<AddedRowGuidArticle[]>;
  /** The publication's tables with their primary key and ROWGUIDCOL columns, as the publisher has them. */
  publishedTables(publisher: DbRef, publication: string): Promise<PublishedTable[]>;
  /** The first `limit` rows of the table by primary key in this database, as (key, rowguid). */
  rowGuidSample(db: DbRef, table: PublishedTable, limit: number): Promise<RowGuidPair[]>;
  /** Write a marker row at the publisher (verify-replication's canary). */
  writeCanary(publisher: DbRef, token: string): Promise<void>;
  /** Is the marker row present at this database? */
  readCanary(db: DbRef, token: string): Promise<boolean>;
}

export type ServiceState = 'running' | 'stopped';

/** The personalization servers (IIS hosts) and their Windows services. */
export interface HostPort {
  /** Stop new user sessions reaching this personalization server (drain hook). */
  drain(host: string): Promise<void>;
  undrain(host: string): Promise<void>;
  isDrained(host: string): Promise<boolean>;
  serviceState(host: string, service: string): Promise<ServiceState>;
  stopService(host: string, service: string): Promise<void>;
  startService(host: string, service: string): Promise<void>;
  productVersion(host: string): Promise<string>;
  /** Upgrade the personalization server software on a host (the installer). */
  upgradeHost(host: string, to: string): Promise<void>;
  /** Upgrade a site's database to the product version (the configuration utility). */
  upgradeDatabase(db: DbRef, to: string): Promise<void>;
}

export const BACKGROUND_SERVICE = 'AppSense personalization Background Service';

/** A SQL Server or driver error, carrying the real error number so it can be classified. */
export class SqlError extends Error {
  constructor(
    public readonly number: number,
    message: string,
  ) {
    super(message);
    this.name = 'SqlError';
  }
}
