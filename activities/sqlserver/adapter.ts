// SqlFleetPort on real SQL Server, through the connection layer (connections.ts). Each mutating
// operation observes first, so that running it twice (activities are at-least-once) is harmless.
// Facts: DOMAIN.md §1. Errors keep their SQL Server number; activities turn them into
// ApplicationFailures with toApplicationFailure (failure.ts).
import type { CredentialRef, Credentials, DbRef } from '../../plan/personalization-upgrade/types.js';
import { DEFAULT_WINDOWS_ACCOUNT } from '../../plan/personalization-upgrade/schema.js';
import {
  ROWGUID_MARKS,
  SqlError,
  type BackupRecord,
  type Conflict,
  type DistributorFacts,
  type MergeAgentJob,
  type ScheduleTiming,
  type MergeSession,
  type PendingChanges,
  type PublicationConfig,
  type ReplicationState,
  type Script,
  type ScriptRun,
  type ServerFacts,
  type SnapshotStatus,
  type SqlFleetPort,
  type SubscriptionHealth,
  type SubscriptionRef,
  type SubscriptionState,
  type UserSession,
  type ValidationState,
  type PublishedTable,
} from '../ports.js';
import { includeFromDir } from '../sqlcmd/files.js';
import { includesFrom, parseSqlcmd, type OnError, type SqlcmdBatch } from '../sqlcmd/index.js';
import { classifySqlError, errorNumber, type SqlErrorContext } from './classify.js';
import { judgeConflict } from './conflict-types.js';
import { backupFilePath } from './backup-file.js';
import { createMssqlConnections, type Row, type SqlConnections, type SqlLogin } from './connections.js';
import { resolveCredentialRef } from './credentials.js';
import * as sql from './statements.js';
import {
  allDistributors,
  distributorForPublisher,
  type PublisherDistributor,
} from '../personalization-upgrade/distributors.js';

export interface SqlServerFleetOptions {
  /** The plan's credentials (references only). */
  credentials: Credentials;
  /**
   * The Windows account for NTLM when credentials.kind is 'windows' (`DOMAIN\user`): the worker
   * runs on Linux, so it cannot borrow a logged-on Windows identity. Default env:REPLUP_WINDOWS_USER
   * and env:REPLUP_WINDOWS_PASSWORD.
   */
  windowsAccount?: { user: CredentialRef; password: CredentialRef };
  /**
   * Where the distribution database is (MSmerge_agents, MSmerge_sessions): the central publisher's, and any publisher's
   * not in `distributors`.
   */
  distributor: DbRef;
  /**
   * Each publishing server's own distributor (issue #18 §3: a branch publisher distributes its Data
   * itself). Its merge agents, their jobs and schedules, its Snapshot Agent and validation alerts
   * are read there.
   */
  distributors?: PublisherDistributor[];
  /** The plan's product schema version query (vendor specific). */
  versionQuery?: string;
  /** Canary queries, with @token bound: write runs at the publisher, read at each database. */
  canary?: { write: string; read: string };
  /** Folder that `:r` includes of scripts are relative to. */
  scriptsDir?: string;
  /** What a script does on a failed batch before any `:on error` line; default exit (sqlcmd -b). */
  scriptOnError?: OnError;
  /** How often a merge agent job is polled (default 5 s) and how long it may run (default 4 h). */
  pollIntervalMs?: number;
  jobTimeoutMs?: number;
  /** Transient errors (deadlocks, dropped connections) are retried here this often before surfacing. */
  retry?: { attempts: number; delayMs: number };
  /** Long operations call this while they wait (the activity passes Context.current().heartbeat). */
  heartbeat?: (detail: string) => void;
  encrypt?: boolean;
  trustServerCertificate?: boolean;
  /** Tests pass a fake connection layer and clock. */
  connections?: SqlConnections;
  sleep?: (ms: number) => Promise<void>;
  resolveCredential?: (ref: CredentialRef) => string;
}

export { backupFilePath };

export type SqlServerFleet = SqlFleetPort & {
  close(): Promise<void>;
};

/** MSmerge_sessions.runstatus 2 = succeeded; sysjobhistory.run_status 1 = succeeded. */
const MERGE_SUCCEEDED = 2;
const JOB_OUTCOMES: Record<number, string> = {
  0: 'failed',
  1: 'succeeded',
  2: 'is retrying',
  3: 'was canceled',
  4: 'is in progress',
};
const HEARTBEAT_EVERY_MS = 10_000;
/** sysmergepublications.retention_period_unit. */
const RETENTION_UNITS: Record<number, PublicationConfig['retentionUnit']> = {
  0: 'day',
  1: 'week',
  2: 'month',
  3: 'year',
};

