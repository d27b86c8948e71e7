import { describe, expect, it } from 'vitest';
import { ROWGUID_MARKS, SqlError, type SubscriptionRef } from '../../../activities/ports.js';
import {
  backupFilePath,
  createSqlServerFleet,
  resolveLogin,
  type SqlServerFleetOptions,
} from '../../../activities/sqlserver/adapter.js';
import { checkStatement } from '../../../activities/sqlserver/catalog.js';
import { classifySqlError } from '../../../activities/sqlserver/classify.js';
import type { Row, SqlConnections, SqlResult } from '../../../activities/sqlserver/connections.js';
import { resolveCredentialRef } from '../../../activities/sqlserver/credentials.js';
import { parseServerName } from '../../../activities/sqlserver/server-name.js';
import * as sql from '../../../activities/sqlserver/statements.js';
import { EVERY_5_MINUTES_ROW, NIGHTLY } from './schedules.js';

// A fake connection layer: the test answers each statement; every call is recorded. Like SQL
// Server, it refuses a statement that names a table, column, procedure or parameter the catalog
// (Microsoft's documentation, activities/sqlserver/catalog.ts) does not have, or reads a variable
// it is not given, before the test's answer is consulted.
type Answer = (server: string, statement: sql.Statement) => Row[][] | undefined;

/** A row of the merge subscriptions query: a subscription (status 1) to <publisher>/PS, sync_type 2 unless given. */
const subscriptionRow = (
  publication: string,
  publisher: string,
  subscriber_server: string,
  subscriber_db = 'PS',
  sync_type = 2,
): Row => ({ publication, publisher, publisher_db: 'PS', subscriber_server, subscriber_db, sync_type, status: 1 });
function refuseOutsideCatalog(statement: sql.Statement): void {
  const [problem] = checkStatement(statement.sql, statement.params);
  if (!problem) return;
  if (problem.error === 0)
    throw new Error(`the fake server cannot read this statement: ${problem.message}\n${statement.sql}`);
  throw new SqlError(problem.error, problem.message);
}
function fakeConnections(answer: Answer) {
  const calls: { server: string; sql: string; params: Record<string, sql.SqlParam> }[] = [];
  const sessionBatches: string[] = [];
  let sessionClosed = false;
  const connections: SqlConnections & { calls: typeof calls; sessionBatches: string[]; sessionClosed: () => boolean } =
    {
      calls,
      sessionBatches,
      sessionClosed: () => sessionClosed,
      async execute(server, statement) {
        calls.push({ server, ...statement });
        refuseOutsideCatalog(statement);
        const recordsets = answer(server, statement);
        if (recordsets === undefined) throw new Error(`unexpected statement on ${server}:\n${statement.sql}`);
        return { recordsets, messages: [] };
      },
      async openSession() {
        return {
          async batch(text): Promise<SqlResult> {
            sessionBatches.push(text);
            const m = /RAISERROR_(\d+)_LINE_(\d+)(?:_STATE_(\d+))?/.exec(text);
            if (m)
              throw Object.assign(new Error(`script failed ${m[1]}`), {
                number: Number(m[1]),
                lineNumber: Number(m[2]),
                state: Number(m[3] ?? 1),
              });
            // RAISERROR(…, 10, 127): an informational message with state 127, the batch itself succeeds.
            const info = /INFO_(\d+)_STATE_127/.exec(text);
            if (info)
              return {
                recordsets: [],
                messages: [`info ${info[1]}`],
                quit: { number: Number(info[1]), message: `info ${info[1]}` },
              };
            return { recordsets: [], messages: [`ran ${text.split('\n')[0]}`] };
          },
          async close() {
            sessionClosed = true;
          },
        };
      },
      async close() {},
    };
  return connections;
}

const same = (a: sql.Statement, b: sql.Statement) =>
  a.sql === b.sql && JSON.stringify(a.params) === JSON.stringify(b.params);
const PUB = { server: 'PUBHOST,1433', database: 'PS' };
const SUB = { server: 'SUBHOST\\EM', database: 'PS' };
const DIST = { server: 'PUBHOST,1433', database: 'distribution' };
const SUBSCRIPTION: SubscriptionRef = { publication: 'Config', publisher: PUB, subscriber: SUB };
const JOB = '6F9619FF-8B86-D011-B42D-00C04FC964FF';
const T0 = new Date('2024-05-01T10:00:00Z');
const T1 = new Date('2024-05-01T10:05:00Z');

function fleet(answer: Answer, extra: Partial<SqlServerFleetOptions> = {}) {
  const connections = fakeConnections(answer);
  const heartbeats: string[] = [];
  const port = createSqlServerFleet({
    credentials: { kind: 'sql', user: 'env:U', password: 'env:P' },
    distributor: DIST,
    connections,
    sleep: async () => {},
    heartbeat: (d) => heartbeats.push(d),
    ...extra,
  });
  return { port, connections, heartbeats };
}

/** The distributor and servers of a merge run; `activity` answers the job's sysjobactivity polls in turn. */
function mergeRun(opts: { steps?: string; activity: Row[]; sessions: Row[]; startJob?: () => void }): Answer {
  let polls = 0;
  let sessionReads = 0;
  return (server, s) => {
    if (same(s, sql.serverFacts())) return [[{ server_name: server === SUB.server ? 'SUBHOST\\EM' : 'PUBHOST' }]];
    if (same(s, sql.mergeAgents('distribution', 'PS', 'Config', { server: 'SUBHOST\\EM', database: 'PS' }))) {
      return [[{ id: 7, name: 'PUBHOST-PS-Config-SUBHOST\\EM-7', job_id: JOB }]];
    }
    if (same(s, sql.jobSteps(JOB)))
      return [[{ step_id: 2, command: opts.steps ?? '-Publisher [PUBHOST] -PublisherDB [PS] -Distributor [PUBHOST]' }]];
    if (same(s, sql.jobActivity(JOB))) return [[opts.activity[Math.min(polls++, opts.activity.length - 1)] as Row]];
    if (same(s, sql.newestMergeSession('distribution', 7)))
      return [[opts.sessions[Math.min(sessionReads++, opts.sessions.length - 1)] as Row]];
    if (same(s, sql.startJob(JOB))) {
      opts.startJob?.();
      return [];
    }
    return undefined;
  };
}

