// The error the OpenEdge ports raise, in one pure module: the dsrutil adapter and the in-memory
// fake throw it alike, and the activities classify it (activities.ts).

export type DsrutilFailure = 'open-error' | 'not-enabled' | 'failed';

/** dsrutil (or the start command) did not do what was asked; `exitCode` is its exit status (-1: it could not run). */
export class DsrutilError extends Error {
  constructor(
    message: string,
    public readonly kind: DsrutilFailure,
    public readonly exitCode: number,
  ) {
    super(message);
    this.name = 'DsrutilError';
  }
}
