// The articles a publication script adds (#19/#20), read as the runner sends the script, and the
// preflight check that every article published today is added again.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArticleReadError, articlesOf, compareArticles } from '../../../activities/sqlcmd/articles.js';
import { parseSqlcmd } from '../../../activities/sqlcmd/parse.js';
import { decodeScript } from '../../../activities/sqlcmd/read.js';
import { checkPublicationArticles, ScriptProblem, type ScriptRun } from '../../../activities/sqlcmd/prepare.js';
import { thrownMessage } from '../thrown.js';

const lines = (...l: string[]) => l.join('\r\n');
const read = (text: string, vars: Record<string, string> = {}) =>
  articlesOf(parseSqlcmd(text, { file: 'Pub.sql', vars, onError: 'exit' })).map(
    (a) => `${a.publication}/${a.article}@${a.line}`,
  );
const refusal = (text: string, vars: Record<string, string> = {}): string =>
  thrownMessage(() => read(text, vars), ArticleReadError);

describe('articlesOf', () => {
  it('named arguments, in any order, N or not, with the publication from a sqlcmd variable', () => {
    const script = lines(
      'USE [PS]',
      'GO',
      "EXEC sp_addmergearticle @publication = N'$(Publication)', @article = N'PersonalizationGroup', " +
        "@source_object = N'PersonalizationGroup'",
      'GO',
      "EXEC sp_addmergearticle @source_object = 'server', @article = 'server', @publication = '$(Publication)'",
      'GO',
    );
    expect(read(script, { Publication: 'Config' })).toEqual(['Config/PersonalizationGroup@3', 'Config/server@5']);
  });

  // Microsoft's sp_addmergearticle page: [@publication =] first, [@article =] second.
  it('positional arguments: the 1st is the publication, the 2nd the article; leading positional then named', () => {
    expect(read("EXEC sp_addmergearticle N'Data', N'ProfileData', N'ProfileData', N'table'")).toEqual([
      'Data/ProfileData@1',
    ]);
    expect(read("EXEC sp_addmergearticle N'Data', @source_object = N'T', @article = N'Named'")).toEqual([
      'Data/Named@1',
    ]);
    expect(read('EXEC sp_addmergearticle Data, [Pro]]file], ProfileData')).toEqual(['Data/Pro]file@1']);
  });

  it('any case and spacing, schema-qualified or bracketed, a return code, several lines and batches', () => {
    const script = lines(
      "exec SP_ADDMERGEARTICLE\t@PUBLICATION=N'Config' ,",
      "    @Article = N'site'",
      'GO',
      "EXECUTE @rc = [dbo].[sp_addmergearticle] @publication = N'Config', @article = N'server';",
      "EXEC sys.sp_addmergearticle N'Config', N'PersonalizationGroup'",
    );
    expect(read(script)).toEqual(['Config/site@1', 'Config/server@4', 'Config/PersonalizationGroup@5']);
  });

  it('calls in comments add nothing; a line comment between the arguments does not hide one', () => {
    const script = lines(
      "-- EXEC sp_addmergearticle @publication = N'Config', @article = N'old'",
      "/* EXEC sp_addmergearticle @publication = N'Config', @article = N'older' */",
      "EXEC sp_addmergearticle @publication = N'Config', -- the vendor's",
      "    @article /* name */ = N'site'",
    );
    expect(read(script)).toEqual(['Config/site@3']);
  });

  it('the line counts from the batch in its file (after :setvar and GO lines)', () => {
    const script = lines(':setvar Pub Config', 'USE [PS]', 'GO', '', '', "EXEC sp_addmergearticle N'$(Pub)', N'site'");
    expect(read(script)).toEqual(['Config/site@6']);
  });

  it('a call assembled at run time (inside a string) is refused, naming the line', () => {
    const message = refusal(
      lines('USE [PS]', 'GO', "EXEC (N'EXEC sp_addmergearticle @publication = N''Config'', @article = N''site''')"),
    );
    expect(message).toContain('Pub.sql line 3: sp_addmergearticle inside a string (dynamic SQL');
    expect(refusal("EXEC sp_executesql N'exec SP_AddMergeArticle N''Config'', N''site'''")).toMatch(
      /^Pub\.sql line 1: sp_addmergearticle inside a string/,
    );
  });

  it('an argument known only at run time (a T-SQL variable) or left out is refused, naming the line', () => {
    expect(
      refusal(lines("DECLARE @a sysname = N'site'", "EXEC sp_addmergearticle @publication = N'Config', @article = @a")),
    ).toContain('Pub.sql line 2: @article of this sp_addmergearticle call is @a, known only when the script runs');
    expect(refusal("EXEC sp_addmergearticle @publication = N'Config', @source_object = N'site'")).toContain(
      'Pub.sql line 1: this sp_addmergearticle call has no @article',
    );
  });
});