const idle = { run_requested_date: T0, start_execution_date: T0, stop_execution_date: T0, run_status: 1 };
/** A sysjobactivity row: the run requested at T1 ended then, failed (run_status 0) with `message`. */
const failedAt1 = (message: string) => ({
  run_requested_date: T1,
  start_execution_date: T1,
  stop_execution_date: T1,
  run_status: 0,
  message,
});
const oldSession = { session_id: 40, runstatus: 2 };
const newSession = {
  session_id: 41,
  runstatus: 2,
  start_time: T1,
  end_time: new Date('2024-05-01T10:06:00Z'),
  upload_inserts: 1,
  upload_updates: 2,
  upload_deletes: 0,
  upload_conflicts: 0,
  download_inserts: 0,
  download_updates: 5,
  download_deletes: 1,
  download_conflicts: 0,
  message: 'Merged 9 data changes',
};

describe('runMergeAgent', () => {
  it('starts the job, polls until the run it requested stops, and returns the new session', async () => {
    const { port, connections, heartbeats } = fleet(
      mergeRun({
        activity: [
          idle,
          { run_requested_date: T1, start_execution_date: T1, stop_execution_date: null },
          { run_requested_date: T1, start_execution_date: T1, stop_execution_date: T1, run_status: 1 },
        ],
        sessions: [oldSession, newSession],
      }),
    );
    expect(await port.runMergeAgent(SUBSCRIPTION)).toEqual({
      sessionId: 41,
      agent: 'PUBHOST-PS-Config-SUBHOST\\EM-7',
      status: 'succeeded',
      startTime: '2024-05-01T10:05:00.000Z',
      endTime: '2024-05-01T10:06:00.000Z',
      upload: { inserts: 1, updates: 2, deletes: 0, conflicts: 0 },
      download: { inserts: 0, updates: 5, deletes: 1, conflicts: 0 },
      message: 'Merged 9 data changes',
    });
    expect(connections.calls.filter((c) => c.sql === sql.startJob(JOB).sql)).toHaveLength(1);
    expect(heartbeats).toEqual([
      `waiting for merge agent job 'PUBHOST-PS-Config-SUBHOST\\EM-7' (poll 1)`,
      `waiting for merge agent job 'PUBHOST-PS-Config-SUBHOST\\EM-7' (poll 2)`,
    ]);
  });

  it('refuses to start a job that is already running, with an error classified transient', async () => {
    const { port, connections } = fleet(
      mergeRun({
        activity: [{ run_requested_date: T0, start_execution_date: T0, stop_execution_date: null }],
        sessions: [oldSession],
      }),
    );
    const err = await port.runMergeAgent(SUBSCRIPTION).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlError);
    expect((err as Error).message).toBe(
      "merge agent job 'PUBHOST-PS-Config-SUBHOST\\EM-7' is already running (msdb.dbo.sysjobactivity); " +
        'replup waits for it to finish and tries again',
    );
    expect(classifySqlError(err).kind).toBe('transient');
    expect(connections.calls.some((c) => c.sql === sql.startJob(JOB).sql)).toBe(false);
  });

  it('surfaces "SQL Server Agent is not running" as fatal, without retrying sp_start_job', async () => {
    const agentDown = 'SQLServerAgent is not currently running so it cannot be notified of this action.';
    const { port, connections } = fleet(
      mergeRun({
        activity: [idle],
        sessions: [oldSession],
        startJob: () => {
          throw new SqlError(22022, agentDown);
        },
      }),
    );
    const err = await port.runMergeAgent(SUBSCRIPTION).catch((e: unknown) => e);
    expect(classifySqlError(err)).toEqual({
      kind: 'fatal',
      number: 22022,
      message: agentDown,
      hint:
        'SQL Server Agent is not running on this server: start the SQL Server Agent service (SQL Server ' +
        'Configuration Manager), then retry the step',
    });
    expect(connections.calls.filter((c) => c.sql === sql.startJob(JOB).sql)).toHaveLength(1);
  });

  it('retries a deadlock and then succeeds', async () => {
    let attempts = 0;
    const { port, connections, heartbeats } = fleet(
      mergeRun({
        activity: [idle, { run_requested_date: T1, start_execution_date: T1, stop_execution_date: T1, run_status: 1 }],
        sessions: [oldSession, newSession],
        startJob: () => {
          if (attempts++ === 0)
            throw new SqlError(
              1205,
              'Transaction (Process ID 61) was deadlocked on lock resources with another process',
            );
        },
      }),
    );
    expect((await port.runMergeAgent(SUBSCRIPTION)).sessionId).toBe(41);
    expect(connections.calls.filter((c) => c.sql === sql.startJob(JOB).sql)).toHaveLength(2);
    expect(heartbeats[0]).toBe('retrying after error 1205 (attempt 1 of 3)');
  });

  it('gives up on a deadlock that keeps happening, leaving it transient for Temporal to retry', async () => {
    const { port, connections } = fleet(
      mergeRun({
        activity: [idle],
        sessions: [oldSession],
        startJob: () => {
          throw new SqlError(1205, 'deadlocked');
        },
      }),
    );
    const err = await port.runMergeAgent(SUBSCRIPTION).catch((e: unknown) => e);
    expect(classifySqlError(err).kind).toBe('transient');
    expect(connections.calls.filter((c) => c.sql === sql.startJob(JOB).sql)).toHaveLength(3);
  });

  it('refuses a continuous job, which would never finish', async () => {
    const { port } = fleet(
      mergeRun({ steps: '-Publisher [PUBHOST] -Continuous', activity: [idle], sessions: [oldSession] }),
    );
    await expect(port.runMergeAgent(SUBSCRIPTION)).rejects.toThrow(
      "merge agent job 'PUBHOST-PS-Config-SUBHOST\\EM-7' runs with -Continuous and never finishes: remove " +
        '-Continuous from its job step (or stop the job and run it on a schedule) so replup can run it to the ' +
        'end',
    );
  });

  it('reports a failed job with its session marked failed', async () => {
    const { port } = fleet(
      mergeRun({
        activity: [idle, failedAt1('The job failed.')],
        sessions: [oldSession, { ...newSession, runstatus: 6, message: 'The merge process could not connect' }],
      }),
    );
    const session = await port.runMergeAgent(SUBSCRIPTION);
    expect([session.status, session.message]).toEqual(['failed', 'The merge process could not connect']);
  });

  it('says so when the job ends without recording a session', async () => {
    const { port } = fleet(
      mergeRun({
        activity: [idle, failedAt1('Login failed.')],
        sessions: [oldSession, oldSession],
      }),
    );
    await expect(port.runMergeAgent(SUBSCRIPTION)).rejects.toThrow(
      "merge agent job 'PUBHOST-PS-Config-SUBHOST\\EM-7' failed without recording a merge session: Login failed.",
    );
  });

  it('times out a job that never stops', async () => {
    const { port } = fleet(
      mergeRun({
        activity: [idle, { run_requested_date: T1, start_execution_date: T1, stop_execution_date: null }],
        sessions: [oldSession],
      }),
      {
        jobTimeoutMs: -1,
      },
    );
    await expect(port.runMergeAgent(SUBSCRIPTION)).rejects.toThrow(
      "merge agent job 'PUBHOST-PS-Config-SUBHOST\\EM-7' did not finish within 0 minutes",
    );
  });
});

