// Issue #18 §3: in the branch-office form each branch publishes its Data to its recovery database
// and distributes it itself (examples/branch-office.yaml). The adapter must read that Data
// publication's merge agents, their jobs and schedules, its Snapshot Agent and its validation
// alerts in the branch's distribution database on the branch's server, never in the central one,
// which does not know them. The fake servers below hold each distributor's own rows, and refuse,
// as SQL Server would, a statement naming anything outside the catalog.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqlError, type SubscriptionRef } from '../../../activities/ports.js';
import { publisherDistributors } from '../../../activities/personalization-upgrade/distributors.js';
import { createSqlServerFleet } from '../../../activities/sqlserver/adapter.js';
import { checkStatement } from '../../../activities/sqlserver/catalog.js';
import type { Row, SqlConnections } from '../../../activities/sqlserver/connections.js';
import * as sql from '../../../activities/sqlserver/statements.js';
import { loadPlanText } from '../../../plan/load.js';
import type { DbRef, UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import { EXAMPLES, loadExample } from '../plan/load-example.js';
import { EVERY_5_MINUTES, EVERY_5_MINUTES_ROW } from './schedules.js';

type Call = { server: string; sql: string; params: Record<string, sql.SqlParam> };
type Answer = (server: string, statement: sql.Statement) => Row[][] | undefined;

function fakeConnections(answer: Answer): SqlConnections & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async execute(server, statement) {
      calls.push({ server, ...statement });
      const [problem] = checkStatement(statement.sql, statement.params);
      if (problem) throw new SqlError(problem.error, problem.message);
      const recordsets = answer(server, statement);
      if (recordsets === undefined) throw new Error(`unexpected statement on ${server}:\n${statement.sql}`);
      return { recordsets, messages: [] };
    },
    async openSession() {
      throw new Error('no script runs in these tests');
    },
    async close() {},
  };
}

const same = (a: sql.Statement, b: sql.Statement) =>
  a.sql === b.sql && JSON.stringify(a.params) === JSON.stringify(b.params);
/** The distribution database a statement reads, as it names it (`[db].dbo.MS…`). */
const distributionDbOf = (text: string) => /\[((?:[^\]]|\]\])+)\]\.dbo\.MS/.exec(text)?.[1]?.replaceAll(']]', ']');

const T0 = new Date('2026-11-29T10:00:00Z');
const T1 = new Date('2026-11-29T10:05:00Z');
const LEEDS_JOB = 'A1B2C3D4-0000-4000-8000-000000000001';
const HQ_JOB = 'A1B2C3D4-0000-4000-8000-000000000002';

/**
 * Each server of the branch-office fleet as a fake SQL Server: each distributor knows only the
 * agents of its own publishers (`distributors` maps a distributor server to the publisher database
 * whose agents it runs, and the agent it has).
 */
