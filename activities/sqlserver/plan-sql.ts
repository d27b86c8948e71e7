// What the SQL Server adapter sends for a plan, step by step, for `replup plan show --sql`: the
// statements of statements.ts with this plan's databases and values, in the order the activities
// (activities/personalization-upgrade/activities.ts) and the adapter (adapter.ts) send them. Pure: no connection, no
// file read. Values only a running step knows (a session id, a job id, @@SERVERNAME) are shown as <…>.
import { DEFAULT_SNAPSHOT_TIMEOUT_MINUTES, planSteps } from '../../plan/personalization-upgrade/steps.js';
import { distributorOf } from '../../plan/personalization-upgrade/schema.js';
import type { DbRef, Site, UpgradePlan, UpgradeStepId } from '../../plan/personalization-upgrade/types.js';
import { backupFilePath } from './backup-file.js';
import * as sql from './statements.js';
import { ROWGUID_MARKS } from '../ports.js';
import { expandScriptVariables } from '../sqlcmd/variables.js';
import { TIMING_FIELDS } from '../personalization-upgrade/preflight.js';
import {
  allDistributors,
  distributorForPublisher,
  publisherDistributors,
} from '../personalization-upgrade/distributors.js';

/** One statement on the server's pool (database master) or, for scripts, on one dedicated connection. */
export interface SentStatement {
  /** What it is for, in the DBA's words. */
  purpose: string;
  /** The server as the plan names it. */
  server: string;
  database: string;
  statement: sql.Statement;
  /** Parameters whose value is known only when the step runs: shown as this text instead. */
  runtime?: Record<string, string>;
  /** Sent only under this condition. */
  only?: string;
  /** A script whose batches follow the statement on the same connection, with its sqlcmd variables. */
  script?: { file: string; vars: Record<string, string> };
}

export interface StepStatements {
  id: UpgradeStepId;
  /** How the step sends them (order, repeats), or why it sends none. */
  notes: string[];
  statements: SentStatement[];
}

const MASTER = 'master';
/**
 * Rows per table in verify-replication's (primary key, rowguid) sample (workflows/personalization-upgrade.ts
 * ROWGUID_SAMPLE_ROWS).
 */
const ROWGUID_SAMPLE_ROWS = 100;
const JOB_ID = '<job_id of the merge agent found above>';
const AGENT_ID = '<id of the merge agent found above>';
const SCHEDULE_ID = '<schedule_id found above>';
/** rowGuidSample's query as the step builds it for each table it finds (plan show knows none of them). */
const ROWGUID_SAMPLE_QUERY =
  "<SELECT TOP (@limit) <key columns as text, '|' between> AS row_key, CONVERT(nvarchar(36), " +
  '<ROWGUIDCOL>) AS rowguid FROM <schema>.<table> ORDER BY <key columns>;>';
/** The sampled table as plan show names it: the real ones are found when the step runs. A new object each call. */
const sampledTable = () => ({
  schema: '<schema>',
  table: '<table>',
  keyColumns: ['<primary key columns>'],
  rowguidColumn: '<ROWGUIDCOL>',
});

/**
 * The two statements that wait for a publication's snapshot, shared by the upgrade and the set-up: is it ready
 * (polled on the publisher's master), and did its Snapshot Agent fail (on the distributor, while it is not ready).
 * `purposes` are the caller's words for each.
 */
export function snapshotPollStatements(
  publisher: DbRef,
  distributor: DbRef,
  publication: string,
  purposes: { ready: string; failed: string },
): SentStatement[] {
  return [
    {
      purpose: purposes.ready,
      server: publisher.server,
      database: MASTER,
      statement: sql.publicationSnapshotReady(publisher.database, publication),
    },
    {
      purpose: purposes.failed,
      server: distributor.server,
      database: MASTER,
      statement: sql.snapshotAgentLastRun(distributor.database, publisher.database, publication),
      only: 'while it is not ready',
    },
  ];
}

/**
 * `<@@SERVERNAME of SQL01,1433>`: replication knows a server by @@SERVERNAME, which the plan may not spell the same.
 */
const replicationName = (server: string) => `<@@SERVERNAME of ${server}>`;