describe('removeReplication', () => {
  const gone = (number: number) => () => {
    throw new SqlError(number, 'already gone');
  };
  /** A replication state answered in turn: before removal, then after. */
  function removal(states: Row[][][], failures: Partial<Record<string, () => void>> = {}): Answer {
    let reads = 0;
    return (server, s) => {
      if (same(s, sql.serverFacts())) return [[{ server_name: server === SUB.server ? 'SUBHOST\\EM' : 'PUBHOST' }]];
      if (same(s, sql.replicationState('PS'))) return states[Math.min(reads++, states.length - 1)];
      const fail = Object.entries(failures).find(([fragment]) => s.sql.includes(fragment))?.[1];
      if (fail) fail();
      return [];
    };
  }
  const published: Row[][] = [
    [{ is_merge_published: true }],
    [{ name: 'Config' }],
    [subscriptionRow('Config', 'PUBHOST', 'SUB1', 'PS', 1), subscriptionRow('Config', 'PUBHOST', 'SUB2', 'PS', 1)],
  ];
  const clean: Row[][] = [[{ is_merge_published: false }], [], []];

  it('drops subscriptions, then the publication, then disables merge publishing, in that order', async () => {
    const { port, connections } = fleet(removal([published, clean]));
    await port.removeReplication(PUB);
    expect(
      connections.calls
        .filter((c) => c.sql.startsWith('EXEC'))
        .map((c) => [c.sql.split(' ')[1], c.params.subscriber ?? c.params.publication ?? c.params.database]),
    ).toEqual([
      ['[PS].sys.sp_dropmergesubscription', 'SUB1'],
      ['[PS].sys.sp_dropmergesubscription', 'SUB2'],
      ['[PS].sys.sp_dropmergepublication', 'Config'],
      ['sys.sp_replicationdboption', 'PS'],
    ]);
  });

  it('treats already-gone errors (20021, 20026) as done', async () => {
    const { port } = fleet(
      removal([published, clean], { sp_dropmergesubscription: gone(20021), sp_dropmergepublication: gone(20026) }),
    );
    await expect(port.removeReplication(PUB)).resolves.toBeUndefined();
  });

  it('does not swallow other errors', async () => {
    const { port } = fleet(
      removal([published, clean], {
        sp_dropmergepublication: () => {
          throw new SqlError(229, 'permission denied');
        },
      }),
    );
    await expect(port.removeReplication(PUB)).rejects.toThrow('permission denied');
  });

  it('does nothing but look when replication is already gone (second run)', async () => {
    const { port, connections } = fleet(removal([clean]));
    await port.removeReplication(PUB);
    expect(connections.calls.filter((c) => c.sql.startsWith('EXEC'))).toEqual([]);
  });

  it(
    'falls back to sp_removedbreplication when publishing ' + 'is still on, and says what is left if even that fails',
    async () => {
      const stuck: Row[][] = [[{ is_merge_published: true }], [{ name: 'Data' }], []];
      const { port, connections } = fleet(removal([published, stuck, stuck]));
      await expect(port.removeReplication(PUB)).rejects.toThrow(
        'replication is still enabled on PUBHOST,1433/PS after removal (publications: Data, subscriptions: ' +
          'none, merge published: true); run RemoveReplication by hand and retry',
      );
      expect(connections.calls.some((c) => c.sql === sql.removeDbReplication('PS').sql)).toBe(true);
    },
  );

  it('at a pure subscriber, cleans up its side of each subscription', async () => {
    const subscriberState: Row[][] = [
      [{ is_merge_published: false }],
      [],
      [subscriptionRow('Data', 'PUBHOST', 'SUBHOST\\EM')],
    ];
    const { port, connections } = fleet(removal([subscriberState, clean]));
    await port.removeReplication(SUB);
    expect(connections.calls.filter((c) => c.sql.startsWith('EXEC'))).toEqual([
      { server: SUB.server, ...sql.mergeSubscriptionCleanup('PS', 'PUBHOST', 'PS', 'Data') },
    ]);
  });

  // The branch-office form: a branch publishes its Data and subscribes to the central Config. The
  // remove-replication activity checks that no subscription is left, so its Config side goes too.
  it(
    'at a branch (publisher and subscriber), drops its own publication and cleans up its subscription to the ' +
      'central publisher',
    async () => {
      const branch: Row[][] = [
        [{ is_merge_published: true }],
        [{ name: 'Data' }],
        [
          subscriptionRow('Config', 'HQ', 'SUBHOST\\EM'),
          subscriptionRow('Data', 'SUBHOST\\EM', 'RECOVERY', 'Recovery'),
        ],
      ];
      const { port, connections } = fleet(removal([branch, clean]));
      await port.removeReplication(SUB);
      expect(
        connections.calls
          .filter((c) => c.sql.startsWith('EXEC'))
          .map(({ sql: text, params }) => ({ sql: text, params })),
      ).toEqual([
        sql.dropMergeSubscription('PS', 'Data', { server: 'RECOVERY', database: 'Recovery' }),
        sql.dropMergePublication('PS', 'Data'),
        sql.mergeSubscriptionCleanup('PS', 'HQ', 'PS', 'Config'),
        sql.disableMergePublishing('PS'),
      ]);
    },
  );

  it('fails, naming the subscription, when one is still there after the fallback', async () => {
    const held: Row[][] = [[{ is_merge_published: false }], [], [subscriptionRow('Config', 'HQ', 'SUBHOST\\EM')]];
    const { port } = fleet(removal([held, held, held]));
    await expect(port.removeReplication(SUB)).rejects.toThrow(
      'replication is still enabled on SUBHOST\\EM/PS after removal (publications: none, subscriptions: ' +
        'Config HQ/PS → SUBHOST\\EM/PS, merge published: false); run RemoveReplication by hand and retry',
    );
  });
});

