// Each invalid plan is a small variant of a valid one; the test asserts every problem reported:
// its path, its line, and its exact message (what is wrong and how to fix it).
import { describe, expect, it } from 'vitest';
import { loadPlanText } from '../../../plan/load.js';
import { KNOWN_RUNBOOKS } from '../../../plan/registry.js';
import { BRANCH_OFFICE_START } from './load-example.js';

// Every registered runbook is named when the runbook is wrong or missing.
const RUNBOOKS = KNOWN_RUNBOOKS.map((r) => `"${r}"`).join(', ');

const VALID = [
  'name: t', // 1
  'runbook: em-personalization-upgrade', // 2
  'from: 8.2.0.0', // 3
  'to: 10.4.0.0', // 4
  'target: { kind: lab, state: lab.json }', // 5
  'publisher:', // 6
  '  server: PUB', // 7
  '  sqlVersion: 15.0.2000.5', // 8
  'scripts: { dir: replication }', // 9
  'subscribers:', // 10
  '  - server: SUB1', // 11
];

/** The valid plan with some lines replaced (by 1-based number; null deletes the line) and lines appended. */
function variant(replace: Record<number, string | null>, append: string[] = []): string {
  const lines = VALID.flatMap((line, i) => {
    const replacement = replace[i + 1];
    return replacement === undefined ? [line] : replacement === null ? [] : [replacement];
  });
  return [...lines, ...append].join('\n') + '\n';
}
/** The valid plan with its one subscriber entry (line 11) written as `entry`. */
const withSubscriber = (entry: string) => variant({ 11: `  - ${entry}` });
/** The valid plan with `credentials: value` appended (line 12). */
const withCredentials = (value: string) => variant({}, [`credentials: ${value}`]);

const BRANCH_OFFICE = [
  ...BRANCH_OFFICE_START, // 1-9
  '    recovery:', // 10
  '      server: HQ\\RECOVERY', // 11
  '      database: Recovery Leeds', // 12
  'scripts: { dir: replication }', // 13
];
function branchVariant(replace: Record<number, string>, append: string[] = []): string {
  return [...BRANCH_OFFICE.map((line, i) => replace[i + 1] ?? line), ...append].join('\n') + '\n';
}

// A sqlserver target with everything it needs but backup.dir and versionQuery (the tests add them).
const SQLSERVER_TARGET =
  'target: { kind: sqlserver, canary: { write: "UPDATE t SET c = @token", read: "SELECT 1 FROM t WHERE c = @Token" } }';
const CANARY_WRITE = 'UPDATE dbo.SomeReplicatedTable SET Note = @token WHERE Id = 1';
const CANARY_READ = 'SELECT 1 FROM dbo.SomeReplicatedTable WHERE Note = @token';
const WINDOWS_PASSWORD_REFUSED =
  'a password must not be written in the plan (the plan travels in workflow history): put it in an ' +
  'environment variable of the worker and write password: env:REPLUP_WINDOWS_PASSWORD, or in a file only the ' +
  'worker can read and write password: file:/etc/replup/windows-password';
/** A complete sqlserver plan whose target (lines 5-8) has this windowsAccount (line 8). */
function withWindowsAccount(account: string, append: string[] = []): string {
  const target = [
    'target:',
    '  kind: sqlserver',
    '  canary: { write: "UPDATE t SET c = @token", read: "SELECT 1 FROM t WHERE c = @token" }',
    `  windowsAccount: ${account}`,
  ];
  return variant({ 5: target.join('\n') }, [...append, 'backup: { dir: "D:\\\\B" }', 'versionQuery: SELECT 1']);
}
const SERVER_FORMS = 'write HOST, HOST\\INSTANCE or HOST,PORT (e.g. SQL01, SQL01\\PERSONALIZATION, SQL01,1433)';
const PASSWORD_REFUSED =
  'a password must not be written in the plan (the plan travels in workflow history): put it in an ' +
  'environment variable of the worker and write password: env:REPLUP_SQL_PASSWORD, or in a file only the ' +
  'worker can read and write password: file:/etc/replup/sql-password';

