// Every statement the SQL Server adapter can send, checked against activities/sqlserver/catalog.ts
// (Microsoft's documented columns and parameters): each statement function, and the full
// `replup plan show --sql` output of the example plans. A name SQL Server would not know fails here
// (issue #18 §1: MSmerge_conflicts_info has tablenick, not tablenickname).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CATALOG_PROCEDURES, CATALOG_TABLES, checkStatement } from '../../../activities/sqlserver/catalog.js';
import { statementNames } from '../../../activities/sqlserver/sql-names.js';
import * as sql from '../../../activities/sqlserver/statements.js';
import * as setup from '../../../activities/sqlserver/setup-replication-statements.js';
import * as subscriberSql from '../../../activities/sqlserver/subscriber-statements.js';
import { planShow } from '../../../cli/commands/plan.js';
import { EXAMPLES } from '../plan/load-example.js';
import { NIGHTLY } from './schedules.js';

const DB = "Pers]onal 'Ü数据";
const SUB = { server: 'SUB1\\EM', database: DB };
const JOB = '6F9619FF-8B86-D011-B42D-00C04FC964FF';

/** One call of every statement function (the test below fails when one is missing). */
const STATEMENTS: Record<string, sql.Statement[]> = {
  // The set-up runbook's statement (activities/sqlserver/setup-replication-statements.ts, issue 24).
  configureLocalDistributor: [setup.configureLocalDistributor('SQL01', 'distribution', 'D:\\ReplData')],
  subscriberDatabaseExists: [subscriberSql.databaseExists(DB)],
  subscriberTableRowCounts: [subscriberSql.tableRowCounts(DB)],
  serverFacts: [sql.serverFacts()],
  distributorOfServer: [sql.distributorOfServer()],
  databaseFacts: [sql.databaseFacts(DB)],
  userSessions: [sql.userSessions(DB)],
  killSession: [sql.killSession(53)],
  restrictToAdmins: [sql.restrictToAdmins(DB)],
  allowAllUsers: [sql.allowAllUsers(DB)],
  mergeAgents: [sql.mergeAgents('distribution', DB, 'Config'), sql.mergeAgents('distribution', DB, 'Config', SUB)],
  jobSteps: [sql.jobSteps(JOB)],
  jobActivity: [sql.jobActivity(JOB)],
  startJob: [sql.startJob(JOB)],
  newestMergeSession: [sql.newestMergeSession('distribution', 7)],
  pendingChanges: [sql.pendingChanges(DB, 'Config', 'SUB1')],
  conflicts: [sql.conflicts(DB, 'Data')],
  backupDatabase: [sql.backupDatabase(DB, 'D:\\b.bak')],
  verifyBackup: [sql.verifyBackup('D:\\b.bak')],
  backupInFile: [sql.backupInFile(DB, 'D:\\b.bak')],
  replicationState: [sql.replicationState(DB)],
  dropMergeSubscription: [sql.dropMergeSubscription(DB, 'Config', SUB)],
  mergeSubscriptionCleanup: [sql.mergeSubscriptionCleanup(DB, 'PUB', 'PS', 'Config')],
  dropMergePublication: [sql.dropMergePublication(DB, 'Data')],
  disableMergePublishing: [sql.disableMergePublishing(DB)],
  removeDbReplication: [sql.removeDbReplication(DB)],
  productVersion: [sql.productVersion(DB, 'SELECT 1')],
  canary: [sql.canary(DB, 'SELECT 1', 'token')],
  sqlcmdSessionDefaults: [sql.sqlcmdSessionDefaults()],
  mergeSubscriptionHealth: [sql.mergeSubscriptionHealth(DB)],
  mergeAgentJobSchedules: [sql.mergeAgentJobSchedules('distribution', DB)],
  updateScheduleEnabled: [sql.updateScheduleEnabled(12, false), sql.updateScheduleEnabled(12, true)],
  updateScheduleTiming: [sql.updateScheduleTiming(12, NIGHTLY, false)],
  publicationSnapshotReady: [sql.publicationSnapshotReady(DB, 'Config')],
  snapshotAgentLastRun: [sql.snapshotAgentLastRun('distribution', DB, 'Config')],
  mergeAgentNames: [sql.mergeAgentNames('distribution')],
  validateMergeSubscription: [sql.validateMergeSubscription(DB, 'Data', SUB)],
  mergeValidationDates: [sql.mergeValidationDates(DB, 'Data', SUB)],
  mergeValidationAlerts: [sql.mergeValidationAlerts(DB, 'Data', SUB)],
  replicationAddedRowGuids: [sql.replicationAddedRowGuids(DB)],
  publishedTableKeys: [sql.publishedTableKeys(DB, 'Data')],
  rowGuidSample: [
    sql.rowGuidSample(
      DB,
      { schema: 'dbo', table: "Pro]file'Data", keyColumns: ['Id', 'Part'], rowguidColumn: 'rowguid' },
      100,
    ),
  ],
  rowGuidConversionMarks: [
    sql.rowGuidConversionMarks(DB, 'replup.convertRowGuids.started', 'replup.convertRowGuids.done'),
  ],
  addRowGuidConversionMark: [sql.addRowGuidConversionMark(DB, 'replup.convertRowGuids.started', 'run 1')],
  dropRowGuidConversionMark: [sql.dropRowGuidConversionMark(DB, 'replup.convertRowGuids.started')],
  rowGuidTableKeys: [sql.rowGuidTableKeys(DB)],
  publicationProperties: [sql.publicationProperties(DB)],
  publicationArticles: [sql.publicationArticles(DB)],
  changeMergePublication: [sql.changeMergePublication(DB, 'Config', 'retention', '30')],
};

