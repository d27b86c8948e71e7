// Runs the adapter against a real SQL Server when REPLUP_TEST_MSSQL holds an ADO-style connection
// string (e.g. "Server=localhost,1433;User Id=sa;Password=…;TrustServerCertificate=true").
// No SQL Server can run on the build machines, so this suite is normally skipped.
import mssql from 'mssql';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqlServerFleet } from '../../../activities/sqlserver/adapter.js';
import { createMssqlConnections } from '../../../activities/sqlserver/connections.js';

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
  afterAll(() => fleet.close());

  it('reads server facts', async () => {
    const facts = await fleet.serverFacts(server);
    expect(facts.version).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(facts.edition).not.toBe('');
  });

  it('lists user sessions of a database (not its own)', async () => {
    const sessions = await fleet.activeSessions(master);
    expect(sessions.every((s) => Number.isInteger(s.sessionId))).toBe(true);
  });

  it('reads the replication state of a database that is not published', async () => {
    expect(await fleet.replicationState({ server, database: 'tempdb' })).toEqual({ mergePublished: false, publications: [], subscriptions: [] });
  });

  it('runs a script with sqlcmd defaults: QUOTED_IDENTIFIER OFF, GO n, one session', async () => {
    const run = await fleet.runScript(master, {
      name: 'live.sql',
      text: [
        'CREATE TABLE #n (i int)',
        'GO',
        'INSERT #n VALUES (1)',
        'GO 3',
        'PRINT "quoted_identifier=" + CAST(SESSIONPROPERTY(\'QUOTED_IDENTIFIER\') AS varchar(1))',
        'DECLARE @c int = (SELECT COUNT(*) FROM #n); PRINT \'rows=$(Expected):\' + CAST(@c AS varchar(10))',
      ].join('\n'),
      vars: { Expected: '3' },
    });
    expect(run.messages).toEqual(['quoted_identifier=0', 'rows=3:3']);
  });
});
