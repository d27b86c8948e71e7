// The Personalization Server upgrade's activities: thin, idempotent wrappers over the ports. Each
// one observes before it acts and verifies after, because Temporal runs an activity at least once.
// Errors leave here classified: transient ones retry with backoff, everything else parks the step.
import { heartbeating } from './heartbeat.js';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { Credentials, DbRef, HostCommands, ScriptFiles, Target } from '../plan/types.js';
import { BACKGROUND_SERVICE, type HostPort, type SqlFleetPort, type SubscriptionRef } from './ports.js';
import { toApplicationFailure } from './sqlserver/failure.js';
import { parseSqlcmd, rewriteSyncType, SqlcmdError } from './sqlcmd/index.js';
import { includeFromDir } from './sqlcmd/files.js';
import { compareVersions } from '../plan/version.js';
import { boundedAll } from '../workflows/bounded.js';

/** What an activity needs to reach the fleet: no secrets, only references. */
export interface FleetContext {
  target: Target;
  credentials: Credentials;
  hosts: HostCommands;
  scriptsDir: string;
  distributor: DbRef;
  versionQuery?: string;
}

export interface Ports {
  sql: SqlFleetPort;
  hosts: HostPort;
}

export type PortsFor = (ctx: FleetContext) => Ports | Promise<Ports>;

/** Failure types the workflow and the report recognise. */
export const FailureType = {
  transient: 'SqlTransient',
  preflight: 'PreflightFailed',
  conflicts: 'ConflictsFound',
  script: 'ScriptProblem',
  verification: 'VerificationFailed',
} as const;


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
}

async function loadScript(dir: string, ref: Pick<ScriptRef, 'file' | 'rewrite'>): Promise<string> {
  let text: string;
  try {
    text = await readFile(join(dir, ref.file), 'utf8');
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `script ${join(dir, ref.file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? err}); check scripts.dir in the plan`,
      FailureType.script,
    );
  }
  return ref.rewrite ? rewriteSyncType(text).text : text;
}

/** The vendor scripts' server variables carry the names replication knows (@@SERVERNAME). */
async function replicationVars(sql: SqlFleetPort, vars: Record<string, string>): Promise<Record<string, string>> {
  const out = { ...vars };
  for (const name of ['DistributorServer', 'PublisherServer', 'SubscriberServer']) {
    if (out[name] !== undefined) out[name] = await sql.replicationName(out[name]);
  }
  return out;
}