/** The steps that apply to the plan, each with the statements it sends. */
export function planStatements(plan: UpgradePlan): StepStatements[] {
  const site = (key: string): Site => {
    const found = plan.sites.find((s) => s.key === key);
    if (!found) throw new Error(`internal: the plan names site ${key} but does not define it`);
    return found;
  };
  const publicationsOf = (kind: 'Config' | 'Data') => plan.publications.filter((p) => p.kind === kind);
  // Config before Data, as the runbook merges and enables them (never both at once).
  const subscriptions = (['Config', 'Data'] as const).flatMap((kind) =>
    publicationsOf(kind).flatMap((p) =>
      p.subscribers.map((s) => ({ publication: p.name, publisher: site(p.publisher), subscriber: site(s) })),
    ),
  );
  const subscriberSites = plan.sites.filter((s) => plan.publications.some((p) => p.subscribers.includes(s.key)));
  const on = (db: DbRef) => ({ server: db.server, database: db.database });
  const pooled = (server: string) => ({ server, database: MASTER });
  const rowGuidSampleAt = (db: DbRef, purpose: string): SentStatement => ({
    purpose,
    ...pooled(db.server),
    statement: sql.rowGuidSample(db.database, sampledTable(), ROWGUID_SAMPLE_ROWS),
    runtime: { query: ROWGUID_SAMPLE_QUERY },
  });
  const dist = plan.distributor;
  // Each publisher's distributor (issue #18 §3): a branch's Data agents live in its own distribution database.
  const distributors = publisherDistributors(plan);
  const distOf = (publisher: DbRef) => distributorForPublisher(distributors, dist, publisher.server);
  const sameDb = (a: DbRef, b: DbRef) =>
    a.server.toLowerCase() === b.server.toLowerCase() && a.database.toLowerCase() === b.database.toLowerCase();
  const versionQuery = plan.versionQuery ?? '<versionQuery: not in the plan>';
  const canary = plan.target.kind === 'sqlserver' ? plan.target.canary : undefined;

  // The variables the runbook passes: the plan's scripts.variables mapping, as Fleet.vars expands it.
  const vars = (v: { publication?: string; publisher?: DbRef; subscriber?: DbRef }) =>
    expandScriptVariables(plan.scripts.variables, { ...v, distributor: v.publisher ? distOf(v.publisher) : dist });
  const script = (
    purpose: string,
    db: DbRef,
    file: string,
    scriptVars: Record<string, string>,
    only?: string,
  ): SentStatement => ({
    purpose,
    ...on(db),
    statement: sql.sqlcmdSessionDefaults(),
    script: { file, vars: scriptVars },
    ...(only !== undefined && { only }),
  });
  const state = (db: DbRef, purpose: string): SentStatement => ({
    purpose,
    ...pooled(db.server),
    statement: sql.replicationState(db.database),
  });
  const publishers = [...new Set(plan.publications.map((p) => p.publisher))].map(site);

  /**
   * The merge agent schedules of each publisher's jobs: read, changed one by one, read again to verify (preflight,
   * enable-replication, restore-service).
   */
  const schedules = (change: string, enabled: boolean | 'as recorded', only: string): SentStatement[] =>
    publishers.flatMap((p): SentStatement[] => [
      {
        purpose: "the merge agent jobs of each publisher's subscriptions, with their schedules",
        ...pooled(distOf(p).server),
        statement: sql.mergeAgentJobSchedules(distOf(p).database, p.database),
      },
      {
        purpose: change,
        ...pooled(distOf(p).server),
        statement: sql.updateScheduleEnabled(0, enabled === true),
        runtime: {
          scheduleId: SCHEDULE_ID,
          ...(enabled === 'as recorded' && { enabled: '<1 or 0, as preflight recorded it>' }),
        },
        only,
      },
      {
        purpose: 'read them again, to verify',
        ...pooled(distOf(p).server),
        statement: sql.mergeAgentJobSchedules(distOf(p).database, p.database),
      },
    ]);

  /** sp_update_schedule with the recorded timing of one schedule (#20 §5), sent where `at` says (a distributor). */
  const retimed = (at: { server: string; database: string }, purpose: string, enabled: string): SentStatement => ({
    purpose,
    server: at.server,
    database: at.database,
    statement: sql.updateScheduleTiming(
      0,
      {
        freqType: 0,
        freqInterval: 0,
        freqSubdayType: 0,
        freqSubdayInterval: 0,
        freqRelativeInterval: 0,
        freqRecurrenceFactor: 0,
        activeStartDate: 0,
        activeEndDate: 0,
        activeStartTime: 0,
        activeEndTime: 0,
      },
      false,
    ),
    runtime: {
      scheduleId: SCHEDULE_ID,
      ...(enabled !== '0' && { enabled }),
      ...Object.fromEntries(TIMING_FIELDS.map((k) => [k, '<as preflight recorded it>'])),
    },
    only: 'for each schedule whose timing differs from the recorded one',
  });

  /** One sync round: every subscription's merge agent, what is pending both ways, then the conflicts. */
  const syncRound = (): SentStatement[] => [
    ...subscriptions.map((s): SentStatement => ({
      purpose: 'the push merge agent of each subscription, and its SQL Server Agent job',
      ...pooled(distOf(s.publisher).server),
      statement: sql.mergeAgents(distOf(s.publisher).database, s.publisher.database, s.publication, {
        server: '',
        database: s.subscriber.database,
      }),
      runtime: { subscriberServer: replicationName(s.subscriber.server) },
    })),
    // Once per distributor that runs some of these agents: a merge agent's job is at its publisher's distributor.
    ...subscriptions
      .map((s) => distOf(s.publisher))
      .filter((d, i, all) => all.findIndex((x) => sameDb(x, d)) === i)
      .flatMap((d): SentStatement[] => {
        // at the distributor, on the merge agent's job (jobId) or the agent itself (agentId)
        const onJob = (purpose: string, statement: sql.Statement): SentStatement => ({
          purpose,
          ...pooled(d.server),
          statement,
          runtime: { jobId: JOB_ID },
        });
        const onAgent = (purpose: string): SentStatement => ({
          purpose,
          ...pooled(d.server),
          statement: sql.newestMergeSession(d.database, 0),
          runtime: { agentId: AGENT_ID },
        });
        return [
          onJob(
            'for each merge agent in turn: its job steps (a -Continuous job never finishes and is refused)',
            sql.jobSteps(''),
          ),
          onJob('is the job running already? (then replup waits and tries again)', sql.jobActivity('')),
          onAgent('the newest merge session before the run'),
          onJob('start the job', sql.startJob('')),
          onJob('every 5 s until the run it started has stopped (at most 4 h)', sql.jobActivity('')),
          onAgent('the merge session the run recorded: rows moved both ways, conflicts'),
        ];
      }),
    ...subscriptions.flatMap((s): SentStatement[] => [
      {
        purpose: 'changes not yet merged down to the subscriber (at the publisher)',
        ...pooled(s.publisher.server),
        statement: sql.pendingChanges(s.publisher.database, s.publication, ''),
        runtime: { destinationServer: replicationName(s.subscriber.server) },
      },
      {
        purpose: 'changes not yet merged up to the publisher (at the subscriber)',
        ...pooled(s.subscriber.server),
        statement: sql.pendingChanges(s.subscriber.database, s.publication, ''),
        runtime: { destinationServer: replicationName(s.publisher.server) },
      },
    ]),
    ...conflicts(),
  ];
  // Read where the publication logs them (sysmergepublications.centralized_conflicts / decentralized_conflicts).
  const conflicts = (): SentStatement[] =>
    plan.publications.flatMap((p) => [
      {
        purpose: 'conflicts recorded for each publication, and where it logs them',
        ...pooled(site(p.publisher).server),
        statement: sql.conflicts(site(p.publisher).database, p.name),
      },
      ...p.subscribers.map((k): SentStatement => ({
        purpose: 'the same at each subscriber',
        ...pooled(site(k).server),
        statement: sql.conflicts(site(k).database, p.name),
        only:
          'if the publication logs its conflicts at the subscriber only (decentralized_conflicts = 1, ' +
          'centralized_conflicts = 0)',
      })),
    ]);

  /**
   * The convergence proof (issue #20 §1), per subscription: what the publisher and the distributor
   * record of its validations, the mark; then its merge agent runs (as in a sync round) and both
   * are read again.
   */
  const validation = (): SentStatement[] =>
    subscriptions.flatMap((s): SentStatement[] => {
      const subscriber = { server: '', database: s.subscriber.database };
      const runtime = { subscriber: replicationName(s.subscriber.server) };
      return [
        {
          purpose:
            "each subscription's validation dates at the publisher (last_validated, attempted_validate): " +
            'before the mark, and after its merge',
          ...pooled(s.publisher.server),
          statement: sql.mergeValidationDates(s.publisher.database, s.publication, subscriber),
          runtime,
        },
        {
          purpose:
            "its merge agent's validation alerts in the distributor's msdb (20574 failed, per table; 20575 " +
            'passed): before and after',
          ...pooled(distOf(s.publisher).server),
          statement: sql.mergeValidationAlerts(s.publisher.database, s.publication, subscriber),
          runtime,
        },
        {
          purpose:
            'mark it for merge validation, row counts and binary checksums (its merge agent validates at the ' +
            'run replup starts next)',
          ...pooled(s.publisher.server),
          statement: sql.validateMergeSubscription(s.publisher.database, s.publication, subscriber),
          runtime,
        },
      ];
    });

  /** Per kind of statement, every database in removal order: the output lists each statement once with its places. */
  const removal = (): SentStatement[] => {
    const order = [
      ...plan.sites.filter((s) => s.role !== 'subscriber'),
      ...plan.sites.filter((s) => s.role === 'subscriber'),
    ];
    const published = (s: Site) => plan.publications.filter((p) => p.publisher === s.key);
    return [
      ...order.map((s) =>
        state(
          s,
          'the replication in each database: publications and subscriptions (before removal, and after, to verify)',
        ),
      ),
      ...order.flatMap((s) =>
        published(s).flatMap((p) =>
          p.subscribers.map((key): SentStatement => ({
            purpose: 'drop each subscription to a publication of the database',
            ...pooled(s.server),
            statement: sql.dropMergeSubscription(s.database, p.name, { server: '', database: site(key).database }),
            runtime: { subscriber: replicationName(site(key).server) },
          })),
        ),
      ),
      ...order.flatMap((s) =>
        published(s).map((p): SentStatement => ({
          purpose: 'drop each publication',
          ...pooled(s.server),
          statement: sql.dropMergePublication(s.database, p.name),
        })),
      ),
      ...order.flatMap((s) =>
        plan.publications
          .filter((p) => p.subscribers.includes(s.key))
          .map((p): SentStatement => ({
            purpose: "remove the subscriber's side of each subscription the database holds",
            ...pooled(s.server),
            statement: sql.mergeSubscriptionCleanup(s.database, '', site(p.publisher).database, p.name),
            runtime: { publisher: replicationName(site(p.publisher).server) },
          })),
      ),
      ...order
        .filter((s) => published(s).length > 0)
        .map((s): SentStatement => ({
          purpose: 'disable merge publishing of each publishing database',
          ...pooled(s.server),
          statement: sql.disableMergePublishing(s.database),
        })),
      ...order.map((s): SentStatement => ({
        purpose: 'remove what is left (the documented fallback)',
        ...pooled(s.server),
        statement: sql.removeDbReplication(s.database),
        only: 'if replication is still there after the removal above',
      })),
    ];
  };

  const bySteps: Record<UpgradeStepId, Omit<StepStatements, 'id'>> = {
    preflight: {
      notes: [
        'The scripts are read and checked on the worker (no SQL). Nothing is changed before the merge agent ' +
          'schedules are recorded.',
      ],
      statements: [
        ...[...new Set(plan.sites.map((s) => s.server))].map((server) => ({
          purpose: 'server facts: version, edition, @@SERVERNAME, sysadmin, SQL Server Agent',
          ...pooled(server),
          statement: sql.serverFacts(),
        })),
        ...(plan.sites.some((s) => s.server.toLowerCase() === dist.server.toLowerCase())
          ? []
          : [
              {
                purpose: 'the same of the distributor, on a server of its own',
                ...pooled(dist.server),
                statement: sql.serverFacts(),
              },
            ]),
        // A branch publisher's distributor when the plan puts it on a server of its own.
        ...[...new Set(publishers.map((p) => distributorOf(plan, p).server))]
          .filter(
            (server) =>
              server.toLowerCase() !== dist.server.toLowerCase() &&
              !plan.sites.some((s) => s.server.toLowerCase() === server.toLowerCase()),
          )
          .map((server) => ({
            purpose: "the same of a branch publisher's distributor, on a server of its own",
            ...pooled(server),
            statement: sql.serverFacts(),
          })),
        ...[...new Set(publishers.map((p) => p.server))].map((server) => ({
          purpose:
            "each publishing server's distributor (sp_get_distributor): installed, and the one the plan names for it",
          ...pooled(server),
          statement: sql.distributorOfServer(),
        })),
        ...plan.sites.map((s) => ({
          purpose: `the Personalization Server version of each database (versionQuery): it must be ${plan.from}`,
          ...pooled(s.server),
          statement: sql.productVersion(s.database, versionQuery),
        })),
        ...publishers.map((p) => ({
          purpose: "each publisher's merge subscriptions: present, active, push, merged within the retention period",
          ...pooled(p.server),
          statement: sql.mergeSubscriptionHealth(p.database),
        })),
        ...publishers.map((p) => ({
          purpose:
            'articles whose rowguid column replication added (preserve_rowguidcol = 0): removal would drop ' +
            'it (KB 2646528), so preflight stops',
          ...pooled(p.server),
          statement: sql.replicationAddedRowGuids(p.database),
        })),
        ...schedules(
          'pause each enabled schedule for the run (recorded above, restored in restore-service or on abort)',
          false,
          'for each enabled schedule',
        ),
      ],
    },
    'drain-users': {
      notes: [
        `Repeated until no user session is left, for at most options.drainTimeoutSeconds (` +
          `${plan.options.drainTimeoutSeconds} s).`,
      ],
      statements: [
        ...allDistributors(distributors, dist).map((d): SentStatement => ({
          purpose: "the merge agents' names: their own sessions are not users' (not waited for, never KILLed)",
          ...pooled(d.server),
          statement: sql.mergeAgentNames(d.database),
        })),
        ...plan.sites.map((s): SentStatement => ({
          purpose: 'user sessions of each database',
          ...pooled(s.server),
          statement: sql.userSessions(s.database),
        })),
        ...plan.sites.map((s): SentStatement => ({
          purpose: 'disconnect a user session',
          ...pooled(s.server),
          // KILL takes no parameter: the id is a checked number in the real statement.
          statement: { sql: sql.killSession(1).sql.replace('1', '<session_id>'), params: {} },
          only: `for each session still open after ${plan.options.drainTimeoutSeconds} s`,
        })),
      ],
    },
    'sync-until-quiet': {
      notes: [
        `Each round: for each subscription, Config ones first, then Data ones, its merge agent runs and what ` +
          `is pending is counted; then the conflicts. Rounds repeat until ${plan.options.sync.quietRounds} in ` +
          `a row are quiet (at most ${plan.options.sync.maxRounds}).`,
        'Then the convergence proof (pending counts leave out generation-0 rows): each subscription is ' +
          'marked for validation and its merge agent runs once more, Config ones first; a table out of sync ' +
          'stops the step.',
      ],
      statements: [...syncRound(), ...validation()],
    },
    backup: {
      notes: [],
      statements: plan.sites.flatMap((s): SentStatement[] => {
        const file = backupFilePath(plan.backup.dir, s.database, 'RUNID').replace(/RUNID\.bak$/, '<run id>.bak');
        return [
          {
            purpose: 'a backup this run already wrote (a retried step reuses it)',
            ...pooled(s.server),
            statement: sql.backupInFile(s.database, file),
          },
          {
            purpose: 'verify it',
            ...pooled(s.server),
            statement: sql.verifyBackup(file),
            only: 'if that backup exists, copy-only and checksummed',
          },
          {
            purpose: 'copy-only, checksummed backup of each database',
            ...pooled(s.server),
            statement: sql.backupDatabase(s.database, file),
          },
          { purpose: 'verify it', ...pooled(s.server), statement: sql.verifyBackup(file) },
          { purpose: "msdb's record of it", ...pooled(s.server), statement: sql.backupInFile(s.database, file) },
        ];
      }),
    },
    'remove-replication': {
      notes: [
        'Databases that publish first, then the subscribers; in each database in this order. Publishers and ' +
          'subscribers are named as replication recorded them (@@SERVERNAME).',
      ],
      statements: [
        // Recorded before anything is removed (issue #20 §5), compared after enable-replication.
        ...publishers.flatMap((p): SentStatement[] => [
          {
            purpose:
              "record each publisher's publications as they are (retention, conflict retention, " +
              'compatibility level, conflict logging)',
            ...pooled(p.server),
            statement: sql.publicationProperties(p.database),
          },
          {
            purpose: 'and their articles with their options',
            ...pooled(p.server),
            statement: sql.publicationArticles(p.database),
          },
        ]),
        ...removal(),
      ],
    },
    upgrade: {
      notes: [
        plan.hosts.upgrade === 'manual'
          ? 'An operator upgrades the servers and databases; after `replup confirm` every database is checked.'
          : 'Before each database is upgraded (publisher first), and after, to verify.',
      ],
      statements: plan.sites.map((s) => ({
        purpose: 'the Personalization Server version of each database (versionQuery)',
        ...pooled(s.server),
        statement: sql.productVersion(s.database, versionQuery),
      })),
    },
    'stop-background-services': {
      notes: ["No SQL: the plan's hosts.stopService command runs for each personalization server."],
      statements: [],
    },
    'convert-row-guids': {
      notes: [
        "At most once per subscriber: replup's marks (database-level extended properties) are read first; " +
          'done skips the script.',
        'Started without done (a lost reply): the rows recorded in the started mark as legacy are sampled ' +
          "again; all with the publisher's GUID marks it done, all still legacy clears the mark and runs the " +
          'script once more, anything else stops the step for a person.',
      ],
      statements: subscriberSites.flatMap((s): SentStatement[] => {
        const publishers = plan.publications.filter((p) => p.subscribers.includes(s.key)).map((p) => site(p.publisher));
        const sampled = [...new Map([s, ...publishers].map((db) => [`${db.server}/${db.database}`, db])).values()];
        const sample = 'before the started mark (its legacy rows are recorded in it), and when started without done';
        return [
          {
            purpose: 'has ConvertRowGuids started / finished here? (before, and after the started mark, to verify)',
            ...pooled(s.server),
            statement: sql.rowGuidConversionMarks(s.database, ROWGUID_MARKS.started, ROWGUID_MARKS.done),
          },
          ...sampled.map((db): SentStatement => ({
            purpose: 'the tables with a ROWGUIDCOL and a primary key, at the subscriber and at each of its publishers',
            ...pooled(db.server),
            statement: sql.rowGuidTableKeys(db.database),
            only: sample,
          })),
          ...sampled.map((db): SentStatement => ({
            ...rowGuidSampleAt(
              db,
              `the first ${ROWGUID_SAMPLE_ROWS} rows of each such table by primary key: the subscriber's GUID ` +
                `against the publisher's and its legacy byte order`,
            ),
            only: sample,
          })),
          {
            purpose: 'take the started mark away: every recorded row is still legacy (the script rolled back)',
            ...pooled(s.server),
            statement: sql.dropRowGuidConversionMark(s.database, ROWGUID_MARKS.started),
            only: 'started without done, every recorded row still legacy',
          },
          {
            purpose: 'mark the conversion started',
            ...pooled(s.server),
            statement: sql.addRowGuidConversionMark(s.database, ROWGUID_MARKS.started, 'run'),
            runtime: {
              value: "N'run <run id> at <time>; legacy rows before: <JSON of table → keys, 1,000 characters at most>'",
            },
            only: 'if neither mark is there (or the started one was just taken away)',
          },
          script(
            `${plan.scripts.files.convertRowGuids} on each subscriber`,
            s,
            plan.scripts.files.convertRowGuids,
            vars({ subscriber: s }),
            'if neither mark is there',
          ),
          {
            purpose: 'mark the conversion done',
            ...pooled(s.server),
            statement: sql.addRowGuidConversionMark(s.database, ROWGUID_MARKS.done, 'run'),
            runtime: {
              value: "N'run <run id> at <time>' (or N'checked by run <run id> at <time>: <what the sample found>')",
            },
            only: 'after the script, or started without done and every recorded row converted',
          },
        ];
      }),
    },
    'prepare-scripts': {
      notes: ['No SQL: the subscription scripts are read and rewritten on the worker.'],
      statements: [],
    },
    'enable-replication': {
      notes: ['Publications first, then subscriptions; Config before Data.'],
      statements: [
        ...(['Config', 'Data'] as const).flatMap((kind) =>
          publicationsOf(kind).flatMap((p): SentStatement[] => {
            const publisher = site(p.publisher);
            const file =
              kind === 'Config' ? plan.scripts.files.createConfigPublication : plan.scripts.files.createDataPublication;
            return [
              state(publisher, 'does the publication exist? (before, and after, to verify)'),
              {
                purpose: 'its articles: does it have every article it had before removal?',
                ...pooled(publisher.server),
                statement: sql.publicationArticles(publisher.database),
                only: 'if the publication exists',
              },
              {
                purpose: 'drop it: a failed script left it half-built',
                ...pooled(publisher.server),
                statement: sql.dropMergePublication(publisher.database, p.name),
                only: 'if it lacks some and has no subscriptions',
              },
              script(
                `${file} on the publisher`,
                publisher,
                file,
                vars({ publication: p.name, publisher }),
                'if the publication does not exist, or was dropped as half-built',
              ),
              ...snapshotPollStatements(publisher, distOf(publisher), p.name, {
                ready:
                  `is the publication's snapshot ready? (repeated until it is, at most ` +
                  `${plan.options.snapshotTimeoutMinutes ?? DEFAULT_SNAPSHOT_TIMEOUT_MINUTES} minutes)`,
                failed: 'did its Snapshot Agent fail?',
              }),
            ];
          }),
        ),
        ...subscriptions.flatMap((s): SentStatement[] => {
          const file = publicationsOf('Config').some((p) => p.name === s.publication)
            ? plan.scripts.files.createConfigSubscription
            : plan.scripts.files.createDataSubscription;
          return [
            state(s.publisher, 'does the subscription exist, and with which sync type? (before, and after, to verify)'),
            {
              purpose: 'has it its push agent job?',
              ...pooled(distOf(s.publisher).server),
              statement: sql.mergeAgentJobSchedules(distOf(s.publisher).database, s.publisher.database),
              only: 'if the subscription exists',
            },
            {
              purpose: 'drop it: a failed script left it without its agent',
              ...pooled(s.publisher.server),
              statement: sql.dropMergeSubscription(s.publisher.database, s.publication, {
                server: '',
                database: s.subscriber.database,
              }),
              runtime: { subscriber: replicationName(s.subscriber.server) },
              only: 'if it has no agent job',
            },
            script(
              `${file}, rewritten to @sync_type = N'none', on the publisher for each subscriber`,
              s.publisher,
              file,
              vars({ publication: s.publication, publisher: s.publisher, subscriber: s.subscriber }),
              'if the subscription does not exist',
            ),
          ];
        }),
        ...schedules("pause the new jobs' schedules until restore-service", false, 'for each enabled schedule'),
        ...publishers.flatMap((p): SentStatement[] => [
          retimed(
            pooled(distOf(p).server),
            "give a re-created job's schedule the timing it had before the run, still paused",
            '0',
          ),
          {
            purpose: 'read them again, to verify the timing',
            ...pooled(distOf(p).server),
            statement: sql.mergeAgentJobSchedules(distOf(p).database, p.database),
          },
        ]),
        ...publishers.flatMap((p): SentStatement[] => [
          {
            purpose: 'the publications as the scripts made them (before and after putting back, to verify)',
            ...pooled(p.server),
            statement: sql.publicationProperties(p.database),
          },
          { purpose: 'and their articles', ...pooled(p.server), statement: sql.publicationArticles(p.database) },
          {
            purpose: 'put back a property as it was before removal',
            ...pooled(p.server),
            statement: sql.changeMergePublication(p.database, '<publication>', 'retention', '<value>'),
            runtime: {
              publication: '<publication>',
              property:
                "N'retention_period_unit' | N'retention' | N'conflict_retention' | N'publication_compatibility_level'",
              value: '<as recorded>',
            },
            only: 'for each such property that differs (any other difference stops the step)',
          },
        ]),
      ],
    },
    'verify-replication': {
      notes: [
        'After the canary is written: one sync round, the statements of sync-until-quiet above, then the ' +
          'reads and the conflicts.',
        'Then the convergence proof again, as after the quiet rounds: every subscription validated (row ' +
          'counts and binary checksums) through its merge agent.',
        'Then a sample of (primary key, rowguid) pairs of every published table, publisher against each subscriber.',
      ],
      statements: [
        ...[...new Set(plan.publications.map((p) => p.publisher))].map((key): SentStatement => ({
          purpose: 'write the canary at each publisher (target.canary.write)',
          ...pooled(site(key).server),
          statement: sql.canary(
            site(key).database,
            canary?.write ?? '<target.canary.write: not in the plan>',
            'replup-canary-<workflow id>-<run id>',
          ),
        })),
        ...subscriptions.map((s): SentStatement => ({
          purpose: 'has the canary reached each subscriber? (target.canary.read)',
          ...pooled(s.subscriber.server),
          statement: sql.canary(
            s.subscriber.database,
            canary?.read ?? '<target.canary.read: not in the plan>',
            'replup-canary-<workflow id>-<run id>',
          ),
        })),
        ...conflicts(),
        ...validation(),
        ...plan.publications.flatMap((p): SentStatement[] => {
          const publisher = site(p.publisher);
          return [
            {
              purpose:
                "each publication's tables with their primary key and ROWGUIDCOL, for the (primary key, " +
                'rowguid) sample',
              ...pooled(publisher.server),
              statement: sql.publishedTableKeys(publisher.database, p.name),
            },
            ...[publisher, ...p.subscribers.map(site)].map((db) =>
              rowGuidSampleAt(
                db,
                `the first ${ROWGUID_SAMPLE_ROWS} rows of each such table by primary key, at the publisher and ` +
                  `at each subscriber: a key with another rowguid than the publisher's stops the step`,
              ),
            ),
          ];
        }),
      ],
    },
    'restore-service': {
      notes: [
        "The plan's hosts.startService and hosts.undrain commands run on the personalization servers; the " +
          'merge agent schedules are put back as preflight recorded them.',
      ],
      // A re-created job has the vendor's schedule (#20 §5): its timing goes back with the enabled state, in one call.
      statements: schedules(
        'set each schedule back as it was before the run',
        'as recorded',
        'for each schedule not as recorded (its enabled state only)',
      ).flatMap((st) =>
        st.purpose === 'read them again, to verify'
          ? [
              retimed(
                st,
                'set the schedule of a re-created job back to when it ran before the run, and its enabled ' +
                  'state (where enable-replication did not, e.g. a run started by an earlier replup)',
                '<1 or 0, as preflight recorded it>',
              ),
              st,
            ]
          : [st],
      ),
    },
  };
  return planSteps(plan)
    .filter((step) => step.applies)
    .map((step) => ({ id: step.id, notes: bySteps[step.id].notes, statements: unique(bySteps[step.id].statements) }));
}

