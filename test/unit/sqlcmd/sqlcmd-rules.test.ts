// The rules replup shares with sqlcmd, one test per rule, each citing the page it follows:
//   utility:   https://learn.microsoft.com/en-us/sql/tools/sqlcmd/sqlcmd-utility
//   variables: https://learn.microsoft.com/en-us/sql/tools/sqlcmd/sqlcmd-use-scripting-variables
//   GO:        https://learn.microsoft.com/en-us/sql/t-sql/language-elements/sql-server-utilities-statements-go
//   546:       https://github.com/microsoft/go-sqlcmd/issues/546 (comments after :setvar and QUIT, as ODBC sqlcmd and SSMS accept)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeScript,
  parseSqlcmd,
  ScriptEncodingError,
  SqlcmdError,
  type ParseOptions,
} from '../../../activities/sqlcmd/index.js';
import { thrownMessage } from '../thrown.js';
import { caseScript } from '../../support/utf16-scripts.js';

const lines = (...l: string[]) => l.join('\n');
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/cases/${name}`, import.meta.url));
const sqlOf = (text: string, options: ParseOptions = {}) =>
  parseSqlcmd(text, options).batches.map((b) => [b.sql, b.repeat]);
const errorOf = (run: () => unknown): string => thrownMessage(run);
const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);

describe(
  'encoding (utility, -f: "automatically recognizes ' + 'both big-endian and little-endian Unicode input ' + 'files")',
  () => {
    it.each([
      ['UTF-16 LE with its mark', utf16le("PRINT N'Zürich'\r\nGO\r\n"), 'UTF-16 LE'],
      ['UTF-16 BE with its mark', utf16be("PRINT N'Zürich'\r\nGO\r\n"), 'UTF-16 BE'],
      [
        'UTF-8 with its mark',
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("PRINT N'Zürich'\r\nGO\r\n")]),
        'UTF-8 with BOM',
      ],
      ['no mark: UTF-8', Buffer.from("PRINT N'Zürich'\r\nGO\r\n"), 'UTF-8'],
    ])('%s decodes to the same text, the mark itself never sent', (_name, bytes, encoding) => {
      const decoded = decodeScript(bytes, 'x.sql');
      expect(decoded).toEqual({ text: "PRINT N'Zürich'\r\nGO\r\n", encoding });
      expect(sqlOf(decoded.text)).toEqual([["PRINT N'Zürich'", 1]]);
    });

    it("the operators' case: utf16-CreateConfigSubscription.sql (UTF-16 LE, CRLF) reads like its UTF-8 twin", () => {
      const decoded = decodeScript(fixture('utf16-CreateConfigSubscription.sql'), 'CreateConfigSubscription.sql');
      expect(decoded.encoding).toBe('UTF-16 LE');
      // Its UTF-8 twin is the case's CreateConfigSubscription.sql: the example the operators' folder was made
      // from, pinned to the case's bytes by utf16-scripts-case.test.ts.
      const twin = readFileSync(caseScript('CreateConfigSubscription.sql'), 'utf8');
      expect(decoded.text.replace(/\r\n/g, '\n')).toBe(twin.replace(/\r\n/g, '\n'));
    });

    it('text that does not decode is refused, naming the file and the encoding', () => {
      const err = errorOf(() =>
        decodeScript(Buffer.from([0x50, 0x52, 0x49, 0x4e, 0x54, 0x20, 0xe9, 0x0a]), 'Latin1.sql'),
      );
      expect(err).toBe(
        'Latin1.sql: is not valid UTF-8 text: without a byte-order mark replup reads UTF-8; save the file as ' +
          'UTF-8 or as Unicode (UTF-16 with a byte-order mark)',
      );
    });

    it('UTF-16 saved without its mark reads as UTF-8 full of NULs: refused with the line and the likely cause', () => {
      expect(() => decodeScript(Buffer.from('SELECT 1\n', 'utf16le'), 'NoMark.sql')).toThrow(ScriptEncodingError);
      expect(errorOf(() => decodeScript(Buffer.from('SELECT 1\n', 'utf16le'), 'NoMark.sql'))).toBe(
        'NoMark.sql: read as UTF-8, line 1 contains a NUL character: it looks like UTF-16 saved without a ' +
          'byte-order mark; save it as UTF-8, or as Unicode with a byte-order mark',
      );
    });

    it('a NUL inside a marked file is refused too', () => {
      expect(errorOf(() => decodeScript(utf16le('SELECT 1\nSELECT \u0000\n'), 'Nul.sql'))).toBe(
        'Nul.sql: read as UTF-16 LE, line 2 contains a NUL character: a script cannot contain NUL characters; ' +
          'remove them',
      );
    });
  },
);

describe('comments after commands (GO page: a GO line "can contain comments"; issue 546)', () => {
  it(
    "the operators' case: sqlcmd-setvar-trailing-comment.sql parses, the comment dropped: one batch PRINT " + "N'YES'",
    () => {
      const text = decodeScript(
        fixture('sqlcmd-setvar-trailing-comment.sql'),
        'sqlcmd-setvar-trailing-comment.sql',
      ).text;
      expect(sqlOf(text)).toEqual([["PRINT N'YES'", 1]]);
    },
  );

  const accepted: [string, string, (string | number)[][]][] = [
    [
      ':setvar "value" -- comment',
      lines(':setvar Pub "Con fig" -- the Config publication', "PRINT N'$(Pub)'"),
      [["PRINT N'Con fig'", 1]],
    ],
    [
      ':setvar "value"-- comment, no space',
      lines(':setvar Pub "Config"--why', "PRINT N'$(Pub)'"),
      [["PRINT N'Config'", 1]],
    ],
    [':setvar bare value -- comment', lines(':setvar Pub Config -- why', "PRINT N'$(Pub)'"), [["PRINT N'Config'", 1]]],
    [
      ':setvar "value with -- inside" keeps it',
      lines(':setvar Pub "a -- b" -- c', "PRINT N'$(Pub)'"),
      [["PRINT N'a -- b'", 1]],
    ],
    ['GO n -- comment', lines('PRINT 1', 'GO 2 -- twice'), [['PRINT 1', 2]]],
    ['GO /* closed block */ -- comment', lines('PRINT 1', 'GO /* a */ -- b'), [['PRINT 1', 1]]],
    [':on error exit -- comment', lines(':on error exit -- stop at the first error', 'PRINT 1'), [['PRINT 1', 1]]],
    [':r file -- comment', lines(':r part.sql -- shared part'), [['PRINT 0', 1]]],
    ['QUIT -- comment (no colon)', lines('PRINT 1', 'GO', 'QUIT -- done', 'PRINT 2'), [['PRINT 1', 1]]],
    [':QUIT -- comment', lines('PRINT 1', 'GO', ':QUIT --done', 'PRINT 2'), [['PRINT 1', 1]]],
    ['EXIT -- comment (no colon)', lines('PRINT 1', 'GO', 'exit -- done', 'PRINT 2'), [['PRINT 1', 1]]],
    [':EXIT() -- comment runs the open batch', lines('PRINT 1', ':EXIT() -- done', 'PRINT 2'), [['PRINT 1', 1]]],
  ];
  it.each(accepted)('%s', (_name, text, expected) => {
    expect(sqlOf(text, { resolveInclude: () => ({ file: 'part.sql', text: 'PRINT 0' }) })).toEqual(expected);
  });

  // Where the pages are silent, the safe reading: refuse rather than send text sqlcmd would not.
  const refused: [string, string, string][] = [
    [
      ':setvar "value" /* block */',
      ':setvar Pub "Config" /* why */',
      `s.sql:1: ':setvar Pub' is followed by a /* block comment */: sqlcmd's documentation does not say how ` +
        `it reads one there, so replup refuses it; use a -- comment or put the comment on its own line`,
    ],
    [
      ':setvar "value" junk',
      ':setvar Pub "Config" x',
      `s.sql:1: ':setvar Pub': unexpected text after the closing quote: 'x' (only a -- comment may follow)`,
    ],
    [
      ':setvar bare-- comment (SSMS refuses it)',
      ':setvar Pub Config-- why',
      `s.sql:1: ':setvar Pub Config-- why': a value with spaces must be in double quotes, e.g. :setvar Pub ` +
        `"Config-- why"`,
    ],
    [
      'GO with an unclosed block comment',
      lines('PRINT 1', 'GO /* x'),
      `s.sql:2: a block comment that starts on a GO line must end on it: close it with */ on this line or ` +
        `use a -- comment`,
    ],
    [
      ':on error exit and more text',
      ':on error exit now',
      `s.sql:1: ':on error exit' must be alone on its line (sqlcmd: "a command cannot be followed by a ` +
        `Transact-SQL statement or another command"), found 'now'`,
    ],
    [
      ':quit /* block */',
      ':quit /* x */',
      `s.sql:1: ':quit' is followed by a /* block comment */: sqlcmd's documentation does not say how it ` +
        `reads one there, so replup refuses it; use a -- comment or put the comment on its own line`,
    ],
  ];
  it.each(refused)('refused: %s', (_name, text, message) => {
    expect(errorOf(() => parseSqlcmd(text, { file: 's.sql' }))).toBe(message);
  });

  it('QUIT followed by T-SQL is T-SQL, not the command', () => {
    expect(sqlOf('quit_flag = 1')).toEqual([['quit_flag = 1', 1]]);
  });
});

