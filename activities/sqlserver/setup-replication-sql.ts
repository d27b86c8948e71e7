// What the SQL Server adapter sends for a setup-replication plan, for `replup plan show --sql`: the
// upgrade's statements (statements.ts) and the vendor scripts, in the set-up's steps. Pure: no connection.
import type { DbRef, Site } from '../../plan/personalization-upgrade/types.js';
import * as F from '../../plan/personalization-upgrade/fleet.js';
import type { SetupPlan } from '../../plan/setup-replication/types.js';
import { setupSteps } from '../../plan/setup-replication/steps.js';
import { snapshotPollStatements, type SentStatement } from './plan-sql.js';
import * as sql from './statements.js';
import { configureLocalDistributor, setReadCommittedSnapshot } from './setup-replication-statements.js';

const MASTER = 'master';

/** The steps that apply, each with the statements it sends and how (notes). */
export function setupStatements(plan: SetupPlan) {
  const pooled = (server: string) => ({ server, database: MASTER });
  const distributors = F.fleetDistributors(plan);
  const distOf = (db: DbRef) => distributors.find((d) => d.publisher === db.server)?.distributor ?? plan.distributor;
  const state = (db: DbRef, purpose: string): SentStatement => ({
    purpose,
    ...pooled(db.server),
    statement: sql.replicationState(db.database),
  });
  const central = plan.publisher.key;
  const publish = (pubs: typeof plan.publications): SentStatement[] =>
    pubs.flatMap((p) => {
      const at = F.siteOf(plan, p.publisher);
      const file = plan.scripts.files[F.SCRIPT_OF_KIND[p.kind].publication];
      return [
        state(at, 'does the publication exist? (before, and after, to verify)'),
        {
          purpose: `${file} on the publisher`,
          server: at.server,
          database: at.database,
          statement: sql.sqlcmdSessionDefaults(),
          script: { file, vars: F.scriptVariables(plan, { publication: p.name, publisher: at }) },
          only: 'if the publication does not exist',
        },
        ...snapshotPollStatements(at, distOf(at), p.name, {
          ready: `is its snapshot ready? (repeated, at most ${plan.options.snapshotTimeoutMinutes} minutes)`,
          failed: 'did its Snapshot Agent fail? (then the step parks)',
        }),
      ];
    });
  const subscribe = (kind: 'Config' | 'Data'): SentStatement[] =>
    F.subscriptions(plan, kind).flatMap((s) => {
      const file = plan.scripts.files[F.SCRIPT_OF_KIND[kind].subscription];
      const d = distOf(s.publisher);
      return [
        state(s.publisher, 'does the subscription exist? (before, and after: sync type automatic)'),
        {
          purpose: `${file} on the publisher, as written (sync type automatic)`,
          server: s.publisher.server,
          database: s.publisher.database,
          statement: sql.sqlcmdSessionDefaults(),
          script: {
            file,
            vars: F.scriptVariables(plan, {
              publication: s.publication,
              publisher: s.publisher,
              subscriber: s.subscriber,
            }),
          },
          only: 'if the subscription does not exist',
        },
        {
          purpose: 'its push merge agent job, for the first merge (it delivers the snapshot)',
          ...pooled(d.server),
          statement: sql.mergeAgents(d.database, s.publisher.database, s.publication),
        },
        { purpose: 'start it', ...pooled(d.server), statement: sql.startJob('<job_id found above>') },
      ];
    });
  const site = (key: string): Site => F.siteOf(plan, key);
  const all: Record<string, { notes: string[]; statements: SentStatement[] }> = {
    preflight: {
      notes: ["Read only. Every server, then each publishing server's distributor, then every database."],
      statements: [
        ...F.servers(plan).map((s) => ({
          purpose: 'version, edition, sysadmin, SQL Server Agent',
          ...pooled(s.name),
          statement: sql.serverFacts(),
        })),
        ...F.siteDistributors(plan).map(({ site: at }) => ({
          purpose: `the distributor of ${F.where(at)} (sp_get_distributor)`,
          ...pooled(at.server),
          statement: sql.distributorOfServer(),
        })),
        ...plan.sites.map((s) => state(s, 'does the database exist, and does it replicate already? (refused if so)')),
      ],
    },
    'configure-distributor': {
      notes: [
        'Only at a publishing server that distributes for itself and has none (preflight asked sp_get_distributor).',
      ],
      statements: F.siteDistributors(plan)
        .filter(({ site: at, distributor }) => at.server === distributor.server)
        .map(({ site: at, distributor }) => ({
          purpose: 'this server its own distributor, distribution database and publisher (one sqlcmd batch)',
          server: at.server,
          database: at.database,
          statement: configureLocalDistributor('<@@SERVERNAME>', distributor.database, plan.snapshotFolder),
          only: 'if sp_get_distributor says installed 0',
        })),
    },
    'read-committed-snapshot': {
      notes: ['Through the sqlcmd runner, in each database, as the seed writes it.'],
      statements: plan.readCommittedSnapshot.map((c) => ({
        purpose: `read committed snapshot ${c.on ? 'on' : 'off'} (the plan's choice)`,
        server: site(c.site).server,
        database: site(c.site).database,
        statement: { sql: setReadCommittedSnapshot(site(c.site).database, c.on), params: {} },
      })),
    },
    'publish-config': {
      notes: ['Then its Snapshot Agent waited for.'],
      statements: publish(F.publicationsOf(plan, 'Config')),
    },
    'publish-data': {
      notes: ["The seed's second wait."],
      statements: publish(F.publicationsOf(plan, 'Data').filter((p) => p.publisher === central)),
    },
    'subscribe-config': { notes: ['Branches first, then the others.'], statements: subscribe('Config') },
    'publish-branch-data': {
      notes: ['Each branch, its own distributor.'],
      statements: publish(F.publicationsOf(plan, 'Data').filter((p) => p.publisher !== central)),
    },
    'subscribe-data': { notes: [], statements: subscribe('Data') },
    'verify-replication': {
      notes: ['Read only, at each publisher.'],
      statements: F.publishers(plan).flatMap((p) => [
        state(p, 'its publications and subscriptions: every planned one there, active'),
        { purpose: "its publications' articles", ...pooled(p.server), statement: sql.publicationArticles(p.database) },
      ]),
    },
  };
  return setupSteps(plan)
    .filter((s) => s.applies)
    .map((s) => ({ id: s.id, ...all[s.id]! }));
}
