import { calculateObjectSize, Long } from 'bson';
import type { Doc } from './bson-values.ts';
import { fail } from './errors.ts';
import type { Projector } from './projection.ts';

const MAX_BATCH_BYTES = 16 * 1024 * 1024;
const MAX_SAFE_ID = 2 ** 53 - 1;

interface OpenCursor {
  readonly ns: string;
  readonly docs: readonly Doc[];
  readonly project: Projector | undefined;
  pos: number;
  lastUsed: number;
}

/** A batch handed to the client and the cursor id to continue with (0 when exhausted). */
export interface Batch {
  readonly docs: Doc[];
  readonly id: Long;
}

/** Converts a cursor id as sent by a client (Long, bigint or number) into the registry key. */
export function cursorKey(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') return Number(raw);
  if ((raw as { _bsontype?: string } | null)?._bsontype === 'Long') return (raw as Long).toNumber();
  return undefined;
}

/** Server-wide registry of open cursors over materialised result lists, reaped when idle. */
export class CursorRegistry {
  private readonly cursors = new Map<number, OpenCursor>();
  private readonly idleMs: number;
  private readonly timer: NodeJS.Timeout;

  constructor(idleMs = 10 * 60_000, sweepMs = 60_000) {
    this.idleMs = idleMs;
    this.timer = setInterval(() => this.reap(Date.now()), sweepMs);
    this.timer.unref();
  }

  get size(): number {
    return this.cursors.size;
  }

  /** Removes cursors idle for longer than the timeout; returns how many were reaped. */
  reap(now: number): number {
    let reaped = 0;
    for (const [id, c] of this.cursors) {
      if (now - c.lastUsed > this.idleMs) {
        this.cursors.delete(id);
        reaped++;
      }
    }
    return reaped;
  }

  /** First batch (`batchSize` documents, 0 = none yet) of a result; registers a cursor only if documents remain and more batches may follow. */
  open(ns: string, docs: readonly Doc[], project: Projector | undefined, batchSize: number, singleBatch = false): Batch {
    const cursor: OpenCursor = { ns, docs, project, pos: 0, lastUsed: Date.now() };
    // batchSize 0 asks for an open cursor with an empty first batch.
    const batch = batchSize === 0 ? [] : takeBatch(cursor, batchSize);
    if (singleBatch || cursor.pos >= docs.length) return { docs: batch, id: Long.ZERO };
    let id = 0;
    while (id === 0 || this.cursors.has(id)) id = 1 + Math.floor(Math.random() * (MAX_SAFE_ID - 1));
    this.cursors.set(id, cursor);
    return { docs: batch, id: Long.fromNumber(id) };
  }

  /** Next batch for `getMore`; unknown ids fail with CursorNotFound (43). */
  more(rawId: unknown, ns: string, batchSize: number): Batch {
    const id = cursorKey(rawId);
    const cursor = id === undefined ? undefined : this.cursors.get(id);
    if (id === undefined || cursor === undefined) fail('CursorNotFound', `cursor id ${String(rawId)} not found`);
    if (cursor.ns !== ns) {
      fail('Unauthorized', `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`);
    }
    cursor.lastUsed = Date.now();
    const docs = takeBatch(cursor, batchSize);
    if (cursor.pos >= cursor.docs.length) {
      this.cursors.delete(id);
      return { docs, id: Long.ZERO };
    }
    return { docs, id: Long.fromNumber(id) };
  }

  /** Kills cursors; returns the ids that existed and those that did not. */
  kill(rawIds: readonly unknown[]): { killed: unknown[]; notFound: unknown[] } {
    const killed: unknown[] = [];
    const notFound: unknown[] = [];
    for (const raw of rawIds) {
      const id = cursorKey(raw);
      if (id !== undefined && this.cursors.delete(id)) killed.push(Long.fromNumber(id));
      else notFound.push(raw);
    }
    return { killed, notFound };
  }

  close(): void {
    clearInterval(this.timer);
    this.cursors.clear();
  }
}

/** Up to `max` documents (0 = no count limit), stopping before the batch would exceed 16 MiB. */
function takeBatch(cursor: OpenCursor, max: number): Doc[] {
  const out: Doc[] = [];
  let bytes = 0;
  const limit = max > 0 ? max : Number.POSITIVE_INFINITY;
  while (cursor.pos < cursor.docs.length && out.length < limit) {
    const stored = cursor.docs[cursor.pos] as Doc;
    const doc = cursor.project ? cursor.project(stored) : stored;
    const size = calculateObjectSize(doc);
    if (out.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
    bytes += size;
    out.push(doc);
    cursor.pos++;
  }
  return out;
}
