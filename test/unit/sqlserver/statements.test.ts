import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { quoteIdent, sessionIdLiteral } from '../../../activities/sqlserver/quote.js';
import * as sql from '../../../activities/sqlserver/statements.js';
import { NIGHTLY } from './schedules.js';

// A database name with everything that breaks naive quoting: ], ', spaces and non-ASCII.
const DB = "Pers]onal 'Ü数据";
const Q = "[Pers]]onal 'Ü数据]";
/** The golden file of the statements' text (see 'statements (golden)'). */
const GOLDEN = resolve(import.meta.dirname, '__snapshots__/statements.sql');

describe('quoteIdent', () => {
  it.each([
    ['PersonalizationServer', '[PersonalizationServer]'],
    ['a]b', '[a]]b]'],
    [']]', '[]]]]]'],
    ["O'Brien", "[O'Brien]"],
    ['with space', '[with space]'],
    ['Ünïcødé 数据', '[Ünïcødé 数据]'],
    ['x]; DROP DATABASE y; --', '[x]]; DROP DATABASE y; --]'],
  ])('%s → %s', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });
  it('refuses names SQL Server cannot have', () => {
    expect(() => quoteIdent('')).toThrow('an identifier cannot be empty');
    expect(() => quoteIdent('x'.repeat(129))).toThrow('is 129 characters; SQL Server allows at most 128');
    expect(() => quoteIdent('a\u0000b')).toThrow('an identifier cannot contain a NUL character');
  });
});

describe('KILL', () => {
  it('builds KILL only from a whole session id', () => {
    expect(sql.killSession(53)).toEqual({ sql: 'KILL 53;', params: {} });
  });
  it.each([0, -1, 1.5, 32768, Number.NaN])('refuses session id %s', (id) => {
    expect(() => sessionIdLiteral(id)).toThrow(
      `refusing to KILL session ${String(id)}: a session id is a whole number from 1 to 32767`,
    );
  });
  it('refuses a string smuggled in as a number', () => {
    expect(() => sql.killSession('53; DROP TABLE x' as unknown as number)).toThrow(
      'refusing to KILL session 53; DROP TABLE x',
    );
  });
});