export function createSqlServerFleet(options: SqlServerFleetOptions): SqlServerFleet {
  const resolve = options.resolveCredential ?? ((ref: CredentialRef) => resolveCredentialRef(ref));
  const connections =
    options.connections ??
    createMssqlConnections({
      login: () => resolveLogin(options.credentials, options.windowsAccount, resolve),
      encrypt: options.encrypt,
      trustServerCertificate: options.trustServerCertificate,
    });
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const heartbeat = options.heartbeat ?? (() => {});
  const retry = options.retry ?? { attempts: 3, delayMs: 2_000 };
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const jobTimeoutMs = options.jobTimeoutMs ?? 4 * 3600_000;
  /** The distributor of a publisher's publications (a SQL Server instance has one distributor). */
  const distributorOf = (publisher: DbRef): DbRef =>
    distributorForPublisher(options.distributors, options.distributor, publisher.server);
  const serverNames = new Map<string, string>();

  /** Runs a statement; retries transient errors (each statement is safe to repeat). */
  async function query(server: string, statement: sql.Statement): Promise<Row[][]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await connections.execute(server, statement)).recordsets;
      } catch (err) {
        const c = classifySqlError(err);
        if (c.kind !== 'transient' || attempt >= retry.attempts) throw err;
        heartbeat(
          `retrying after ${c.number !== undefined ? `error ${c.number}` : (c.code ?? 'a transient error')} ` +
            `(attempt ${attempt} of ${retry.attempts})`,
        );
        await sleep(retry.delayMs * attempt);
      }
    }
  }

  const rows = async (server: string, statement: sql.Statement) => (await query(server, statement))[0] ?? [];

  /** Runs a statement whose "already gone" errors mean the work is done. */
  async function idempotent(server: string, statement: sql.Statement, context: SqlErrorContext): Promise<void> {
    try {
      await query(server, statement);
    } catch (err) {
      if (classifySqlError(err, context).kind !== 'already-done') throw err;
    }
  }

  /** Keeps heartbeating while one long statement runs (BACKUP, RESTORE VERIFYONLY). */
  async function long<T>(detail: string, work: Promise<T>): Promise<T> {
    heartbeat(detail);
    const timer = setInterval(() => heartbeat(detail), HEARTBEAT_EVERY_MS);
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  }

  /** The replication name of a server (@@SERVERNAME), which MSmerge_agents and sp_showpendingchanges use. */
  async function replicationName(server: string): Promise<string> {
    const known = serverNames.get(server);
    if (known !== undefined) return known;
    const name = text((await rows(server, sql.serverFacts()))[0]?.server_name) || server;
    serverNames.set(server, name);
    return name;
  }

  async function sessionsIn(db: DbRef): Promise<UserSession[]> {
    return (await rows(db.server, sql.userSessions(db.database))).map((r) => ({
      sessionId: Number(r.session_id),
      login: text(r.login_name),
      program: text(r.program_name),
      host: text(r.host_name),
    }));
  }

  async function activeSessions(db: DbRef): Promise<UserSession[]> {
    // A merge agent's connection names the agent as its program *(inferred: replmerg sets the
    // application name to its agent name)*: such sessions belong to replication, not to users.
    // Any distributor's agents may hold a session here (a branch's recovery database gets the
    // branch distributor's Data agent and the central one's Config agent).
    const agents: string[] = [];
    for (const d of allDistributors(options.distributors, options.distributor)) {
      agents.push(
        ...(await rows(d.server, sql.mergeAgentNames(d.database)))
          .map((r) => text(r.name).toLowerCase())
          .filter(Boolean),
      );
    }
    return (await sessionsIn(db)).map((x) =>
      agents.some((name) => x.program.toLowerCase().startsWith(name)) ? { ...x, replicationAgent: true } : x,
    );
  }

  /**
   * sysmergepublications.retention_period_unit: 0 day, 1 week, 2 month, 3 year. Months and years in days are
   * approximations.
   */
  const RETENTION_UNIT_DAYS: Record<number, number> = { 0: 1, 1: 7, 2: 30, 3: 365 };

  async function mergeSubscriptions(publisher: DbRef): Promise<SubscriptionHealth[]> {
    return (await rows(publisher.server, sql.mergeSubscriptionHealth(publisher.database))).map((r) => ({
      publication: text(r.publication),
      subscriber: { server: text(r.subscriber_server), database: text(r.subscriber_db) },
      type: Number(r.subscription_type) === 1 ? 'pull' : Number(r.subscription_type) === 2 ? 'anonymous' : 'push',
      status: Number(r.status) === 1 ? 'active' : Number(r.status) === 2 ? 'deleted' : 'inactive',
      ...(r.last_sync_date != null && { lastSync: isoTime(r.last_sync_date) }),
      retentionDays: Number(r.retention ?? 0) * (RETENTION_UNIT_DAYS[Number(r.retention_period_unit ?? 0)] ?? 1),
    }));
  }

  async function mergeAgentJobs(publisher: DbRef): Promise<MergeAgentJob[]> {
    const jobs = new Map<string, MergeAgentJob>();
    const distributor = distributorOf(publisher);
    for (const r of await rows(
      distributor.server,
      sql.mergeAgentJobSchedules(distributor.database, publisher.database),
    )) {
      const jobId = text(r.job_id);
      let job = jobs.get(jobId);
      if (!job) {
        job = {
          jobId,
          name: text(r.name),
          publication: text(r.publication),
          subscriber: { server: text(r.subscriber_name), database: text(r.subscriber_db) },
          schedules: [],
        };
        jobs.set(jobId, job);
      }
      if (r.schedule_id != null) {
        const timing: ScheduleTiming = {
          freqType: Number(r.freq_type),
          freqInterval: Number(r.freq_interval),
          freqSubdayType: Number(r.freq_subday_type),
          freqSubdayInterval: Number(r.freq_subday_interval),
          freqRelativeInterval: Number(r.freq_relative_interval),
          freqRecurrenceFactor: Number(r.freq_recurrence_factor),
          activeStartDate: Number(r.active_start_date),
          activeEndDate: Number(r.active_end_date),
          activeStartTime: Number(r.active_start_time),
          activeEndTime: Number(r.active_end_time),
        };
        job.schedules.push({
          scheduleId: Number(r.schedule_id),
          name: text(r.schedule_name),
          enabled: Number(r.enabled) === 1,
          timing,
        });
      }
    }
    return [...jobs.values()];
  }

  /** MSsnapshot_history.runstatus 6 = Fail. */
  const SNAPSHOT_FAILED = 6;

  async function snapshotStatus(publisher: DbRef, publication: string): Promise<SnapshotStatus> {
    const ready = (await rows(publisher.server, sql.publicationSnapshotReady(publisher.database, publication)))[0];
    if (ready && Number(ready.snapshot_ready) === 1) return { ready: true };
    const distributor = distributorOf(publisher);
    const last = (
      await rows(distributor.server, sql.snapshotAgentLastRun(distributor.database, publisher.database, publication))
    )[0];
    if (last && Number(last.runstatus) === SNAPSHOT_FAILED)
      return { ready: false, failure: text(last.comments) || 'the Snapshot Agent failed' };
    return { ready: false };
  }

  async function replicationState(db: DbRef): Promise<ReplicationState> {
    const [published = [], publications = [], subscriptions = []] = await query(
      db.server,
      sql.replicationState(db.database),
    );
    return {
      mergePublished: truthy(published[0]?.is_merge_published),
      publications: publications.map((r) => text(r.name)),
      subscriptions: subscriptions.map((r): SubscriptionState => ({
        publication: text(r.publication),
        publisher: { server: text(r.publisher), database: text(r.publisher_db) },
        subscriber: { server: text(r.subscriber_server), database: text(r.subscriber_db) },
        syncType: Number(r.sync_type) === 2 ? 'none' : 'automatic',
        status: Number(r.status) === 1 ? 'active' : Number(r.status) === 2 ? 'deleted' : 'inactive',
      })),
    };
  }

  async function runMergeAgent(sub: SubscriptionRef): Promise<MergeSession> {
    const subscriber = { server: await replicationName(sub.subscriber.server), database: sub.subscriber.database };
    const where =
      `publication '${sub.publication}' (${sub.publisher.database}) to ${subscriber.server}/` +
      `${subscriber.database}`;
    const distributor = distributorOf(sub.publisher);
    const agent = (
      await rows(
        distributor.server,
        sql.mergeAgents(distributor.database, sub.publisher.database, sub.publication, subscriber),
      )
    )[0];
    if (!agent) {
      throw new Error(
        `no merge agent for ${where} in ${distributor.server}/${distributor.database}.dbo.MSmerge_agents: ` +
          `check that the push subscription exists and that the plan names this publisher's distributor`,
      );
    }
    const name = text(agent.name);
    const jobId = text(agent.job_id);
    if (!jobId)
      throw new Error(
        `merge agent '${name}' for ${where} has no SQL Server Agent job: replup runs push subscriptions only`,
      );

    const steps = await rows(distributor.server, sql.jobSteps(jobId));
    if (steps.some((s) => /(^|\s)-Continuous(\s|$)/i.test(text(s.command)))) {
      throw new Error(
        `merge agent job '${name}' runs with -Continuous and never finishes: remove -Continuous from its job ` +
          `step (or stop the job and run it on a schedule) so replup can run it to the end`,
      );
    }
    const before = (await rows(distributor.server, sql.jobActivity(jobId)))[0];
    if (before && isRunning(before)) {
      // The same condition SQL Server reports as 22022 "already running": worth waiting for.
      throw new SqlError(
        22022,
        `merge agent job '${name}' is already running (msdb.dbo.sysjobactivity); replup waits for it to ` +
          `finish and tries again`,
      );
    }
    const previous = (
      await rows(distributor.server, sql.newestMergeSession(distributor.database, Number(agent.id)))
    )[0];
    const previousSessionId = previous ? Number(previous.session_id) : 0;

    await query(distributor.server, sql.startJob(jobId));
    const outcome = await waitForJob(distributor.server, jobId, name, before);

    const session = (await rows(distributor.server, sql.newestMergeSession(distributor.database, Number(agent.id))))[0];
    const jobMessage = text(outcome.message);
    const jobStatus = Number(outcome.run_status);
    if (!session || Number(session.session_id) <= previousSessionId) {
      throw new Error(
        `merge agent job '${name}' ${JOB_OUTCOMES[jobStatus] ?? 'ended'} without recording a merge session` +
          `${jobMessage ? `: ${jobMessage}` : ''}`,
      );
    }
    const succeeded = Number(session.runstatus) === MERGE_SUCCEEDED && jobStatus === 1;
    const message = text(session.message) || jobMessage;
    return {
      sessionId: Number(session.session_id),
      agent: name,
      status: succeeded ? 'succeeded' : 'failed',
      startTime: isoTime(session.start_time),
      endTime: isoTime(session.end_time),
      upload: counts(session, 'upload'),
      download: counts(session, 'download'),
      ...(message && { message }),
    };
  }

  /** Polls sysjobactivity until the run we requested has stopped; returns its activity row. */
  async function waitForJob(server: string, jobId: string, name: string, before: Row | undefined): Promise<Row> {
    const requestedBefore = timeOf(before?.run_requested_date);
    const deadline = Date.now() + jobTimeoutMs;
    for (let polls = 1; ; polls++) {
      await sleep(pollIntervalMs);
      heartbeat(`waiting for merge agent job '${name}' (poll ${polls})`);
      const now = (await rows(server, sql.jobActivity(jobId)))[0];
      if (now && timeOf(now.run_requested_date) !== requestedBefore && now.stop_execution_date != null) return now;
      if (Date.now() > deadline) {
        throw new Error(
          `merge agent job '${name}' did not finish within ${Math.round(jobTimeoutMs / 60_000)} minutes; ` +
            `look at its history in SQL Server Agent`,
        );
      }
    }
  }

  async function pendingSide(
    server: string,
    database: string,
    publication: string,
    destination: DbRef,
  ): Promise<number> {
    const destinationServer = await replicationName(destination.server);
    const found = await rows(server, sql.pendingChanges(database, publication, destinationServer));
    return found
      .filter((r) => sameName(text(r.destination_db_name), destination.database))
      .reduce((sum, r) => sum + Number(r.pending_deletes ?? 0) + Number(r.pending_ins_and_upd ?? 0), 0);
  }

  /**
   * Everything replication left in one database: its publications and their subscriptions, and the
   * subscriptions it holds to other publishers. A branch (publisher-subscriber) has both; the
   * remove-replication activity checks that nothing of either remains, so both go.
   */
  async function removeReplication(db: DbRef): Promise<void> {
    const state = await replicationState(db);
    const self = await replicationName(db.server);
    const ownPublication = (s: SubscriptionState) =>
      sameName(s.publisher.server, self) && sameName(s.publisher.database, db.database);
    for (const publication of state.publications) {
      // sysmergesubscriptions names subscribers as they were registered (@@SERVERNAME): pass them back as they are.
      for (const s of state.subscriptions.filter((s) => s.publication === publication && ownPublication(s))) {
        await idempotent(db.server, sql.dropMergeSubscription(db.database, publication, s.subscriber), 'removal');
      }
      await idempotent(db.server, sql.dropMergePublication(db.database, publication), 'removal');
    }
    // Its side of the subscriptions to other publishers (publishers are removed first, so theirs is gone).
    const held = new Map(
      state.subscriptions
        .filter((s) => !ownPublication(s))
        .map((s) => [`${s.publisher.server}/${s.publisher.database}/${s.publication}`.toLowerCase(), s]),
    );
    for (const s of held.values()) {
      await idempotent(
        db.server,
        sql.mergeSubscriptionCleanup(db.database, s.publisher.server, s.publisher.database, s.publication),
        'removal',
      );
    }
    if (state.mergePublished || state.publications.length > 0) {
      await idempotent(db.server, sql.disableMergePublishing(db.database), 'removal');
    }
    let after = await replicationState(db);
    if (left(after)) {
      // The ordered removal left something behind: sp_removedbreplication is the documented fallback.
      await idempotent(db.server, sql.removeDbReplication(db.database), 'removal');
      after = await replicationState(db);
      if (left(after)) {
        const subscriptions = after.subscriptions
          .filter((s) => s.status !== 'deleted')
          .map(
            (s) =>
              `${s.publication} ${s.publisher.server}/${s.publisher.database} → ${s.subscriber.server}/` +
              `${s.subscriber.database}`,
          );
        throw new Error(
          `replication is still enabled on ${db.server}/${db.database} after removal (publications: ` +
            `${after.publications.join(', ') || 'none'}, subscriptions: ${subscriptions.join(', ') || 'none'}, ` +
            `merge published: ${after.mergePublished}); run RemoveReplication by hand and retry`,
        );
      }
    }
  }

  async function runScript(db: DbRef, script: Script): Promise<ScriptRun> {
    const parsed = parseSqlcmd(script.text, {
      vars: script.vars,
      file: script.name,
      onError: script.onError ?? options.scriptOnError ?? 'exit',
      ...(script.includes
        ? { resolveInclude: includesFrom(script.includes) }
        : options.scriptsDir !== undefined && { resolveInclude: includeFromDir(options.scriptsDir) }),
    });
    const session = await connections.openSession(db);
    const messages: string[] = [];
    let batches = 0;
    try {
      await session.batch(sql.sqlcmdSessionDefaults().sql);
      for (const batch of parsed.batches) {
        for (let run = 1; run <= batch.repeat; run++) {
          heartbeat(
            `${script.name}: batch at ${batch.file}:${batch.line}` +
              `${batch.repeat > 1 ? ` (${run} of ${batch.repeat})` : ''}`,
          );
          // "If RAISERROR is used within a sqlcmd script and a state of 127 is raised, sqlcmd quits"
          // (https://learn.microsoft.com/en-us/sql/tools/sqlcmd/sqlcmd-utility, EXIT), whatever
          // :on error says and whatever the severity: the script ends there, as a failure.
          let result;
          try {
            result = await session.batch(batch.sql);
          } catch (err) {
            const located = scriptError(err, batch);
            if ((err as { state?: unknown }).state === 127)
              throw new SqlError(
                located instanceof SqlError ? located.number : 50000,
                `${located.message} (RAISERROR state 127: the script ends here, as in sqlcmd)`,
              );
            if (batch.onError === 'exit') throw located;
            messages.push(located.message);
          }
          batches += 1;
          if (result) {
            messages.push(...result.messages);
            if (result.quit)
              throw new SqlError(
                result.quit.number,
                `${batch.file}:${batch.line}: ${result.quit.message} (RAISERROR state 127: the script ends ` +
                  `here, as in sqlcmd)`,
              );
          }
        }
      }
    } finally {
      await session.close();
    }
    return { batches, messages };
  }

  function requireQuery(query: string | undefined, what: string, planField: string): string {
    if (!query) throw new Error(`no ${what} is configured: add ${planField} to the plan (it is vendor specific)`);
    return query;
  }

  /** The plan's canary statement (target.canary.write or .read) on `db`, with the run's token. */
  function canary(db: DbRef, which: 'write' | 'read', token: string): sql.Statement {
    return sql.canary(
      db.database,
      requireQuery(options.canary?.[which], `canary ${which} query`, `target.canary.${which}`),
      token,
    );
  }

  return {
    async serverFacts(server): Promise<ServerFacts> {
      const r = (await rows(server, sql.serverFacts()))[0] ?? {};
      serverNames.set(server, text(r.server_name) || server);
      return {
        server,
        version: text(r.version),
        edition: text(r.edition),
        agentRunning: Number(r.agent_status) === 4, // sys.dm_server_services.status 4 = Running
        isSysadmin: Number(r.is_sysadmin) === 1,
        ...(text(r.agent_account) && { agentAccount: text(r.agent_account) }),
      };
    },
    async distributorOf(server): Promise<DistributorFacts> {
      const r = (await rows(server, sql.distributorOfServer()))[0] ?? {};
      const name = text(r['distribution server']);
      return { installed: Number(r.installed) === 1, ...(name && { server: name }) };
    },
    async databaseVersion(db) {
      const r = (
        await rows(
          db.server,
          sql.productVersion(db.database, requireQuery(options.versionQuery, 'versionQuery', 'versionQuery')),
        )
      )[0];
      const value = r ? Object.values(r)[0] : undefined;
      if (value == null) throw new Error(`the versionQuery returned no row in ${db.server}/${db.database}`);
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a SQL scalar: text, a number or a date
      return String(value).trim();
    },
    activeSessions,
    async killSessions(db, sessionIds) {
      // Observe first: only sessions still in this database are killed.
      const present = new Set((await sessionsIn(db)).map((s) => s.sessionId));
      let killed = 0;
      for (const id of sessionIds.filter((id) => present.has(id))) {
        try {
          await query(db.server, sql.killSession(id));
          killed += 1;
        } catch (err) {
          if (classifySqlError(err, 'kill').kind !== 'already-done') throw err;
        }
      }
      return killed;
    },
    runMergeAgent,
    async pendingChanges(sub): Promise<PendingChanges> {
      const download = await pendingSide(sub.publisher.server, sub.publisher.database, sub.publication, sub.subscriber);
      const upload = await pendingSide(sub.subscriber.server, sub.subscriber.database, sub.publication, sub.publisher);
      return { upload, download };
    },
    async conflicts(publisher, publication, options = {}): Promise<Conflict[]> {
      // Where the publication keeps its conflict rows decides where to read them (sysmergepublications
      // centralized_conflicts / decentralized_conflicts): at the publisher, or at each subscriber.
      const read = async (db: DbRef) => {
        const [logging = [], found = []] = await query(db.server, sql.conflicts(db.database, publication));
        return { logging: logging[0], found: found.map((r) => conflictRow(r, publication, db, options.since)) };
      };
      const atPublisher = await read(publisher);
      const subscriberOnly =
        atPublisher.logging !== undefined &&
        !truthy(atPublisher.logging.centralized_conflicts) &&
        truthy(atPublisher.logging.decentralized_conflicts);
      if (!subscriberOnly) return atPublisher.found;
      const all = [...atPublisher.found];
      for (const subscriber of options.subscribers ?? []) all.push(...(await read(subscriber)).found);
      return all;
    },
    async backupDatabase(db, dir, runId): Promise<BackupRecord> {
      const file = backupFilePath(dir, db.database, runId);
      const record = (r: Row): BackupRecord => ({
        db,
        file,
        bytes: Number(r.backup_size),
        copyOnly: true,
        checksum: true,
        finishedAt: isoTime(r.backup_finish_date),
      });
      // Observe first: a copy-only, checksummed backup of this run that still verifies is reused.
      const existing = (await rows(db.server, sql.backupInFile(db.database, file)))[0];
      if (existing && truthy(existing.is_copy_only) && truthy(existing.has_backup_checksums)) {
        try {
          await long(`verifying existing backup ${file}`, query(db.server, sql.verifyBackup(file)));
          return record(existing);
        } catch (err) {
          if (classifySqlError(err).kind === 'transient') throw err; // otherwise: back up again
        }
      }
      await long(`backing up ${db.database} to ${file}`, query(db.server, sql.backupDatabase(db.database, file)));
      await long(`verifying ${file}`, query(db.server, sql.verifyBackup(file)));
      const written = (await rows(db.server, sql.backupInFile(db.database, file)))[0];
      if (!written) throw new Error(`BACKUP DATABASE ${db.database} finished but msdb has no record of ${file}`);
      return record(written);
    },
    replicationState,
    replicationName,
    removeReplication,
    mergeSubscriptions,
    mergeAgentJobs,
    async setScheduleEnabled(scheduleId, enabled, publisher) {
      // Schedule ids are per msdb: the one of the distributor that runs this publisher's agent jobs.
      await query(distributorOf(publisher).server, sql.updateScheduleEnabled(scheduleId, enabled));
    },
    async setScheduleTiming(scheduleId, timing, enabled, publisher) {
      await query(distributorOf(publisher).server, sql.updateScheduleTiming(scheduleId, timing, enabled));
    },
    snapshotStatus,
    // Merge validation (issue #20 §1): sysmergesubscriptions and sysreplicationalerts name the
    // subscriber as replication knows it (@@SERVERNAME).
    async markForValidation(sub) {
      const subscriber = { server: await replicationName(sub.subscriber.server), database: sub.subscriber.database };
      await query(
        sub.publisher.server,
        sql.validateMergeSubscription(sub.publisher.database, sub.publication, subscriber),
      );
    },
    async validationState(sub): Promise<ValidationState> {
      const subscriber = { server: await replicationName(sub.subscriber.server), database: sub.subscriber.database };
      const dates = (
        await rows(sub.publisher.server, sql.mergeValidationDates(sub.publisher.database, sub.publication, subscriber))
      )[0];
      const alerts = await rows(
        distributorOf(sub.publisher).server,
        sql.mergeValidationAlerts(sub.publisher.database, sub.publication, subscriber),
      );
      return {
        ...(dates?.last_validated != null && { lastValidated: isoTime(dates.last_validated) }),
        ...(dates?.attempted_validate != null && { attempted: isoTime(dates.attempted_validate) }),
        alerts: alerts.map((r) => ({
          alertId: Number(r.alert_id),
          passed: Number(r.alert_error_code) === 20575,
          article: text(r.article),
          text: text(r.alert_error_text),
        })),
      };
    },
    async publishedTables(publisher, publication) {
      const tables = new Map<string, PublishedTable>();
      for (const r of await rows(publisher.server, sql.publishedTableKeys(publisher.database, publication))) {
        const article = text(r.article);
        let t = tables.get(article);
        if (!t)
          tables.set(
            article,
            (t = { article, schema: text(r.table_schema), table: text(r.table_name), keyColumns: [] }),
          );
        if (truthy(r.is_rowguidcol)) t.rowguidColumn = text(r.column_name);
        // Rows come in key order (ORDER BY key_ordinal).
        if (Number(r.key_ordinal) > 0) t.keyColumns.push(text(r.column_name));
      }
      return [...tables.values()];
    },
    async rowGuidSample(db, table, limit) {
      if (!table.rowguidColumn || !table.keyColumns.length) return [];
      const sampled = {
        schema: table.schema,
        table: table.table,
        keyColumns: table.keyColumns,
        rowguidColumn: table.rowguidColumn,
      };
      return (await rows(db.server, sql.rowGuidSample(db.database, sampled, limit))).map((r) => ({
        key: text(r.row_key),
        rowguid: text(r.rowguid).toLowerCase(),
      }));
    },
    async replicationAddedRowGuids(publisher) {
      return (await rows(publisher.server, sql.replicationAddedRowGuids(publisher.database))).map((r) => ({
        publication: text(r.publication),
        article: text(r.article),
      }));
    },
    runScript,
    async publicationConfigs(publisher) {
      const [props, articles] = await Promise.all([
        rows(publisher.server, sql.publicationProperties(publisher.database)),
        rows(publisher.server, sql.publicationArticles(publisher.database)),
      ]);
      return props.map((p): PublicationConfig => ({
        name: text(p.name),
        retention: Number(p.retention ?? 0),
        retentionUnit: RETENTION_UNITS[Number(p.retention_period_unit ?? 0)] ?? 'day',
        conflictRetentionDays: Number(p.conflict_retention ?? 0),
        compatibilityLevel: Number(p.backward_comp_level ?? 0),
        centralizedConflicts: truthy(p.centralized_conflicts),
        decentralizedConflicts: truthy(p.decentralized_conflicts),
        articles: articles
          .filter((a) => text(a.publication) === text(p.name))
          .map((a) => ({
            name: text(a.name),
            columnTracking: truthy(a.column_tracking),
            subsetFilter: text(a.subset_filterclause),
            uploadOptions: Number(a.upload_options ?? 0),
            processingOrder: Number(a.processing_order ?? 0),
            identityRange: truthy(a.identity_support),
            deleteTracking: truthy(a.delete_tracking),
            compensateForErrors: truthy(a.compensate_for_errors),
          })),
      }));
    },
    async changePublication(publisher, publication, property, value) {
      await query(publisher.server, sql.changeMergePublication(publisher.database, publication, property, value));
    },
    async dropPublication(publisher, publication) {
      await idempotent(publisher.server, sql.dropMergePublication(publisher.database, publication), 'removal');
    },
    async dropSubscription(sub) {
      const subscriber = { server: await replicationName(sub.subscriber.server), database: sub.subscriber.database };
      await idempotent(
        sub.publisher.server,
        sql.dropMergeSubscription(sub.publisher.database, sub.publication, subscriber),
        'removal',
      );
    },
    async rowGuidConversionMarks(db) {
      const found = await rows(
        db.server,
        sql.rowGuidConversionMarks(db.database, ROWGUID_MARKS.started, ROWGUID_MARKS.done),
      );
      const value = (name: string) => found.find((r) => text(r.name) === name)?.value;
      const started = value(ROWGUID_MARKS.started);
      const done = value(ROWGUID_MARKS.done);
      return { ...(started != null && { started: text(started) }), ...(done != null && { done: text(done) }) };
    },
    async markRowGuidConversion(db, phase, value) {
      await query(db.server, sql.addRowGuidConversionMark(db.database, ROWGUID_MARKS[phase], value));
    },
    async clearRowGuidConversionStarted(db) {
      await query(db.server, sql.dropRowGuidConversionMark(db.database, ROWGUID_MARKS.started));
    },
    async rowGuidTables(db) {
      const tables = new Map<string, PublishedTable>();
      for (const r of await rows(db.server, sql.rowGuidTableKeys(db.database))) {
        const schema = text(r.table_schema);
        const table = text(r.table_name);
        let t = tables.get(`${schema}.${table}`);
        if (!t) tables.set(`${schema}.${table}`, (t = { article: table, schema, table, keyColumns: [] }));
        if (truthy(r.is_rowguidcol)) t.rowguidColumn = text(r.column_name);
        // Rows come in key order within a table (ORDER BY key_ordinal).
        if (Number(r.key_ordinal) > 0) t.keyColumns.push(text(r.column_name));
      }
      return [...tables.values()];
    },
    async writeCanary(publisher, token) {
      await query(publisher.server, canary(publisher, 'write', token));
    },
    async readCanary(db, token) {
      return (await rows(db.server, canary(db, 'read', token))).length > 0;
    },
    close: () => connections.close(),
  };
}

