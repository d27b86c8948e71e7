// Classified SQL errors as Temporal ApplicationFailures, so activity retry policies can tell
// them apart by type: transient ones retry with backoff, fatal ones stop and go to an operator.
import { ApplicationFailure } from '@temporalio/common';
import { classifySqlError, type SqlErrorContext, type SqlErrorKind } from './classify.js';
import { SqlFailure } from '../../common/failures.js';

/** The failure type of each kind of SQL error (named once, in common/failures.ts). */
export const SQL_FAILURE_TYPES: Record<SqlErrorKind, string> = SqlFailure;

/** For an activity's catch: rethrow what it returns. Only transient failures are retryable. */
export function toApplicationFailure(err: unknown, context?: SqlErrorContext): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const c = classifySqlError(err, context);
  const prefix = c.number !== undefined ? `SQL Server error ${c.number}: ` : c.code !== undefined ? `${c.code}: ` : '';
  return ApplicationFailure.create({
    message: `${prefix}${c.message}${c.hint ? ` (${c.hint})` : ''}`,
    type: SQL_FAILURE_TYPES[c.kind],
    nonRetryable: c.kind !== 'transient',
    details: [{ kind: c.kind, number: c.number ?? null, code: c.code ?? null }],
    cause: err instanceof Error ? err : undefined,
  });
}
