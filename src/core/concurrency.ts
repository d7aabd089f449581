/** Bounded parallelism over a list. */

/** Runs fn over items with at most `limit` running at once; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  // One iterator shared by the workers: each takes the next item when it is free.
  const queue = items.entries();
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    for (const [i, item] of queue) results[i] = await fn(item, i);
  });
  await Promise.all(workers);
  return results;
}

/** Like mapLimit, but every item runs to its end; failures are returned, not thrown. */
export async function settleLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  return mapLimit(items, limit, async (item) => {
    try {
      return { status: 'fulfilled', value: await fn(item) } as PromiseFulfilledResult<R>;
    } catch (reason) {
      return { status: 'rejected', reason } as PromiseRejectedResult;
    }
  });
}
