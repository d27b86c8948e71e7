// What the SQL Server adapter sends for an add-subscriber or remove-subscriber plan, for
// `replup plan show --sql`: statements.ts's and subscriber-statements.ts's, in the runbooks' steps.
// Pure: no connection.
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import type { AddSubscriberPlan, RemoveSubscriberPlan, SubscriberPlanBase } from '../../plan/add-subscriber/types.js';
import { expandScriptVariables } from '../sqlcmd/variables.js';
import { REPLACEMENT_APPROVED } from '../subscribers/ports.js';
import type { SentStatement } from './plan-sql.js';
import * as sql from './statements.js';
import * as subscriberSql from './subscriber-statements.js';

const MASTER = 'master';
const TOKEN = '<replup-<run id>>';
const MERGE_NOTE =
  "each merge sends the upgrade's merge agent statements (the push agent's job found in MSmerge_agents, " +
  'sp_start_job, sysjobactivity polled, the new MSmerge_sessions row, sp_showpendingchanges): ' +
  '`replup plan show --sql` of an upgrade plan lists them';

const pooled = (server: string) => ({ server, database: MASTER });
const facts = (db: DbRef, role: string): SentStatement => ({
  purpose: `the ${role}'s version, edition, sysadmin, SQL Server Agent`,
  ...pooled(db.server),
  statement: sql.serverFacts(),
});
const state = (db: DbRef, purpose: string): SentStatement => ({
  purpose,
  ...pooled(db.server),
  statement: sql.replicationState(db.database),
});

/** The canary: written at the publisher, read at each subscriber (the plan's target.canary queries). */
function canary(plan: SubscriberPlanBase, subscribers: DbRef[]): SentStatement[] {
  const queries = plan.target.kind === 'sqlserver' ? plan.target.canary : undefined;
  const write = queries?.write ?? '<target.canary.write>';
  const read = queries?.read ?? '<target.canary.read>';
  return [
    {
      purpose: 'the canary change at the publisher',
      ...pooled(plan.publisher.server),
      statement: sql.canary(plan.publisher.database, write, TOKEN),
    },
    ...subscribers.map((db) => ({
      purpose: 'has the canary arrived?',
      ...pooled(db.server),
      statement: sql.canary(db.database, read, TOKEN),
    })),
  ];
}

function preflight(plan: SubscriberPlanBase): SentStatement[] {
  const separate = plan.distributor.server.toLowerCase() !== plan.publisher.server.toLowerCase();
  return [
    facts(plan.publisher, 'publisher'),
    ...(separate ? [facts(plan.distributor, 'distributor')] : []),
    facts(plan.subscriber, 'subscriber'),
    state(plan.publisher, "the publisher's publications and subscriptions"),
  ];
}

export function addSubscriberStatements(plan: AddSubscriberPlan) {
  const sub = plan.subscriber;
  const files = {
    Config: plan.scripts.files.createConfigSubscription,
    Data: plan.scripts.files.createDataSubscription,
  };
  return [
    {
      id: 'preflight',
      notes: ['read only'],
      statements: [
        ...preflight(plan),
        {
          purpose: 'does the subscriber database exist?',
          ...pooled(sub.server),
          statement: subscriberSql.databaseExists(sub.database),
        },
        ...plan.publications.map((p) => ({
          purpose: `is the snapshot of ${p.name} ready? (repeated, at most ${plan.options.snapshotTimeoutMinutes} min)`,
          ...pooled(plan.publisher.server),
          statement: sql.publicationSnapshotReady(plan.publisher.database, p.name),
        })),
        {
          purpose: "the subscriber's rows per table, approximate (the approval's text)",
          ...pooled(sub.server),
          statement: subscriberSql.tableRowCounts(sub.database),
        },
      ],
    },
    {
      id: 'create-subscriptions',
      notes: ['after the approval (gate create-subscriptions); Config before Data'],
      statements: [
        {
          purpose: 'record the approval in the subscriber database',
          ...pooled(sub.server),
          statement: sql.addRowGuidConversionMark(sub.database, REPLACEMENT_APPROVED, '<approvers (run id)>'),
        },
        ...plan.publications.flatMap((p): SentStatement[] => [
          state(plan.publisher, `is ${p.name} subscribed already? (before, and after, to verify)`),
          {
            purpose: `${files[p.kind]} on the publisher, as written (sync type automatic)`,
            server: plan.publisher.server,
            database: plan.publisher.database,
            statement: sql.sqlcmdSessionDefaults(),
            script: {
              file: files[p.kind],
              vars: expandScriptVariables(plan.scripts.variables, {
                publication: p.name,
                publisher: plan.publisher,
                subscriber: sub,
                distributor: plan.distributor,
              }),
            },
            only: `if ${p.name} is not subscribed yet`,
          },
        ]),
      ],
    },
    { id: 'synchronize', notes: [`one merge per publication, Config before Data; ${MERGE_NOTE}`], statements: [] },
    {
      id: 'verify-subscription',
      notes: [`the canary written, then one merge per publication (${MERGE_NOTE}), then read`],
      statements: canary(plan, [sub]),
    },
  ];
}

export function removeSubscriberStatements(plan: RemoveSubscriberPlan) {
  const sub = plan.subscriber;
  return [
    { id: 'preflight', notes: ['read only'], statements: preflight(plan) },
    {
      id: 'drop-subscriptions',
      notes: ['after the approval (gate drop-subscriptions); the publisher first, then the subscriber'],
      statements: [
        ...plan.publications.map((p) => ({
          purpose: `drop ${p.name} at the publisher`,
          ...pooled(plan.publisher.server),
          statement: sql.dropMergeSubscription(plan.publisher.database, p.name, sub),
          runtime: { subscriber: `<@@SERVERNAME of ${sub.server}>` },
          only: `if ${p.name} is subscribed`,
        })),
        ...plan.publications.map((p) => ({
          purpose: `clean ${p.name}'s merge metadata at the subscriber`,
          ...pooled(sub.server),
          statement: sql.mergeSubscriptionCleanup(sub.database, plan.publisher.server, plan.publisher.database, p.name),
          runtime: { publisher: `<@@SERVERNAME of ${plan.publisher.server}>` },
        })),
        state(plan.publisher, 'verify: no subscription of the subscriber at the publisher'),
        state(sub, 'verify: no merge metadata of the publisher at the subscriber'),
      ],
    },
    {
      id: 'verify-fleet',
      notes: [`the canary written, one merge per other subscription (${MERGE_NOTE}), then read at each`],
      statements: canary(plan, [{ server: '<each other subscriber>', database: '<its database>' }]),
    },
  ];
}
