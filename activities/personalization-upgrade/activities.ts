// The Personalization Server upgrade's activities: thin, idempotent wrappers over the ports. Each
// one observes before it acts and verifies after, because Temporal runs an activity at least once.
// Errors leave here classified: transient ones retry with backoff, everything else parks the step.
import { heartbeating } from '../heartbeat.js';
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type {
  Credentials,
  DbRef,
  HostCommands,
  ScriptFiles,
  Target,
} from '../../plan/personalization-upgrade/types.js';
import {
  BACKGROUND_SERVICE,
  ROWGUID_MARKS,
  type ConflictQuery,
  type PublicationConfig,
  type HostPort,
  type MergeAgentJob,
  type Script,
  type SqlFleetPort,
  type SubscriptionRef,
} from '../ports.js';
import {
  assessSubscriptions,
  distributorProblem,
  productVersionProblems,
  schedulesToRestore,
  type PlannedSubscription,
  type RecordedSchedule,
} from './preflight.js';
import { toApplicationFailure } from '../sqlserver/failure.js';
import { quoteIdent } from '../sqlserver/quote.js';
import { compareConfigs, missingArticles } from './replication-config.js';
import {
  addedRowGuidStopMessage,
  judgeRowGuidConversion,
  judgeValidation,
  legacyRowsBefore,
  readStartedMark,
  startedMarkValue,
  rowGuidDifferences,
  rowGuidSampleStopMessage,
  type ConversionSample,
  type RowGuidDifference,
  type SubscriptionValidation,
} from './convergence.js';
import { SqlcmdError, type OnError } from '../sqlcmd/index.js';
import {
  checkPublicationArticles,
  checkRuns,
  loadScript as loadScriptFile,
  readIncludes,
  runVariables,
  ScriptProblem,
  withReplicationNames,
  type ScriptRun,
} from '../sqlcmd/prepare.js';
import { compareVersions } from '../../plan/version.js';
import { boundedAll } from '../../common/bounded.js';
import type { PublisherDistributor } from './distributors.js';
import { plannedScripts, scriptDistributor, type ScriptRuns } from '../../plan/personalization-upgrade/fleet.js';
import { UpgradeFailure } from '../../common/failures.js';

/** What an activity needs to reach the fleet: no secrets, only references. */
export interface FleetContext {
  target: Target;
  credentials: Credentials;
  hosts: HostCommands;
  scriptsDir: string;
  /** The central publisher's distributor, and any publisher's not in `distributors`. */
  distributor: DbRef;
  /** Each publishing server's distributor (issue #18 §3); absent in runs started before: `distributor` for all. */
  distributors?: PublisherDistributor[];
  versionQuery?: string;
  /** The plan's scripts.variables and scripts.onError (absent in runs started before they existed: defaults). */
  scripts?: { variables?: Record<string, string>; onError?: OnError };
}

/** Every run of the vendor scripts the workflow will make (plan/personalization-upgrade/fleet.ts builds it). */
export type { ScriptRuns };

export interface Ports {
  sql: SqlFleetPort;
  hosts: HostPort;
}

export type PortsFor = (ctx: FleetContext) => Ports | Promise<Ports>;

/** Failure types the workflow and the report recognise (named once, in common/failures.ts). */
export const FailureType = UpgradeFailure;

/** How often waitForSnapshot looks again: the lab's clock moves per operation, a real Snapshot Agent takes minutes. */
const snapshotPollMs = (ctx: FleetContext) => (ctx.target.kind === 'lab' ? 100 : 10_000);
const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** The merge agent's message for a subscription whose retention ran out (issue #18: "has expired"). */
const EXPIRED = /has expired/i;

/** Heartbeats while a long operation runs; SQL errors leave classified by SQL Server error number. */
function withHeartbeat<T>(work: () => Promise<T>): Promise<T> {
  return heartbeating(work, (err) => toApplicationFailure(err));
}

/** Reads verify-versions keeps in flight: 8 database versions and 8 host versions at most. */
const VERIFY_READS_AT_ONCE = 8;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface ServerExpectation {
  server: string;
  sqlVersion?: string;
  edition?: string;
  publishes: boolean;
  /** The distributor runs the push merge agents as SQL Server Agent jobs; subscribers need no Agent. */
  distributes: boolean;
}

export interface ScriptRef {
  file: string;
  /** Rewrite @sync_type to none before running (the subscription scripts). */
  rewrite: boolean;
  /** The text prepare-scripts checked; a script edited mid-run is refused. */
  sha256: string;
}

export interface PreparedScript extends ScriptRef {
  changes: { line: number; before: string; after: string }[];
  /** A publication script's articles beyond those published today (fine: said in the step note). */
  extraArticles?: string;
}

/** A script as prepare-scripts checked it, read through the one decoder (activities/sqlcmd/read.ts). */
export async function loadScript(dir: string, ref: Pick<ScriptRef, 'file' | 'rewrite'>): Promise<string> {
  try {
    return (await loadScriptFile(dir, ref.file, ref.rewrite)).text;
  } catch (err) {
    if (err instanceof ScriptProblem) throw ApplicationFailure.nonRetryable(err.message, FailureType.script);
    throw err;
  }
}

