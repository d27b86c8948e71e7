import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSqlcmd, SqlcmdError, type ParseOptions } from '../../../activities/sqlcmd/index.js';
import { includeFromDir } from '../../../activities/sqlcmd/files.js';
import { thrownMessage } from '../thrown.js';

const lines = (...l: string[]) => l.join('\n');
/** [sql, repeat, line] of each batch: what the runner will send, how often, and where it starts. */
const batchesOf = (text: string, options: ParseOptions = {}) =>
  parseSqlcmd(text, options).batches.map((b) => [b.sql, b.repeat, b.line]);
const errorOf = (text: string, options: ParseOptions = {}) =>
  thrownMessage(() => parseSqlcmd(text, options), SqlcmdError);

describe('parseSqlcmd: batches', () => {
  // SELECT 1 on line 1 and SELECT 2 on line 3, each run once
  const ONE_THEN_TWO = [
    ['SELECT 1', 1, 1],
    ['SELECT 2', 1, 3],
  ];
  const cases: [string, string, (string | number)[][]][] = [
    ['GO ends a batch', lines('SELECT 1', 'GO', 'SELECT 2', 'GO'), ONE_THEN_TWO],
    ['the last batch needs no GO', lines('SELECT 1', 'GO', 'SELECT 2'), ONE_THEN_TWO],
    ['go is case-insensitive', lines('SELECT 1', 'go', 'SELECT 2', 'Go'), ONE_THEN_TWO],
    ['GO may be indented', lines('SELECT 1', '   GO', 'SELECT 2'), ONE_THEN_TWO],
    ['GO 3 repeats the batch', lines('INSERT t DEFAULT VALUES', 'GO 3'), [['INSERT t DEFAULT VALUES', 3, 1]]],
    ['GO may carry a line comment', lines('SELECT 1', 'GO -- done', 'SELECT 2'), ONE_THEN_TWO],
    ['GO inside a string is text', lines("SELECT 'a", 'GO', "b'", 'GO'), [["SELECT 'a\nGO\nb'", 1, 1]]],
    ['GO inside a double-quoted string is text', lines('SELECT "a', 'GO', '"'), [['SELECT "a\nGO\n"', 1, 1]]],
    [
      'GO inside a block comment is text',
      lines('/* note', 'GO', '*/ SELECT 1', 'GO'),
      [['/* note\nGO\n*/ SELECT 1', 1, 1]],
    ],
    ['block comments nest', lines('/* a /* b */', 'GO', '*/ SELECT 1'), [['/* a /* b */\nGO\n*/ SELECT 1', 1, 1]]],
    [
      'GO inside a bracketed identifier is text',
      lines('CREATE TABLE [a', 'GO', 'b] (x int)'),
      [['CREATE TABLE [a\nGO\nb] (x int)', 1, 1]],
    ],
    ['an escaped quote does not close the string', lines("SELECT 'it''s", 'GO', "'"), [["SELECT 'it''s\nGO\n'", 1, 1]]],
    ['a ]] does not close the identifier', lines('SELECT [a]]', 'GO', ']'), [['SELECT [a]]\nGO\n]', 1, 1]]],
    [
      'a line comment does not open a string',
      lines("SELECT 1 -- it's", 'GO', 'SELECT 2'),
      [
        ["SELECT 1 -- it's", 1, 1],
        ['SELECT 2', 1, 3],
      ],
    ],
    ['GOTO is T-SQL, not GO', lines('GOTO done', 'done:', 'GO'), [['GOTO done\ndone:', 1, 1]]],
    ['empty batches are not sent', lines('GO', '', 'GO', 'SELECT 1'), [['SELECT 1', 1, 4]]],
    [
      'a batch starts at its first non-blank line',
      lines('', '', 'SELECT 1', '', 'SELECT 2', 'GO'),
      [['SELECT 1\n\nSELECT 2', 1, 3]],
    ],
    ['CRLF line ends', 'SELECT 1\r\nGO\r\nSELECT 2\r\n', ONE_THEN_TWO],
    [':reset drops the batch so far', lines('SELECT 1', ':reset', 'SELECT 2'), [['SELECT 2', 1, 3]]],
    ['RESET without a colon too', lines('SELECT 1', 'RESET', 'SELECT 2'), [['SELECT 2', 1, 3]]],
    [
      ':quit stops and drops the open batch',
      lines('SELECT 1', 'GO', 'SELECT 2', ':quit', 'SELECT 3'),
      [['SELECT 1', 1, 1]],
    ],
    [':exit() runs the open batch, then stops', lines('SELECT 1', ':exit()', 'SELECT 2'), [['SELECT 1', 1, 1]]],
    ['output-only commands are accepted', lines(':out stdout', ':listvar', 'SELECT 1'), [['SELECT 1', 1, 3]]],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(batchesOf(text)).toEqual(expected);
  });
});