/** A script batch's error, located in the script: server line N is line batch.line + N - 1. */
function scriptError(err: unknown, batch: SqlcmdBatch): Error {
  const number = errorNumber(err);
  if (number === undefined) return err instanceof Error ? err : new Error(String(err)); // driver error: keep its code
  const lineNumber = (err as { lineNumber?: unknown }).lineNumber;
  const line = batch.line + (typeof lineNumber === 'number' && lineNumber > 0 ? lineNumber - 1 : 0);
  return new SqlError(number, `${batch.file}:${line}: ${err instanceof Error ? err.message : String(err)}`);
}

export function resolveLogin(
  credentials: Credentials,
  windowsAccount: { user: CredentialRef; password: CredentialRef } | undefined,
  resolve: (ref: CredentialRef) => string,
): SqlLogin {
  if (credentials.kind === 'sql')
    return { kind: 'sql', user: resolve(credentials.user), password: resolve(credentials.password) };
  const account = windowsAccount ?? DEFAULT_WINDOWS_ACCOUNT;
  const user = resolve(account.user);
  const m = /^([^\\]+)\\(.+)$/.exec(user);
  if (!m) throw new Error(`Windows login '${user}' (from ${account.user}) must be written DOMAIN\\user for NTLM`);
  return { kind: 'windows', domain: m[1] ?? '', user: m[2] ?? '', password: resolve(account.password) };
}