/** The same statement to the same place once per step (e.g. a subscriber's canary read for Config and for Data). */
function unique(statements: SentStatement[]): SentStatement[] {
  const seen = new Set<string>();
  return statements.filter((s) => {
    const key = JSON.stringify([s.purpose, s.server, s.database, s.statement, s.runtime, s.only, s.script]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A parameter as its T-SQL literal, or the <…> text of a value known only at run time. */
function shown(s: SentStatement, name: string, value: sql.SqlParam): string {
  const runtime = s.runtime?.[name];
  if (runtime !== undefined) return runtime;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return String(value);
  return `N'${value.replace(/'/g, "''")}'`;
}

/**
 * Each distinct statement once per step, in the order first sent, followed by one line per place
 * it is sent to with its parameter values: a fleet of a hundred subscribers stays readable.
 */
export function renderPlanStatements(
  plan: Pick<UpgradePlan, 'name'>,
  steps: readonly (Omit<StepStatements, 'id'> & { id: string })[],
): string {
  const out: string[] = [
    `-- The statements replup's SQL Server adapter sends for plan "${plan.name}", step by step.`,
    '-- Each statement is followed by where it is sent ("on SERVER": its connection pool, database master)',
    '-- and its parameters, which travel as sp_executesql parameters (text as nvarchar(max), whole numbers',
    '-- as int). <…> marks a value known only when the step runs. A server whose @@SERVERNAME the adapter',
    '-- does not know yet in a worker process is first asked for its server facts (see preflight).',
  ];
  for (const step of steps) {
    out.push('', `-- ==== ${step.id} ====`, ...step.notes.map((n) => `-- ${n}`));
    const groups = new Map<string, SentStatement[]>();
    for (const s of step.statements) {
      const key = JSON.stringify([s.purpose, s.statement.sql, s.only, s.script?.file]);
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    for (const [first, ...rest] of groups.values()) {
      if (!first) continue;
      out.push('', `-- ${first.purpose}${first.only ? `; only ${first.only}` : ''}`, first.statement.sql, 'GO');
      if (first.script) out.push(`-- then every batch of ${first.script.file}, in order, on the same connection`);
      for (const s of [first, ...rest]) {
        const values = [
          ...Object.entries(s.statement.params).map(([name, value]) => `@${name} = ${shown(s, name, value)}`),
          ...Object.entries(s.script?.vars ?? {}).map(([name, value]) => `$(${name}) = "${value}"`),
        ];
        const place = s.script ? `on ${s.server}, database ${s.database}, one connection` : `on ${s.server}`;
        out.push(`--   ${place}${values.length > 0 ? `: ${values.join(', ')}` : ''}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}
