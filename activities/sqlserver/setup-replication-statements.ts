// The set-up runbook's own statements (issue 24). Read committed snapshot is set as the seed's
// SetMasterUp does: "alter database PersonalizationServer set read_committed_snapshot on with
// rollback immediate". ROLLBACK IMMEDIATE because "only the connection executing the ALTER
// DATABASE command is allowed in the database" (SET TRANSACTION ISOLATION LEVEL,
// https://learn.microsoft.com/en-us/sql/t-sql/statements/set-transaction-isolation-level-transact-sql).
import { quoteIdent } from './quote.js';

/** The ALTER DATABASE that turns read committed snapshot on or off for `database` (quoted). */
export function setReadCommittedSnapshot(database: string, on: boolean): string {
  const value = on ? 'ON' : 'OFF';
  return `ALTER DATABASE ${quoteIdent(database)} SET READ_COMMITTED_SNAPSHOT ${value} WITH ROLLBACK IMMEDIATE`;
}