describe('every statement function', () => {
  it('is called above (a new statement must be added to STATEMENTS)', () => {
    const exported = Object.entries(sql)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
    expect(exported.filter((name) => !(name in STATEMENTS))).toEqual([]);
  });

  it.each(
    Object.entries(STATEMENTS).flatMap(([name, list]) =>
      list.map((s, i) => [`${name}${list.length > 1 ? ` #${i + 1}` : ''}`, s] as const),
    ),
  )(
    '%s names only documented tables, columns, procedures and parameters, and binds exactly the variables it reads',
    (_name, statement) => {
      expect(checkStatement(statement.sql, statement.params)).toEqual([]);
    },
  );
});

// ---- the full `plan show --sql` output ------------------------------------------------------------

interface ShownStatement {
  sql: string;
  /** One set of parameter names per "--   on SERVER: @a = …" line. */
  bindings: string[][];
}

/** The statements of `plan show --sql`: SQL lines up to GO, then the "--   on" lines with their values. */
function shownStatements(text: string): ShownStatement[] {
  const out: ShownStatement[] = [];
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (current) {
      if (line === 'GO') {
        // <…> stands for a value known when the step runs (KILL <session_id>): a number in its place.
        out.push({ sql: current.join('\n').replace(/<[^>]*>/g, '1'), bindings: [] });
        current = undefined;
      } else current.push(line);
    } else if (line.startsWith('--   on ') && out.length) {
      const values = line.slice(line.indexOf(':') + 1);
      // sqlcmd script lines ($(Var) = "…") bind no parameters.
      const names = [...values.matchAll(/@(\w+) = (?:N'(?:[^']|'')*'|<[^>]*>|-?\d+)/g)].map((m) => m[1]!);
      out[out.length - 1]!.bindings.push(line.includes(': @') ? names : []);
    } else if (line !== '' && !line.startsWith('--')) {
      current = [line];
    }
  }
  return out;
}

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** examples/branch-office.yaml (branch publishers, recovery subscribers) with a SQL Server target. */
async function branchOfficeOnSqlServer(): Promise<string> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'replup-catalog-'));
  const text = (await readFile(path.join(EXAMPLES, 'branch-office.yaml'), 'utf8')).replace(
    /target:\n {2}kind: lab\n {2}state: [^\n]*\n/,
    [
      'target:',
      '  kind: sqlserver',
      '  canary:',
      '    write: UPDATE dbo.ReplicationCanary SET Token = @token WHERE Id = 1',
      '    read: SELECT 1 FROM dbo.ReplicationCanary WHERE Token = @token',
      'versionQuery: SELECT TOP (1) Version FROM dbo.SchemaVersion',
      'backup:',
      '  dir: D:\\Backups\\replup',
      '',
    ].join('\n'),
  );
  const file = path.join(dir, 'branch-office-sqlserver.yaml');
  await writeFile(file, text.replace('  dir: replication', `  dir: ${path.join(EXAMPLES, 'replication')}`));
  return file;
}

