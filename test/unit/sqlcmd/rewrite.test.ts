import { describe, expect, it } from 'vitest';
import { rewriteSyncType, syncTypesOf, SyncTypeRewriteError } from '../../../activities/sqlcmd/index.js';

const lines = (...l: string[]) => l.join('\n');

describe('rewriteSyncType', () => {
  // [case, script, script after the rewrite]
  const cases: [string, string, string][] = [
    [
      'the vendor spelling',
      "exec sp_addmergesubscription @publication = N'Config', @sync_type = N'Automatic'",
      "exec sp_addmergesubscription @publication = N'Config', @sync_type = N'none'",
    ],
    [
      'no spaces, no N, lower case',
      "EXEC sp_addmergesubscription @publication='Data',@sync_type='automatic'",
      "EXEC sp_addmergesubscription @publication='Data',@sync_type = N'none'",
    ],
    [
      'parameter name in other case',
      "EXEC sp_addmergesubscription @publication = N'Data', @SYNC_TYPE = N'AUTOMATIC'",
      "EXEC sp_addmergesubscription @publication = N'Data', @sync_type = N'none'",
    ],
    [
      '@sync_type first, other order',
      "EXECUTE sp_addmergesubscription @sync_type = N'automatic', @publication = N'Data'",
      "EXECUTE sp_addmergesubscription @sync_type = N'none', @publication = N'Data'",
    ],
    [
      'a value from a sqlcmd variable',
      "EXEC sp_addmergesubscription @publication = N'Data', @sync_type = $(SyncType)",
      "EXEC sp_addmergesubscription @publication = N'Data', @sync_type = N'none'",
    ],
    [
      'DEFAULT means automatic',
      "EXEC sp_addmergesubscription @publication = N'Data', @sync_type = DEFAULT",
      "EXEC sp_addmergesubscription @publication = N'Data', @sync_type = N'none'",
    ],
    [
      'omitted: added after the last argument',
      "EXEC sp_addmergesubscription @publication = N'Config', @subscriber = N'S1';",
      "EXEC sp_addmergesubscription @publication = N'Config', @subscriber = N'S1', @sync_type = N'none';",
    ],
    [
      'omitted in a multi-line call',
      lines('exec sp_addmergesubscription', "  @publication = N'Config',", "  @subscriber_db = N'PS'", 'GO'),
      lines(
        'exec sp_addmergesubscription',
        "  @publication = N'Config',",
        "  @subscriber_db = N'PS', @sync_type = N'none'",
        'GO',
      ),
    ],
    [
      'schema-qualified and bracketed',
      "EXEC [sys].[sp_addmergesubscription] @publication = N'Data', @sync_type = N'automatic'",
      "EXEC [sys].[sp_addmergesubscription] @publication = N'Data', @sync_type = N'none'",
    ],
    [
      'a return code variable',
      "EXEC @rc = dbo.sp_addmergesubscription @publication = N'Data'",
      "EXEC @rc = dbo.sp_addmergesubscription @publication = N'Data', @sync_type = N'none'",
    ],
    [
      'positional: the 7th argument is @sync_type',
      "EXEC sp_addmergesubscription N'Data', N'S1', N'PS', N'push', N'global', 75.0, N'automatic', 4",
      "EXEC sp_addmergesubscription N'Data', N'S1', N'PS', N'push', N'global', 75.0, N'none', 4",
    ],
    [
      'two calls, each rewritten',
      lines(
        "EXEC sp_addmergesubscription @publication = N'Config', @sync_type = N'Automatic'",
        'GO',
        "EXEC sp_addmergesubscription @publication = N'Data'",
      ),
      lines(
        "EXEC sp_addmergesubscription @publication = N'Config', @sync_type = N'none'",
        'GO',
        "EXEC sp_addmergesubscription @publication = N'Data', @sync_type = N'none'",
      ),
    ],
    [
      'a call in a line comment is left alone',
      "-- EXEC sp_addmergesubscription @publication = N'X', @sync_type = N'automatic'",
      "-- EXEC sp_addmergesubscription @publication = N'X', @sync_type = N'automatic'",
    ],
    [
      'a call in a block comment is left alone',
      "/* EXEC sp_addmergesubscription @sync_type = N'automatic' */ SELECT 1",
      "/* EXEC sp_addmergesubscription @sync_type = N'automatic' */ SELECT 1",
    ],
    [
      'the pull subscription procedure too',
      "EXEC sp_addmergepullsubscription @publication = N'Data', @publisher = N'P', @sync_type = N'automatic'",
      "EXEC sp_addmergepullsubscription @publication = N'Data', @publisher = N'P', @sync_type = N'none'",
    ],
    [
      'pull, positional: the 6th argument is @sync_type',
      "EXEC sp_addmergepullsubscription N'Data', N'P', N'PS', N'local', 0, N'automatic'",
      "EXEC sp_addmergepullsubscription N'Data', N'P', N'PS', N'local', 0, N'none'",
    ],
    [
      'pull, omitted: added',
      "exec SP_ADDMERGEPULLSUBSCRIPTION @publication = N'Data'",
      "exec SP_ADDMERGEPULLSUBSCRIPTION @publication = N'Data', @sync_type = N'none'",
    ],
    [
      'upper-case procedure, tabs and newlines between the parts',
      "EXEC\tSP_AddMergeSubscription\n\t@publication=N'Data' ,\n\t@sync_type\t=\tN'automatic'",
      "EXEC\tSP_AddMergeSubscription\n\t@publication=N'Data' ,\n\t@sync_type = N'none'",
    ],
    [
      'the pull procedure and other procedures are left alone',
      "EXEC sp_addmergepushsubscription_agent @publication = N'Data'",
      "EXEC sp_addmergepushsubscription_agent @publication = N'Data'",
    ],
    [
      'a comment between the arguments',
      "EXEC sp_addmergesubscription @publication = N'Data' /* why */, @sync_type /* x */ = N'automatic'",
      "EXEC sp_addmergesubscription @publication = N'Data' /* why */, @sync_type = N'none'",
    ],
    [
      'the next statement is not an argument',
      lines(
        "EXEC sp_addmergesubscription @publication = N'Data'",
        "EXEC sp_addmergepushsubscription_agent @publication = N'Data'",
      ),
      lines(
        "EXEC sp_addmergesubscription @publication = N'Data', @sync_type = N'none'",
        "EXEC sp_addmergepushsubscription_agent @publication = N'Data'",
      ),
    ],
    [
      'an OUTPUT argument stays whole',
      "EXEC sp_addmergesubscription @publication = N'Data', @x = @y OUTPUT",
      "EXEC sp_addmergesubscription @publication = N'Data', @x = @y OUTPUT, @sync_type = N'none'",
    ],
    [
      'a :setvar line is not an argument',
      lines("EXEC sp_addmergesubscription @publication = N'Data'", ":setvar X 'y"),
      lines("EXEC sp_addmergesubscription @publication = N'Data', @sync_type = N'none'", ":setvar X 'y"),
    ],
  ];
  it.each(cases)('%s', (_name, script, expected) => {
    expect(rewriteSyncType(script).text).toBe(expected);
  });

  it.each(cases)('running it twice changes nothing the second time: %s', (_name, script) => {
    const once = rewriteSyncType(script).text;
    expect(rewriteSyncType(once)).toEqual({ text: once, changes: [] });
  });

  it('reports each change with its line, before and after', () => {
    const script = lines(
      '-- Config subscription',
      'exec sp_addmergesubscription',
      "  @publication = N'Config',",
      "  @sync_type = N'Automatic'",
      'GO',
    );
    expect(rewriteSyncType(script).changes).toEqual([
      { line: 4, before: "  @sync_type = N'Automatic'", after: "  @sync_type = N'none'" },
    ]);
  });

  it('leaves an already-correct script exactly as it was', () => {
    const script = "EXEC sp_addmergesubscription @publication = N'Data', @sync_type = N'none'\r\nGO\r\n";
    expect(rewriteSyncType(script)).toEqual({ text: script, changes: [] });
  });

  // Which procedures take @sync_type: sp_addmergesubscription (7th parameter) and
  // sp_addmergepullsubscription (6th) per their Microsoft pages; sp_addmergepullsubscription_agent
  // has no such parameter (https://learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-addmergepullsubscription-agent-transact-sql).
  const refused: [string, string, string][] = [
    [
      'a call inside a string (dynamic SQL)',
      lines('SELECT 1', "EXEC (N'EXEC sp_addmergesubscription @publication = N''Data''')"),
      'line 2: a merge subscription call or a sync type inside a string',
    ],
    [
      'a sync type inside a string',
      lines("DECLARE @s nvarchar(100) = N'@sync_type = automatic'", 'GO'),
      'line 1: a merge subscription call or a sync type inside a string',
    ],
    [
      'a call through sp_executesql',
      lines('', '', "EXEC sp_executesql N'exec sp_addmergepullsubscription @publication = N''Data'''"),
      'line 3: a merge subscription call or a sync type inside a string',
    ],
    [
      'sp_changemergesubscription',
      "EXEC sp_changemergesubscription @publication = N'Data', @property = N'sync_type', @value = N'automatic'",
      'line 1: sp_changemergesubscription can change a subscription',
    ],
  ];
  it.each(refused)('refuses what it cannot rewrite safely, naming the line: %s', (_name, script, message) => {
    expect(() => rewriteSyncType(script)).toThrow(SyncTypeRewriteError);
    expect(() => rewriteSyncType(script)).toThrow(message);
  });

  it('syncTypesOf reads back each call: what prepare-scripts verifies after the rewrite', () => {
    const script = lines(
      "EXEC sp_addmergesubscription @publication = N'Config', @sync_type = N'Automatic'",
      'GO',
      "EXEC sp_addmergepullsubscription N'Data', N'P', N'PS', N'local', 0, N'none'",
      'GO',
      "EXEC sp_addmergesubscription @publication = N'Data'",
    );
    expect(syncTypesOf(script)).toEqual([
      { procedure: 'sp_addmergesubscription', line: 1, syncType: 'automatic' },
      { procedure: 'sp_addmergepullsubscription', line: 3, syncType: 'none' },
      { procedure: 'sp_addmergesubscription', line: 5, syncType: 'automatic' },
    ]);
    expect(syncTypesOf(rewriteSyncType(script).text).map((c) => c.syncType)).toEqual(['none', 'none', 'none']);
  });

  it('refuses a call it cannot read, naming the line', () => {
    const run = () =>
      rewriteSyncType(lines('SELECT 1', "EXEC sp_addmergesubscription @publication = N'Data', @sync_type = (N'x')"));
    expect(run).toThrow(SyncTypeRewriteError);
    expect(run).toThrow(
      "line 2: cannot read the arguments of this sp_addmergesubscription call; set @sync_type = N'none' in it by hand",
    );
  });
});
