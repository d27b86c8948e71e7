// prepare-scripts on the worker: every script read through the one decoder, subscription scripts
// rewritten and verified, and every run the workflow will make checked with the values it passes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkRuns,
  loadScript,
  runVariables,
  ScriptProblem,
  type ScriptRun,
} from '../../../activities/sqlcmd/prepare.js';
import { thrownMessage } from '../thrown.js';
import { caseScript } from '../../support/utf16-scripts.js';

const lines = (...l: string[]) => l.join('\r\n');
const folder = (files: Record<string, string | Buffer>) => {
  const dir = mkdtempSync(join(tmpdir(), 'replup-prepare-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
};
const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const PUB = { server: 'PUBHOST', database: 'PS' };
const DIST = { server: 'PUBHOST', database: 'distribution' };
const subscriptionRun = (database: string): ScriptRun => ({
  for: { publication: 'Config', publisher: PUB, subscriber: { server: 'SUB1', database }, distributor: DIST },
  at: PUB,
});
const problem = (run: () => unknown): string => thrownMessage(run, ScriptProblem);

describe('loadScript', () => {
  const subscription = lines(
    'USE [$(PublisherDatabase)]',
    'GO',
    "EXEC sp_addmergesubscription @publication = N'$(Publication)', @sync_type = N'Automatic'",
    'GO',
  );

  it('a UTF-16 LE subscription script is decoded, rewritten to sync type none, and reports the change', async () => {
    const dir = folder({ 'Sub.sql': utf16le(subscription) });
    const loaded = await loadScript(dir, 'Sub.sql', true);
    expect(loaded.encoding).toBe('UTF-16 LE');
    expect(loaded.text).toContain("@sync_type = N'none'");
    expect(loaded.changes).toEqual([
      {
        line: 3,
        before: "EXEC sp_addmergesubscription @publication = N'$(Publication)', @sync_type = N'Automatic'",
        after: "EXEC sp_addmergesubscription @publication = N'$(Publication)', @sync_type = N'none'",
      },
    ]);
  });

  it(
    "the operators' utf16-CreateConfigSubscription.sql " + '(UTF-16 LE, CRLF) is rewritten like its UTF-8 twin',
    async () => {
      const cases = join(process.cwd(), 'test/fixtures/cases');
      const utf16 = await loadScript(cases, 'utf16-CreateConfigSubscription.sql', true);
      // Its UTF-8 twin is the case's CreateConfigSubscription.sql: the example the operators' folder was made
      // from, pinned to the case's bytes by utf16-scripts-case.test.ts.
      const twinPath = caseScript('CreateConfigSubscription.sql');
      const twin = await loadScript(dirname(twinPath), basename(twinPath), true);
      expect([utf16.encoding, twin.encoding]).toEqual(['UTF-16 LE', 'UTF-8']);
      expect(utf16.text.replace(/\r\n/g, '\n')).toBe(twin.text.replace(/\r\n/g, '\n'));
      expect(utf16.changes.map((c) => c.after.trim())).toEqual(["@sync_type = N'none'"]);
    },
  );

  it('a subscription script in which no sync type can be found or set is refused, not passed', async () => {
    const dir = folder({ 'Sub.sql': lines('USE [$(PublisherDatabase)]', 'GO', 'PRINT 1') });
    await expect(loadScript(dir, 'Sub.sql', true)).rejects.toThrow(
      `${join(dir, 'Sub.sql')} (read as UTF-8) has no sp_addmergesubscription or sp_addmergepullsubscription ` +
        `call, so replup cannot find or set its sync type`,
    );
  });

  it('a sync type it cannot rewrite safely is refused at preflight, naming the line', async () => {
    const dir = folder({
      'Sub.sql': lines('PRINT 1', "EXEC (N'EXEC sp_addmergesubscription @publication = N''Config''')"),
    });
    await expect(loadScript(dir, 'Sub.sql', true)).rejects.toThrow(
      `${join(dir, 'Sub.sql')} line 2: a merge subscription call or a sync type inside a string`,
    );
  });

  it('an undecodable script is refused naming the file and the encoding, and that nothing changed', async () => {
    const dir = folder({ 'Pub.sql': Buffer.from([0x50, 0xe9, 0x0a]) });
    await expect(loadScript(dir, 'Pub.sql', false)).rejects.toThrow(
      `script ${join(dir, 'Pub.sql')}: is not valid UTF-8 text`,
    );
    await expect(loadScript(dir, 'Pub.sql', false)).rejects.toThrow(/nothing has been changed$/);
  });
});

describe('checkRuns: every run, with the values it will pass', () => {
  const script = lines(
    'USE [$(PublisherDatabase)]',
    'GO',
    "EXEC sp_addmergesubscription @publication = N'$(Publication)', @subscriber_db = " +
      "N'$(SubscriberDatabase)', @sync_type = N'none'",
  );

  it("passes names holding ] and ' where the script brackets or quotes them", () => {
    const dir = folder({});
    expect(() =>
      checkRuns(dir, 'Sub.sql', script, [subscriptionRun('Pers]DB'), subscriptionRun("O'Brien")], undefined, 'exit'),
    ).not.toThrow();
  });

  it('refuses a value that cannot stand where one run puts it, naming the file, line, variable and value', () => {
    const dir = folder({});
    const bare = lines('PRINT 1', 'USE $(SubscriberDatabase)');
    expect(
      problem(() =>
        checkRuns(dir, 'Cvt.sql', bare, [subscriptionRun('PS'), subscriptionRun('a;DROP')], undefined, 'exit'),
      ),
    ).toBe(
      `${join(dir, 'Cvt.sql')} line 2: $(SubscriberDatabase) stands bare in the script (not inside ` +
        `[brackets] or quotes), and its value 'a;DROP' is not a plain name or number: sqlcmd would paste it as ` +
        `T-SQL, so it could end the statement or add one. Put the reference inside [brackets] or N'quotes' in ` +
        `the script, or use a value of letters, digits and '_'; fix the script or the plan, then retry this ` +
        `step`,
    );
  });

  it(
    "scripts.variables maps the vendor's own names to the fleet; a name the script uses and the plan does not " +
      'map is named',
    () => {
      const dir = folder({});
      const vendor = lines('USE [$(SubDb)]', "PRINT N'$(PubName)'");
      expect(() =>
        checkRuns(
          dir,
          'Cvt.sql',
          vendor,
          [subscriptionRun('PS')],
          { SubDb: '{subscriber.database}', PubName: '{publication}' },
          'exit',
        ),
      ).not.toThrow();
      expect(
        problem(() =>
          checkRuns(dir, 'Cvt.sql', vendor, [subscriptionRun('PS')], { SubDb: '{subscriber.database}' }, 'exit'),
        ),
      ).toBe(
        `${join(dir, 'Cvt.sql')} line 2: variable $(PubName) is not defined: add ':setvar PubName "value"' ` +
          `before this line or pass it as a script variable (the plan's scripts.variables); fix the script or ` +
          `the plan, then retry this step`,
      );
    },
  );

  it('a mapped variable with no value for what the script runs for says so', () => {
    const dir = folder({});
    const publicationRun: ScriptRun = { for: { publication: 'Config', publisher: PUB, distributor: DIST }, at: PUB };
    expect(
      problem(() =>
        checkRuns(dir, 'Pub.sql', 'USE [$(SubDb)]', [publicationRun], { SubDb: '{subscriber.database}' }, 'exit'),
      ),
    ).toBe(
      `${join(dir, 'Pub.sql')} line 1: $(SubDb) is mapped in the plan's scripts.variables to ` +
        `'{subscriber.database}', but {subscriber.database} has no value for this script (it runs for ` +
        `publication Config on PUBHOST/PS); map SubDb to a value known there; fix the script or the plan, then ` +
        `retry this step`,
    );
  });

  it(
    ":setvar of a name the plan passes is refused: in sqlcmd it would win over the fleet's value (variables " +
      'page, precedence)',
    () => {
      const dir = folder({});
      expect(
        problem(() =>
          checkRuns(
            dir,
            'Sub.sql',
            lines(':setvar SubscriberDatabase "Other"', script),
            [subscriptionRun('PS')],
            undefined,
            'exit',
          ),
        ),
      ).toBe(
        `${join(dir, 'Sub.sql')} line 1: ':setvar SubscriberDatabase' replaces the value the plan passes for ` +
          `$(SubscriberDatabase) (in sqlcmd :setvar wins over -v), so the script would run with the script's ` +
          `value, not the fleet's; remove the line, or remove SubscriberDatabase from the plan's ` +
          `scripts.variables`,
      );
    },
  );

  it('a merge subscription call in an :r include is refused: the rewrite cannot reach it', () => {
    const dir = folder({
      'More.sql': "EXEC sp_addmergesubscription @publication = N'Data', @sync_type = N'automatic'\r\n",
    });
    expect(
      problem(() =>
        checkRuns(dir, 'Sub.sql', lines(script, 'GO', ':r More.sql'), [subscriptionRun('PS')], undefined, 'exit'),
      ),
    ).toBe(
      `${join(dir, 'More.sql')} line 1 (sp_addmergesubscription, included by Sub.sql with :r): a merge ` +
        `subscription call in an included file is out of reach of the @sync_type rewrite; move it into Sub.sql ` +
        `itself`,
    );
  });

  it(
    "sqlcmd's predefined variables are provided for where the script runs (variables page: SQLCMDSERVER, " +
      'SQLCMDDBNAME …), never SQLCMDUSER/SQLCMDPASSWORD',
    () => {
      const vars = runVariables(undefined, subscriptionRun('PS'));
      expect([vars.SQLCMDSERVER, vars.SQLCMDDBNAME, vars.SubscriberDatabase]).toEqual(['PUBHOST', 'PS', 'PS']);
      expect(Object.keys(vars).filter((k) => /USER|PASSWORD/.test(k))).toEqual([]);
      expect(() =>
        checkRuns(
          folder({}),
          'S.sql',
          "PRINT N'$(SQLCMDSERVER)/$(SQLCMDDBNAME)'",
          [subscriptionRun('PS')],
          undefined,
          'exit',
        ),
      ).not.toThrow();
    },
  );
});
