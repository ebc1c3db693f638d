/**
 * One lane of work per conversation: work on a lane runs one item after another, different lanes
 * run concurrently. A failed item does not stop the lane.
 */
export function createLanes() {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, work: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const next = previous.then(work, work);
      const settled = next.catch(() => undefined);
      tails.set(key, settled);
      void settled.then(() => {
        if (tails.get(key) === settled) tails.delete(key);
      });
      return next;
    },
    /** Whether work is queued or running on the lane. */
    busy: (key: string): boolean => tails.has(key),
    /** Resolves once the work now queued on every lane whose key starts with `prefix` is done. */
    async idle(prefix = ''): Promise<void> {
      await Promise.all([...tails].filter(([key]) => key.startsWith(prefix)).map(([, work]) => work));
    },
  };
}

export type Lanes = ReturnType<typeof createLanes>;