// Each statement's text is held by a reviewed golden file, __snapshots__/statements.sql (a `-- name` line, then the
// text, in the order of `cases`), so that the SQL stands in one place besides statements.ts. It is reviewed like
// code: a change to it is a diff in the commit that changes statements.ts, read against catalog.test.ts and
// Microsoft's pages. A changed statement fails here; CI never writes the file (vitest writes no snapshot there, and
// the test below fails first when the file is missing, where vitest would otherwise write it and pass). To take a
// reviewed change: `npx vitest run -u test/unit/sqlserver/statements.test.ts`, then read the file's diff.
describe('statements (golden)', () => {
  const sub = { server: 'SUB]1\\INST', database: DB };
  // [name, statement, the values it binds]: DB and the other names are hostile, so the golden text shows them quoted.
  const cases: [string, sql.Statement, Record<string, sql.SqlParam>][] = [
    ['serverFacts', sql.serverFacts(), {}],
    ['distributorOfServer', sql.distributorOfServer(), {}],
    ['databaseFacts', sql.databaseFacts(DB), { database: DB }],
    ['userSessions', sql.userSessions(DB), { database: DB }],
    ['restrictToAdmins', sql.restrictToAdmins(DB), {}],
    ['allowAllUsers', sql.allowAllUsers(DB), {}],
    [
      'mergeAgents of a publication',
      sql.mergeAgents('distribution', DB, 'Config'),
      { publisherDb: DB, publication: 'Config' },
    ],
    [
      'mergeAgents of one subscription',
      sql.mergeAgents(DB, 'PS', "Da'ta", sub),
      { publisherDb: 'PS', publication: "Da'ta", subscriberServer: 'SUB]1\\INST', subscriberDb: DB },
    ],
    [
      'jobSteps',
      sql.jobSteps('6F9619FF-8B86-D011-B42D-00C04FC964FF'),
      { jobId: '6F9619FF-8B86-D011-B42D-00C04FC964FF' },
    ],
    [
      'jobActivity',
      sql.jobActivity('6F9619FF-8B86-D011-B42D-00C04FC964FF'),
      { jobId: '6F9619FF-8B86-D011-B42D-00C04FC964FF' },
    ],
    [
      'startJob',
      sql.startJob('6F9619FF-8B86-D011-B42D-00C04FC964FF'),
      { jobId: '6F9619FF-8B86-D011-B42D-00C04FC964FF' },
    ],
    ['newestMergeSession', sql.newestMergeSession(DB, 7), { agentId: 7 }],
    ['pendingChanges', sql.pendingChanges(DB, 'Config', 'SUB1'), { destinationServer: 'SUB1', publication: 'Config' }],
    ['conflicts', sql.conflicts(DB, 'Data'), { publication: 'Data' }],
    [
      'backupDatabase',
      sql.backupDatabase(DB, "D:\\Backups\\it's.bak"),
      { database: DB, file: "D:\\Backups\\it's.bak" },
    ],
    ['verifyBackup', sql.verifyBackup('D:\\b.bak'), { file: 'D:\\b.bak' }],
    ['backupInFile', sql.backupInFile(DB, 'D:\\b.bak'), { database: DB, file: 'D:\\b.bak' }],
    [
      'replicationState',
      sql.replicationState(DB),
      {
        database: DB,
        publicationsTable: `${Q}.dbo.sysmergepublications`,
        subscriptionsTable: `${Q}.dbo.sysmergesubscriptions`,
      },
    ],
    [
      'dropMergeSubscription',
      sql.dropMergeSubscription(DB, 'Config', sub),
      { publication: 'Config', subscriber: 'SUB]1\\INST', subscriberDb: DB },
    ],
    [
      'mergeSubscriptionCleanup',
      sql.mergeSubscriptionCleanup(DB, 'PUB', 'PS', 'Config'),
      { publisher: 'PUB', publisherDb: 'PS', publication: 'Config' },
    ],
    ['dropMergePublication', sql.dropMergePublication(DB, 'Data'), { publication: 'Data' }],
    ['disableMergePublishing', sql.disableMergePublishing(DB), { database: DB }],
    ['removeDbReplication', sql.removeDbReplication(DB), { database: DB }],
    [
      'productVersion',
      sql.productVersion(DB, 'SELECT TOP (1) Version FROM dbo.SchemaVersion'),
      { query: 'SELECT TOP (1) Version FROM dbo.SchemaVersion' },
    ],
    [
      'canary',
      sql.canary(DB, 'INSERT dbo.Canary (token) VALUES (@token)', "tok'en"),
      { query: 'INSERT dbo.Canary (token) VALUES (@token)', token: "tok'en" },
    ],
    ['sqlcmdSessionDefaults', sql.sqlcmdSessionDefaults(), {}],
    [
      'mergeSubscriptionHealth',
      sql.mergeSubscriptionHealth(DB),
      { database: DB, subscriptionsTable: `${Q}.dbo.sysmergesubscriptions` },
    ],
    ['mergeAgentJobSchedules', sql.mergeAgentJobSchedules('distribution', DB), { publisherDb: DB }],
    ['updateScheduleEnabled', sql.updateScheduleEnabled(12, false), { scheduleId: 12, enabled: 0 }],
    ['updateScheduleTiming', sql.updateScheduleTiming(12, NIGHTLY, false), { scheduleId: 12, enabled: 0, ...NIGHTLY }],
    ['updateScheduleEnabled (enable)', sql.updateScheduleEnabled(12, true), { scheduleId: 12, enabled: 1 }],
    ['publicationSnapshotReady', sql.publicationSnapshotReady(DB, "Con'fig"), { database: DB, publication: "Con'fig" }],
    [
      'snapshotAgentLastRun',
      sql.snapshotAgentLastRun(DB, 'PS', 'Config'),
      { publisherDb: 'PS', publication: 'Config' },
    ],
    ['mergeAgentNames', sql.mergeAgentNames(DB), {}],
    [
      'rowGuidConversionMarks',
      sql.rowGuidConversionMarks(DB, 'replup.convertRowGuids.started', 'replup.convertRowGuids.done'),
      { started: 'replup.convertRowGuids.started', done: 'replup.convertRowGuids.done' },
    ],
    ['publicationProperties', sql.publicationProperties(DB), { database: DB }],
    ['publicationArticles', sql.publicationArticles(DB), { database: DB }],
    [
      'changeMergePublication',
      sql.changeMergePublication(DB, "Con'fig", 'retention', '30'),
      { publication: "Con'fig", property: 'retention', value: '30' },
    ],
    [
      'addRowGuidConversionMark',
      sql.addRowGuidConversionMark(DB, 'replup.convertRowGuids.started', "run x'; DROP DATABASE y; --"),
      { name: 'replup.convertRowGuids.started', value: "run x'; DROP DATABASE y; --" },
    ],
    // The ConvertRowGuids check after a lost reply (#20 §4): the started mark taken away, the tables by catalog, not by
    // publication.
    [
      'dropRowGuidConversionMark',
      sql.dropRowGuidConversionMark(DB, "replup.convertRowGuids.started'; --"),
      { name: "replup.convertRowGuids.started'; --" },
    ],
    ['rowGuidTableKeys', sql.rowGuidTableKeys(DB), { database: DB }],
    // The convergence proof (issue #20 §1-2): level 3, the alert numbers, preserve_rowguidcol = 0, the sample's quoted
    // query.
    [
      'validateMergeSubscription',
      sql.validateMergeSubscription(DB, "Da'ta", { server: 'SUB1\\EM', database: "Sub'db" }),
      { publication: "Da'ta", subscriber: 'SUB1\\EM', subscriberDb: "Sub'db" },
    ],
    [
      'mergeValidationDates',
      sql.mergeValidationDates(DB, 'Data', { server: 'SUB1', database: 'PS' }),
      { publication: 'Data', subscriber: 'SUB1', subscriberDb: 'PS' },
    ],
    [
      'mergeValidationAlerts',
      sql.mergeValidationAlerts(DB, 'Data', { server: 'SUB1', database: 'PS' }),
      { publisherDb: DB, publication: 'Data', subscriber: 'SUB1', subscriberDb: 'PS' },
    ],
    [
      'replicationAddedRowGuids',
      sql.replicationAddedRowGuids(DB),
      { database: DB, articlesTable: `${Q}.dbo.sysmergearticles` },
    ],
    ['publishedTableKeys', sql.publishedTableKeys(DB, 'Data'), { database: DB, publication: 'Data' }],
    [
      'rowGuidSample',
      sql.rowGuidSample(
        DB,
        { schema: 'dbo', table: "Pro]file'Data", keyColumns: ['Id', 'Part]x'], rowguidColumn: 'rowguid' },
        100,
      ),
      {
        query:
          "SELECT TOP (@limit) CONVERT(nvarchar(4000), [Id]) + N'|' + CONVERT(nvarchar(4000), [Part]]x]) AS " +
          "row_key, CONVERT(nvarchar(36), [rowguid]) AS rowguid FROM [dbo].[Pro]]file'Data] ORDER BY [Id], " +
          '[Part]]x];',
        limit: 100,
      },
    ],
  ];

  it.each(cases)('%s binds its values as parameters', (_name, statement, expectedParams) => {
    expect(statement.params).toEqual(expectedParams);
  });

  it('every statement is the golden text', async () => {
    expect(
      existsSync(GOLDEN),
      `${GOLDEN} is missing: it is the reviewed expected SQL, restore it from git; regenerate it only with ` +
        '`npx vitest run -u test/unit/sqlserver/statements.test.ts`, after reviewing the diff',
    ).toBe(true);
    const text = cases.map(([name, statement]) => `-- ${name}\n${statement.sql}\n`).join('\n');
    await expect(text).toMatchFileSnapshot(GOLDEN);
  });

  it('covers every statement the module exports', () => {
    const tested = new Set(cases.map(([name]) => name.split(' ')[0]));
    const exported = Object.entries(sql)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
    expect(exported.filter((name) => name !== 'killSession' && !tested.has(name))).toEqual([]);
  });

  it('never puts a value into the SQL text: user text only reaches it quoted as an identifier', () => {
    const hostile = "x'; DROP DATABASE y; --";
    for (const statement of [
      sql.userSessions(hostile),
      sql.pendingChanges('db', hostile, hostile),
      sql.canary('db', hostile, hostile),
      sql.backupDatabase(hostile, hostile),
    ]) {
      expect(statement.sql).not.toContain(hostile);
    }
  });
});