describe('other operations', () => {
  it('kills only sessions still present, and counts a session that ended meanwhile as not killed', async () => {
    const { port, connections } = fleet((_server, s) => {
      if (same(s, sql.userSessions('PS'))) return [[{ session_id: 55 }, { session_id: 60 }]];
      if (same(s, sql.killSession(60))) throw new SqlError(6106, 'Process ID 60 is not an active process ID.');
      if (s.sql.startsWith('KILL')) return [];
      return undefined;
    });
    expect(await port.killSessions(PUB, [55, 60, 77])).toBe(1);
    expect(connections.calls.filter((c) => c.sql.startsWith('KILL')).map((c) => c.sql)).toEqual([
      'KILL 55;',
      'KILL 60;',
    ]);
  });

  it('sums pending changes on both sides, for this subscription only', async () => {
    const { port } = fleet((server, s) => {
      if (same(s, sql.serverFacts())) return [[{ server_name: server === SUB.server ? 'SUBHOST\\EM' : 'PUBHOST' }]];
      if (same(s, sql.pendingChanges('PS', 'Config', 'SUBHOST\\EM'))) {
        return [
          [
            { destination_db_name: 'PS', pending_deletes: 2, pending_ins_and_upd: 3 },
            { destination_db_name: 'Other', pending_deletes: 100, pending_ins_and_upd: 100 },
          ],
        ];
      }
      if (same(s, sql.pendingChanges('PS', 'Config', 'PUBHOST')) && server === SUB.server)
        return [[{ destination_db_name: 'ps', pending_deletes: 0, pending_ins_and_upd: 4 }]];
      return undefined;
    });
    expect(await port.pendingChanges(SUBSCRIPTION)).toEqual({ upload: 4, download: 5 });
  });

  it(
    'refuses, as SQL Server would, a statement naming a column the catalog does not have (the conflicts query ' +
      'of issue #18)',
    async () => {
      const { connections } = fleet(() => [[]]);
      const before = sql.conflicts('PS', 'Data');
      const wrong = { ...before, sql: before.sql.replace('c.tablenick AND', 'c.tablenickname AND') };
      const err = await connections.execute(PUB.server, wrong).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SqlError);
      expect([(err as SqlError).number, classifySqlError(err).kind]).toEqual([207, 'fatal']);
      expect((err as Error).message).toMatch(
        /^Invalid column name 'tablenickname' \(c\.tablenickname\): dbo\.MSmerge_conflicts_info has no such column/,
      );
      expect(await connections.execute(PUB.server, before)).toEqual({ recordsets: [[]], messages: [] });
    },
  );

  describe('conflicts', () => {
    const SINCE = '2024-05-01T10:00:00.000Z';
    const failed = {
      table_name: 'ProfileData',
      conflict_type: 5,
      reason_code: 2627,
      reason_text: 'Violation of PRIMARY KEY constraint',
      origin_datasource: 'SUBHOST\\EM.PS',
      rowguid: 'A1',
      created_utc: new Date('2024-05-01T10:03:00Z'),
    };
    const settledEarlier = {
      table_name: 'ProfileData',
      conflict_type: 1,
      reason_code: 1,
      reason_text: 'update conflict',
      origin_datasource: 'SUBHOST\\EM.PS',
      rowguid: 'B2',
      created_utc: new Date('2024-04-20T08:00:00Z'),
    };
    const failedEarlier = { ...failed, rowguid: 'C3', created_utc: new Date('2024-04-30T23:00:00Z') };

    it(
      'reads them at the publisher and judges each: failed changes need a person (also from before the run), ' +
        'resolver-decided ones are settled',
      async () => {
        const { port, connections } = fleet((server, s) =>
          same(s, sql.conflicts('PS', 'Data')) && server === PUB.server
            ? [[{ centralized_conflicts: 1, decentralized_conflicts: 0 }], [settledEarlier, failedEarlier, failed]]
            : undefined,
        );
        const found = await port.conflicts(PUB, 'Data', { since: SINCE, subscribers: [SUB] });
        expect(found.map((c) => [c.rowguid, c.conflictType, c.verdict, c.beforeRun, c.createdAt, c.loggedAt])).toEqual([
          ['B2', 1, 'settled', true, '2024-04-20T08:00:00.000Z', PUB],
          ['C3', 5, 'needs-person', true, '2024-04-30T23:00:00.000Z', PUB],
          ['A1', 5, 'needs-person', false, '2024-05-01T10:03:00.000Z', PUB],
        ]);
        expect(found[2]).toMatchObject({
          publication: 'Data',
          table: 'ProfileData',
          reasonCode: 2627,
          origin: 'SUBHOST\\EM.PS',
        });
        // Logged at the publisher: the subscribers are not asked.
        expect(connections.calls.map((c) => c.server)).toEqual([PUB.server]);
      },
    );

    it(
      'reads them at each subscriber too when the publication logs conflicts only there ' +
        '(decentralized_conflicts = 1)',
      async () => {
        const { port, connections } = fleet((server, s) => {
          if (!same(s, sql.conflicts('PS', 'Data'))) return undefined;
          if (server === PUB.server) return [[{ centralized_conflicts: 0, decentralized_conflicts: 1 }], []];
          if (server === SUB.server) return [[{ centralized_conflicts: 0, decentralized_conflicts: 1 }], [failed]];
          return undefined;
        });
        const found = await port.conflicts(PUB, 'Data', { since: SINCE, subscribers: [SUB] });
        expect(found.map((c) => [c.rowguid, c.verdict, c.loggedAt])).toEqual([['A1', 'needs-person', SUB]]);
        expect(connections.calls.map((c) => c.server)).toEqual([PUB.server, SUB.server]);
      },
    );

    it('without the run start, marks none as recorded before it', async () => {
      const { port } = fleet((_server, s) =>
        same(s, sql.conflicts('PS', 'Data'))
          ? [[{ centralized_conflicts: 1, decentralized_conflicts: 0 }], [failedEarlier]]
          : undefined,
      );
      expect((await port.conflicts(PUB, 'Data')).map((c) => [c.verdict, c.beforeRun])).toEqual([
        ['needs-person', false],
      ]);
    });
  });

  // Preflight and snapshot statements (issue #18 §3-4): what the adapter makes of their rows.
  it("marks a merge agent's own session (its program is the agent's name) apart from users' sessions", async () => {
    const { port, connections } = fleet((server, s) => {
      if (same(s, sql.mergeAgentNames('distribution'))) return [[{ name: 'PUBHOST-PS-Config-SUBHOST\\EM-7' }]];
      if (same(s, sql.userSessions('PS'))) {
        return [
          [
            { session_id: 55, login_name: 'CORP\\ann', program_name: 'Personalization Server', host_name: 'PS01' },
            {
              session_id: 61,
              login_name: 'CORP\\repl',
              program_name: 'PUBHOST-PS-Config-SUBHOST\\EM-7 (merge)',
              host_name: 'PUBHOST',
            },
          ],
        ];
      }
      return undefined;
    });
    expect((await port.activeSessions(PUB)).map((x) => [x.sessionId, x.replicationAgent ?? false])).toEqual([
      [55, false],
      [61, true],
    ]);
    expect(connections.calls.map((c) => c.server)).toEqual([DIST.server, PUB.server]);
  });

  it("reads a publication database's merge subscriptions with the publication's retention in days", async () => {
    const { port } = fleet((_server, s) =>
      same(s, sql.mergeSubscriptionHealth('PS'))
        ? [
            [
              {
                publication: 'Config',
                retention: 2,
                retention_period_unit: 1,
                subscriber_server: 'SUBHOST\\EM',
                subscriber_db: 'PS',
                subscription_type: 0,
                status: 1,
                last_sync_date: T0,
              },
              {
                publication: 'Data',
                retention: 14,
                retention_period_unit: 0,
                subscriber_server: 'OTHER',
                subscriber_db: 'PS',
                subscription_type: 1,
                status: 0,
                last_sync_date: null,
              },
            ],
          ]
        : undefined,
    );
    expect(await port.mergeSubscriptions(PUB)).toEqual([
      {
        publication: 'Config',
        subscriber: { server: 'SUBHOST\\EM', database: 'PS' },
        type: 'push',
        status: 'active',
        lastSync: '2024-05-01T10:00:00.000Z',
        retentionDays: 14,
      },
      {
        publication: 'Data',
        subscriber: { server: 'OTHER', database: 'PS' },
        type: 'pull',
        status: 'inactive',
        retentionDays: 14,
      },
    ]);
  });

  it(
    'groups merge agent jobs with their schedules and when they run, and enables, disables or re-times one ' +
      'schedule',
    async () => {
      // sysschedules columns: daily (4) every 5 minutes (subday 4, 5) all day; daily (4) once (subday 1) at 02:00.
      const every5 = EVERY_5_MINUTES_ROW;
      const at2 = { ...every5, freq_subday_type: 1, freq_subday_interval: 0, active_start_time: 20000 };
      // A merge agent's job columns (agent-<id>, for SUBHOST\EM/PS): one row per schedule follows.
      const agentJob = (id: number, publication: string, jobId: string) => ({
        id,
        name: `agent-${id}`,
        publication,
        subscriber_name: 'SUBHOST\\EM',
        subscriber_db: 'PS',
        job_id: jobId,
      });
      const { port, connections } = fleet((_server, s) => {
        if (same(s, sql.mergeAgentJobSchedules('distribution', 'PS'))) {
          return [
            [
              {
                ...agentJob(7, 'Config', JOB),
                schedule_id: 12,
                schedule_name: 'every 5 minutes',
                enabled: 1,
                ...every5,
              },
              {
                ...agentJob(7, 'Config', JOB),
                schedule_id: 13,
                schedule_name: 'nightly',
                enabled: 0,
                ...at2,
              },
              { ...agentJob(8, 'Data', 'J8'), schedule_id: null, schedule_name: null, enabled: null },
            ],
          ];
        }
        if (same(s, sql.updateScheduleEnabled(12, false))) return [];
        if (same(s, sql.updateScheduleTiming(13, NIGHTLY, false))) return [];
        return undefined;
      });
      expect(await port.mergeAgentJobs(PUB)).toEqual([
        {
          jobId: JOB,
          name: 'agent-7',
          publication: 'Config',
          subscriber: { server: 'SUBHOST\\EM', database: 'PS' },
          schedules: [
            {
              scheduleId: 12,
              name: 'every 5 minutes',
              enabled: true,
              timing: { ...NIGHTLY, freqSubdayType: 4, freqSubdayInterval: 5, activeStartTime: 0 },
            },
            { scheduleId: 13, name: 'nightly', enabled: false, timing: NIGHTLY },
          ],
        },
        {
          jobId: 'J8',
          name: 'agent-8',
          publication: 'Data',
          subscriber: { server: 'SUBHOST\\EM', database: 'PS' },
          schedules: [],
        },
      ]);
      await port.setScheduleEnabled(12, false, PUB);
      expect(connections.calls.at(-1)).toMatchObject({ server: DIST.server, params: { scheduleId: 12, enabled: 0 } });
      await port.setScheduleTiming(13, NIGHTLY, false, PUB);
      expect(connections.calls.at(-1)).toMatchObject({
        server: DIST.server,
        params: { scheduleId: 13, enabled: 0, freqSubdayType: 1, activeStartTime: 20000 },
      });
    },
  );

  it.each([
    ['ready', [{ snapshot_ready: 1 }], undefined, { ready: true }],
    [
      'not ready, the Snapshot Agent still working',
      [{ snapshot_ready: 0 }],
      [{ runstatus: 3, comments: 'Generating data' }],
      { ready: false },
    ],
    [
      'not ready, the Snapshot Agent failed',
      [{ snapshot_ready: 0 }],
      [{ runstatus: 6, comments: 'The process could not read file' }],
      { ready: false, failure: 'The process could not read file' },
    ],
  ])('the publication snapshot: %s', async (_name, ready, lastRun, expected) => {
    const { port } = fleet((_server, s) => {
      if (same(s, sql.publicationSnapshotReady('PS', 'Config'))) return [ready];
      if (same(s, sql.snapshotAgentLastRun('distribution', 'PS', 'Config')) && lastRun) return [lastRun];
      return undefined;
    });
    expect(await port.snapshotStatus(PUB, 'Config')).toEqual(expected);
  });

  // A publisher's publications with their articles; then one property changed, a publication and a subscription dropped
  // (already gone = done).
  it("a publisher's publications: read, changed, dropped", async () => {
    const { port, connections } = fleet((server, s) => {
      if (same(s, sql.publicationProperties('PS'))) {
        return [
          [
            {
              name: 'Config',
              retention: 2,
              retention_period_unit: 1,
              conflict_retention: 7,
              backward_comp_level: 100,
              centralized_conflicts: 1,
              decentralized_conflicts: 0,
            },
          ],
        ];
      }
      if (same(s, sql.publicationArticles('PS'))) {
        return [
          [
            {
              publication: 'Config',
              name: 'PersonalizationGroup',
              column_tracking: 1,
              subset_filterclause: null,
              upload_options: 0,
              processing_order: 0,
              identity_support: 1,
              delete_tracking: 1,
              compensate_for_errors: 0,
            },
            {
              publication: 'Data',
              name: 'ProfileData',
              column_tracking: 0,
              subset_filterclause: '',
              upload_options: 0,
              processing_order: 0,
              identity_support: 0,
              delete_tracking: 1,
              compensate_for_errors: 0,
            },
          ],
        ];
      }
      if (same(s, sql.changeMergePublication('PS', 'Config', 'retention', '30'))) return [];
      if (same(s, sql.dropMergePublication('PS', 'Data')))
        throw new SqlError(20026, "The publication 'Data' does not exist.");
      if (s.sql.includes('sp_dropmergesubscription') || s.sql.includes('@@SERVERNAME AS nvarchar'))
        return server === SUB.server ? [[{ server_name: 'SUBHOST\\EM' }]] : [];
      return undefined;
    });
    expect(await port.publicationConfigs(PUB)).toEqual([
      {
        name: 'Config',
        retention: 2,
        retentionUnit: 'week',
        conflictRetentionDays: 7,
        compatibilityLevel: 100,
        centralizedConflicts: true,
        decentralizedConflicts: false,
        articles: [
          {
            name: 'PersonalizationGroup',
            columnTracking: true,
            subsetFilter: '',
            uploadOptions: 0,
            processingOrder: 0,
            identityRange: true,
            deleteTracking: true,
            compensateForErrors: false,
          },
        ],
      },
    ]);
    await port.changePublication(PUB, 'Config', 'retention', '30');
    expect(connections.calls.at(-1)).toMatchObject({
      server: PUB.server,
      params: { publication: 'Config', property: 'retention', value: '30' },
    });
    await expect(port.dropPublication(PUB, 'Data')).resolves.toBeUndefined();
    await port.dropSubscription(SUBSCRIPTION);
    expect(connections.calls.at(-1)).toMatchObject({
      server: PUB.server,
      sql: expect.stringContaining('sp_dropmergesubscription'),
    });
  });

  // The ConvertRowGuids check: a database's ROWGUIDCOL tables with their key columns in key order, and the started
  // mark taken away where the subscriber is.
  it('ConvertRowGuids check: ROWGUIDCOL tables with key columns in key order; the started mark cleared', async () => {
    const { port, connections } = fleet((_server, s) => {
      if (same(s, sql.rowGuidTableKeys('PS'))) {
        return [
          [
            {
              table_schema: 'dbo',
              table_name: 'ProfileData',
              column_name: 'rowguid',
              is_rowguidcol: true,
              key_ordinal: null,
            },
            {
              table_schema: 'dbo',
              table_name: 'ProfileData',
              column_name: 'UserId',
              is_rowguidcol: false,
              key_ordinal: 1,
            },
            {
              table_schema: 'dbo',
              table_name: 'ProfileData',
              column_name: 'Part',
              is_rowguidcol: false,
              key_ordinal: 2,
            },
            {
              table_schema: 'app',
              table_name: 'PersonalizationGroup',
              column_name: 'Id',
              is_rowguidcol: false,
              key_ordinal: 1,
            },
            {
              table_schema: 'app',
              table_name: 'PersonalizationGroup',
              column_name: 'rowguid',
              is_rowguidcol: true,
              key_ordinal: null,
            },
          ],
        ];
      }
      if (same(s, sql.dropRowGuidConversionMark('PS', ROWGUID_MARKS.started))) return [];
      return undefined;
    });
    expect(await port.rowGuidTables(SUB)).toEqual([
      {
        article: 'ProfileData',
        schema: 'dbo',
        table: 'ProfileData',
        keyColumns: ['UserId', 'Part'],
        rowguidColumn: 'rowguid',
      },
      {
        article: 'PersonalizationGroup',
        schema: 'app',
        table: 'PersonalizationGroup',
        keyColumns: ['Id'],
        rowguidColumn: 'rowguid',
      },
    ]);
    await port.clearRowGuidConversionStarted(SUB);
    expect(connections.calls.at(-1)).toMatchObject({ server: SUB.server, params: { name: ROWGUID_MARKS.started } });
  });

  it("reads the ConvertRowGuids marks on a subscriber's database and adds one where the subscriber is", async () => {
    const marks = sql.rowGuidConversionMarks('PS', ROWGUID_MARKS.started, ROWGUID_MARKS.done);
    const { port, connections } = fleet((_server, s) => {
      if (same(s, marks)) return [[{ name: ROWGUID_MARKS.started, value: 'run r1 at 2026-12-05T07:00:00.000Z' }]];
      if (same(s, sql.addRowGuidConversionMark('PS', ROWGUID_MARKS.done, 'run r1'))) return [];
      return undefined;
    });
    expect(await port.rowGuidConversionMarks(SUB)).toEqual({ started: 'run r1 at 2026-12-05T07:00:00.000Z' });
    expect(connections.calls.at(-1)).toMatchObject({ server: SUB.server });
    await port.markRowGuidConversion(SUB, 'done', 'run r1');
    expect(connections.calls.at(-1)).toMatchObject({
      server: SUB.server,
      params: { name: ROWGUID_MARKS.done, value: 'run r1' },
    });
  });

  // sp_get_distributor's result set (sp-get-distributor-transact-sql): column names with spaces.
  it.each([
    [
      'its own distributor',
      [
        {
          installed: 1,
          'distribution server': 'BRANCHHOST',
          'distribution db installed': 1,
          'is distribution publisher': 1,
          'has remote distribution publisher': 0,
        },
      ],
      { installed: true, server: 'BRANCHHOST' },
    ],
    [
      'none installed',
      [
        {
          installed: 0,
          'distribution server': null,
          'distribution db installed': 0,
          'is distribution publisher': 0,
          'has remote distribution publisher': 0,
        },
      ],
      { installed: false },
    ],
    ['no row (a login that may not see it)', [], { installed: false }],
  ])(
    "reads a publishing server's distributor from sp_get_distributor, on that server: %s",
    async (_name, recordset, expected) => {
      const { port, connections } = fleet((_server, s) =>
        same(s, sql.distributorOfServer()) ? [recordset] : undefined,
      );
      expect(await port.distributorOf('BRANCHHOST,1433')).toEqual(expected);
      expect(connections.calls).toEqual([
        { server: 'BRANCHHOST,1433', sql: 'EXEC sys.sp_get_distributor;', params: {} },
      ]);
    },
  );

  it('reads server facts', async () => {
    const { port } = fleet(() => [
      [
        {
          version: '15.0.2000.5',
          edition: 'Express Edition (64-bit)',
          server_name: 'PUBHOST',
          is_sysadmin: 1,
          agent_status: null,
        },
      ],
    ]);
    expect(await port.serverFacts(PUB.server)).toEqual({
      server: PUB.server,
      version: '15.0.2000.5',
      edition: 'Express Edition (64-bit)',
      agentRunning: false,
      isSysadmin: true,
    });
  });

  // sys.dm_server_services.status: 1 Stopped … 4 Running; the Agent is found by its executable, whatever the service's
  // localised name.
  it.each([
    [4, true],
    [1, false],
    [2, false],
  ])('SQL Server Agent with status %s is running: %s', async (status, running) => {
    const { port } = fleet(() => [
      [
        {
          version: '16.0.1000.6',
          edition: 'Enterprise Edition',
          server_name: 'PUBHOST',
          is_sysadmin: 1,
          agent_status: status,
        },
      ],
    ]);
    expect((await port.serverFacts(PUB.server)).agentRunning).toBe(running);
  });

  it('reuses a verified backup of this run instead of backing up again', async () => {
    const file = 'D:\\Backups\\PS_run-1.bak';
    const { port, connections } = fleet((_server, s) => {
      if (same(s, sql.backupInFile('PS', file)))
        return [[{ backup_size: 1024, backup_finish_date: T0, is_copy_only: true, has_backup_checksums: true }]];
      if (same(s, sql.verifyBackup(file))) return [];
      return undefined;
    });
    expect(await port.backupDatabase(PUB, 'D:\\Backups\\', 'run-1')).toEqual({
      db: PUB,
      file,
      bytes: 1024,
      copyOnly: true,
      checksum: true,
      finishedAt: '2024-05-01T10:00:00.000Z',
    });
    expect(connections.calls.some((c) => c.sql.startsWith('BACKUP'))).toBe(false);
  });

  it(
    'runs a script: QUOTED_IDENTIFIER OFF first, ' + 'batches in order with repeats, on one session it ' + 'closes',
    async () => {
      const { port, connections } = fleet(() => undefined);
      // A value the run passes is escaped where it stands: 'it''s' inside N'…'.
      const run = await port.runScript(PUB, {
        name: 'CreateDataSubscription.sql',
        text: "PRINT 1\nGO 2\nPRINT N'$(X)'\n",
        vars: { X: "it's" },
      });
      expect(connections.sessionBatches).toEqual([
        'SET QUOTED_IDENTIFIER OFF;',
        'PRINT 1',
        'PRINT 1',
        "PRINT N'it''s'",
      ]);
      expect(run).toEqual({ batches: 3, messages: ['ran PRINT 1', 'ran PRINT 1', "ran PRINT N'it''s'"] });
      expect(connections.sessionClosed()).toBe(true);
    },
  );

  it('stops a script at a failed batch, naming the script line, and keeps the error number', async () => {
    const { port, connections } = fleet(() => undefined);
    const err = await port
      .runScript(PUB, { name: 's.sql', text: 'PRINT 1\nGO\n\nSELECT 1\nRAISERROR_2627_LINE_2\nGO\nPRINT 3', vars: {} })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlError);
    expect([(err as SqlError).number, (err as Error).message]).toEqual([2627, 's.sql:5: script failed 2627']);
    expect(connections.sessionBatches).not.toContain('PRINT 3');
    expect(connections.sessionClosed()).toBe(true);
  });

  it(
    "the plan's on-error choice applies before the " +
      "script's own :on error: ignore goes on as plain " +
      'sqlcmd does',
    async () => {
      const { port, connections } = fleet(() => undefined);
      const run = await port.runScript(PUB, {
        name: 's.sql',
        text: 'RAISERROR_50000_LINE_1\nGO\nPRINT 3',
        vars: {},
        onError: 'ignore',
      });
      expect(run).toEqual({ batches: 2, messages: ['s.sql:1: script failed 50000', 'ran PRINT 3'] });
      const stopped = await port
        .runScript(PUB, { name: 's.sql', text: 'RAISERROR_50000_LINE_1\nGO\nPRINT 4', vars: {} })
        .catch((e: unknown) => e);
      expect((stopped as Error).message).toBe('s.sql:1: script failed 50000');
      expect(connections.sessionBatches).not.toContain('PRINT 4');
    },
  );

  // sqlcmd-utility (EXIT): "If RAISERROR is used within a sqlcmd script and a state of 127 is raised, sqlcmd quits".
  // Both an error and an informational message.
  it('RAISERROR with state 127 ends the script even under :on error ignore', async () => {
    const { port, connections } = fleet(() => undefined);
    const stopped = (text: string) =>
      port.runScript(PUB, { name: 's.sql', text: `:on error ignore\n${text}`, vars: {} }).catch((e: unknown) => e);
    const err = await stopped('RAISERROR_50001_LINE_1_STATE_127\nGO\nPRINT 3');
    expect(err).toBeInstanceOf(SqlError);
    expect([(err as SqlError).number, (err as Error).message]).toEqual([
      50001,
      's.sql:2: script failed 50001 (RAISERROR state 127: the script ends here, as in sqlcmd)',
    ]);
    const info = await stopped('PRINT 0\nINFO_50002_STATE_127\nGO\nPRINT 5');
    expect([(info as SqlError).number, (info as Error).message]).toEqual([
      50002,
      's.sql:2: info 50002 (RAISERROR state 127: the script ends here, as in sqlcmd)',
    ]);
    expect(connections.sessionBatches).not.toContain('PRINT 3');
    expect(connections.sessionBatches).not.toContain('PRINT 5');
  });

  it('continues past a failed batch under :on error ignore, recording the error', async () => {
    const { port } = fleet(() => undefined);
    const run = await port.runScript(PUB, {
      name: 's.sql',
      text: ':on error ignore\nRAISERROR_50000_LINE_1\nGO\nPRINT 3',
      vars: {},
    });
    expect(run).toEqual({ batches: 2, messages: ['s.sql:2: script failed 50000', 'ran PRINT 3'] });
  });

  it(
    "runs the plan's canary with this run's token: " + 'written at the publisher, found (or not) at a ' + 'subscriber',
    async () => {
      const canary = {
        write: 'UPDATE dbo.C SET Token = @token WHERE Id = 1',
        read: 'SELECT 1 FROM dbo.C WHERE Token = @token',
      };
      const { port, connections } = fleet(
        (server, s) => {
          if (same(s, sql.canary('PS', canary.write, 'tok-1'))) return [[]];
          if (same(s, sql.canary('PS', canary.read, 'tok-1'))) return server === SUB.server ? [[{ x: 1 }]] : [[]];
          return undefined;
        },
        { canary },
      );
      await port.writeCanary(PUB, 'tok-1');
      expect(await port.readCanary(SUB, 'tok-1')).toBe(true);
      expect(await port.readCanary({ server: 'OTHER', database: 'PS' }, 'tok-1')).toBe(false);
      expect(connections.calls.map((c) => [c.server, c.params.token])).toEqual([
        [PUB.server, 'tok-1'],
        [SUB.server, 'tok-1'],
        ['OTHER', 'tok-1'],
      ]);
    },
  );

  it(
    "tells a plan's server name (HOST,PORT) from the name " + 'replication knows it by (@@SERVERNAME), asking once',
    async () => {
      const { port, connections } = fleet((_server, s) =>
        same(s, sql.serverFacts()) ? [[{ server_name: 'PUBHOST' }]] : undefined,
      );
      expect(await port.replicationName(PUB.server)).toBe('PUBHOST');
      expect(await port.replicationName(PUB.server)).toBe('PUBHOST');
      expect(connections.calls).toHaveLength(1);
    },
  );

  it('needs the vendor-specific queries to be configured', async () => {
    const { port } = fleet(() => [[]]);
    await expect(port.databaseVersion(PUB)).rejects.toThrow(
      'no versionQuery is configured: add versionQuery to the plan (it is vendor specific)',
    );
    await expect(port.readCanary(PUB, 't')).rejects.toThrow(
      'no canary read query is configured: add target.canary.read to the plan (it is vendor specific)',
    );
  });
});

