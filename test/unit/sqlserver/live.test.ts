// Runs the adapter against a real SQL Server when REPLUP_TEST_MSSQL holds an ADO-style connection
// string (e.g. "Server=localhost,1433;User Id=sa;Password=…;TrustServerCertificate=true").
// No SQL Server can run on the build machines, so this suite is normally skipped: it has never run.
//
// Statements on the distribution database run when the server is a distributor (a database named
// "distribution"); those on a publication database run when REPLUP_TEST_MSSQL_PUBLICATION names
// one as "database/publication" (a merge publication of that server). Each test names the
// statements of statements.ts it sends (activities/sqlserver/README.md, "live").
import mssql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlServerFleet } from '../../../activities/sqlserver/adapter.js';
import { createMssqlConnections } from '../../../activities/sqlserver/connections.js';
import { judgeValidation } from '../../../activities/personalization-upgrade/convergence.js';
import { NIGHTLY } from './schedules.js';

const connectionString = process.env.REPLUP_TEST_MSSQL;

describe.skipIf(!connectionString)('SQL Server adapter, live (skipped: REPLUP_TEST_MSSQL is not set)', () => {
  const config = mssql.ConnectionPool.parseConnectionString(connectionString ?? '');
  const server = config.options?.instanceName
    ? `${config.server}\\${config.options.instanceName}`
    : config.port
      ? `${config.server},${config.port}`
      : config.server;
  const connections = createMssqlConnections({
    login: () => ({ kind: 'sql', user: config.user ?? '', password: config.password ?? '' }),
    encrypt: config.options?.encrypt !== false,
    trustServerCertificate: config.options?.trustServerCertificate ?? false,
  });
  const fleet = createSqlServerFleet({
    credentials: { kind: 'sql', user: 'env:unused', password: 'env:unused' },
    distributor: { server, database: 'distribution' },
    connections,
  });
  const master = { server, database: 'master' };
  // Setup and cross-checks the adapter does not do itself, on a connection of the test's own.
  const raw = new mssql.ConnectionPool(connectionString ?? '');
  let isDistributor = false;
  beforeAll(async () => {
    await raw.connect();
    isDistributor = (await raw.request().query("SELECT DB_ID(N'distribution') AS id")).recordset[0]?.id != null;
  });
  afterAll(async () => {
    await fleet.close();
    await raw.close();
  });
  const [publicationDb, publication] = (process.env.REPLUP_TEST_MSSQL_PUBLICATION ?? '').split('/');

  // serverFacts: SERVERPROPERTY, @@SERVERNAME, IS_SRVROLEMEMBER, sys.dm_server_services (status, filename).
  it('reads server facts, SQL Server Agent found by its executable as the server itself reports it', async () => {
    const facts = await fleet.serverFacts(server);
    expect(facts.version).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(facts.edition).not.toBe('');
    const agent = (
      await raw
        .request()
        .query("SELECT ss.status FROM sys.dm_server_services AS ss WHERE ss.filename LIKE N'%SQLAGENT%'")
    ).recordset[0];
    expect(facts.agentRunning).toBe(agent?.status === 4);
  });

  // distributorOfServer: sys.sp_get_distributor, its columns installed and distribution server.
  it(
    "reads the server's distributor: a server with a distribution database is its own *(inferred)*, any other " +
      'names one elsewhere or none',
    async () => {
      const found = await fleet.distributorOf(server);
      const own = (await raw.request().query('SELECT CAST(@@SERVERNAME AS nvarchar(128)) AS name')).recordset[0]
        ?.name as string;
      if (isDistributor) expect(found).toEqual({ installed: true, server: own });
      else expect(found.installed ? found.server?.toLowerCase() : undefined).not.toBe(own.toLowerCase());
    },
  );

  // userSessions, and mergeAgentNames on the distribution database (agents' sessions are not users').
  it('lists user sessions of a database (not its own)', async (ctx) => {
    if (!isDistributor) ctx.skip();
    const sessions = await fleet.activeSessions(master);
    expect(sessions.every((s) => Number.isInteger(s.sessionId))).toBe(true);
  });

  it('reads the replication state of a database that is not published', async () => {
    expect(await fleet.replicationState({ server, database: 'tempdb' })).toEqual({
      mergePublished: false,
      publications: [],
      subscriptions: [],
    });
  });

  // mergeSubscriptionHealth (its OBJECT_ID guard): a database without merge replication has none.
  it('lists no merge subscriptions in a database that takes no part in merge replication', async () => {
    expect(await fleet.mergeSubscriptions({ server, database: 'tempdb' })).toEqual([]);
  });

  // updateScheduleEnabled: msdb.dbo.sp_update_schedule @schedule_id, @enabled, read back from msdb.dbo.sysschedules.
  it('disables and re-enables an Agent schedule', async () => {
    const name = `replup-live-${Date.now()}`;
    const created = await raw
      .request()
      .input('name', name)
      .query(
        'DECLARE @id int; EXEC msdb.dbo.sp_add_schedule @schedule_name = @name, @freq_type = 4, ' +
          '@freq_interval = 1, @schedule_id = @id OUTPUT; SELECT @id AS id;',
      );
    const id = Number(created.recordset[0].id);
    const enabled = async () =>
      Number(
        (
          await raw
            .request()
            .input('id', id)
            .query('SELECT sc.enabled FROM msdb.dbo.sysschedules AS sc WHERE sc.schedule_id = @id')
        ).recordset[0].enabled,
      );
    try {
      // a publisher on this server: its distributor is the plan's
      await fleet.setScheduleEnabled(id, false, { server, database: 'master' });
      expect(await enabled()).toBe(0);
      await fleet.setScheduleEnabled(id, true, { server, database: 'master' });
      expect(await enabled()).toBe(1);
    } finally {
      await raw.request().input('id', id).query('EXEC msdb.dbo.sp_delete_schedule @schedule_id = @id');
    }
  });

  // updateScheduleTiming: every sp_update_schedule timing parameter and @enabled, read back from msdb.dbo.sysschedules.
  it('re-times an Agent schedule (daily at 02:00) and keeps it disabled', async () => {
    const name = `replup-live-${Date.now()}-timing`;
    const created = await raw
      .request()
      .input('name', name)
      .query(
        'DECLARE @id int; EXEC msdb.dbo.sp_add_schedule @schedule_name = @name, @freq_type = 4, ' +
          '@freq_interval = 1, @freq_subday_type = 4, @freq_subday_interval = 5, @schedule_id = @id OUTPUT; ' +
          'SELECT @id AS id;',
      );
    const id = Number(created.recordset[0].id);
    const timing = NIGHTLY;
    try {
      await fleet.setScheduleTiming(id, timing, false, { server, database: 'master' });
      const row = (
        await raw
          .request()
          .input('id', id)
          .query('SELECT sc.* FROM msdb.dbo.sysschedules AS sc WHERE sc.schedule_id = @id')
      ).recordset[0];
      expect(row).toMatchObject({
        enabled: 0,
        freq_type: 4,
        freq_interval: 1,
        freq_subday_type: 1,
        freq_subday_interval: 0,
        active_start_date: 20240101,
        active_end_date: 99991231,
        active_start_time: 20000,
        active_end_time: 235959,
      });
    } finally {
      await raw.request().input('id', id).query('EXEC msdb.dbo.sp_delete_schedule @schedule_id = @id');
    }
  });

  // mergeAgentNames, mergeAgentJobSchedules (MSmerge_agents, msdb sysjobschedules/sysschedules), on the distributor.
  it(
    'on a distributor: reads the merge agents, their jobs ' + "and schedules, and tells their sessions from users'",
    async (ctx) => {
      if (!isDistributor) ctx.skip();
      const jobs = await fleet.mergeAgentJobs({ server, database: publicationDb || 'tempdb' });
      expect(jobs.every((j) => j.jobId !== '' && j.schedules.every((x) => Number.isInteger(x.scheduleId)))).toBe(true);
      const sessions = await fleet.activeSessions(master);
      expect(sessions.every((x) => Number.isInteger(x.sessionId))).toBe(true);
    },
  );

  // conflicts (sysmergepublications logging columns, MSmerge_conflicts_info.tablenick, sysmergearticles),
  // publicationSnapshotReady, snapshotAgentLastRun, mergeSubscriptionHealth, publicationProperties, publicationArticles
  // on a real publication.
  it('on a merge publication: its conflicts, its snapshot and its subscriptions', async (ctx) => {
    if (!publicationDb || !publication) ctx.skip();
    const db = { server, database: publicationDb! };
    const conflicts = await fleet.conflicts(db, publication!, { since: new Date().toISOString() });
    expect(conflicts.every((c) => c.verdict === 'settled' || c.verdict === 'needs-person')).toBe(true);
    expect(typeof (await fleet.snapshotStatus(db, publication!)).ready).toBe('boolean');
    expect((await fleet.mergeSubscriptions(db)).every((x) => x.retentionDays >= 0)).toBe(true);
    // publicationProperties, publicationArticles: the publication with its articles, as sp_helpmergearticle lists them.
    const config = (await fleet.publicationConfigs(db)).find(
      (p) => p.name.toLowerCase() === publication!.toLowerCase(),
    );
    expect(config).toBeDefined();
    const helped = (
      await raw
        .request()
        .input('publication', publication!)
        .query(`EXEC [${publicationDb!.replace(/]/g, ']]')}].sys.sp_helpmergearticle @publication = @publication`)
    ).recordset
      .map((r: { name: string }) => r.name)
      .sort();
    expect(config!.articles.map((a) => a.name).sort()).toEqual(helped);
  });

  // replicationAddedRowGuids (sysmergearticles.preserve_rowguidcol), mergeValidationDates, mergeValidationAlerts
  // (msdb.dbo.sysreplicationalerts), validateMergeSubscription (sp_validatemergesubscription @level = 3),
  // then a merge agent run: the validation it records, judged as the workflow judges it (issue #20 §1).
  it(
    "on a merge publication: articles whose rowguid column replication added, and a subscription's merge " +
      'validation',
    async (ctx) => {
      if (!publicationDb || !publication) ctx.skip();
      const db = { server, database: publicationDb! };
      const added = await fleet.replicationAddedRowGuids(db);
      const raw0 = (
        await raw
          .request()
          .input('p', publication!)
          .query(
            `SELECT a.name FROM [${publicationDb!.replace(/]/g, ']]')}].dbo.sysmergearticles AS a JOIN [` +
              `${publicationDb!.replace(/]/g, ']]')}].dbo.sysmergepublications AS p ON p.pubid = a.pubid WHERE ` +
              `p.name = @p AND a.preserve_rowguidcol = 0`,
          )
      ).recordset.map((r: { name: string }) => r.name);
      expect(
        added
          .filter((a) => a.publication === publication)
          .map((a) => a.article)
          .sort(),
      ).toEqual(raw0.sort());
      // publishedTableKeys, rowGuidSample: each table's first rows by primary key, key order kept.
      for (const t of await fleet.publishedTables(db, publication!)) {
        const sample = await fleet.rowGuidSample(db, t, 5);
        if (t.rowguidColumn && t.keyColumns.length)
          expect(sample.every((r) => /^[0-9a-f-]{36}$/.test(r.rowguid))).toBe(true);
        else expect(sample).toEqual([]);
      }
      const sub = (await fleet.mergeSubscriptions(db)).find((x) => x.publication === publication && x.type === 'push');
      if (!sub || !isDistributor) ctx.skip();
      const ref = { publication: publication!, publisher: db, subscriber: sub!.subscriber };
      const before = await fleet.validationState(ref);
      await fleet.markForValidation(ref);
      await fleet.runMergeAgent(ref);
      const verdict = judgeValidation(before, await fleet.validationState(ref));
      expect(verdict.outcome).not.toBe('not-validated');
    },
  );

  // rowGuidConversionMarks, addRowGuidConversionMark (sys.extended_properties, sp_addextendedproperty) on a scratch
  // database.
  it(
    'marks ConvertRowGuids started and done on a ' + 'database, once each (a second add keeps the first ' + 'value)',
    async () => {
      const name = `replup_live_${Date.now()}`;
      await raw.request().query(`CREATE DATABASE [${name}]`);
      try {
        const db = { server, database: name };
        expect(await fleet.rowGuidConversionMarks(db)).toEqual({});
        await fleet.markRowGuidConversion(db, 'started', 'run r1');
        await fleet.markRowGuidConversion(db, 'started', 'run r2');
        expect(await fleet.rowGuidConversionMarks(db)).toEqual({ started: 'run r1' });
        await fleet.markRowGuidConversion(db, 'done', 'run r1');
        expect(await fleet.rowGuidConversionMarks(db)).toEqual({ started: 'run r1', done: 'run r1' });
      } finally {
        await raw.request().query(`DROP DATABASE [${name}]`);
      }
    },
  );

  it('runs a script with sqlcmd defaults: QUOTED_IDENTIFIER OFF, GO n, one session', async () => {
    const run = await fleet.runScript(master, {
      name: 'live.sql',
      text: [
        'CREATE TABLE #n (i int)',
        'GO',
        'INSERT #n VALUES (1)',
        'GO 3',
        'PRINT "quoted_identifier=" + CAST(SESSIONPROPERTY(\'QUOTED_IDENTIFIER\') AS varchar(1))',
        "DECLARE @c int = (SELECT COUNT(*) FROM #n); PRINT 'rows=$(Expected):' + CAST(@c AS varchar(10))",
      ].join('\n'),
      vars: { Expected: '3' },
    });
    expect(run.messages).toEqual(['quoted_identifier=0', 'rows=3:3']);
  });
});
