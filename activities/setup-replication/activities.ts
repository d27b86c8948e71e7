// The set-up runbook's own activities (issue 24), over the upgrade's ports (activities/ports.ts):
// what the upgrade's activities do not cover. Preflight's "nothing replicated yet", read committed
// snapshot per database, a push subscription *with* a snapshot (the upgrade only makes them without),
// and the final look at each publisher. Each observes before it acts and verifies after.
import { ApplicationFailure } from '@temporalio/activity';
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import { SqlError, type SubscriptionRef } from '../ports.js';
import { heartbeating } from '../heartbeat.js';
import { toApplicationFailure } from '../sqlserver/failure.js';
import { loadScript, scriptToRun, type FleetContext, type PortsFor } from '../personalization-upgrade/activities.js';
import {
  asBatch,
  configureLocalDistributor,
  setReadCommittedSnapshot,
} from '../sqlserver/setup-replication-statements.js';
import { distributorProblem } from '../personalization-upgrade/preflight.js';
import { SetupFailure } from './failures.js';

const where = (db: DbRef) => `${db.server}/${db.database}`;
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function withHeartbeat<T>(work: () => Promise<T>): Promise<T> {
  return heartbeating(work, (err) => toApplicationFailure(err));
}

/** What a publisher should have when the set-up is done: its publications and their subscribers. */
export interface ExpectedPublisher {
  publisher: DbRef;
  publications: { name: string; subscribers: DbRef[] }[];
}