describe('parseSqlcmd: variables', () => {
  const cases: [string, string, Record<string, string>, string[]][] = [
    ['-v variables are substituted', 'USE [$(Db)]', { Db: 'PS' }, ['USE [PS]']],
    ['names are case-insensitive', 'SELECT $(db), $(DB)', { Db: 'x' }, ['SELECT x, x']],
    [
      'also inside string literals',
      "EXEC p @publication = N'$(Pub)'",
      { Pub: 'Config' },
      ["EXEC p @publication = N'Config'"],
    ],
    ['not inside line comments', 'SELECT 1 -- $(Missing)', {}, ['SELECT 1 -- $(Missing)']],
    [
      'not inside block comments',
      lines('/* $(Missing)', '$(Missing) */ SELECT 1'),
      {},
      ['/* $(Missing)\n$(Missing) */ SELECT 1'],
    ],
    [':setvar with a quoted value', lines(':setvar Pub "Config Pub"', "SELECT '$(Pub)'"), {}, ["SELECT 'Config Pub'"]],
    [':setvar with a bare value', lines(':setvar Pub Data', "SELECT '$(Pub)'"), {}, ["SELECT 'Data'"]],
    [
      ':setvar "" inside quotes is one "',
      lines(':setvar Q "say ""hi"""', "SELECT '$(Q)'"),
      {},
      ['SELECT \'say "hi"\''],
    ],
    [':setvar overrides -v (sqlcmd precedence)', lines(':setvar Db Other', 'USE $(Db)'), { Db: 'PS' }, ['USE Other']],
    [
      ':setvar may use another variable',
      lines(':setvar Full "$(Db)_Archive"', 'USE $(Full)'),
      { Db: 'PS' },
      ['USE PS_Archive'],
    ],
    ['a value is not re-read for variables or GO', "SELECT '$(A)'", { A: '$(B)' }, ["SELECT '$(B)'"]],
    ['substituted inside brackets', 'SELECT * FROM [$(Db)].dbo.t', { Db: 'P S' }, ['SELECT * FROM [P S].dbo.t']],
  ];
  it.each(cases)('%s', (_name, text, vars, expected) => {
    expect(parseSqlcmd(text, { vars }).batches.map((b) => b.sql)).toEqual(expected);
  });

  it(':setvar with no value drops the variable', () => {
    expect(errorOf(lines(':setvar Db PS', ':setvar Db', 'USE $(Db)'), { file: 'a.sql' })).toBe(
      `a.sql:3: variable $(Db) is not defined: add ':setvar Db "value"' before this line or pass it as a ` +
        `script variable (the plan's scripts.variables)`,
    );
  });
});

