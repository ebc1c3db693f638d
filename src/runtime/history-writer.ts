import type { HistoryRecord, HistoryStore } from '../ports/history-store.port.ts';

export type HistoryWriteOutcome = 'inserted' | 'duplicate';

/** Group commit for history rows: callers await durability, the store sees one write per batch. */
export interface HistoryWriter {
  /** Resolves once the row is durable (`inserted`) or known to be a replay (`duplicate`). */
  write(record: HistoryRecord): Promise<HistoryWriteOutcome>;
  /** Writes everything pending; resolves `false` if that took longer than `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean>;
  readonly stats: { readonly batches: number; readonly rows: number };
}

export interface HistoryWriterOptions {
  readonly history: HistoryStore;
  /**
   * Extra time the first row of a batch waits for company. 0 (the default) is plain group
   * commit: a row goes out at once when nothing is in flight, and rows that arrive while a
   * batch is being written form the next batch.
   */
  readonly windowMs?: number;
  readonly maxBatch?: number;
}

interface Pending {
  readonly record: HistoryRecord;
  readonly resolve: (outcome: HistoryWriteOutcome) => void;
  readonly reject: (err: unknown) => void;
}

export function createHistoryWriter(options: HistoryWriterOptions): HistoryWriter {
  const windowMs = options.windowMs ?? 0;
  const maxBatch = options.maxBatch ?? 500;
  let pending: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  // Batches are written one after another so history keeps arrival order across batches.
  let chain: Promise<void> = Promise.resolve();
  const stats = { batches: 0, rows: 0 };

  const commit = (): Promise<void> => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return chain;
    const batch = pending;
    pending = [];
    inFlight += 1;
    chain = chain.then(() => writeBatch(batch)).finally(() => {
      inFlight -= 1;
      if (inFlight === 0 && pending.length > 0 && timer === undefined) void commit();
    });
    return chain;
  };

  const writeBatch = async (batch: Pending[]): Promise<void> => {
    try {
      const result = await options.history.append(batch.map((p) => p.record));
      stats.batches += 1;
      stats.rows += result.inserted;
      const duplicates = new Set(result.duplicates);
      batch.forEach((p, i) => p.resolve(duplicates.has(i) ? 'duplicate' : 'inserted'));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  };

  return {
    stats,
    write(record) {
      return new Promise<HistoryWriteOutcome>((resolve, reject) => {
        pending.push({ record, resolve, reject });
        if (pending.length >= maxBatch) void commit();
        else if (inFlight === 0) timer ??= setTimeout(() => void commit(), windowMs);
      });
    },
    async flush(timeoutMs) {
      let timeout: NodeJS.Timeout | undefined;
      const expired = new Promise<boolean>((resolve) => {
        timeout = setTimeout(() => resolve(false), timeoutMs);
      });
      try {
        return await Promise.race([commit().then(() => true), expired]);
      } finally {
        clearTimeout(timeout);
      }
    },
  };
}