describe('replup plan show --sql, every statement checked against the catalog', () => {
  it.each([
    ['examples/sqlserver.yaml', async () => path.join(EXAMPLES, 'sqlserver.yaml')],
    ['examples/branch-office.yaml on SQL Server', branchOfficeOnSqlServer],
  ])('%s', async (_name, file) => {
    const shown = await planShow(await file(), { sql: true });
    expect(shown.exitCode).toBe(0);
    const statements = shownStatements(shown.text);
    // Every statement function's text appears in the output at least once in some form; the count
    // guards the reader above against silently reading nothing.
    expect(statements.length).toBeGreaterThan(20);
    const problems = statements.flatMap((s) =>
      (s.bindings.length ? s.bindings : [[]]).flatMap((names) =>
        checkStatement(s.sql, Object.fromEntries(names.map((n) => [n, 1]))).map(
          (p) => `${p.message}\n  in: ${s.sql.split('\n')[0]}`,
        ),
      ),
    );
    expect(problems).toEqual([]);
  });
});

// ---- what the check refuses, as SQL Server would ------------------------------------------------

describe('checkStatement refuses what SQL Server does not know', () => {
  it('the statement of issue #18: c.tablenickname is not a column of MSmerge_conflicts_info (error 207)', () => {
    const wrong = sql.conflicts('PS', 'Data').sql.replace('c.tablenick AND', 'c.tablenickname AND');
    expect(checkStatement(wrong)).toEqual([
      {
        error: 207,
        message:
          "Invalid column name 'tablenickname' (c.tablenickname): dbo.MSmerge_conflicts_info has no such column (https://learn.microsoft.com/en-us/sql/relational-databases/system-tables/msmerge-conflicts-info-transact-sql)",
      },
    ]);
  });

  it('a column in the wrong case, with its documented spelling (a case-sensitive server refuses it)', () => {
    expect(checkStatement('SELECT c.msrepl_create_time FROM [PS].dbo.MSmerge_conflicts_info AS c;')).toEqual([
      {
        error: 207,
        message:
          "Invalid column name 'msrepl_create_time' (c.msrepl_create_time): dbo.MSmerge_conflicts_info has no such column; it is spelt 'MSrepl_create_time' (https://learn.microsoft.com/en-us/sql/relational-databases/system-tables/msmerge-conflicts-info-transact-sql)",
      },
    ]);
  });

  it('a column of another table of the same statement: aliases are resolved per table', () => {
    // nickname is sysmergearticles', not MSmerge_conflicts_info's.
    const problems = checkStatement(
      'SELECT c.nickname FROM [PS].dbo.MSmerge_conflicts_info AS c JOIN [PS].dbo.sysmergearticles AS a ON ' +
        'a.nickname = c.tablenick;',
    );
    expect(problems.map((p) => p.error)).toEqual([207]);
    expect(problems[0]!.message).toContain(
      "Invalid column name 'nickname' (c.nickname): dbo.MSmerge_conflicts_info has no such column",
    );
  });

  it('a table of another database named without its database: the connection is in master', () => {
    expect(checkStatement('SELECT js.command FROM dbo.sysjobsteps AS js;')).toEqual([
      { error: 208, message: "'dbo.sysjobsteps': a table of msdb: write msdb.dbo.sysjobsteps" },
    ]);
    expect(checkStatement('SELECT a.name FROM dbo.MSmerge_agents AS a;')).toEqual([
      {
        error: 208,
        message:
          "'dbo.MSmerge_agents': it lives in the distribution database: name the database " +
          '([db].dbo.MSmerge_agents), the connection is in master',
      },
    ]);
  });

  it('what it does not have: a table (208), a procedure (2812), a parameter of a procedure (8145)', () => {
    expect(checkStatement('SELECT x.a FROM [PS].dbo.MSmerge_conflicts AS x;')).toEqual([
      {
        error: 208,
        message:
          "Invalid object name 'PS.dbo.MSmerge_conflicts': not in the catalog " +
          '(activities/sqlserver/catalog.ts); read its Microsoft page and add it',
      },
    ]);
    expect(checkStatement('EXEC msdb.dbo.sp_start_jobs @job_id = @jobId;', { jobId: 'x' })).toEqual([
      {
        error: 2812,
        message:
          "Could not find stored procedure 'msdb.dbo.sp_start_jobs': not in the catalog " +
          '(activities/sqlserver/catalog.ts); read its Microsoft page and add it',
      },
    ]);
    expect(checkStatement('EXEC msdb.dbo.sp_update_schedule @schedule_id = @id, @is_enabled = 0;', { id: 1 })).toEqual([
      {
        error: 8145,
        message:
          '@is_enabled is not a parameter for procedure dbo.sp_update_schedule (its parameters: @schedule_id, @name, @new_name, @enabled, @freq_type, @freq_interval, @freq_subday_type, @freq_subday_interval, @freq_relative_interval, @freq_recurrence_factor, @active_start_date, @active_end_date, @active_start_time, @active_end_time, @owner_login_name, @automatic_post; https://learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-update-schedule-transact-sql)',
      },
    ]);
  });

  it('a variable read but not bound (137), and a value bound but never read', () => {
    expect(checkStatement('SELECT d.name FROM sys.databases AS d WHERE d.name = @database;', { db: 'x' })).toEqual([
      {
        error: 137,
        message: 'Must declare the scalar variable "@database": the statement reads it but binds no value for it',
      },
      { error: 0, message: '@db is bound but the statement never reads it' },
    ]);
  });

  it('a SERVERPROPERTY the page does not list', () => {
    expect(checkStatement("SELECT SERVERPROPERTY('ProductVersions') AS v;")).toEqual([
      {
        error: 0,
        message:
          "SERVERPROPERTY('ProductVersions') is not a property the catalog lists (https://learn.microsoft.com/en-us/sql/t-sql/functions/serverproperty-transact-sql)",
      },
    ]);
  });

  it(
    'what it cannot read: a column without its alias, an alias the statement does not define, an unknown ' + 'function',
    () => {
      expect(checkStatement('SELECT name FROM sys.databases AS d;').map((p) => p.message)).toEqual([
        'name: a name without its table alias (write alias.name)',
      ]);
      expect(checkStatement('SELECT x.name FROM sys.databases AS d;').map((p) => p.message)).toEqual([
        'x.name: x is not a table alias of this statement',
      ]);
      expect(checkStatement('SELECT SUSER_SNAME() AS who;').map((p) => p.message)).toEqual([
        'function SUSER_SNAME() is not one the catalog check knows',
      ]);
    },
  );
});