/** A row of the conflicts statement, judged for the run (conflict-types.ts). */
function conflictRow(r: Row, publication: string, loggedAt: DbRef, since: string | undefined): Conflict {
  const conflictType = Number(r.conflict_type);
  const createdAt = r.created_utc == null ? undefined : isoTime(r.created_utc) || undefined;
  return {
    publication,
    table: text(r.table_name),
    conflictType,
    reasonCode: Number(r.reason_code),
    reasonText: text(r.reason_text),
    origin: text(r.origin_datasource),
    ...(r.rowguid != null && { rowguid: text(r.rowguid) }),
    ...(createdAt !== undefined && { createdAt }),
    loggedAt,
    ...judgeConflict(conflictType, createdAt, since),
  };
}

/** What the remove-replication activity would still find: the same test it applies after removal. */
function left(state: ReplicationState): boolean {
  return (
    state.mergePublished || state.publications.length > 0 || state.subscriptions.some((s) => s.status !== 'deleted')
  );
}

function isRunning(activity: Row): boolean {
  return activity.start_execution_date != null && activity.stop_execution_date == null;
}

function counts(session: Row, side: 'upload' | 'download') {
  return {
    inserts: Number(session[`${side}_inserts`] ?? 0),
    updates: Number(session[`${side}_updates`] ?? 0),
    deletes: Number(session[`${side}_deletes`] ?? 0),
    conflicts: Number(session[`${side}_conflicts`] ?? 0),
  };
}

function text(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a SQL scalar: text, a number or a date
  return value == null ? '' : String(value);
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}

function timeOf(value: unknown): number | undefined {
  if (value == null) return undefined;
  const t = new Date(value as string | number | Date).getTime();
  return Number.isNaN(t) ? undefined : t;
}

function isoTime(value: unknown): string {
  const t = timeOf(value);
  return t === undefined ? '' : new Date(t).toISOString();
}

// SQL Server names compare case-insensitively under the default collations.
function sameName(a: string, b: string): boolean {
  return a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;
}