/** loadScript, refusing a script whose text is no longer the one prepare-scripts checked (ref.sha256). */
async function loadCheckedScript(dir: string, ref: ScriptRef): Promise<string> {
  const text = await loadScript(dir, ref);
  if (sha256(text) !== ref.sha256) {
    throw ApplicationFailure.nonRetryable(
      `${ref.file} changed since prepare-scripts checked it; review it and retry the step`,
      FailureType.script,
    );
  }
  return text;
}

/**
 * {distributor.*} of a script run: the distributor of the publication's publisher; the plan's for a run without one
 * (ConvertRowGuids).
 */
function distributorFor(ctx: FleetContext, publisher: DbRef | undefined): DbRef {
  return scriptDistributor(ctx.distributors, ctx.distributor, publisher);
}

/**
 * The Script a port runs: the plan's variables for what it runs for, with servers named as
 * replication knows them (@@SERVERNAME) and sqlcmd's own SQLCMD* variables (the same function
 * prepare-scripts checked them with), and the plan's on-error choice (default exit, as sqlcmd -b).
 */
export async function scriptToRun(
  sql: SqlFleetPort,
  ctx: FleetContext,
  name: string,
  text: string,
  at: DbRef,
  f: Omit<ScriptRun['for'], 'distributor'>,
): Promise<Script> {
  const named = await withReplicationNames({ ...f, distributor: distributorFor(ctx, f.publisher) }, (server) =>
    sql.replicationName(server),
  );
  const vars = runVariables(ctx.scripts?.variables, { for: named, at });
  const onError = ctx.scripts?.onError ?? 'exit';
  let includes;
  try {
    includes = readIncludes(ctx.scriptsDir, name, text, vars, onError);
  } catch (err) {
    // prepare-scripts checked the same; an include changed or went missing since.
    if (err instanceof SqlcmdError)
      throw ApplicationFailure.nonRetryable(`${err.message}; fix the script, then retry this step`, FailureType.script);
    throw err;
  }
  return { name, text, vars, onError, ...(Object.keys(includes).length > 0 && { includes }) };
}

