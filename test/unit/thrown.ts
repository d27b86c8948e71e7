// The message of an error a call must throw, for the tests that check a refusal by its text.
import { expect } from 'vitest';

/**
 * Runs `run` and returns the message of what it throws; with `type`, what it throws must be one (the test
 * fails otherwise). Throws when `run` returns instead.
 */
export function thrownMessage(run: () => unknown, type?: abstract new (...args: never[]) => Error): string {
  try {
    run();
  } catch (err) {
    if (type) expect(err).toBeInstanceOf(type);
    return (err as Error).message;
  }
  throw new Error(`expected ${type ? `a ${type.name}` : 'an error'} to be thrown`);
}
