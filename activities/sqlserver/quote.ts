// Quoting for the few places T-SQL cannot take a parameter (database names in ALTER DATABASE and
// three-part names, KILL's session id). Everything else goes as a parameter.

/** SQL Server's identifier limit (sysname is nvarchar(128)). */
const MAX_IDENTIFIER_LENGTH = 128;

/** `[name]`, with `]` doubled: safe for any name SQL Server itself accepts. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('an identifier cannot be empty');
  if (name.length > MAX_IDENTIFIER_LENGTH) {
    throw new Error(
      `identifier '${name.slice(0, 20)}…' is ${name.length} characters; SQL Server allows at most ` +
        `${MAX_IDENTIFIER_LENGTH}`,
    );
  }
  if (name.includes('\u0000')) throw new Error('an identifier cannot contain a NUL character');
  return `[${name.replace(/\]/g, ']]')}]`;
}

/** A session id for KILL: checked in code because KILL takes no parameter. */
export function sessionIdLiteral(sessionId: number): string {
  // session_id is smallint. System sessions are kept out by is_user_process, and SQL Server
  // itself refuses to KILL them (error 6107).
  if (!Number.isSafeInteger(sessionId) || sessionId < 1 || sessionId > 32767) {
    throw new Error(`refusing to KILL session ${String(sessionId)}: a session id is a whole number from 1 to 32767`);
  }
  return String(sessionId);
}