export function createUpgradeActivities(portsFor: PortsFor) {
  const sql = async (ctx: FleetContext) => (await portsFor(ctx)).sql;
  const hosts = async (ctx: FleetContext) => (await portsFor(ctx)).hosts;

  return {
    /** preflight: connectivity, sysadmin, SQL Server Agent, versions and edition as the plan expects. */
    async checkServer(ctx: FleetContext, expect: ServerExpectation) {
      const facts = await withHeartbeat(async () => (await sql(ctx)).serverFacts(expect.server));
      const problems: string[] = [];
      if (!facts.isSysadmin)
        problems.push(`the replup login is not sysadmin on ${expect.server} (removing replication needs it)`);
      if (expect.distributes && !facts.agentRunning)
        problems.push(
          `SQL Server Agent is not running on ${expect.server}: the merge agents run as its jobs; start it`,
        );
      if (expect.sqlVersion && compareVersions(facts.version, expect.sqlVersion) !== 0) {
        problems.push(`${expect.server} runs SQL Server ${facts.version}, the plan expects ${expect.sqlVersion}`);
      }
      if (expect.edition && !facts.edition.toLowerCase().includes(expect.edition.toLowerCase())) {
        problems.push(`${expect.server} is ${facts.edition}, the plan expects ${expect.edition}`);
      }
      if (expect.publishes && /express/i.test(facts.edition)) {
        problems.push(`${expect.server} is ${facts.edition}: SQL Express can only subscribe, not publish`);
      }
      if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), FailureType.preflight);
      return facts;
    },

    /**
     * preflight: a publishing site's server has the distributor the plan says for it (issue #18 §3:
     * a branch publisher distributes for itself unless the plan names another).
     */
    async checkDistributor(ctx: FleetContext, site: DbRef, planned: DbRef) {
      const port = await sql(ctx);
      const found = await withHeartbeat(() => port.distributorOf(site.server));
      // Compared by the name replication knows the planned distributor by (HOST,PORT in a plan is not @@SERVERNAME).
      const expected = found.installed
        ? await withHeartbeat(() => port.replicationName(planned.server))
        : planned.server;
      const problem = distributorProblem(site, found, expected, planned);
      if (problem) throw ApplicationFailure.nonRetryable(problem, FailureType.preflight);
      return found;
    },

    /**
     * preflight + prepare-scripts: every script is there, parses as sqlcmd with the variables the
     * run will pass (a syntax error or an undefined variable is found before anything changes,
     * not after replication is gone), and the subscription scripts rewrite to sync type none.
     */
    async prepareScripts(
      ctx: FleetContext,
      files: ScriptFiles,
      needRowGuids: boolean,
      runs?: ScriptRuns,
    ): Promise<PreparedScript[]> {
      const s = await sql(ctx);
      // Which script runs for what, and where: the fleet's facts (plan/personalization-upgrade/fleet.ts).
      const wanted = plannedScripts(files, runs, needRowGuids, ctx.distributors, ctx.distributor);
      const out: PreparedScript[] = [];
      const configsAt: Record<string, PublicationConfig[]> = {};
      const publishedAt: Record<string, string[]> = {};
      const articleChecks: { prepared: PreparedScript; text: string; runs: ScriptRun[] }[] = [];
      return withHeartbeat(async () => {
        for (const w of wanted) {
          try {
            const loaded = await loadScriptFile(ctx.scriptsDir, w.file, w.rewrite);
            // Runs started before ScriptRuns existed check names only, with a stand-in value each.
            const checked = runs
              ? await Promise.all(
                  w.runs.map(async (r) => ({
                    ...r,
                    for: await withReplicationNames(r.for, (server) => s.replicationName(server)),
                  })),
                )
              : [
                  {
                    for: {
                      publication: 'P',
                      publisher: ctx.distributor,
                      subscriber: ctx.distributor,
                      distributor: ctx.distributor,
                    },
                    at: ctx.distributor,
                  },
                ];
            checkRuns(
              ctx.scriptsDir,
              w.file,
              loaded.text,
              checked,
              ctx.scripts?.variables,
              ctx.scripts?.onError ?? 'exit',
            );
            out.push({ file: w.file, rewrite: w.rewrite, sha256: sha256(loaded.text), changes: loaded.changes });
            if (runs && w.publication)
              articleChecks.push({ prepared: out[out.length - 1]!, text: loaded.text, runs: checked });
          } catch (err) {
            if (err instanceof ScriptProblem) throw ApplicationFailure.nonRetryable(err.message, FailureType.script);
            throw err;
          }
        }
        // Once every script reads and parses: every article a publication has today must be added
        // again by its script (#19/#20); after removal nothing is published to compare (skipped).
        for (const c of articleChecks) {
          try {
            const extra = await checkPublicationArticles(
              ctx.scriptsDir,
              c.prepared.file,
              c.text,
              c.runs,
              ctx.scripts?.variables,
              ctx.scripts?.onError ?? 'exit',
              async (r) => {
                const key = `${r.at.server}/${r.at.database}`;
                // replicationState first: its reads are guarded for a database whose sysmerge* tables are gone.
                const published = (publishedAt[key] ??= (await s.replicationState(r.at)).publications);
                if (!published.some((p) => p.toLowerCase() === r.for.publication?.toLowerCase())) return undefined;
                const pub = (configsAt[key] ??= await s.publicationConfigs(r.at)).find(
                  (p) => p.name.toLowerCase() === r.for.publication?.toLowerCase(),
                );
                return pub?.articles.map((a) => a.name);
              },
            );
            if (extra) c.prepared.extraArticles = extra;
          } catch (err) {
            if (err instanceof ScriptProblem) throw ApplicationFailure.nonRetryable(err.message, FailureType.script);
            throw err;
          }
        }
        return out;
      });
    },

    async drainHost(ctx: FleetContext, host: string) {
      const h = await hosts(ctx);
      await withHeartbeat(async () => {
        if (!(await h.isDrained(host))) await h.drain(host);
        if (!(await h.isDrained(host)))
          throw ApplicationFailure.retryable(
            `${host} still admits users after the drain command`,
            FailureType.transient,
          );
      });
    },

    async undrainHost(ctx: FleetContext, host: string) {
      const h = await hosts(ctx);
      await withHeartbeat(async () => {
        if (await h.isDrained(host)) await h.undrain(host);
      });
    },

    /** Users' sessions only: a replication agent's own connection is not a user to wait for. */
    async userSessions(ctx: FleetContext, db: DbRef) {
      return withHeartbeat(async () => (await (await sql(ctx)).activeSessions(db)).filter((x) => !x.replicationAgent));
    },

    /** Disconnects the users still connected after the drain deadline (the runbook's "disconnect every user"). */
    async disconnectUsers(ctx: FleetContext, db: DbRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        // Never a replication agent's session: KILLing a merge agent mid-merge fails its run.
        const users = async () => (await s.activeSessions(db)).filter((x) => !x.replicationAgent);
        const sessions = await users();
        const killed = sessions.length
          ? await s.killSessions(
              db,
              sessions.map((x) => x.sessionId),
            )
          : 0;
        const left = await users();
        return { killed, remaining: left.length };
      });
    },

    /** One merge agent run of one subscription, then what is still pending both ways. */
    async mergeSubscription(ctx: FleetContext, sub: SubscriptionRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const session = await s.runMergeAgent(sub);
        if (session.status === 'failed' && EXPIRED.test(session.message ?? '')) {
          // Retrying cannot help: the subscription's metadata is gone (subscription-expiration-and-deactivation).
          throw ApplicationFailure.nonRetryable(
            `subscription ${sub.publication} → ${sub.subscriber.server}/${sub.subscriber.database} has ` +
              `expired: ${session.message}; its unmerged changes cannot merge any more. Reinitialize it with ` +
              `upload first (sp_reinitmergesubscription @upload_first = 'true') and retry, or abort`,
            FailureType.expired,
          );
        }
        if (session.status === 'failed') {
          throw ApplicationFailure.retryable(
            `merge agent for ${sub.publication} → ${sub.subscriber.server}/${sub.subscriber.database} ` +
              `failed: ${session.message ?? 'see Replication Monitor'}`,
            FailureType.transient,
          );
        }
        const pending = await s.pendingChanges(sub);
        return { session, pending };
      });
    },

    /**
     * The publication's conflict rows, judged; `query` (absent in runs started before it existed) names the run's start
     * and subscribers.
     */
    async conflicts(ctx: FleetContext, publisher: DbRef, publication: string, query?: ConflictQuery) {
      return withHeartbeat(async () => (await sql(ctx)).conflicts(publisher, publication, query));
    },

    /**
     * The convergence proof for one subscription (issue #20 §1): marks it for merge validation, runs
     * its merge agent (the agent validates at the end of its session), and judges what the publisher
     * and the distributor recorded before and after. Safe to repeat: a retry marks and merges again.
     */
    async validateSubscription(ctx: FleetContext, sub: SubscriptionRef): Promise<SubscriptionValidation> {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const before = await s.validationState(sub);
        await s.markForValidation(sub);
        const session = await s.runMergeAgent(sub);
        const verdict = judgeValidation(before, await s.validationState(sub));
        // A merge agent may fail its run on a failed validation (third-party reports differ): the
        // recorded validation decides; a failure without one is the merge's own.
        if (session.status === 'failed' && verdict.outcome !== 'differs') {
          if (EXPIRED.test(session.message ?? '')) {
            throw ApplicationFailure.nonRetryable(
              `subscription ${sub.publication} → ${sub.subscriber.server}/${sub.subscriber.database} has ` +
                `expired: ${session.message}`,
              FailureType.expired,
            );
          }
          throw ApplicationFailure.retryable(
            `merge agent for ${sub.publication} → ${sub.subscriber.server}/${sub.subscriber.database} ` +
              `failed: ${session.message ?? 'see Replication Monitor'}`,
            FailureType.transient,
          );
        }
        return { publication: sub.publication, subscriber: sub.subscriber, ...verdict };
      });
    },

    /**
     * verify-replication (#20 §2): the first `limit` rows of each published table by primary key,
     * (key, rowguid) at the publisher and at each subscriber; a key with another rowguid parks.
     * Tables without a primary key or a ROWGUIDCOL are named as not compared.
     */
    async compareRowGuids(
      ctx: FleetContext,
      publisher: DbRef,
      publication: string,
      subscribers: DbRef[],
      limit: number,
    ) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const differences: RowGuidDifference[] = [];
        const notCompared: string[] = [];
        let rows = 0;
        for (const t of await s.publishedTables(publisher, publication)) {
          if (!t.rowguidColumn || !t.keyColumns.length) {
            notCompared.push(`${t.schema}.${t.table} (${t.keyColumns.length ? 'no ROWGUIDCOL' : 'no primary key'})`);
            continue;
          }
          const reference = await s.rowGuidSample(publisher, t, limit);
          for (const sub of subscribers) {
            const sample = await s.rowGuidSample(sub, t, limit);
            rows += sample.length;
            const d = rowGuidDifferences(t.table, sub, reference, sample);
            if (d) differences.push(d);
          }
        }
        const stop = rowGuidSampleStopMessage(publication, publisher, differences);
        if (stop) throw ApplicationFailure.nonRetryable(stop, 'CopiesDiffer');
        return { publication, rowsCompared: rows, notCompared };
      });
    },

    /**
     * preflight (#20 §2): stops when replication added a published table's rowguid column; it would not survive
     * removal.
     */
    async checkRowGuidColumns(ctx: FleetContext, publisher: DbRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const added = await s.replicationAddedRowGuids(publisher);
        const stop = addedRowGuidStopMessage(publisher, added);
        if (stop) throw ApplicationFailure.nonRetryable(stop, FailureType.preflight);
        return { checked: publisher };
      });
    },

    async backupDatabase(ctx: FleetContext, db: DbRef, dir: string, runId: string) {
      return withHeartbeat(async () => (await sql(ctx)).backupDatabase(db, dir, runId));
    },

    /** Removes merge replication from one database and verifies it is gone. */
    async removeReplication(ctx: FleetContext, db: DbRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const before = await s.replicationState(db);
        if (
          before.mergePublished ||
          before.publications.length ||
          before.subscriptions.some((x) => x.status !== 'deleted')
        ) {
          await s.removeReplication(db);
        }
        const after = await s.replicationState(db);
        const left = after.publications.length + after.subscriptions.filter((x) => x.status !== 'deleted').length;
        if (after.mergePublished || left > 0) {
          throw ApplicationFailure.retryable(
            `replication is still present on ${db.server}/${db.database}: ${after.publications.join(', ')}`,
            FailureType.transient,
          );
        }
        return { removedPublications: before.publications, removedSubscriptions: before.subscriptions.length };
      });
    },

    async upgradeHost(ctx: FleetContext, host: string, to: string) {
      const h = await hosts(ctx);
      return withHeartbeat(async () => {
        if (compareVersions(await h.productVersion(host), to) >= 0) return { host, upgraded: false };
        await h.upgradeHost(host, to);
        return { host, upgraded: true };
      });
    },

    async upgradeDatabase(ctx: FleetContext, db: DbRef, to: string) {
      const p = await portsFor(ctx);
      return withHeartbeat(async () => {
        if (compareVersions(await p.sql.databaseVersion(db), to) >= 0) return { db, upgraded: false };
        await p.hosts.upgradeDatabase(db, to);
        return { db, upgraded: true };
      });
    },

    /** After the upgrade: every database and personalization server reports the target version. */
    async verifyVersions(ctx: FleetContext, dbs: DbRef[], hostNames: string[], to: string) {
      const p = await portsFor(ctx);
      return withHeartbeat(async () => {
        // A few reads at a time: one after the other, 1000 subscribers took minutes.
        const [dbVersions, hostVersions] = await Promise.all([
          boundedAll(dbs, VERIFY_READS_AT_ONCE, (db) => p.sql.databaseVersion(db)),
          boundedAll(hostNames, VERIFY_READS_AT_ONCE, (host) => p.hosts.productVersion(host)),
        ]);
        const behind = [
          ...dbs.flatMap((db, i) =>
            compareVersions(dbVersions[i]!, to) < 0
              ? [`database ${db.server}/${db.database} is at ${dbVersions[i]}`]
              : [],
          ),
          ...hostNames.flatMap((host, i) =>
            compareVersions(hostVersions[i]!, to) < 0
              ? [`personalization server ${host} is at ${hostVersions[i]}`]
              : [],
          ),
        ];
        if (behind.length)
          throw ApplicationFailure.nonRetryable(`not yet at ${to}: ${behind.join('; ')}`, FailureType.verification);
        return { checked: dbs.length + hostNames.length };
      });
    },

    /**
     * Stops the background service; says whether it was running (restore-service restarts it on every host the step
     * recorded).
     */
    async stopBackgroundService(ctx: FleetContext, host: string) {
      const h = await hosts(ctx);
      return withHeartbeat(async () => {
        const wasRunning = (await h.serviceState(host, BACKGROUND_SERVICE)) === 'running';
        if (wasRunning) await h.stopService(host, BACKGROUND_SERVICE);
        if ((await h.serviceState(host, BACKGROUND_SERVICE)) !== 'stopped') {
          throw ApplicationFailure.retryable(`${BACKGROUND_SERVICE} on ${host} did not stop`, FailureType.transient);
        }
        return { host, wasRunning };
      });
    },

    async startBackgroundService(ctx: FleetContext, host: string) {
      const h = await hosts(ctx);
      return withHeartbeat(async () => {
        if ((await h.serviceState(host, BACKGROUND_SERVICE)) !== 'running')
          await h.startService(host, BACKGROUND_SERVICE);
        return { host };
      });
    },

    /** ConvertRowGuids.sql on one subscriber. */
    async runScript(ctx: FleetContext, db: DbRef, ref: ScriptRef, vars: Record<string, string>) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const text = await loadCheckedScript(ctx.scriptsDir, ref);
        void vars; // recorded in the history for the audit; the values are rebuilt from the plan (scriptToRun)
        return s.runScript(db, await scriptToRun(s, ctx, ref.file, text, db, { subscriber: db }));
      });
    },

    /**
     * ConvertRowGuids.sql on one subscriber, at most once (issue #20 §4: a second run may undo the
     * first). Why marks in the subscriber's database and not workflow state: Temporal retries a
     * failed activity by itself, without the workflow code running in between, so only something
     * this activity writes before the script and reads on every attempt can stop a retry; and it
     * tells a retry after a failed connect (no mark: nothing ran, run it) from one after a lost
     * reply (started, not done: the rows the started mark recorded as legacy are sampled again and
     * settle it when they agree; otherwise a person looks). It also outlives the run: a later run
     * finds the conversion done. The marks are database-level extended properties (no table of
     * replup's in the vendor's schema).
     */
    async convertRowGuids(
      ctx: FleetContext,
      db: DbRef,
      ref: ScriptRef,
      vars: Record<string, string>,
      runId: string,
      publishers: DbRef[] = [],
    ) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const marks = await s.rowGuidConversionMarks(db);
        if (marks.done !== undefined) return { db, ran: false, mark: marks.done };
        // Started, not done: the data settles it when it can (a sample against the publishers;
        // runs started before the publishers were passed have none and park as before).
        let rerun: string | undefined;
        if (marks.started !== undefined) {
          const started = readStartedMark(marks.started);
          const evidence = publishers.length
            ? judgeRowGuidConversion(await conversionSamples(s, db, publishers), started.before)
            : undefined;
          if (evidence?.outcome === 'converted') {
            const mark = `checked by run ${runId} at ${new Date().toISOString()}: ${evidence.summary}`;
            await s.markRowGuidConversion(db, 'done', mark);
            return { db, ran: false, mark, checked: evidence.summary };
          }
          if (evidence?.outcome !== 'not-converted') {
            const found = evidence ? `; the sample found ${evidence.summary}` : '';
            throw ApplicationFailure.nonRetryable(
              conversionUncertainMessage(db, ref.file, started.label) + found,
              FailureType.conversionUncertain,
            );
          }
          // Every sampled row still legacy: the script's transaction rolled back; run it once more.
          await s.clearRowGuidConversionStarted(db);
          rerun = evidence.summary;
        }
        const text = await loadCheckedScript(ctx.scriptsDir, ref);
        void vars; // see runScript
        const script = await scriptToRun(s, ctx, ref.file, text, db, { subscriber: db });
        // The rows the script is about to convert, kept in the started mark: after a lost reply the
        // check compares these (rows that came by merge already carry the publisher's GUID).
        const before = publishers.length ? legacyRowsBefore(await conversionSamples(s, db, publishers)) : undefined;
        await s.markRowGuidConversion(
          db,
          'started',
          startedMarkValue(`run ${runId} at ${new Date().toISOString()}`, before),
        );
        if ((await s.rowGuidConversionMarks(db)).started === undefined) {
          throw ApplicationFailure.retryable(
            `the mark ${ROWGUID_MARKS.started} is not on ${db.server}/${db.database} after writing it`,
            FailureType.transient,
          );
        }
        await s.runScript(db, script);
        await s.markRowGuidConversion(db, 'done', `run ${runId} at ${new Date().toISOString()}`);
        return { db, ran: true, ...(rerun !== undefined && { rerun }) };
      });
    },

    /**
     * The configuration of a publisher's own merge publications (read only): recorded before removal, compared after
     * re-enable.
     */
    async replicationConfig(ctx: FleetContext, publisher: DbRef): Promise<PublicationConfig[]> {
      return withHeartbeat(async () => (await sql(ctx)).publicationConfigs(publisher));
    },

    /**
     * After enable-replication (#20 §5): compares the publisher's publications with their
     * configuration before removal, puts back what sp_changemergepublication can without a snapshot
     * (verified), and returns what is left for a person.
     */
    async reapplyConfig(ctx: FleetContext, publisher: DbRef, before: PublicationConfig[]) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const found = compareConfigs(before, await s.publicationConfigs(publisher));
        const reapplied = found.filter((d) => d.reapply);
        for (const d of reapplied)
          await s.changePublication(publisher, d.publication, d.reapply!.property, d.reapply!.value);
        const after = await s.publicationConfigs(publisher);
        const still = compareConfigs(before, after);
        const notApplied = still.filter((d) => d.reapply);
        if (notApplied.length) {
          throw ApplicationFailure.retryable(
            `sp_changemergepublication did not take on ${publisher.server}/${publisher.database}: ` +
              `${notApplied.map((d) => `${d.publication} ${d.what} is ${d.after}`).join(', ')}`,
            FailureType.transient,
          );
        }
        return { publisher, before, after, reapplied, left: still };
      });
    },

    /**
     * A publication script on the publisher, unless the publication already exists. With
     * `articlesBefore` (the publication as it was before removal, #20 §3): one that exists without
     * some of those articles and has no subscriptions yet was left half-built by a failed script;
     * it is dropped and its script runs again.
     */
    async createPublication(
      ctx: FleetContext,
      publisher: DbRef,
      publication: string,
      ref: ScriptRef,
      vars: Record<string, string>,
      before?: PublicationConfig[],
    ) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const state = await s.replicationState(publisher);
        let rebuilt: string[] | undefined;
        if (state.publications.some((p) => p.toLowerCase() === publication.toLowerCase())) {
          if (!before) return { created: false };
          const now =
            (await s.publicationConfigs(publisher))
              .find((p) => p.name.toLowerCase() === publication.toLowerCase())
              ?.articles.map((a) => a.name) ?? [];
          const missing = missingArticles(before, publication, now);
          const subscribed = state.subscriptions.some(
            (x) => x.publication.toLowerCase() === publication.toLowerCase() && x.status !== 'deleted',
          );
          // With subscriptions it got past creation: what it lacks is for the configuration compare.
          if (!missing.length || subscribed) return { created: false };
          await s.dropPublication(publisher, publication);
          rebuilt = missing;
        }
        const text = await loadCheckedScript(ctx.scriptsDir, ref);
        void vars; // see runScript
        await s.runScript(publisher, await scriptToRun(s, ctx, ref.file, text, publisher, { publication, publisher }));
        const after = await s.replicationState(publisher);
        if (!after.publications.some((p) => p.toLowerCase() === publication.toLowerCase())) {
          throw ApplicationFailure.nonRetryable(
            `${ref.file} ran but publication ${publication} does not exist on ${publisher.server}/` +
              `${publisher.database}`,
            FailureType.verification,
          );
        }
        return { created: true, ...(rebuilt && { rebuiltHalfBuilt: rebuilt }) };
      });
    },

    /**
     * A subscription script (rewritten to sync type none) for one subscriber, unless the
     * subscription exists. A subscription that exists with sync type automatic is refused: its
     * snapshot would wipe the subscriber's archive.
     */
    async createSubscription(
      ctx: FleetContext,
      sub: SubscriptionRef,
      ref: ScriptRef,
      vars: Record<string, string>,
      checkAgent?: boolean,
    ) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        // sysmergesubscriptions names the subscriber by @@SERVERNAME, not as the plan does.
        const subscriberName = (await s.replicationName(sub.subscriber.server)).toLowerCase();
        // A subscription row or merge agent job of this subscription.
        const ofSub = (x: { publication: string; subscriber: DbRef }) =>
          x.publication.toLowerCase() === sub.publication.toLowerCase() &&
          x.subscriber.server.toLowerCase() === subscriberName &&
          x.subscriber.database.toLowerCase() === sub.subscriber.database.toLowerCase();
        const find = async () =>
          (await s.replicationState(sub.publisher)).subscriptions.find((x) => ofSub(x) && x.status !== 'deleted');
        // A subscription with sync type automatic delivers a snapshot at its agent's next run,
        // scheduled or not: its schedules are disabled at once, then a person decides (issue #19).
        const automatic = async (how: string) => {
          const jobs = (await s.mergeAgentJobs(sub.publisher)).filter(ofSub);
          const disabled: string[] = [];
          for (const j of jobs) {
            for (const sch of j.schedules.filter((x) => x.enabled)) {
              await s.setScheduleEnabled(sch.scheduleId, false, sub.publisher);
              disabled.push(`${j.name} (${sch.name})`);
            }
          }
          const done = disabled.length
            ? `replup disabled the schedules of its merge agent job ${disabled.join(', ')} so that no ` +
              `scheduled run delivers the snapshot`
            : `its merge agent job has no enabled schedule (${jobs.map((j) => j.name).join(', ') || 'no job found'})`;
          return ApplicationFailure.nonRetryable(
            `subscription ${sub.publication} → ${sub.subscriber.server}/${sub.subscriber.database} ${how} ` +
              `with sync type automatic: its first merge would deliver a snapshot and wipe the subscriber's ` +
              `archive. ${done}. Decide: drop this subscription (sp_dropmergesubscription) and retry the step, ` +
              `which creates it with sync type none; or abort. Do not run its agent before that`,
            FailureType.automatic,
          );
        };
        const existing = await find();
        if (existing?.syncType === 'automatic') throw await automatic('exists');
        let withoutAgent = false;
        if (existing && checkAgent) {
          // A subscription without its push agent job was left by a script that failed half-way (#20 §3): dropped and
          // made again.
          const jobs = await s.mergeAgentJobs(sub.publisher);
          withoutAgent = !jobs.some(ofSub);
          if (withoutAgent) await s.dropSubscription(sub);
        }
        if (existing && !withoutAgent) return { created: false };
        const text = await loadCheckedScript(ctx.scriptsDir, ref);
        void vars; // see runScript
        await s.runScript(
          sub.publisher,
          await scriptToRun(s, ctx, ref.file, text, sub.publisher, {
            publication: sub.publication,
            publisher: sub.publisher,
            subscriber: sub.subscriber,
          }),
        );
        const created = await find();
        if (created?.syncType === 'automatic') throw await automatic(`was created by ${ref.file}`);
        if (!created || created.syncType !== 'none') {
          throw ApplicationFailure.nonRetryable(
            `${ref.file} ran but the subscription for ${sub.subscriber.server}/${sub.subscriber.database} is ` +
              `${created ? `sync type ${created.syncType}` : 'missing'}`,
            FailureType.verification,
          );
        }
        return { created: true, ...(withoutAgent && { rebuiltWithoutAgent: true }) };
      });
    },

    /** preflight (#21): every database runs the plan's `from`; a fleet already at `to` stops here. */
    async checkProductVersions(ctx: FleetContext, dbs: DbRef[], from: string, to: string) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const versions = await boundedAll(dbs, VERIFY_READS_AT_ONCE, async (db) => ({
          db,
          version: await s.databaseVersion(db),
        }));
        const problems = productVersionProblems(versions, from, to);
        if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), FailureType.preflight);
        return { checked: versions.length };
      });
    },

    /**
     * preflight (#18 §3): the publisher's subscriptions exist, are active push subscriptions, have
     * merged within the retention period, and none is unknown to the plan. Warnings come back.
     */
    async checkSubscriptions(ctx: FleetContext, publisher: DbRef, planned: PlannedSubscription[], runHours: number) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        // sysmergesubscriptions names subscribers by @@SERVERNAME, not as the plan does.
        const named = await Promise.all(
          planned.map(async (p) => ({
            ...p,
            subscriber: { ...p.subscriber, server: await s.replicationName(p.subscriber.server) },
          })),
        );
        const found = await s.mergeSubscriptions(publisher);
        const { problems, warnings } = assessSubscriptions(publisher, named, found, Date.now(), runHours);
        if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), FailureType.preflight);
        return { checked: planned.length, warnings };
      });
    },

    /** The publisher's merge agent jobs and their schedules, read only: the workflow records them before any change. */
    async agentSchedules(ctx: FleetContext, publisher: DbRef): Promise<MergeAgentJob[]> {
      return withHeartbeat(async () => (await sql(ctx)).mergeAgentJobs(publisher));
    },

    /**
     * Disables every enabled schedule of the publisher's merge agent jobs, so no scheduled run
     * merges beside replup's own (Config every 5 minutes) or delivers a snapshot; verified.
     */
    async pauseAgentSchedules(ctx: FleetContext, publisher: DbRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        let paused = 0;
        for (const job of await s.mergeAgentJobs(publisher)) {
          for (const sch of job.schedules.filter((x) => x.enabled)) {
            await s.setScheduleEnabled(sch.scheduleId, false, publisher);
            paused += 1;
          }
        }
        const left = (await s.mergeAgentJobs(publisher)).flatMap((j) =>
          j.schedules.filter((x) => x.enabled).map((x) => `${j.name}: ${x.name}`),
        );
        if (left.length)
          throw ApplicationFailure.retryable(
            `merge agent schedules still enabled on the distributor: ${left.join(', ')}`,
            FailureType.transient,
          );
        return { paused };
      });
    },

    /**
     * enable-replication (#20 §5): the vendor's scripts re-created the jobs with their own schedules;
     * each schedule whose timing differs from the recorded one gets the recorded timing, left disabled
     * (the run's pause holds until restore-service); verified by reading again.
     */
    async retimeAgentSchedules(ctx: FleetContext, publisher: DbRef, recorded: RecordedSchedule[]) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const retime = (jobs: MergeAgentJob[]) => schedulesToRestore(jobs, recorded).filter((c) => c.timing);
        const changes = retime(await s.mergeAgentJobs(publisher));
        for (const c of changes) await s.setScheduleTiming(c.scheduleId, c.timing!, false, publisher);
        const now = await s.mergeAgentJobs(publisher);
        const left = retime(now);
        if (left.length)
          throw ApplicationFailure.retryable(
            `merge agent schedules not yet as recorded: ${left.map((c) => c.job).join(', ')}`,
            FailureType.transient,
          );
        return { retimed: changes.length, schedules: now };
      });
    },

    /** Puts the publisher's merge agent schedules back as recorded before the run; verified. */
    async restoreAgentSchedules(ctx: FleetContext, publisher: DbRef, recorded: RecordedSchedule[]) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const changes = schedulesToRestore(await s.mergeAgentJobs(publisher), recorded);
        // The vendor's scripts re-created the jobs with their own schedules (#20 §5): the DBA's timing goes back with
        // the enabled state.
        for (const c of changes)
          await (c.timing
            ? s.setScheduleTiming(c.scheduleId, c.timing, c.enabled, publisher)
            : s.setScheduleEnabled(c.scheduleId, c.enabled, publisher));
        const now = await s.mergeAgentJobs(publisher);
        const left = schedulesToRestore(now, recorded);
        if (left.length)
          throw ApplicationFailure.retryable(
            `merge agent schedules not yet restored: ${left.map((c) => c.job).join(', ')}`,
            FailureType.transient,
          );
        // The schedules as read back, for the report's before/after (#20 §5).
        return { restored: changes.length, retimed: changes.filter((c) => c.timing).length, schedules: now };
      });
    },

    /**
     * enable-replication (#18 §4): waits, heartbeating, until the publication's snapshot is ready
     * (a subscription without a snapshot still needs the publication's snapshot for its system
     * objects); at most maxWaitSeconds, then says whether it is. A failed Snapshot Agent stops it.
     */
    async waitForSnapshot(ctx: FleetContext, publisher: DbRef, publication: string, maxWaitSeconds: number) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const started = Date.now();
        for (;;) {
          const status = await s.snapshotStatus(publisher, publication);
          if (status.failure !== undefined) {
            throw ApplicationFailure.nonRetryable(
              `the Snapshot Agent of publication ${publication} on ${publisher.server}/${publisher.database} ` +
                `failed: ${status.failure}; fix its cause (see the agent's history in Replication Monitor), ` +
                `start the Snapshot Agent again, then retry this step`,
              FailureType.snapshot,
            );
          }
          const waited = Math.round((Date.now() - started) / 1000);
          if (status.ready) return { ready: true, waitedSeconds: waited };
          if (Date.now() - started >= maxWaitSeconds * 1000) return { ready: false, waitedSeconds: waited };
          await sleepMs(snapshotPollMs(ctx));
        }
      });
    },

    async writeCanary(ctx: FleetContext, publisher: DbRef, token: string) {
      return withHeartbeat(async () => (await sql(ctx)).writeCanary(publisher, token));
    },

    async readCanary(ctx: FleetContext, db: DbRef, token: string) {
      return withHeartbeat(async () => ({ db, arrived: await (await sql(ctx)).readCanary(db, token) }));
    },
  };
}