describe('variables (variables page)', () => {
  it('":Setvar X Y" wins over "sqlcmd -v X=Y" (variable precedence, low to high)', () => {
    expect(sqlOf(lines(':setvar Db Other', 'USE [$(Db)]'), { vars: { Db: 'PS' } })).toEqual([['USE [Other]', 1]]);
  });
  it('SQLCMDUSER and SQLCMDPASSWORD are never provided: replup puts no credential into a script', () => {
    expect(errorOf(() => parseSqlcmd("PRINT N'$(SQLCMDPASSWORD)'", { file: 's.sql' }))).toBe(
      `s.sql:1: $(SQLCMDPASSWORD) is not provided: replup never puts a login or password into a script (the ` +
        `worker resolves the plan's credentials); remove the reference`,
    );
  });
  it('read-only variables ("R" in the table) cannot be set by :setvar', () => {
    expect(errorOf(() => parseSqlcmd(':setvar SQLCMDSERVER other', { file: 's.sql' }))).toBe(
      `s.sql:1: ':setvar SQLCMDSERVER': SQLCMDSERVER is set by sqlcmd at start-up and cannot be changed by a ` +
        `script; remove the line`,
    );
  });
});

// sqlcmd pastes $(var) as text; a value the run passes must stand where the script puts it.
describe('values put into scripts: escaped for where they stand, or refused', () => {
  const script = lines(
    'USE [$(Db)]',
    "EXEC sp_addmergesubscription @subscriber_db = N'$(Db)'",
    'SELECT "$(Db)"',
    "EXEC (N'USE [$(Db)]')",
  );
  const escaped: [string, string][] = [
    [
      ']',
      lines(
        'USE [Pers]]DB]',
        "EXEC sp_addmergesubscription @subscriber_db = N'Pers]DB'",
        'SELECT "Pers]DB"',
        "EXEC (N'USE [Pers]]DB]')",
      ),
    ],
    [
      "'",
      lines(
        "USE [O'Brien]",
        "EXEC sp_addmergesubscription @subscriber_db = N'O''Brien'",
        'SELECT "O\'Brien"',
        "EXEC (N'USE [O''Brien]')",
      ),
    ],
    [
      ';',
      lines(
        'USE [a;DROP DATABASE x]',
        "EXEC sp_addmergesubscription @subscriber_db = N'a;DROP DATABASE x'",
        'SELECT "a;DROP DATABASE x"',
        "EXEC (N'USE [a;DROP DATABASE x]')",
      ),
    ],
    [
      '--',
      lines(
        'USE [x--y]',
        "EXEC sp_addmergesubscription @subscriber_db = N'x--y'",
        'SELECT "x--y"',
        "EXEC (N'USE [x--y]')",
      ),
    ],
    [
      '"',
      lines(
        'USE [a"b]',
        "EXEC sp_addmergesubscription @subscriber_db = N'a\"b'",
        'SELECT "a""b"',
        "EXEC (N'USE [a\"b]')",
      ),
    ],
  ];
  const values: Record<string, string> = {
    ']': 'Pers]DB',
    "'": "O'Brien",
    ';': 'a;DROP DATABASE x',
    '--': 'x--y',
    '"': 'a"b',
  };
  it.each(escaped)(
    'a name holding %s: ]] in brackets, doubled quotes in strings, ]] for a name in dynamic SQL',
    (ch, expected) => {
      expect(parseSqlcmd(script, { vars: { Db: values[ch]! } }).batches.map((b) => b.sql)).toEqual([expected]);
    },
  );

  it.each(Object.entries(values))(
    'a name holding %s is refused where it stands bare, naming the variable, the value and the fix',
    (_ch, value) => {
      const err = (() => {
        try {
          parseSqlcmd(lines('PRINT 1', 'USE $(Db)'), { vars: { Db: value }, file: 's.sql' });
        } catch (e) {
          return e as SqlcmdError;
        }
        throw new Error('expected a SqlcmdError');
      })();
      expect([err.line, err.variable]).toEqual([2, 'Db']);
      expect(err.message).toBe(
        `s.sql:2: $(Db) stands bare in the script (not inside [brackets] or quotes), and its value '${value}` +
          `' is not a plain name or number: sqlcmd would paste it as T-SQL, so it could end the statement or ` +
          `add one. Put the reference inside [brackets] or N'quotes' in the script, or use a value of letters, ` +
          `digits and '_'`,
      );
    },
  );

  it(
    "non-ASCII letters: kept in brackets and N'…', bare as a plain name, refused in a string without N " +
      "(nchar-and-nvarchar page: converted to the database's code page)",
    () => {
      expect(
        parseSqlcmd("USE [$(Db)]\nUSE $(Db)\nPRINT N'$(Db)'", { vars: { Db: 'Zürich' } }).batches.map((b) => b.sql),
      ).toEqual(["USE [Zürich]\nUSE Zürich\nPRINT N'Zürich'"]);
      expect(errorOf(() => parseSqlcmd("PRINT '$(Db)'", { vars: { Db: 'Łódź' }, file: 's.sql' }))).toBe(
        `s.sql:1: $(Db) stands in a string without the N prefix, and its value 'Łódź' has letters outside ` +
          `ASCII, which SQL Server converts to the database's code page (they may arrive as '?'). Write N'$(Db)' ` +
          `in the script`,
      );
    },
  );

  it("a value the script sets itself is the author's text, pasted as sqlcmd pastes it", () => {
    expect(sqlOf(lines(':setvar Cols "a, b"', 'SELECT $(Cols) FROM t'))).toEqual([['SELECT a, b FROM t', 1]]);
  });

  it('each reference is reported with its context and whether the run passed it', () => {
    const parsed = parseSqlcmd(lines(':setvar Own x', 'USE [$(Db)]', "PRINT N'$(Db)' + '$(Own)'", 'SELECT $(Own)'), {
      vars: { Db: 'PS' },
      file: 's.sql',
    });
    expect(parsed.references.map((r) => [r.name, r.line, r.context, r.external])).toEqual([
      ['Db', 2, 'bracket', true],
      ['Db', 3, 'string', true],
      ['Own', 3, 'string', false],
      ['Own', 4, 'bare', false],
    ]);
  });
});