describe('statementNames (the extractor)', () => {
  it('resolves aliases per statement of a batch, including a subquery and brackets', () => {
    const names = statementNames(
      [
        'SELECT TOP (1) s.session_id, (SELECT TOP (1) h.comments FROM [d].dbo.MSmerge_history AS h WHERE ' +
          'h.session_id = s.session_id ORDER BY h.[timestamp] DESC) AS message',
        'FROM [d].dbo.MSmerge_sessions AS s WHERE s.agent_id = @agentId;',
        'SELECT s.name FROM sys.databases s;',
      ].join('\n'),
    );
    expect(names.tables.map((t) => [t.name, t.alias])).toEqual([
      ['d.dbo.MSmerge_history', 'h'],
      ['d.dbo.MSmerge_sessions', 's'],
      ['sys.databases', 's'],
    ]);
    expect(names.columns.map((c) => `${c.table}.${c.column}`)).toEqual([
      'd.dbo.MSmerge_sessions.session_id',
      'd.dbo.MSmerge_history.comments',
      'd.dbo.MSmerge_history.session_id',
      'd.dbo.MSmerge_sessions.session_id',
      'd.dbo.MSmerge_history.timestamp',
      'd.dbo.MSmerge_sessions.agent_id',
      'sys.databases.name',
    ]);
    expect(names.variables).toEqual(['@agentId']);
    expect(names.unknown).toEqual([]);
  });

  it("reads EXEC's named and positional arguments apart from the variables passed as values", () => {
    const names = statementNames("EXEC [d].sys.sp_executesql @query, N'@token nvarchar(200)', @token = @token;");
    expect(names.procedures).toEqual([
      { name: 'd.sys.sp_executesql', parts: ['d', 'sys', 'sp_executesql'], named: ['@token'], positional: 2 },
    ]);
    expect(names.variables).toEqual(['@query', '@token']);
  });

  it('does not take a quoted string, a comment or a database name for a column', () => {
    const names = statementNames(
      '-- c.nothing\nALTER DATABASE [a.b] SET MULTI_USER; SELECT d.name FROM sys.databases AS d WHERE d.name ' +
        "LIKE N'x.y%';",
    );
    expect(names.columns.map((c) => c.column)).toEqual(['name', 'name']);
    expect(names.unknown).toEqual([]);
  });

  it('refuses one alias for two tables in a statement', () => {
    expect(
      statementNames(
        'SELECT a.name FROM sys.databases AS a JOIN sys.dm_exec_sessions AS a ON a.database_id = a.database_id;',
      ).unknown,
    ).toEqual(['alias a names both sys.databases and sys.dm_exec_sessions: give each its own alias']);
  });
});