describe('parseSqlcmd: errors name the file and line', () => {
  const cases: [string, string, string][] = [
    [
      'an undefined variable',
      lines('SELECT 1', "SELECT '$(Nope)'"),
      `s.sql:2: variable $(Nope) is not defined: add ':setvar Nope "value"' before this line or pass it as a ` +
        `script variable (the plan's scripts.variables)`,
    ],
    [
      'GO followed by junk',
      lines('SELECT 1', 'GO now'),
      `s.sql:2: 'GO' may only be followed by a repeat count (e.g. 'GO 3'), found 'now'`,
    ],
    ['GO;', lines('SELECT 1', 'GO;'), `s.sql:2: 'GO' may only be followed by a repeat count (e.g. 'GO 3'), found ';'`],
    ['GO 0', 'GO 0', `s.sql:1: 'GO 0': the repeat count must be 1 or more`],
    [
      'a malformed variable reference',
      'SELECT $(a b)',
      `s.sql:1: '$(' must start a variable reference such as $(DatabaseName), found '$(a b)'`,
    ],
    [
      'a bare :setvar value with spaces',
      ':setvar Pub Config Pub',
      `s.sql:1: ':setvar Pub Config Pub': a value with spaces must be in double quotes, e.g. :setvar Pub "Config Pub"`,
    ],
    [
      'an unclosed :setvar quote',
      ':setvar Pub "Config',
      `s.sql:1: ':setvar Pub': the value's double quote is never closed`,
    ],
    [
      'a bad variable name',
      ':setvar 1st x',
      `s.sql:1: ':setvar 1st': a variable name is letters, digits and '_', not starting with a digit`,
    ],
    [
      'a bad :on error',
      ':on error stop',
      `s.sql:1: ':on error stop' is not valid: write ':on error exit' or ':on error ignore'`,
    ],
    [
      ':connect',
      ':connect other',
      `s.sql:1: ':connect' is not supported: replup runs each script on the database the plan names; remove ` +
        `the ':connect' line`,
    ],
    [
      '!! shell commands',
      '!! dir',
      `s.sql:1: '!!' runs a program on the sqlcmd machine and is not supported by replup; remove the line`,
    ],
    ['an unknown command', ':frobnicate', `s.sql:1: unknown sqlcmd command ':frobnicate'`],
    [
      'an unclosed string',
      lines("SELECT 'abc", 'GO'),
      `s.sql:2: end of script: the string opened at s.sql:1 is never closed with '`,
    ],
    [
      'an unclosed block comment',
      lines('SELECT 1', '/* x', 'GO'),
      `s.sql:3: end of script: the block comment opened at s.sql:2 is never closed with */`,
    ],
    [
      'an unclosed bracket',
      'SELECT [x',
      `s.sql:1: end of script: the bracketed identifier opened at s.sql:1 is never closed with ]`,
    ],
    [
      ':r without a folder',
      ':r other.sql',
      `s.sql:1: ':r other.sql': this script is read without a folder, so it cannot include other files`,
    ],
  ];
  it.each(cases)('%s', (_name, text, message) => {
    expect(errorOf(text, { file: 's.sql' })).toBe(message);
  });
});

describe('parseSqlcmd: :on error', () => {
  it('is ignore by default, as sqlcmd without -b', () => {
    expect(parseSqlcmd('SELECT 1').onError).toBe('ignore');
  });
  it('is reported in the result and on each batch from where it is set', () => {
    const parsed = parseSqlcmd(lines('SELECT 1', 'GO', ':On Error EXIT', 'SELECT 2'));
    expect(parsed.onError).toBe('exit');
    expect(parsed.batches.map((b) => b.onError)).toEqual(['ignore', 'exit']);
  });
});