describe('compareArticles', () => {
  const added = (...names: [string, string][]) =>
    names.map(([publication, article]) => ({ publication, article, file: 'Pub.sql', line: 1 }));

  it(
    'an article published today and not added is missing; case does not matter; another publication does not ' +
      'count',
    () => {
      expect(
        compareArticles(
          'Config',
          ['PersonalizationGroup', 'server', 'site'],
          added(['config', 'personalizationgroup'], ['Data', 'server']),
        ),
      ).toEqual({ missing: ['server', 'site'], extra: [] });
    },
  );

  it('articles added beyond today are extra, not missing', () => {
    expect(compareArticles('Data', ['ProfileData'], added(['Data', 'ProfileData'], ['Data', 'NewTable']))).toEqual({
      missing: [],
      extra: ['NewTable'],
    });
  });
});

describe('checkPublicationArticles', () => {
  const PUB = { server: 'PUBHOST', database: 'PS' };
  const run = (publication: string): ScriptRun => ({
    for: { publication, publisher: PUB, distributor: { server: 'PUBHOST', database: 'distribution' } },
    at: PUB,
  });
  const vendorScript = readFileSync(resolve('test/fixtures/cases/utf16-scripts/CreateConfigPublication.sql'));
  const folder = () => mkdtempSync(join(tmpdir(), 'replup-articles-'));

  it(
    "the operators' UTF-16 publication script adds no article: refused naming the publication, the articles, " +
      'the file and the fix',
    async () => {
      const dir = folder();
      writeFileSync(join(dir, 'CreateConfigPublication.sql'), vendorScript);
      const text = decodeScript(vendorScript, 'CreateConfigPublication.sql').text;
      const err = await checkPublicationArticles(
        dir,
        'CreateConfigPublication.sql',
        text,
        [run('Config')],
        undefined,
        'exit',
        async () => ['PersonalizationGroup', 'server'],
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ScriptProblem);
      expect((err as Error).message).toBe(
        `publication Config on PUBHOST/PS publishes PersonalizationGroup, server today, but ` +
          `${join(dir, 'CreateConfigPublication.sql')} does not add them (it adds no article to Config at all): ` +
          're-created by this script, Config would stop replicating those tables for good. Nothing has been changed. ' +
          ("Point scripts.dir at the vendor's scripts for the version you upgrade to that publish them, or add " +
            "EXEC sp_addmergearticle @publication = N'Config', @article = N'PersonalizationGroup', … to the " +
            'script, then retry preflight'),
      );
    },
  );

  it(
    'an article pulled in with :r counts; an extra one is said in the note; a publication not there today is ' +
      'not compared',
    async () => {
      const dir = folder();
      mkdirSync(join(dir, 'Articles'));
      writeFileSync(
        join(dir, 'Articles', 'Config.sql'),
        lines("EXEC sp_addmergearticle @publication = N'$(Publication)', @article = N'PersonalizationGroup'", 'GO', ''),
      );
      const text = lines(
        "EXEC sp_addmergepublication @publication = N'$(Publication)'",
        'GO',
        ':r Articles/Config.sql',
        "EXEC sp_addmergearticle N'$(Publication)', N'NewTable'",
        'GO',
      );
      const note = await checkPublicationArticles(
        dir,
        'Pub.sql',
        text,
        [run('Config')],
        undefined,
        'exit',
        async () => ['PersonalizationGroup'],
      );
      expect(note).toBe(
        'Pub.sql adds NewTable to Config on PUBHOST/PS, not published today (a new version may publish more)',
      );
      expect(
        await checkPublicationArticles(dir, 'Pub.sql', text, [run('Config')], undefined, 'exit', async () => undefined),
      ).toBeUndefined();
    },
  );

  it('the example scripts (one of them UTF-16) add every article the lab publishes', async () => {
    for (const [file, publication, article] of [
      ['CreateConfigPublication.sql', 'Config', 'PersonalizationGroup'],
      ['CreateDataPublication.sql', 'Data', 'ProfileData'],
    ] as const) {
      const text = decodeScript(readFileSync(resolve('examples/replication', file)), file).text;
      expect(
        await checkPublicationArticles(
          resolve('examples/replication'),
          file,
          text,
          [run(publication)],
          undefined,
          'exit',
          async () => [article],
        ),
      ).toBeUndefined();
    }
  });
});
