// Bounded concurrency, shared by the workflow (fan-outs in the parent) and by activities (many
// reads in one activity): pure, no Temporal imports, so it runs in both places.

/** Runs fn over items with at most `limit` at once; waits for all started, then throws the first failure. */
export async function boundedAll<I, R>(
  items: I[],
  limit: number,
  fn: (item: I, index: number) => Promise<R>,
  onDone?: (done: number) => void,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  let failure: unknown;
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
        onDone?.(++done);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what fn threw, as it was
  if (failure !== undefined) throw failure;
  return results;
}
