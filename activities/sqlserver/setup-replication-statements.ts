// The set-up runbook's own statements (issue 24). Read committed snapshot is set as the seed's
// SetMasterUp does: "alter database PersonalizationServer set read_committed_snapshot on with
// rollback immediate". ROLLBACK IMMEDIATE because "only the connection executing the ALTER
// DATABASE command is allowed in the database" (SET TRANSACTION ISOLATION LEVEL,
// https://learn.microsoft.com/en-us/sql/t-sql/statements/set-transaction-isolation-level-transact-sql).
import { quoteIdent } from './quote.js';
import type { Statement } from './statements.js';

/** A T-SQL string literal (N'…', quotes doubled). */
const literal = (text: string) => `N'${text.replace(/'/g, "''")}'`;

/** The ALTER DATABASE that turns read committed snapshot on or off for `database` (quoted). */
export function setReadCommittedSnapshot(database: string, on: boolean): string {
  const value = on ? 'ON' : 'OFF';
  return `ALTER DATABASE ${quoteIdent(database)} SET READ_COMMITTED_SNAPSHOT ${value} WITH ROLLBACK IMMEDIATE`;
}

/**
 * The seed's "set up the distributer": this server its own distributor (sp_adddistributor), its
 * distribution database (sp_adddistributiondb, Windows authentication), and itself a publisher using it
 * (sp_adddistpublisher; `workingDirectory` is the seed's snapshot folder, default the ReplData folder).
 * `server` is the server's @@SERVERNAME. The procedures are called in master by their three-part names, as
 * "executed at the Distributor on the master database" asks. Sent through the sqlcmd runner (asBatch).
 * Pages: sp-adddistributor-transact-sql, sp-adddistributiondb-transact-sql, sp-adddistpublisher-transact-sql.
 */
export function configureLocalDistributor(
  server: string,
  distributionDb: string,
  workingDirectory?: string,
): Statement {
  const folder = workingDirectory !== undefined ? ', @working_directory = @workingDirectory' : '';
  return {
    sql: [
      'EXEC [master].sys.sp_adddistributor @distributor = @server;',
      'EXEC [master].sys.sp_adddistributiondb @database = @distributionDb, @security_mode = 1;',
      'EXEC [master].sys.sp_adddistpublisher @publisher = @server, @distribution_db = @distributionDb, ' +
        `@security_mode = 1${folder};`,
    ].join('\n'),
    params: { server, distributionDb, ...(workingDirectory !== undefined && { workingDirectory }) },
  };
}

/** A statement as one sqlcmd batch: each parameter a declared nvarchar variable holding its value. */
export function asBatch(statement: Statement): string {
  const declare = Object.entries(statement.params).map(
    ([name, value]) => `DECLARE @${name} nvarchar(4000) = ${literal(String(value))};`,
  );
  return [...declare, statement.sql].join('\n');
}
