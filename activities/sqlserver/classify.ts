// SQL Server error classification (DOMAIN.md §1 "Error numbers"): what to retry, what means the
// work is already done, what needs a human. Pure; works on the ports' SqlError (which the lab
// throws) and on mssql's RequestError / ConnectionError shapes, so the activity layer has one rule.

export type SqlErrorKind = 'transient' | 'already-done' | 'fatal';

export interface SqlErrorClass {
  kind: SqlErrorKind;
  /** SQL Server error number, when there is one. */
  number?: number;
  /** Driver error code (ETIMEOUT, ESOCKET, ELOGIN, …), when there is one. */
  code?: string;
  message: string;
  /** What a person should do, when the number alone does not say (error 22022's variants). */
  hint?: string;
}

/**
 * Where the error happened. Some numbers only mean "already done" for one operation: 20026
 * (publication does not exist) is success when dropping a publication, a real failure when
 * running its agent.
 */
export type SqlErrorContext = 'removal' | 'kill';

// Retry with backoff: deadlock victim (1205), lock resources (1204), lock timeout (1222), lock not
// placed on ALTER DATABASE (5061), database not yet openable (4060), connection dropped (233,
// 10053, 10054, 10060), Azure SQL busy/moving (40501, 40613, 49918-49920), and -2, the client-side
// "Timeout expired" number SqlClient reports (the lab raises it too).
const TRANSIENT_NUMBERS = new Set([
  -2, 1205, 1204, 1222, 5061, 4060, 233, 10053, 10054, 10060, 40501, 40613, 49918, 49919, 49920,
]);
// tedious/mssql codes for a connection that timed out or broke: the server may be restarting.
const TRANSIENT_CODES = new Set([
  'ETIMEOUT',
  'ESOCKET',
  'ECONNRESET',
  'ECONNCLOSED',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
]);
const ALREADY_DONE: Record<SqlErrorContext, Set<number>> = {
  // 20026 publication does not exist, 20021 subscription not found, 20017 subscription does not
  // exist on the subscriber, 20032 not defined as a subscriber.
  removal: new Set([20026, 20021, 20017, 20032]),
  // 6106: the process id is no longer active (the session ended on its own).
  kill: new Set([6106]),
};
// Error 22022 is SQL Server Agent refusing a request (sp_start_job and friends); what it means is
// only in its text. Texts as SQL Server prints them: "Request to run job X (from User Y) refused
// because the job is already running from a request by …", "… refused because the job already has
// a pending request from User …", "Cannot perform this operation while SQLServerAgent is
// starting", "SQLServerAgent is not currently running so it cannot be notified of this action."
// Sources: no Microsoft page lists them; they are quoted from servers' output in public code
// (airbytehq/airbyte source-mssql MsSQLTestDatabase.java retries the first three) and forums.
const SQL_AGENT_REFUSED = 22022;
const AGENT_VARIANTS: { pattern: RegExp; kind: SqlErrorKind; hint: string }[] = [
  {
    pattern: /already running/i,
    kind: 'transient',
    hint: 'the job is already running: wait for that run to finish, then start it again',
  },
  {
    pattern: /pending request/i,
    kind: 'transient',
    hint: 'a request to run the job is already pending: wait for it to start and finish, then look again',
  },
  {
    pattern: /SQLServerAgent is starting/i,
    kind: 'transient',
    hint: 'SQL Server Agent is starting: try again in a moment',
  },
  {
    pattern: /not currently running/i,
    kind: 'fatal',
    hint:
      'SQL Server Agent is not running on this server: start the SQL Server Agent service (SQL Server ' +
      'Configuration Manager), then retry the step',
  },
];
const UNKNOWN_AGENT_REFUSAL =
  'SQL Server Agent refused the request for a reason replup does not know: read the message, fix the cause, ' +
  'then retry the step';

export function classifySqlError(err: unknown, context?: SqlErrorContext): SqlErrorClass {
  const number = errorNumber(err);
  const code = errorCode(err);
  const message = errorMessage(err);
  const result = (kind: SqlErrorKind): SqlErrorClass => ({
    kind,
    ...(number !== undefined && { number }),
    ...(code !== undefined && { code }),
    message,
  });
  if (number !== undefined) {
    if (context && ALREADY_DONE[context].has(number)) return result('already-done');
    if (TRANSIENT_NUMBERS.has(number)) return result('transient');
    if (number === SQL_AGENT_REFUSED) {
      const variant = AGENT_VARIANTS.find((v) => v.pattern.test(message));
      return { ...result(variant?.kind ?? 'fatal'), hint: variant?.hint ?? UNKNOWN_AGENT_REFUSAL };
    }
    return result('fatal');
  }
  if (code !== undefined && TRANSIENT_CODES.has(code)) return result('transient');
  return result('fatal');
}

/** The SQL Server error number: `number` (SqlError, RequestError) or the driver's original error. */
export function errorNumber(err: unknown): number | undefined {
  const candidates = [
    at(err, 'number'),
    at(at(at(err, 'originalError'), 'info'), 'number'),
    at(at(err, 'originalError'), 'number'),
    at(at(err, 'info'), 'number'),
  ];
  return candidates.find((n): n is number => typeof n === 'number' && Number.isInteger(n) && n !== 0);
}

function errorCode(err: unknown): string | undefined {
  for (const code of [at(err, 'code'), at(at(err, 'originalError'), 'code')]) {
    // EREQUEST only says "the server returned an error": the number says which.
    if (typeof code === 'string' && code !== 'EREQUEST') return code;
  }
  return undefined;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  const message = at(err, 'message');
  return typeof message === 'string' ? message : String(err);
}

function at(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
