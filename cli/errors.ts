// Exit codes (documented in the README): 0 success, 1 failed or invalid input, 2 usage error,
// 3 the run is waiting for an operator.
export const EXIT = { ok: 0, failed: 1, usage: 2, waiting: 3 } as const;

/** An error the user can fix: printed as one clear line (plus detail), never as a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    public readonly detail: string[] = [],
    public readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
