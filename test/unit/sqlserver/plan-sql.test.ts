// `replup plan show --sql`: what the SQL Server adapter would send for a plan, step by step, with
// its parameters. Pure: the plan's servers are made up and nothing connects.
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planShow } from '../../../cli/commands/plan.js';
import { UserError } from '../../../cli/errors.js';
import { EXAMPLES } from '../plan/load-example.js';

const example = path.join(EXAMPLES, 'sqlserver.yaml');
let dir: string;
let quoted: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'replup-plan-sql-'));
  // The example with a London database whose name has ], a quote, a space and non-ASCII letters.
  const text = (await readFile(example, 'utf8')).replace(
    '  - server: SQL-LON01\n',
    `  - server: SQL-LON01\n    database: "O'Brien]s Zürich"\n`,
  );
  quoted = path.join(dir, 'quoted.yaml');
  await writeFile(quoted, text);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The lines of one step's section of the output. */
function section(text: string, step: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(`-- ==== ${step} ====`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('-- ==== '));
  return lines.slice(start, end < 0 ? undefined : end - 1);
}

describe('replup plan show --sql', () => {
  it(
    'prints, for examples/sqlserver.yaml, every statement of each step that applies, where it goes and with ' +
      'which values',
    async () => {
      const output = await planShow(example, { sql: true });
      expect(output.exitCode).toBe(0);
      // plan-show-sql.expected.txt is the output read and checked line by line against statements.ts
      // and the adapter's order of calls; a change to either shows up here as a diff to review.
      expect(output.text).toBe(await readFile(path.join(import.meta.dirname, 'plan-show-sql.expected.txt'), 'utf8'));
    },
  );

  it("quotes a database name with ] and a quote: ] doubled inside [ ], the quote doubled in N'…' values", async () => {
    const { text, exitCode } = await planShow(quoted, { sql: true });
    expect(exitCode).toBe(0);
    expect(section(text, 'upgrade')).toEqual([
      '-- ==== upgrade ====',
      '-- An operator upgrades the servers and databases; after `replup confirm` every database is checked.',
      '',
      '-- the Personalization Server version of each database (versionQuery)',
      'EXEC [PersonalizationServer].sys.sp_executesql @query;',
      'GO',
      "--   on SQL-PUB01\\PERSONALIZATION: @query = N'SELECT TOP (1) Version FROM dbo.SchemaVersion'",
      "--   on SQL-PAR01,1433: @query = N'SELECT TOP (1) Version FROM dbo.SchemaVersion'",
      '',
      '-- the Personalization Server version of each database (versionQuery)',
      "EXEC [O'Brien]]s Zürich].sys.sp_executesql @query;",
      'GO',
      "--   on SQL-LON01: @query = N'SELECT TOP (1) Version FROM dbo.SchemaVersion'",
    ]);
    const removal = section(text, 'remove-replication');
    expect(removal).toContain(
      "--   on SQL-LON01: @database = N'O''Brien]s Zürich', @publicationsTable = N'[O''Brien]]s " +
        "Zürich].dbo.sysmergepublications', @subscriptionsTable = N'[O''Brien]]s " +
        "Zürich].dbo.sysmergesubscriptions'",
    );
    expect(removal).toContain(
      "--   on SQL-PUB01\\PERSONALIZATION: @publication = N'Config', @subscriber = <@@SERVERNAME of " +
        "SQL-LON01>, @subscriberDb = N'O''Brien]s Zürich'",
    );
    expect(removal).toContain(
      "EXEC [O'Brien]]s Zürich].sys.sp_mergesubscription_cleanup @publisher = @publisher, @publisher_db = " +
        '@publisherDb, @publication = @publication;',
    );
    // The backup file name keeps letters and digits only: the quote, ] and space become _.
    expect(section(text, 'backup')).toContain(
      "--   on SQL-LON01: @database = N'O''Brien]s Zürich', @file = " +
        "N'D:\\Backups\\replup\\O_Brien_s_Zürich_<run id>.bak'",
    );
    expect(section(text, 'convert-row-guids')).toContain(
      "--   on SQL-LON01, database O'Brien]s Zürich, one connection: $(DistributorServer) = " +
        '"SQL-PUB01\\PERSONALIZATION", $(SubscriberServer) = "SQL-LON01", $(SubscriberDatabase) = "O\'Brien]s ' +
        'Zürich"',
    );
  });

  it('refuses a lab plan, which is sent no SQL, and says which plan to show instead', async () => {
    const file = path.join(EXAMPLES, 'lab-small.yaml');
    const error = await planShow(file, { sql: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect([(error as UserError).message, (error as UserError).detail, (error as UserError).exitCode]).toEqual([
      `${file}: this plan's target is the lab (the simulated fleet), which is sent no SQL`,
      ['to see what a real fleet is sent, show a plan with target: { kind: sqlserver } (examples/sqlserver.yaml)'],
      1,
    ]);
  });
});