function fleetServers(
  distributors: Record<
    string,
    { database: string; publisherDb: string; publication: string; agent: { id: number; name: string; job: string } }
  >,
): Answer {
  const polls = new Map<string, number>();
  return (server, s) => {
    if (same(s, sql.serverFacts())) return [[{ server_name: server }]];
    const d = distributors[server];
    for (const [dServer, x] of Object.entries(distributors)) {
      // Another distributor's statements find nothing here: it does not know that publisher's agents.
      const mine = dServer === server;
      if (
        same(
          s,
          sql.mergeAgents(x.database, x.publisherDb, x.publication, {
            server: 'HQ-SQL\\RECOVERY',
            database: 'Recovery Leeds',
          }),
        ) ||
        same(
          s,
          sql.mergeAgents(x.database, x.publisherDb, x.publication, {
            server: 'LEEDS-SQL',
            database: 'PersonalizationServer',
          }),
        )
      ) {
        return mine ? [[{ id: x.agent.id, name: x.agent.name, job_id: x.agent.job }]] : [[]];
      }
    }
    // The publication database (at its publisher): the snapshot is not ready yet.
    if (same(s, sql.publicationSnapshotReady('PersonalizationServer', 'Data'))) return [[{ snapshot_ready: 0 }]];
    if (!d) return undefined;
    const agent = d.agent;
    if (same(s, sql.mergeAgentNames(d.database))) return [[{ name: agent.name }]];
    if (same(s, sql.jobSteps(agent.job)))
      return [[{ step_id: 2, command: `-Publisher [X] -PublisherDB [${d.publisherDb}]` }]];
    if (same(s, sql.jobActivity(agent.job))) {
      const n = polls.get(agent.job) ?? 0;
      polls.set(agent.job, n + 1);
      return [
        [
          n === 0
            ? { run_requested_date: T0, start_execution_date: T0, stop_execution_date: T0, run_status: 1 }
            : { run_requested_date: T1, start_execution_date: T1, stop_execution_date: T1, run_status: 1 },
        ],
      ];
    }
    if (same(s, sql.newestMergeSession(d.database, agent.id))) {
      const before = (polls.get(agent.job) ?? 0) < 2;
      return [
        [
          before
            ? { session_id: 40, runstatus: 2 }
            : { session_id: 41, runstatus: 2, start_time: T1, end_time: T1, message: `merged at ${server}` },
        ],
      ];
    }
    if (same(s, sql.startJob(agent.job))) return [];
    if (same(s, sql.mergeAgentJobSchedules(d.database, d.publisherDb))) {
      return [
        [
          {
            id: agent.id,
            name: agent.name,
            publication: d.publication,
            subscriber_name: 'HQ-SQL\\RECOVERY',
            subscriber_db: 'Recovery Leeds',
            job_id: agent.job,
            schedule_id: 12,
            schedule_name: 'every 5 minutes',
            enabled: 1,
            ...EVERY_5_MINUTES_ROW,
          },
        ],
      ];
    }
    if (same(s, sql.updateScheduleEnabled(12, false))) return [];
    if (same(s, sql.snapshotAgentLastRun(d.database, d.publisherDb, d.publication)))
      return [[{ runstatus: 6, comments: `snapshot failed at ${server}` }]];
    return undefined;
  };
}

async function branchOffice(): Promise<UpgradePlan> {
  return loadExample('branch-office.yaml');
}

function adapterFor(plan: UpgradePlan, answer: Answer) {
  const connections = fakeConnections(answer);
  // As the worker builds it from the workflow's FleetContext (worker/ports.ts).
  const port = createSqlServerFleet({
    credentials: { kind: 'sql', user: 'env:U', password: 'env:P' },
    distributor: plan.distributor,
    distributors: publisherDistributors(plan),
    connections,
    sleep: async () => {},
    pollIntervalMs: 1,
  });
  return { port, calls: connections.calls };
}

const LEEDS: DbRef = { server: 'LEEDS-SQL', database: 'PersonalizationServer' };
const HQ: DbRef = { server: 'HQ-SQL', database: 'PersonalizationServer' };
const RECOVERY_LEEDS: DbRef = { server: 'HQ-SQL\\RECOVERY', database: 'Recovery Leeds' };
const LEEDS_DATA: SubscriptionRef = { publication: 'Data', publisher: LEEDS, subscriber: RECOVERY_LEEDS };

const SERVERS = {
  'HQ-SQL': {
    database: 'distribution',
    publisherDb: 'PersonalizationServer',
    publication: 'Config',
    agent: { id: 3, name: 'HQ-SQL-PersonalizationServer-Config-LEEDS-SQL-3', job: HQ_JOB },
  },
  'LEEDS-SQL': {
    database: 'distribution',
    publisherDb: 'PersonalizationServer',
    publication: 'Data',
    agent: { id: 7, name: 'LEEDS-SQL-PersonalizationServer-Data-HQ-SQL\\RECOVERY-7', job: LEEDS_JOB },
  },
};

/**
 * The calls of the adapter that read or change distributor objects (not @@SERVERNAME, not the publisher's own tables).
 */
const distributorCalls = (calls: Call[]) =>
  calls
    .filter((c) => /MSmerge_|MSsnapshot_|msdb\./.test(c.sql))
    .map((c) => ({ server: c.server, database: distributionDbOf(c.sql) ?? (/msdb\./.test(c.sql) ? 'msdb' : '?') }));

