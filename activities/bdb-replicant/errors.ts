// The errors a Berkeley DB port raises, in one pure module: the db5.3 adapter and the in-memory
// fake throw the same classes, and the activities turn each into its failure type.

/** The environment home is not what the step needs (missing, not an environment, a running service). */
export class BdbEnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BdbEnvError';
  }
}

export type ServiceErrorCode =
  | 'DB_REP_UNAVAIL'
  | 'DB_REP_JOIN_FAILURE'
  | 'DB_CONFIG_INVALID'
  | 'EXITED'
  | 'START_TIMEOUT'
  | 'RECOVER_FAILED'
  | 'COMMAND_FAILED';

/** Starting or stopping a replication service failed; `code` becomes the activity failure's type. */
export class BdbServiceError extends Error {
  constructor(
    public readonly code: ServiceErrorCode,
    message: string,
    /** Worth starting again later: the master was not answering yet, or start-up was still running. */
    public readonly retryable: boolean,
    public readonly logTail: string[] = [],
  ) {
    super(message);
    this.name = 'BdbServiceError';
  }
}

/** The master's record did not reach the replicant, or the replicant accepted a write. */
export class ReplicationCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicationCheckError';
  }
}
