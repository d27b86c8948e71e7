// Zod pieces of the `options` section that several runbooks' plans share.
import { z } from 'zod';

/** A whole number of at least `minimum`; the error says what the number means. */
export const wholeNumber = (minimum: number, meaning: string) =>
  z
    .number()
    .int()
    .min(minimum, { error: `must be at least ${minimum}: ${meaning}` });

/**
 * options.retry: how a transient error is retried (seconds before the first retry and at most between retries,
 * 2 and 60 by default; at most 8 attempts by default). `attempts` says what maximumAttempts means, for its error.
 */
export const retryOptions = (attempts: string) =>
  z
    .strictObject({
      initialSeconds: z.number().positive().default(2),
      maximumSeconds: z.number().positive().default(60),
      maximumAttempts: wholeNumber(1, attempts).default(8),
    })
    .optional();