export function createSetupActivities(portsFor: PortsFor) {
  const sql = async (ctx: FleetContext) => (await portsFor(ctx)).sql;

  return {
    /**
     * preflight: every database exists and takes part in no replication yet. A fleet already
     * (partly) set up is refused before any change, with the way forward.
     */
    async checkNotReplicated(ctx: FleetContext, dbs: DbRef[]) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const problems: string[] = [];
        for (const db of dbs) {
          let state;
          try {
            state = await s.replicationState(db);
          } catch (err) {
            // 911/15010/4060: no such database (the lab answers with the same numbers).
            if (err instanceof SqlError && [911, 4060, 15010].includes(err.number)) {
              problems.push(
                `${where(db)} does not exist: create it first (install the personalization server database, ` +
                  'the vendor\'s "Create all the required databases")',
              );
              continue;
            }
            throw err;
          }
          const subs = state.subscriptions.filter((x) => x.status !== 'deleted');
          if (state.mergePublished || state.publications.length || subs.length) {
            const what = [
              ...state.publications.map((p) => `publication ${p}`),
              ...subs.map((x) => `subscription ${x.publication} ${where(x.publisher)} → ${where(x.subscriber)}`),
            ];
            problems.push(`${where(db)} is already replicated (${what.join(', ') || 'enabled for merge publishing'})`);
          }
        }
        if (problems.length)
          throw ApplicationFailure.nonRetryable(
            `${problems.join('; ')}. Nothing was changed. To add a subscriber to a fleet that replicates, use the ` +
              "add-subscriber runbook; to start over, remove replication first (the vendor's RemoveReplication, " +
              'sp_removedbreplication) and start this plan again',
            SetupFailure.alreadyReplicated,
          );
        return { checked: dbs.length };
      });
    },

    /**
     * preflight: the publishing site's distributor. Installed: it must be the plan's (as the upgrade checks
     * it). Not installed: the set-up installs it when the site distributes for itself (SetMasterUp's "set up
     * the distributer"); a distributor on another server must be configured there first (refused).
     */
    async distributorToInstall(ctx: FleetContext, site: DbRef, planned: DbRef) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const found = await s.distributorOf(site.server);
        if (!found.installed && same(site.server, planned.server)) return { install: true };
        const expected = found.installed ? await s.replicationName(planned.server) : planned.server;
        const problem = distributorProblem(site, found, expected, planned);
        if (problem) throw ApplicationFailure.nonRetryable(problem, SetupFailure.preflight);
        return { install: false };
      });
    },

    /** The site's server its own distributor, distribution database and publisher (one batch); verified after. */
    async configureDistributor(ctx: FleetContext, site: DbRef, planned: DbRef, snapshotFolder?: string) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const name = await s.replicationName(site.server);
        const installed = async () => {
          const found = await s.distributorOf(site.server);
          return found.installed && found.server !== undefined && same(found.server, name);
        };
        if (await installed()) return { installed: false };
        const text = asBatch(configureLocalDistributor(name, planned.database, snapshotFolder));
        await s.runScript(site, { name: 'configure-distributor', text, vars: {}, onError: 'exit' });
        if (!(await installed()))
          throw ApplicationFailure.nonRetryable(
            `the distributor of ${site.server} is not ${name} after sp_adddistributor; see the server's error log`,
            SetupFailure.verification,
          );
        return { installed: true };
      });
    },

    /** The plan's read committed snapshot choice for one database, by the seed's ALTER DATABASE (sqlcmd runner). */
    async setReadCommittedSnapshot(ctx: FleetContext, db: DbRef, on: boolean) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const text = setReadCommittedSnapshot(db.database, on);
        await s.runScript(db, {
          name: `read-committed-snapshot ${on ? 'on' : 'off'}`,
          text,
          vars: {},
          onError: 'exit',
        });
        return { database: where(db), on };
      });
    },

    /**
     * A push subscription with sync type automatic (its first merge delivers the publication's
     * snapshot: the subscriber's tables are replaced), by the vendor's subscription script run
     * as written. One that exists already is left as it is.
     */
    async subscribeWithSnapshot(ctx: FleetContext, sub: SubscriptionRef, file: string) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const name = (await s.replicationName(sub.subscriber.server)).toLowerCase();
        const find = async () =>
          (await s.replicationState(sub.publisher)).subscriptions.find(
            (x) =>
              same(x.publication, sub.publication) &&
              same(x.subscriber.server, name) &&
              same(x.subscriber.database, sub.subscriber.database) &&
              x.status !== 'deleted',
          );
        if (await find()) return { created: false };
        const text = await loadScript(ctx.scriptsDir, { file, rewrite: false });
        const script = await scriptToRun(s, ctx, file, text, sub.publisher, {
          publication: sub.publication,
          publisher: sub.publisher,
          subscriber: sub.subscriber,
        });
        await s.runScript(sub.publisher, script);
        const made = await find();
        if (!made || made.syncType !== 'automatic')
          throw ApplicationFailure.nonRetryable(
            `${file} ran but the subscription ${sub.publication} → ${where(sub.subscriber)} is ` +
              `${made ? `sync type ${made.syncType} (the set-up needs automatic: a snapshot)` : 'missing'}`,
            SetupFailure.verification,
          );
        return { created: true };
      });
    },

    /** verify-replication: each publication exists with articles, each planned subscription is active. */
    async verifyPublisher(ctx: FleetContext, expected: ExpectedPublisher) {
      const s = await sql(ctx);
      return withHeartbeat(async () => {
        const p = expected.publisher;
        const state = await s.replicationState(p);
        const configs = await s.publicationConfigs(p);
        const problems: string[] = [];
        for (const pub of expected.publications) {
          const config = configs.find((c) => same(c.name, pub.name));
          if (!config) problems.push(`publication ${pub.name} is missing at ${where(p)}`);
          else if (!config.articles.length) problems.push(`publication ${pub.name} at ${where(p)} has no articles`);
          for (const sub of pub.subscribers) {
            const name = (await s.replicationName(sub.server)).toLowerCase();
            const found = state.subscriptions.find(
              (x) =>
                same(x.publication, pub.name) &&
                same(x.subscriber.server, name) &&
                same(x.subscriber.database, sub.database),
            );
            if (!found || found.status !== 'active')
              problems.push(
                `subscription ${pub.name} → ${where(sub)} is ${found ? found.status : 'missing'} at ${where(p)}`,
              );
          }
        }
        if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), SetupFailure.verification);
        return { publisher: where(p), publications: expected.publications.length };
      });
    },
  };
}

export type SetupActivities = ReturnType<typeof createSetupActivities>;
