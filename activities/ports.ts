// The ports: what the runbooks need from the world, in the DBA's words. The lab
// (activities/lab) and the real adapters (activities/sqlserver, activities/hosts) implement the
// same interfaces, so the workflow cannot tell them apart. Every mutating operation must be safe
// to call twice (activities are at-least-once): observe first, act only when needed.
import type { DbRef } from '../plan/types.js';

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
}

export interface UserSession {
  sessionId: number;
  login: string;
  program: string;
  host: string;
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
  /** 5/6 insert failed, 7/8 delete failed, 9/10 update failed */
  conflictType: number;
  /** e.g. 2627 PK violation, 547 FK violation */
  reasonCode: number;
  reasonText: string;
  origin: string;
  rowguid?: string;
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
}

export interface ScriptRun {
  batches: number;
  messages: string[];
}

/** The SQL Server side of a Personalization Server fleet. */
export interface SqlFleetPort {
  serverFacts(server: string): Promise<ServerFacts>;
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
  conflicts(publisher: DbRef, publication: string): Promise<Conflict[]>;
  /** BACKUP DATABASE … COPY_ONLY, CHECKSUM into dir; reuses an existing verified backup of this run. */
  backupDatabase(db: DbRef, dir: string, runId: string): Promise<BackupRecord>;
  replicationState(db: DbRef): Promise<ReplicationState>;
  /** Drop merge subscriptions and publications of a database and disable merge publishing. Already gone = done. */
  removeReplication(db: DbRef): Promise<void>;
  /** Run a sqlcmd script's batches in order on one connection. */
  runScript(db: DbRef, script: Script): Promise<ScriptRun>;
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