export function createUpgradeActivities(portsFor: PortsFor) {
  const sql = async (ctx: FleetContext) => (await portsFor(ctx)).sql;
  const hosts = async (ctx: FleetContext) => (await portsFor(ctx)).hosts;

  return {
    /** preflight: connectivity, sysadmin, SQL Server Agent, versions and edition as the plan expects. */
    async checkServer(ctx: FleetContext, expect: ServerExpectation) {
      const facts = await withHeartbeat(async () => (await sql(ctx)).serverFacts(expect.server));
      const problems: string[] = [];
      if (!facts.isSysadmin) problems.push(`the replup login is not sysadmin on ${expect.server} (removing replication needs it)`);
      if (expect.distributes && !facts.agentRunning) problems.push(`SQL Server Agent is not running on ${expect.server}: the merge agents run as its jobs; start it`);
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
     * preflight + prepare-scripts: every script is there, parses as sqlcmd with the variables the
     * run will pass (a syntax error or an undefined variable is found before anything changes,
     * not after replication is gone), and the subscription scripts rewrite to sync type none.
     */
    async prepareScripts(ctx: FleetContext, files: ScriptFiles, needRowGuids: boolean): Promise<PreparedScript[]> {
      // The variable names the runbook passes to each script (Fleet.vars in workflows/personalization-upgrade.ts).
      const publicationVars = ['DistributorServer', 'Publication', 'PublisherServer', 'PublisherDatabase'];
      const subscriptionVars = [...publicationVars, 'SubscriberServer', 'SubscriberDatabase'];
      const wanted: { file: string; rewrite: boolean; vars: string[] }[] = [
        { file: files.createConfigPublication, rewrite: false, vars: publicationVars },
        { file: files.createDataPublication, rewrite: false, vars: publicationVars },
        { file: files.createConfigSubscription, rewrite: true, vars: subscriptionVars },
        { file: files.createDataSubscription, rewrite: true, vars: subscriptionVars },
      ];
      if (needRowGuids) wanted.push({ file: files.convertRowGuids, rewrite: false, vars: ['DistributorServer', 'SubscriberServer', 'SubscriberDatabase'] });
      const out: PreparedScript[] = [];
      for (const w of wanted) {
        const original = await loadScript(ctx.scriptsDir, { file: w.file, rewrite: false });
        const rewritten = w.rewrite ? rewriteSyncType(original) : { text: original, changes: [] };
        if (w.rewrite && rewriteSyncType(rewritten.text).changes.length !== 0) {
          throw ApplicationFailure.nonRetryable(`${w.file}: the sync type rewrite did not settle; check the script`, FailureType.script);
        }
        if (w.rewrite && !/sp_addmergesubscription/i.test(original)) {
          throw ApplicationFailure.nonRetryable(`${w.file} has no sp_addmergesubscription call: is it the vendor's subscription script?`, FailureType.script);
        }
        try {
          parseSqlcmd(rewritten.text, {
            file: w.file,
            vars: Object.fromEntries(w.vars.map((v) => [v, v])),
            resolveInclude: includeFromDir(ctx.scriptsDir), // `:r` as the SQL Server adapter reads it
          });
        } catch (err) {
          if (!(err instanceof SqlcmdError)) throw err;
          throw ApplicationFailure.nonRetryable(`${join(ctx.scriptsDir, err.file)} line ${err.line}: ${err.detail}; fix the script, then retry this step`, FailureType.script);
        }
        out.push({ file: w.file, rewrite: w.rewrite, sha256: sha256(rewritten.text), changes: rewritten.changes });
      }
      return out;
    },

    async drainHost(ctx: FleetContext, host: string) {
      const h = await hosts(ctx);
      await withHeartbeat(async () => {
        if (!(await h.isDrained(host))) await h.drain(host);
        if (!(await h.isDrained(host))) throw ApplicationFailure.retryable(`${host} still admits users after the drain command`, FailureType.transient);
      });
    },

    async undrainHost(ctx: FleetContext, host: string) {
      const h = await hosts(ctx);
      await withHeartbeat(async () => {
        if (await h.isDrained(host)) await h.undrain(host);
      });
    },

    async userSessions(ctx: FleetContext, db: DbRef) {
      return withHeartbeat(async () => (await sql(ctx)).activeSessions(db));
    },

    /** Disconnects the users still connected after the drain deadline (the runbook's "disconnect every user"). */
    async disconnectUsers(ctx: FleetContext, db: DbRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const sessions = await s.activeSessions(db);
        const killed = sessions.length ? await s.killSessions(db, sessions.map((x) => x.sessionId)) : 0;
        const left = await s.activeSessions(db);
        return { killed, remaining: left.length };
      });
    },

    /** One merge agent run of one subscription, then what is still pending both ways. */
    async mergeSubscription(ctx: FleetContext, sub: SubscriptionRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const session = await s.runMergeAgent(sub);
        if (session.status === 'failed') {
          throw ApplicationFailure.retryable(`merge agent for ${sub.publication} → ${sub.subscriber.server}/${sub.subscriber.database} failed: ${session.message ?? 'see Replication Monitor'}`, FailureType.transient);
        }
        const pending = await s.pendingChanges(sub);
        return { session, pending };
      });
    },

    async conflicts(ctx: FleetContext, publisher: DbRef, publication: string) {
      return withHeartbeat(async () => (await sql(ctx)).conflicts(publisher, publication));
    },

    async backupDatabase(ctx: FleetContext, db: DbRef, dir: string, runId: string) {
      return withHeartbeat(async () => (await sql(ctx)).backupDatabase(db, dir, runId));
    },

    /** Removes merge replication from one database and verifies it is gone. */
    async removeReplication(ctx: FleetContext, db: DbRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const before = await s.replicationState(db);
        if (before.mergePublished || before.publications.length || before.subscriptions.some((x) => x.status !== 'deleted')) {
          await s.removeReplication(db);
        }
        const after = await s.replicationState(db);
        const left = after.publications.length + after.subscriptions.filter((x) => x.status !== 'deleted').length;
        if (after.mergePublished || left > 0) {
          throw ApplicationFailure.retryable(`replication is still present on ${db.server}/${db.database}: ${after.publications.join(', ')}`, FailureType.transient);
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
          ...dbs.flatMap((db, i) => (compareVersions(dbVersions[i]!, to) < 0 ? [`database ${db.server}/${db.database} is at ${dbVersions[i]}`] : [])),
          ...hostNames.flatMap((host, i) => (compareVersions(hostVersions[i]!, to) < 0 ? [`personalization server ${host} is at ${hostVersions[i]}`] : [])),
        ];
        if (behind.length) throw ApplicationFailure.nonRetryable(`not yet at ${to}: ${behind.join('; ')}`, FailureType.verification);
        return { checked: dbs.length + hostNames.length };
      });
    },

    /** Stops the background service; says whether it was running (restore-service restarts it on every host the step recorded). */
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
        if ((await h.serviceState(host, BACKGROUND_SERVICE)) !== 'running') await h.startService(host, BACKGROUND_SERVICE);
        return { host };
      });
    },

    /** ConvertRowGuids.sql on one subscriber. */
    async runScript(ctx: FleetContext, db: DbRef, ref: ScriptRef, vars: Record<string, string>) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const text = await loadScript(ctx.scriptsDir, ref);
        if (sha256(text) !== ref.sha256) {
          throw ApplicationFailure.nonRetryable(`${ref.file} changed since prepare-scripts checked it; review it and retry the step`, FailureType.script);
        }
        return s.runScript(db, { name: ref.file, text, vars: await replicationVars(s, vars) });
      });
    },

    /** A publication script on the publisher, unless the publication already exists. */
    async createPublication(ctx: FleetContext, publisher: DbRef, publication: string, ref: ScriptRef, vars: Record<string, string>) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const state = await s.replicationState(publisher);
        if (state.publications.some((p) => p.toLowerCase() === publication.toLowerCase())) return { created: false };
        const text = await loadScript(ctx.scriptsDir, ref);
        if (sha256(text) !== ref.sha256) {
          throw ApplicationFailure.nonRetryable(`${ref.file} changed since prepare-scripts checked it; review it and retry the step`, FailureType.script);
        }
        await s.runScript(publisher, { name: ref.file, text, vars: await replicationVars(s, vars) });
        const after = await s.replicationState(publisher);
        if (!after.publications.some((p) => p.toLowerCase() === publication.toLowerCase())) {
          throw ApplicationFailure.nonRetryable(`${ref.file} ran but publication ${publication} does not exist on ${publisher.server}/${publisher.database}`, FailureType.verification);
        }
        return { created: true };
      });
    },

    /**
     * A subscription script (rewritten to sync type none) for one subscriber, unless the
     * subscription exists. A subscription that exists with sync type automatic is refused: its
     * snapshot would wipe the subscriber's archive.
     */
    async createSubscription(ctx: FleetContext, sub: SubscriptionRef, ref: ScriptRef, vars: Record<string, string>) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        // sysmergesubscriptions names the subscriber by @@SERVERNAME, not as the plan does.
        const subscriberName = (await s.replicationName(sub.subscriber.server)).toLowerCase();
        const find = async () =>
          (await s.replicationState(sub.publisher)).subscriptions.find(
            (x) =>
              x.publication.toLowerCase() === sub.publication.toLowerCase() &&
              x.subscriber.server.toLowerCase() === subscriberName &&
              x.subscriber.database.toLowerCase() === sub.subscriber.database.toLowerCase() &&
              x.status !== 'deleted',
          );
        const existing = await find();
        if (existing?.syncType === 'automatic') {
          throw ApplicationFailure.nonRetryable(
            `subscription ${sub.publication} → ${sub.subscriber.server}/${sub.subscriber.database} exists with sync type automatic: a snapshot would wipe the subscriber's archive. Drop it and retry.`,
            FailureType.verification,
          );
        }
        if (existing) return { created: false };
        const text = await loadScript(ctx.scriptsDir, ref);
        if (sha256(text) !== ref.sha256) {
          throw ApplicationFailure.nonRetryable(`${ref.file} changed since prepare-scripts checked it; review it and retry the step`, FailureType.script);
        }
        await s.runScript(sub.publisher, { name: ref.file, text, vars: await replicationVars(s, vars) });
        const created = await find();
        if (!created || created.syncType !== 'none') {
          throw ApplicationFailure.nonRetryable(
            `${ref.file} ran but the subscription for ${sub.subscriber.server}/${sub.subscriber.database} is ${created ? `sync type ${created.syncType}` : 'missing'}`,
            FailureType.verification,
          );
        }
        return { created: true };
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