describe('configuration helpers', () => {
  it.each([
    ['SQL01', { host: 'SQL01' }],
    ['SQL01\\EM', { host: 'SQL01', instanceName: 'EM' }],
    ['SQL01,14330', { host: 'SQL01', port: 14330 }],
    ['tcp:SQL01,1433', { host: 'SQL01', port: 1433 }],
    ['.\\SQLEXPRESS', { host: 'localhost', instanceName: 'SQLEXPRESS' }],
    ['(local)', { host: 'localhost' }],
  ])('server %s', (server, address) => {
    expect(parseServerName(server)).toEqual(address);
  });
  it('rejects a server it cannot read', () => {
    expect(() => parseServerName('a b')).toThrow("server 'a b' is not HOST, HOST\\INSTANCE or HOST,PORT");
    expect(() => parseServerName('a,70000')).toThrow("server 'a,70000': port 70000 is not between 1 and 65535");
  });

  it('resolves credential references on the worker', () => {
    const sources = { env: { PW: 's3cret' }, readFile: (p: string) => (p === '/run/pw' ? 'fromfile\n' : '') };
    expect(resolveCredentialRef('env:PW', sources)).toBe('s3cret');
    expect(resolveCredentialRef('file:/run/pw', sources)).toBe('fromfile');
    expect(() => resolveCredentialRef('env:MISSING', sources)).toThrow(
      "credential reference 'env:MISSING': environment variable MISSING is not set for the replup worker",
    );
    expect(() => resolveCredentialRef('s3cret', sources)).toThrow(
      "credential reference 's3cret' must be env:NAME or file:PATH",
    );
  });

  it('builds SQL and NTLM logins', () => {
    const values: Record<string, string> = {
      'env:U': 'replup',
      'env:P': 'pw',
      'env:REPLUP_WINDOWS_USER': 'CORP\\svc-replup',
      'env:REPLUP_WINDOWS_PASSWORD': 'wpw',
    };
    const resolve = (ref: string) => values[ref] ?? '';
    expect(resolveLogin({ kind: 'sql', user: 'env:U', password: 'env:P' }, undefined, resolve)).toEqual({
      kind: 'sql',
      user: 'replup',
      password: 'pw',
    });
    expect(resolveLogin({ kind: 'windows' }, undefined, resolve)).toEqual({
      kind: 'windows',
      domain: 'CORP',
      user: 'svc-replup',
      password: 'wpw',
    });
    expect(() => resolveLogin({ kind: 'windows' }, { user: 'env:U', password: 'env:P' }, resolve)).toThrow(
      "Windows login 'replup' (from env:U) must be written DOMAIN\\user for NTLM",
    );
  });

  it.each([
    ['D:\\Backups', 'PS', 'run-1', 'D:\\Backups\\PS_run-1.bak'],
    ['/var/opt/mssql/backup/', 'PS', 'run-1', '/var/opt/mssql/backup/PS_run-1.bak'],
    ['D:\\B', "P]S 'x", 'wf/1:2', 'D:\\B\\P_S__x_wf_1_2.bak'],
  ])('backup file in %s for %s', (dir, db, runId, file) => {
    expect(backupFilePath(dir, db, runId)).toBe(file);
  });
});