describe("the SQL Server adapter reads a branch's Data publication at the branch's own distributor", () => {
  it('examples/branch-office.yaml: each branch distributes its Data itself, the central Config at HQ-SQL', async () => {
    expect(publisherDistributors(await branchOffice())).toEqual([
      { publisher: 'HQ-SQL', distributor: { server: 'HQ-SQL', database: 'distribution' } },
      { publisher: 'LEEDS-SQL', distributor: { server: 'LEEDS-SQL', database: 'distribution' } },
      { publisher: 'MUENCHEN-SQL', distributor: { server: 'MUENCHEN-SQL', database: 'distribution' } },
    ]);
  });

  it(
    "runs the Leeds Data merge agent at LEEDS-SQL's distribution database and msdb, and the central Config one " +
      'at HQ-SQL',
    async () => {
      const { port, calls } = adapterFor(await branchOffice(), fleetServers(SERVERS));
      const data = await port.runMergeAgent(LEEDS_DATA);
      expect(data).toMatchObject({
        sessionId: 41,
        agent: SERVERS['LEEDS-SQL'].agent.name,
        status: 'succeeded',
        message: 'merged at LEEDS-SQL',
      });
      const dataCalls = distributorCalls(calls);
      // agent, job steps, activity, session before, start, activity, session after
      expect(dataCalls.length).toBeGreaterThanOrEqual(6);
      expect(dataCalls.every((c) => c.server === 'LEEDS-SQL')).toBe(true);
      expect(dataCalls.filter((c) => c.database !== 'msdb').every((c) => c.database === 'distribution')).toBe(true);
      expect(calls.some((c) => c.server === 'LEEDS-SQL' && c.sql.includes('sp_start_job'))).toBe(true);

      calls.length = 0;
      const config = await port.runMergeAgent({ publication: 'Config', publisher: HQ, subscriber: LEEDS });
      expect(config).toMatchObject({ agent: SERVERS['HQ-SQL'].agent.name, message: 'merged at HQ-SQL' });
      expect(distributorCalls(calls).every((c) => c.server === 'HQ-SQL')).toBe(true);
    },
  );

  it(
    "with the plan's single distributor (the old adapter), the Leeds Data agent is looked up at HQ-SQL and is " +
      'not found',
    async () => {
      const plan = await branchOffice();
      const connections = fakeConnections(fleetServers(SERVERS));
      const port = createSqlServerFleet({
        credentials: { kind: 'sql', user: 'env:U', password: 'env:P' },
        distributor: plan.distributor,
        connections,
        sleep: async () => {},
      });
      await expect(port.runMergeAgent(LEEDS_DATA)).rejects.toThrow(
        "no merge agent for publication 'Data' (PersonalizationServer) to HQ-SQL\\RECOVERY/Recovery Leeds in " +
          'HQ-SQL/distribution.dbo.MSmerge_agents',
      );
    },
  );

  it("reads and pauses the Leeds Data agent's schedules in LEEDS-SQL's msdb", async () => {
    const { port, calls } = adapterFor(await branchOffice(), fleetServers(SERVERS));
    const jobs = await port.mergeAgentJobs(LEEDS);
    expect(jobs).toEqual([
      {
        jobId: LEEDS_JOB,
        name: SERVERS['LEEDS-SQL'].agent.name,
        publication: 'Data',
        subscriber: RECOVERY_LEEDS,
        schedules: [{ scheduleId: 12, name: 'every 5 minutes', enabled: true, timing: EVERY_5_MINUTES }],
      },
    ]);
    await port.setScheduleEnabled(12, false, LEEDS);
    expect(distributorCalls(calls)).toEqual([
      { server: 'LEEDS-SQL', database: 'distribution' },
      { server: 'LEEDS-SQL', database: 'msdb' },
    ]);
    expect(calls.at(-1)).toMatchObject({ server: 'LEEDS-SQL', params: { scheduleId: 12, enabled: 0 } });
  });

  it("asks LEEDS-SQL's distribution database whether the Leeds Data snapshot failed", async () => {
    const { port, calls } = adapterFor(await branchOffice(), fleetServers(SERVERS));
    expect(await port.snapshotStatus(LEEDS, 'Data')).toEqual({ ready: false, failure: 'snapshot failed at LEEDS-SQL' });
    expect(calls.map((c) => ({ server: c.server, database: distributionDbOf(c.sql) ?? 'publisher' }))).toEqual([
      { server: 'LEEDS-SQL', database: 'publisher' }, // sysmergepublications.snapshot_ready in the publication database
      { server: 'LEEDS-SQL', database: 'distribution' }, // MSsnapshot_history
    ]);
  });

  it(
    "reads the Leeds Data subscription's validation " + "alerts in LEEDS-SQL's msdb, its dates at the " + 'publisher',
    async () => {
      const subscriber = { server: 'HQ-SQL\\RECOVERY', database: 'Recovery Leeds' };
      const { port, calls } = adapterFor(await branchOffice(), (server, s) => {
        if (same(s, sql.serverFacts())) return [[{ server_name: server }]];
        if (same(s, sql.mergeValidationDates('PersonalizationServer', 'Data', subscriber)))
          return [[{ last_validated: T1, attempted_validate: T1 }]];
        if (same(s, sql.mergeValidationAlerts('PersonalizationServer', 'Data', subscriber))) {
          return server === 'LEEDS-SQL'
            ? [
                [
                  {
                    alert_id: 5,
                    alert_error_code: 20575,
                    article: '',
                    alert_error_text: `passed, recorded at ${server}`,
                  },
                ],
              ]
            : [[]];
        }
        return undefined;
      });
      const state = await port.validationState(LEEDS_DATA);
      expect(state.alerts).toEqual([{ alertId: 5, passed: true, article: '', text: 'passed, recorded at LEEDS-SQL' }]);
      expect(calls.filter((c) => c.sql.includes('sysreplicationalerts')).map((c) => c.server)).toEqual(['LEEDS-SQL']);
    },
  );

  it(
    "a branch distributor on a server of its own, with its own database name: the Data agent's statements go " +
      'there',
    async () => {
      const text = (await readFile(path.join(EXAMPLES, 'branch-office.yaml'), 'utf8')).replace(
        '    personalizationServers: [ps-leeds-1]\n',
        '    personalizationServers: [ps-leeds-1]\n    distributor: { server: LEEDS-DIST, database: ' +
          '"Distribution [Leeds]" }\n',
      );
      const loaded = loadPlanText(text, path.join(EXAMPLES, 'branch-office.yaml'));
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
      const plan = loaded.plan as UpgradePlan;
      const servers = {
        'HQ-SQL': SERVERS['HQ-SQL'],
        'LEEDS-DIST': { ...SERVERS['LEEDS-SQL'], database: 'Distribution [Leeds]' },
      };
      const { port, calls } = adapterFor(plan, fleetServers(servers));
      await port.runMergeAgent(LEEDS_DATA);
      await port.mergeAgentJobs(LEEDS);
      await port.snapshotStatus(LEEDS, 'Data');
      const seen = distributorCalls(calls);
      expect(new Set(seen.map((c) => c.server))).toEqual(new Set(['LEEDS-DIST']));
      expect(new Set(seen.map((c) => c.database))).toEqual(new Set(['Distribution [Leeds]', 'msdb']));
    },
  );

  it(
    "drain-users: a session of the branch's Data agent in " + "the recovery database is replication's, not a user's",
    async () => {
      const { port } = adapterFor(await branchOffice(), (server, s) => {
        if (same(s, sql.userSessions('Recovery Leeds')) && server === 'HQ-SQL\\RECOVERY') {
          return [
            [
              {
                session_id: 61,
                login_name: 'REPL\\agent',
                program_name: SERVERS['LEEDS-SQL'].agent.name,
                host_name: 'LEEDS-SQL',
              },
              {
                session_id: 62,
                login_name: 'CORP\\anna',
                program_name: 'Personalization Server',
                host_name: 'ps-rec-leeds',
              },
            ],
          ];
        }
        return (
          fleetServers(SERVERS)(server, s) ??
          (same(s, sql.mergeAgentNames('distribution')) && server === 'MUENCHEN-SQL' ? [[]] : undefined)
        );
      });
      const sessions = await port.activeSessions(RECOVERY_LEEDS);
      expect(sessions.map((x) => [x.sessionId, x.replicationAgent ?? false])).toEqual([
        [61, true],
        [62, false],
      ]);
    },
  );
});