function problems(text: string) {
  const result = loadPlanText(text, '/plans/t.yaml');
  if (result.ok) throw new Error('expected the plan to be invalid');
  return result.errors.map(({ path, line, message }) => ({ path, line, message }));
}
/** A problem as the table below writes it: `line path: message`, or `line: message` where the path is the file's. */
const asWritten = ({ path, line, message }: { path: string; line: number; message: string }) =>
  path ? `${line} ${path}: ${message}` : `${line}: ${message}`;

describe('the base plans used by these tests are valid', () => {
  it.each([
    ['simple', variant({})],
    ['branch office', branchVariant({})],
  ])('%s', (_, text) => {
    expect(loadPlanText(text, '/plans/t.yaml')).toMatchObject({ ok: true });
  });
});

describe('invalid plans: path, line and message', () => {
  // [what is wrong, the plan's text, every problem reported as `line path: message`, in file order]
  it.each<[string, string, string[]]>([
    [
      'a 2-part version, which YAML reads as a number',
      variant({ 3: 'from: 8.2' }),
      ['3 from: YAML reads 8.2 as a number: write the full version, e.g. 8.2.0.0'],
    ],
    [
      'a version that is not 4 numeric parts',
      variant({ 4: 'to: 10.4.x' }),
      ['4 to: "10.4.x" is not a 4-part product version such as 8.3.253.0'],
    ],
    [
      'to earlier than from',
      variant({ 4: 'to: 8.1.0.0' }),
      [
        '4 to: to (8.1.0.0) is earlier than from (8.2.0.0): from is the version the fleet runs now and to the one it ' +
          'is upgraded to; swap them if they are reversed',
      ],
    ],
    [
      'to equal to from, compared as numbers',
      variant({ 3: 'from: 8.3.253.0', 4: 'to: 8.3.0253.0' }),
      [
        '4 to: to is the same version as from (8.3.253.0): there is nothing to upgrade; to is the version after the ' +
          'upgrade',
      ],
    ],
    [
      'a missing name',
      variant({ 1: null }),
      ['1 name: "name" is missing: a name for this upgrade, e.g. name: emea-fleet'],
    ],
    [
      'an unknown target kind',
      variant({ 5: 'target: { kind: labs, state: lab.json }' }),
      ['5 target.kind: must be "lab" or "sqlserver", found "labs"; did you mean "lab"?'],
    ],
    [
      'a lab target without its state file',
      variant({ 5: 'target:', 6: '  kind: lab\npublisher:' }),
      ['5 target.state: "state" is missing: the lab state file, e.g. state: ../.replup/labs/fleet.json'],
    ],
    [
      'an unknown top-level key',
      variant({}, ['subscriber: []']),
      ['12 subscriber: unknown key "subscriber"; did you mean "subscribers"?'],
    ],
    [
      'a misspelt key inside the publisher, which also leaves server missing',
      variant({ 7: '  sever: PUB' }),
      [
        '6 publisher.server: "server" is missing: the SQL Server, written HOST, HOST\\INSTANCE or HOST,PORT',
        '7 publisher.sever: unknown key "sever"; did you mean "server"?',
      ],
    ],
    [
      'an unknown key with nothing close lists the allowed keys',
      variant({}, ['backup:', '  where: /tmp']),
      ['13 backup.where: unknown key "where"; the keys allowed here are "dir", "copyOnly"'],
    ],
    [
      'a server name with a space',
      variant({ 7: '  server: SQL 01' }),
      [`7 publisher.server: "SQL 01" is not a SQL Server name: ${SERVER_FORMS}`],
    ],
    [
      'an instance name SQL Server does not allow',
      withSubscriber('server: SUB1\\my-instance'),
      [
        `11 subscribers[0].server: "my-instance" is not a SQL Server instance name (at most 16 letters, digits, _, $ ` +
          `or #, starting with a letter or _): ${SERVER_FORMS}`,
      ],
    ],
    [
      'a port out of range',
      withSubscriber('server: SUB1,70000'),
      ['11 subscribers[0].server: "70000" is not a TCP port: give a number from 1 to 65535, as in SUB1,1433'],
    ],
    [
      'an Express publisher',
      variant({ 8: '  edition: Express Edition (64-bit)' }),
      [
        '8 publisher.edition: SQL Server Express Edition (64-bit) cannot publish, it can only subscribe: this is the ' +
          'publisher; run it on Standard or Enterprise edition',
      ],
    ],
    [
      'an Express branch (a branch publishes its Data)',
      branchVariant({ 9: '    edition: Express' }),
      [
        '9 branches[0].edition: SQL Server Express cannot publish, it can only subscribe: this is a branch (it ' +
          'publishes its Data to its recovery database); run it on Standard or Enterprise edition',
      ],
    ],
    [
      'a subscriber on a newer SQL Server than its publisher',
      variant({}, ['  - server: SUB2', '    sqlVersion: 16.0.1000.6']),
      [
        "13 subscribers[1].sqlVersion: SQL Server 16.0.1000.6 is newer than its publisher's 15.0.2000.5 " +
          '(publisher.sqlVersion): a publisher must run the highest SQL Server version of the databases it ' +
          "replicates with; upgrade the publisher's SQL Server first, or correct the version",
      ],
    ],
    [
      'a recovery database on a newer SQL Server than its branch',
      branchVariant({}, ['      sqlVersion: 15.0.4000.0']).replace('scripts: { dir: replication }\n', '') +
        'scripts: { dir: replication }\n',
      [
        "13 branches[0].recovery.sqlVersion: SQL Server 15.0.4000.0 is newer than its publisher's 15.0.2000.5 " +
          '(branches[0].sqlVersion): a publisher must run the highest SQL Server version of the databases it ' +
          "replicates with; upgrade the publisher's SQL Server first, or correct the version",
      ],
    ],
    [
      'the same server/database twice (names compared as SQL Server does, ignoring case)',
      variant({}, ['  - server: sub1', '    database: personalizationserver']),
      [
        '12 subscribers[1].server: sub1/personalizationserver is already in the plan at subscribers[0]: each ' +
          'server/database pair appears once; a second database on the same server needs its own database name',
      ],
    ],
    [
      'a subscriber that is its own publisher',
      withSubscriber('server: PUB'),
      [
        '11 subscribers[0].server: PUB/PersonalizationServer is the database of its own publisher (publisher): a ' +
          'database cannot subscribe to its own publication; give this subscriber its own server or database',
      ],
    ],
    [
      'a recovery database that is its own branch',
      branchVariant({ 11: '      server: LEEDS', 12: '      database: PersonalizationServer' }),
      [
        '11 branches[0].recovery.server: LEEDS/PersonalizationServer is the database of its own publisher ' +
          '(branches[0]): a database cannot subscribe to its own publication; give this subscriber its own server or ' +
          'database',
      ],
    ],
    [
      'a literal password',
      variant({}, ['credentials:', '  user: env:REPLUP_SQL_USER', '  password: Summer2025!']),
      [`14 credentials.password: ${PASSWORD_REFUSED}`],
    ],
    [
      'a numeric literal password',
      withCredentials('{ user: env:REPLUP_SQL_USER, password: 424242 }'),
      [`12 credentials.password: ${PASSWORD_REFUSED}`],
    ],
    [
      'a literal user name',
      withCredentials('{ user: sa, password: env:REPLUP_SQL_PASSWORD }'),
      [
        '12 credentials.user: write the login as a reference the worker resolves: user: env:REPLUP_SQL_USER or user: ' +
          'file:/etc/replup/sql-user',
      ],
    ],
    [
      'an env reference that is not a variable name',
      withCredentials('{ user: env:REPLUP_SQL_USER, password: env:SQL-PASSWORD }'),
      [
        '12 credentials.password: "SQL-PASSWORD" is not an environment variable name: use letters, digits and _, ' +
          'e.g. env:REPLUP_SQL_PASSWORD',
      ],
    ],
    [
      'a misspelt credentials kind',
      withCredentials('windws'),
      [
        "12 credentials: write credentials: windows (the worker's Windows account), or a mapping with user: env:NAME " +
          'and password: env:NAME; did you mean "windows"?',
      ],
    ],
    [
      'an approval for a step that does not exist',
      variant({}, ['options:', '  approvals: [remove-replicaton]']),
      [
        '13 options.approvals[0]: "remove-replicaton" is not a step of this runbook; the steps are preflight, ' +
          'drain-users, sync-until-quiet, backup, remove-replication, upgrade, stop-background-services, ' +
          'convert-row-guids, prepare-scripts, enable-replication, verify-replication, restore-service; did you mean ' +
          '"remove-replication"?',
      ],
    ],
    [
      'maxParallel 0',
      variant({}, ['options: { maxParallel: 0 }']),
      ['12 options.maxParallel: must be at least 1: how many subscribers are worked on at the same time'],
    ],
    [
      'maxParallel not a whole number',
      variant({}, ['options: { maxParallel: 2.5 }']),
      ['12 options.maxParallel: expected a whole number, found the number 2.5'],
    ],
    [
      'maxRounds below quietRounds',
      variant({}, ['options:', '  sync: { quietRounds: 3, maxRounds: 2 }']),
      [
        '13 options.sync.maxRounds: maxRounds (2) is less than quietRounds (3): the sync could never see 3 quiet ' +
          'rounds in a row; raise maxRounds to at least 3',
      ],
    ],
    [
      'a publication listed twice',
      variant({}, ['publications:', '  - Config', '  - Data', '  - Config']),
      ['15 publications[2]: "Config" is listed twice'],
    ],
    [
      'a publication that is neither Config nor Data',
      variant({}, ['publications: [Config, Dta]']),
      ['12 publications[1]: must be "Config" or "Data", found "Dta"; did you mean "Data"?'],
    ],
    [
      'no subscribers at all',
      variant({ 10: null, 11: null }),
      [
        '1 subscribers: the plan has no subscribers: list the subscriber databases under subscribers (or under ' +
          'branches, for the branch-office form)',
      ],
    ],
    [
      'a subscriber entry without a server',
      withSubscriber('database: Foo'),
      ['11 subscribers[0].server: "server" is missing: the SQL Server, written HOST, HOST\\INSTANCE or HOST,PORT'],
    ],
    [
      'a sqlserver target without a backup folder',
      variant({ 5: SQLSERVER_TARGET }, ['versionQuery: SELECT 1']),
      [
        '1 backup.dir: a sqlserver target needs backup.dir: the folder on the SQL Server machines where the ' +
          'copy-only backups are written, e.g. D:\\Backups\\replup',
      ],
    ],
    [
      'a sqlserver target with a relative backup folder',
      variant({ 5: SQLSERVER_TARGET }, ['backup: { dir: backups }', 'versionQuery: SELECT 1']),
      [
        '12 backup.dir: "backups" is relative: for a sqlserver target, backup.dir is a folder on the SQL Server ' +
          'machines (SQL Server writes the files itself); give an absolute path such as D:\\Backups\\replup',
      ],
    ],
    [
      'a sqlserver target without versionQuery or canary: replup cannot guess them, and the run would stop at upgrade',
      variant({ 5: 'target: { kind: sqlserver }' }, ['backup: { dir: "D:\\\\B" }']),
      [
        "1 versionQuery: a sqlserver target needs versionQuery: the query that returns a database's Personalization " +
          'Server version (vendor specific; the upgrade step checks every database with it), e.g. versionQuery: ' +
          'SELECT TOP (1) Version FROM dbo.<the table where your product records its schema version>',
        `5 target: a sqlserver target needs canary: { write, read }: T-SQL with @token that changes a row of a ` +
          `replicated table at each publisher and finds it at each subscriber (verify-replication), e.g. canary: { ` +
          `write: "${CANARY_WRITE}", read: "${CANARY_READ}" }`,
      ],
    ],
    [
      'canary queries that do not use @token, or only one of them',
      variant({ 5: ['target:', '  kind: sqlserver', '  canary:', '    write: UPDATE t SET c = 1'].join('\n') }, [
        'backup: { dir: "D:\\\\B" }',
        'versionQuery: SELECT 1',
      ]),
      [
        `7 target.canary.read: "read" is missing: the read query of the canary, with @token, e.g. read: ${CANARY_READ}`,
        `8 target.canary.write: the canary write query must use @token (the unique text replup binds for each run), ` +
          `or it cannot tell this run's change from an old one; e.g. write: ${CANARY_WRITE}`,
      ],
    ],
    [
      'a Windows account with a password written in the plan and a login that is no reference',
      withWindowsAccount('{ user: "CORP\\\\svc-replup", password: "Winter2025!" }'),
      [
        '8 target.windowsAccount.user: write the Windows account (DOMAIN\\user) as a reference the worker resolves: ' +
          'user: env:REPLUP_WINDOWS_USER or user: file:/etc/replup/windows-user',
        `8 target.windowsAccount.password: ${WINDOWS_PASSWORD_REFUSED}`,
      ],
    ],
    [
      'a Windows account with SQL credentials',
      withWindowsAccount('{ user: env:REPLUP_WINDOWS_USER, password: file:/etc/replup/windows-password }', [
        'credentials: { user: env:REPLUP_SQL_USER, password: env:REPLUP_SQL_PASSWORD }',
      ]),
      [
        '8 target.windowsAccount: windowsAccount is the Windows account for credentials: windows, but this plan logs ' +
          'in with a SQL login (credentials.user): remove windowsAccount, or write credentials: windows',
      ],
    ],
    [
      'sqlserver settings on a lab target',
      variant({ 5: 'target: { kind: lab, state: lab.json, canary: { write: x, read: y } }' }),
      ['5 target.canary: unknown key "canary"; the keys allowed here are "kind", "state"'],
    ],
    [
      'backups that are not copy-only',
      variant({}, ['backup: { copyOnly: false }']),
      [
        "12 backup.copyOnly: replup only takes copy-only backups, so the fleet's own backup chain stays " +
          'intact: remove copyOnly or set it to true',
      ],
    ],
    [
      'a misspelt placeholder in a host command',
      variant({}, ['hosts:', '  drain: powershell -Command "Stop-WebAppPool -Name PS -ComputerName {hots}"']),
      [
        '13 hosts.drain: unknown placeholder {hots}: the worker fills {host}, {service} and {version}; did you mean ' +
          '"host"?',
      ],
    ],
    [
      'a personalization server that is not a host name',
      variant({}, ['    personalizationServers: [ps 01]']),
      [
        '12 subscribers[0].personalizationServers[0]: "ps 01" is not a host name: personalization servers are listed ' +
          'by host name, e.g. ps01.corp.example',
      ],
    ],
    [
      'a database name longer than sysname allows',
      variant({}, [`    database: ${'d'.repeat(129)}`]),
      ["12 subscribers[0].database: must be at most 128 characters (SQL Server's sysname)"],
    ],
    [
      'a SQL Server version that is not dotted numbers',
      variant({ 8: '  sqlVersion: SQL2019' }),
      [
        '8 publisher.sqlVersion: "SQL2019" is not a SQL Server version such as 15.0.2000.5 ' +
          "(SERVERPROPERTY('ProductVersion'))",
      ],
    ],
    [
      'a branch-office plan that also publishes Data centrally with nobody to receive it',
      branchVariant({}, ['publications: [Config, Data]']),
      [
        "14 publications[1]: the central publisher's Data publication has no subscribers: in the branch-office " +
          'form each branch publishes its own Data to its recovery database; remove Data here, or list subscribers',
      ],
    ],
    [
      'a branch without its recovery database',
      branchVariant({ 10: '    edition: Standard', 11: '', 12: '' }),
      [
        '8 branches[0].recovery: "recovery" is missing: the branch\'s recovery database, to which it publishes its ' +
          'Data: server, database, personalizationServers',
      ],
    ],
    [
      'scripts without a folder',
      variant({ 9: 'scripts: {}' }),
      ['9 scripts.dir: "dir" is missing: the vendor\'s Replication folder for the target version'],
    ],
    [
      'an unknown runbook',
      variant({ 2: 'runbook: em-personalisation-upgrade' }),
      [
        `2 runbook: unknown runbook "em-personalisation-upgrade"; the known runbooks are ${RUNBOOKS}; did you mean ` +
          `"em-personalization-upgrade"?`,
      ],
    ],
    [
      'no runbook',
      variant({ 2: null }),
      [`1 runbook: "runbook" is missing: it names the runbook this plan is for, one of ${RUNBOOKS}`],
    ],
    [
      'malformed YAML',
      variant({ 9: 'scripts: { dir: replication' }),
      // The YAML parser notices the unclosed { on the next line.
      ['10: not valid YAML: Flow map in block collection must be sufficiently indented and end with a }'],
    ],
    ['a key written twice', variant({}, ['to: 10.5.0.0']), ['12: not valid YAML: Map keys must be unique']],
    ['a list instead of a plan', '- name: t\n', ['1: a plan is a mapping of keys (name:, runbook:, …), found a list']],
  ])('%s', (_, text, expected) => {
    expect(problems(text).map(asWritten)).toEqual(expected);
  });
});