describe('the catalog', () => {
  const objects = [...CATALOG_TABLES, ...CATALOG_PROCEDURES];

  it('gives each object the Microsoft page it was read from, once, with no column or parameter twice', () => {
    // sys.extended_properties' page is named extended-properties-catalog-views-sys-extended-properties (no
    // -transact-sql).
    for (const o of objects)
      expect(o.url, o.name).toMatch(
        /^https:\/\/learn\.microsoft\.com\/en-us\/sql\/relational-databases\/[a-z-]+\/[a-z0-9-]+(-transact-sql|-catalog-views-sys-extended-properties)$/,
      );
    expect(new Set(objects.map((o) => o.name)).size).toBe(objects.length);
    for (const t of CATALOG_TABLES) expect(new Set(t.columns).size, t.name).toBe(t.columns.length);
    for (const p of CATALOG_PROCEDURES) expect(new Set(p.parameters).size, p.name).toBe(p.parameters.length);
  });

  it('lists only what the adapter uses: every object is named by some statement', () => {
    const used = new Set(
      Object.values(STATEMENTS)
        .flat()
        .flatMap((s) => {
          const names = statementNames(s.sql);
          return [...names.tables, ...names.procedures].map((n) => n.parts.slice(-2).join('.'));
        }),
    );
    expect(objects.map((o) => o.name).filter((name) => !used.has(name))).toEqual([]);
  });

  it('MSmerge_conflicts_info has tablenick, as its page lists, and no tablenickname', async () => {
    const table = CATALOG_TABLES.find((t) => t.name === 'dbo.MSmerge_conflicts_info')!;
    expect(table.columns).toContain('tablenick');
    expect(table.columns).not.toContain('tablenickname');
    // The statement the issue found wrong, as the adapter sends it now.
    expect(sql.conflicts('PS', 'Data').sql).toContain('a.nickname = c.tablenick AND');
  });
});

describe('activities/sqlserver/README.md', () => {
  it(
    'lists every statement function, each with the Microsoft page of every object it names, and says none has ' +
      'run against a real server',
    async () => {
      const readme = await readFile(path.join(import.meta.dirname, '../../../activities/sqlserver/README.md'), 'utf8');
      expect(readme).toContain('**None of these statements has been run against a real SQL Server.**');
      const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
      const missing: string[] = [];
      for (const [name, [statement]] of Object.entries(STATEMENTS)) {
        const row = rows.find((r) => r.split('|')[1]!.includes(name));
        if (!row) {
          missing.push(`${name}: no row`);
          continue;
        }
        const names = statementNames(statement!.sql);
        const urls = [
          ...names.tables.map((t) => catalogTableUrl(t.name)),
          ...names.procedures.map((p) => catalogProcedureUrl(p.name)),
        ];
        for (const url of urls) if (!row.includes(`(${url})`)) missing.push(`${name}: ${url}`);
        // Every row says it was not run on a real server.
        if (!row.trimEnd().endsWith('| no |')) missing.push(`${name}: the real-server column is not "no"`);
      }
      expect(missing).toEqual([]);
    },
  );
});

function catalogTableUrl(name: string): string {
  return CATALOG_TABLES.find((t) => t.name === name.split('.').slice(-2).join('.'))!.url;
}
function catalogProcedureUrl(name: string): string {
  return CATALOG_PROCEDURES.find((p) => p.name === name.split('.').slice(-2).join('.'))!.url;
}