export type UpgradeActivities = ReturnType<typeof createUpgradeActivities>;

const CONVERSION_SAMPLE_ROWS = 100;

/**
 * The (primary key, rowguid) samples for an uncertain conversion: each table of the subscriber
 * with a ROWGUIDCOL and a primary key, and the same table at each publisher that has it (the
 * sample verify-replication takes, by table rather than publication: the publications are gone).
 */
async function conversionSamples(s: SqlFleetPort, db: DbRef, publishers: DbRef[]): Promise<ConversionSample[]> {
  const at = await Promise.all(
    publishers.map(async (p) => ({
      p,
      tables: new Set((await s.rowGuidTables(p)).map((t) => `${t.schema}.${t.table}`)),
    })),
  );
  const samples: ConversionSample[] = [];
  for (const t of await s.rowGuidTables(db)) {
    const holders = at.filter((x) => x.tables.has(`${t.schema}.${t.table}`));
    if (!holders.length) continue;
    samples.push({
      table: `${t.schema}.${t.table}`,
      atSubscriber: await s.rowGuidSample(db, t, CONVERSION_SAMPLE_ROWS),
      atPublishers: await Promise.all(holders.map((x) => s.rowGuidSample(x.p, t, CONVERSION_SAMPLE_ROWS))),
    });
  }
  return samples;
}

/** The park message after an uncertain ConvertRowGuids.sql: what is known, how to check, the two ways on. */
export function conversionUncertainMessage(db: DbRef, file: string, started: string): string {
  const name = quoteIdent(db.database);
  return (
    `${file} started on ${db.server}/${db.database} (${started}) but replup never heard it finish (a lost ` +
    `reply or a failed batch); ` +
    (`a second run may undo the first, so replup does not run it again. Check the row GUIDs: a row whose ` +
      `rowguid equals the publisher's `) +
    (`for the same primary key is converted. All converted: EXEC ${name}.sys.sp_addextendedproperty @name = N'` +
      `${ROWGUID_MARKS.done}', @value = N'checked by <you>'; `) +
    (`none converted: EXEC ${name}.sys.sp_dropextendedproperty @name = N'${ROWGUID_MARKS.started}'; then ` +
      `retry the step. `) +
    `Partly converted: restore this subscriber's backup from the backup step and start again, or abort`
  );
}