describe('parseSqlcmd: :r includes', () => {
  const files: Record<string, string> = {
    'common.sql': lines(':setvar Pub Config', 'PRINT 1', 'GO', 'PRINT 2'),
    'nested/a.sql': ':r b.sql',
    'nested/b.sql': "PRINT 'b'",
    'loop.sql': ':r loop.sql',
  };
  const resolveInclude = (path: string, from: string) => {
    const dir = from.includes('/') ? from.slice(0, from.lastIndexOf('/') + 1) : '';
    const file = dir + path;
    const text = files[file];
    if (text === undefined) throw new Error(`no such file ${file}`);
    return { file, text };
  };

  it('inserts the file in place: its GO ends the open batch and its variables stay set', () => {
    const parsed = parseSqlcmd(lines('PRINT 0', ':r common.sql', "PRINT '$(Pub)'"), {
      resolveInclude,
      file: 'main.sql',
    });
    expect(parsed.batches.map((b) => [b.sql, b.file, b.line])).toEqual([
      ['PRINT 0\nPRINT 1', 'main.sql', 1],
      ["PRINT 2\nPRINT 'Config'", 'common.sql', 4],
    ]);
  });
  it('resolves nested includes relative to the including file', () => {
    expect(parseSqlcmd(':r nested/a.sql', { resolveInclude }).batches.map((b) => b.sql)).toEqual(["PRINT 'b'"]);
  });
  it('substitutes variables in the path and accepts quotes', () => {
    expect(parseSqlcmd(':r "$(Dir)/b.sql"', { resolveInclude, vars: { Dir: 'nested' } }).batches[0]?.file).toBe(
      'nested/b.sql',
    );
  });
  it('refuses an include cycle', () => {
    expect(errorOf(':r loop.sql', { resolveInclude, file: 'main.sql' })).toBe(
      `loop.sql:1: ':r loop.sql' includes loop.sql, which is already being read (main.sql → loop.sql → loop.sql)`,
    );
  });
  it('says which include could not be read', () => {
    expect(errorOf('\n:r missing.sql', { resolveInclude, file: 'main.sql' })).toBe(
      `main.sql:2: ':r missing.sql': cannot read the file (no such file missing.sql)`,
    );
  });
  // sqlcmd-utility, :r: "filename is read relative to the startup directory in which sqlcmd was run"
  // (https://learn.microsoft.com/en-us/sql/tools/sqlcmd/sqlcmd-utility), not relative to the including file.
  it('reads from disk relative to the startup directory (the scripts folder), Windows separators included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replup-sqlcmd-'));
    mkdirSync(join(dir, 'inc'));
    writeFileSync(join(dir, 'inc', 'part.sql'), 'PRINT $(X)\n');
    writeFileSync(join(dir, 'part.sql'), 'PRINT 0\n'); // what a path relative to the including file would not read
    writeFileSync(join(dir, 'inc', 'outer.sql'), ':r .\\inc\\part.sql\n');
    const parsed = parseSqlcmd(':r inc\\outer.sql', {
      resolveInclude: includeFromDir(dir),
      vars: { X: '7' },
      file: 'main.sql',
    });
    expect(parsed.batches.map((b) => [b.sql, b.file])).toEqual([['PRINT 7', join('inc', 'part.sql')]]);
  });
  it('an include is decoded like any script: a UTF-16 LE file with its mark is read as text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replup-sqlcmd-'));
    writeFileSync(
      join(dir, 'part.sql'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("PRINT N'Zürich'\r\n", 'utf16le')]),
    );
    expect(parseSqlcmd(':r part.sql', { resolveInclude: includeFromDir(dir) }).batches.map((b) => b.sql)).toEqual([
      "PRINT N'Zürich'",
    ]);
  });
  it.runIf(process.platform !== 'win32')('a Windows absolute path on a Linux worker says how to fix the plan', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replup-sqlcmd-'));
    expect(
      errorOf(':r C:\\Vendor\\Replication\\Common.sql', { resolveInclude: includeFromDir(dir), file: 'main.sql' }),
    ).toBe(
      `main.sql:1: ':r C:\\Vendor\\Replication\\Common.sql': cannot read the file ` +
        `(C:\\Vendor\\Replication\\Common.sql is a Windows absolute path, which a worker on ${process.platform}` +
        ` cannot read: copy the file into the plan's scripts.dir (${dir}) and include it relative to that ` +
        `folder (':r .\\Common.sql'), or set scripts.dir to the folder as this worker sees it)`,
    );
  });
});