describe('validation reports every problem at once, in file order', () => {
  it('type errors, rule violations and unknown keys together', () => {
    const text = variant({ 3: 'from: 8.2', 7: '  server: SQL 01', 8: '  edition: Express' }, [
      '  - server: SUB1',
      'options: { maxParallel: 0, aprovals: [] }',
      'credentials: { user: env:U, password: hunter2 }',
    ]);
    expect(problems(text).map((p) => `${p.line} ${p.path}`)).toEqual([
      '3 from',
      '7 publisher.server',
      '8 publisher.edition',
      '12 subscribers[1].server',
      '13 options.maxParallel',
      '13 options.aprovals',
      '14 credentials.password',
    ]);
  });

  it('never repeats a refused password in any message', () => {
    const text = withCredentials('{ user: env:U, password: "Hunter2-secret" }');
    const result = loadPlanText(text, '/plans/t.yaml');
    expect(JSON.stringify(result)).not.toContain('Hunter2-secret');
  });

  it('gives the column as well as the line', () => {
    const result = loadPlanText(variant({}, ['options: { maxParallel: 0 }']), '/plans/t.yaml');
    expect(result).toMatchObject({ ok: false, errors: [{ path: 'options.maxParallel', line: 12, column: 25 }] });
  });

  it('finds lines in a JSON plan too', () => {
    const json = JSON.stringify(
      {
        name: 't',
        runbook: 'em-personalization-upgrade',
        from: '8.2.0.0',
        to: '10.4.0.0',
        target: { kind: 'lab', state: 'lab.json' },
        publisher: { server: 'PUB' },
        subscribers: [{ server: 'SUB1', sqlVersion: 15 }],
        scripts: { dir: 'replication' },
      },
      null,
      2,
    );
    expect(problems(json)).toEqual([
      {
        path: 'subscribers[0].sqlVersion',
        line: 16,
        message: 'YAML reads 15 as a number: write the full version, e.g. 15.0.0.0',
      },
    ]);
  });
});
