import type { HistoryRecord, HistoryStore } from '../../ports/history-store.port.ts';

/** `seq-taken`: another row holds the seq; nothing was written and it is no replay. */
export type HistoryWriteOutcome = 'inserted' | 'duplicate' | 'seq-taken';

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
  /** Batches written at the same time. Default 2. */
  readonly maxInFlight?: number;
  /**
   * Ownership fencing (I14), asked for each row just before its batch is written: throws when this
   * instance no longer holds the row's bot, and the row is refused with that error.
   */
  readonly admit?: (botId: string) => void;
}

interface Pending {
  readonly record: HistoryRecord;
  readonly resolve: (outcome: HistoryWriteOutcome) => void;
  readonly reject: (err: unknown) => void;
}

/** Calls `run` after `ms`; a timer, so even 0 lets the rows of a few more event-loop turns join. */
function wait(ms: number, run: () => void): { cancel(): void } {
  const t = setTimeout(run, ms);
  return { cancel: () => clearTimeout(t) };
}

export function createHistoryWriter(options: HistoryWriterOptions): HistoryWriter {
  const windowMs = options.windowMs ?? 0;
  const maxBatch = options.maxBatch ?? 500;
  const maxInFlight = options.maxInFlight ?? 2;
  let pending: Pending[] = [];
  // Armed while the first row of a batch waits for company.
  let timer: { cancel(): void } | undefined;
  let inFlight = 0;
  const batches = new Set<Promise<void>>();
  const stats = { batches: 0, rows: 0 };

  // A conversation's next row waits for its previous one to be durable (ingestion is serialized
  // per conversation), so no conversation has rows in two batches at once: batches may overlap
  // without breaking any conversation's order, and two in flight keep the store busy while the
  // next batch gathers.
  const commit = (): Promise<void> => {
    timer?.cancel();
    timer = undefined;
    if (pending.length === 0) return Promise.all(batches).then(() => undefined);
    const batch = pending;
    pending = [];
    inFlight += 1;
    const written = writeBatch(batch).finally(() => {
      inFlight -= 1;
      batches.delete(written);
      if (inFlight < maxInFlight && pending.length > 0 && timer === undefined) void commit();
    });
    batches.add(written);
    return Promise.all(batches).then(() => undefined);
  };

  const writeBatch = async (all: Pending[]): Promise<void> => {
    const batch: Pending[] = [];
    for (const p of all) {
      try {
        options.admit?.(p.record.botId);
        batch.push(p);
      } catch (err) {
        p.reject(err);
      }
    }
    if (batch.length === 0) return;
    try {
      const result = await options.history.append(batch.map((p) => p.record));
      stats.batches += 1;
      stats.rows += result.inserted;
      const duplicates = new Set(result.duplicates);
      const taken = new Set(result.seqTaken);
      batch.forEach((p, i) => p.resolve(duplicates.has(i) ? 'duplicate' : taken.has(i) ? 'seq-taken' : 'inserted'));
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
        else if (inFlight < maxInFlight) timer ??= wait(windowMs, () => void commit());
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
