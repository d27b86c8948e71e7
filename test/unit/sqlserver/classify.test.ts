import mssql from 'mssql';
import { describe, expect, it } from 'vitest';
import { SqlError } from '../../../activities/ports.js';
import { classifySqlError } from '../../../activities/sqlserver/classify.js';
import { toApplicationFailure } from '../../../activities/sqlserver/failure.js';

describe('classifySqlError', () => {
  // Which error numbers are worth retrying (transient) and which are not (fatal) is the rule of
  // activities/sqlserver/classify.ts, whose comments give its sources (DOMAIN.md §1 "Error numbers", and for
  // error 22022 the server texts quoted in public code); this table checks the rule, it is not a source of its own.
  it.each([
    ['transient', 1205, 'Transaction (Process ID 61) was deadlocked on lock resources'],
    ['transient', 1204, 'cannot obtain a LOCK resource'],
    ['transient', 1222, 'Lock request time out period exceeded.'],
    ['transient', 5061, 'ALTER DATABASE failed because a lock could not be placed on database'],
    ['transient', 4060, 'Cannot open database "PS" requested by the login.'],
    ['transient', 233, 'No process is on the other end of the pipe.'],
    ['transient', 10053, 'connection aborted'],
    ['transient', 10054, 'connection reset'],
    ['transient', 10060, 'connection timed out'],
    ['transient', 40501, 'The service is currently busy.'],
    ['transient', 40613, 'Database is not currently available.'],
    ['transient', 49918, 'Cannot process request.'],
    ['transient', 49920, 'Cannot process request.'],
    ['fatal', 18456, "Login failed for user 'replup'."],
    ['fatal', 229, 'The EXECUTE permission was denied on the object sp_start_job'],
    ['fatal', 20086, 'table without a rowguidcol'],
    ['fatal', 2627, 'Violation of PRIMARY KEY constraint'],
    ['fatal', 547, 'The INSERT statement conflicted with the FOREIGN KEY constraint'],
    ['fatal', 50000, 'raised by a script'],
  ] as const)('%s: SqlError %i (%s)', (kind, number, message) => {
    expect(classifySqlError(new SqlError(number, message))).toEqual({ kind, number, message });
  });

  // Each text SQL Server Agent answers sp_start_job with under 22022, and what replup does with it.
  it.each([
    [
      'SQLServerAgent Error: Request to run job PUB-PS-Config-SUB1-1 (from User sa) refused because the job ' +
        'is already running from a request by Schedule 9.',
      'transient',
      /already running: wait for that run to finish/,
    ],
    [
      'SQLServerAgent Error: Request to run job PUB-PS-Config-SUB1-1 (from User replup) refused because the ' +
        'job already has a pending request from User sa.',
      'transient',
      /request to run the job is already pending/,
    ],
    [
      'Cannot perform this operation while SQLServerAgent is starting. Try again later.',
      'transient',
      /Agent is starting: try again/,
    ],
    [
      'SQLServerAgent is not currently running so it cannot be notified of this action.',
      'fatal',
      /start the SQL Server Agent service .*then retry the step/,
    ],
    ['SQLServerAgent Error: something new', 'fatal', /a reason replup does not know/],
  ] as const)('22022 "%s" is %s, with what to do', (message, kind, hint) => {
    const c = classifySqlError(new SqlError(22022, message));
    expect([c.kind, c.number, c.message]).toEqual([kind, 22022, message]);
    expect(c.hint).toMatch(hint);
    // The operator reads the hint in the step's error.
    expect(toApplicationFailure(new SqlError(22022, message)).message).toContain(c.hint!);
  });

  it('treats "already gone" as done only when removing replication', () => {
    for (const number of [20026, 20021, 20017, 20032]) {
      expect(classifySqlError(new SqlError(number, 'gone'), 'removal').kind).toBe('already-done');
      expect(classifySqlError(new SqlError(number, 'gone')).kind).toBe('fatal');
    }
  });

  it('treats a session that already ended as killed', () => {
    expect(classifySqlError(new SqlError(6106, 'Process ID 77 is not an active process ID.'), 'kill').kind).toBe(
      'already-done',
    );
  });

  it('reads the number from mssql RequestError, directly or from originalError.info', () => {
    const direct = new mssql.RequestError('deadlocked', 'EREQUEST');
    (direct as unknown as { number: number }).number = 1205;
    expect(classifySqlError(direct)).toEqual({ kind: 'transient', number: 1205, message: 'deadlocked' });
    const wrapped = new mssql.RequestError('login failed', 'EREQUEST');
    (wrapped as unknown as { originalError: unknown }).originalError = { info: { number: 18456 } };
    expect(classifySqlError(wrapped)).toEqual({ kind: 'fatal', number: 18456, message: 'login failed' });
  });

  it.each(['ETIMEOUT', 'ESOCKET', 'ECONNRESET', 'ECONNCLOSED'])('driver code %s is transient', (code) => {
    expect(classifySqlError(new mssql.ConnectionError('Connection lost', code as mssql.MSSQL_ERROR_CODE))).toEqual({
      kind: 'transient',
      code,
      message: 'Connection lost',
    });
  });

  it('a login error without a number is fatal, and so is anything unknown', () => {
    expect(classifySqlError(new mssql.ConnectionError("Login failed for user 'x'.", 'ELOGIN')).kind).toBe('fatal');
    expect(classifySqlError(new Error('something else'))).toEqual({ kind: 'fatal', message: 'something else' });
    expect(classifySqlError('a string')).toEqual({ kind: 'fatal', message: 'a string' });
  });
});

describe('toApplicationFailure', () => {
  it('makes transient errors retryable and the rest not, with a type the retry policy names', () => {
    const deadlock = toApplicationFailure(new SqlError(1205, 'deadlocked'));
    expect([deadlock.type, deadlock.nonRetryable, deadlock.message]).toEqual([
      'SqlTransient',
      false,
      'SQL Server error 1205: deadlocked',
    ]);
    const login = toApplicationFailure(new SqlError(18456, 'Login failed'));
    expect([login.type, login.nonRetryable]).toEqual(['SqlFatal', true]);
    const gone = toApplicationFailure(new SqlError(20026, 'The publication does not exist.'), 'removal');
    expect([gone.type, gone.nonRetryable, gone.details]).toEqual([
      'SqlAlreadyDone',
      true,
      [{ kind: 'already-done', number: 20026, code: null }],
    ]);
  });
});
