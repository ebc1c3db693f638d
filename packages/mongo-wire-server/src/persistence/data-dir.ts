import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Doc } from '../bson-values.ts';
import type { WireLogger } from '../commands/context.ts';
import type { Store } from '../store.ts';
import { applyChange } from './changes.ts';
import { JournalFile, readJournal } from './journal-file.ts';
import { JournaledStore } from './journaled-store.ts';
import { acquireLock } from './lock-file.ts';
import { readSnapshot, writeSnapshot } from './snapshot-file.ts';

/** Journal size that triggers a snapshot, unless the last snapshot is larger still. */
export const DEFAULT_JOURNAL_MAX_BYTES = 64 * 1024 * 1024;

export interface DataDirOptions {
  readonly dataDir: string;
  /** Journal size after which a snapshot is written and the journal emptied. */
  readonly journalMaxBytes?: number;
  readonly logger?: WireLogger;
}

/** A store kept in a data directory, and the means to put it away. */
export interface PersistentStore {
  readonly store: Store;
  /** Where the data lives and what survives which kind of stop, in one sentence. */
  readonly description: string;
  /** Writes a snapshot, empties the journal and releases the directory. */
  close(): void;
  /** Releases the directory without a snapshot; the journal already holds every change. */
  abandon(): void;
}

function replay(store: Store, changes: readonly Doc[], source: string): void {
  changes.forEach((change, i) => {
    try {
      applyChange(store, change);
    } catch (err) {
      throw new Error(`cannot replay ${source} record ${i + 1} (${String(change.op)}): ${(err as Error).message}`, { cause: err });
    }
  });
}

/**
 * Opens `dataDir`: takes its lock, loads the snapshot, replays the journal written since, and
 * returns a store that journals every change before its reply is sent.
 */
export function openDataDir(opts: DataDirOptions): PersistentStore {
  const dir = path.resolve(opts.dataDir);
  mkdirSync(dir, { recursive: true });
  const release = acquireLock(dir);
  try {
    return load(dir, opts, release);
  } catch (err) {
    release();
    throw err;
  }
}

function load(dir: string, opts: DataDirOptions, release: () => void): PersistentStore {
  const snapshotPath = path.join(dir, 'snapshot');
  const journalPath = path.join(dir, 'journal');
  const limit = opts.journalMaxBytes ?? DEFAULT_JOURNAL_MAX_BYTES;
  // A snapshot that was never renamed into place is incomplete by definition.
  rmSync(`${snapshotPath}.tmp`, { force: true });

  const store = new JournaledStore();
  const snapshot = readSnapshot(snapshotPath);
  let generation = snapshot?.generation ?? 0;
  if (snapshot) replay(store, snapshot.changes, 'snapshot');

  const found = readJournal(journalPath);
  if (found.generation !== undefined && found.generation > generation) {
    throw new Error(`journal ${journalPath} continues snapshot ${found.generation}, but the snapshot on disk is ${generation}: the snapshot is missing or was replaced`);
  }
  // An older journal was folded into the snapshot already: compaction stopped before emptying it.
  const current = found.generation === generation;
  if (current) replay(store, found.changes, 'journal');
  if (current && found.ignoredBytes > 0) {
    opts.logger?.warn({ journal: journalPath, ignoredBytes: found.ignoredBytes }, 'journal ends in an incomplete record (a write cut short when the process died, never acknowledged); ignored');
  }
  const journal = JournalFile.open(journalPath, generation, current ? found.validLength : 0);
  opts.logger?.debug({ dataDir: dir, generation, snapshotChanges: snapshot?.changes.length ?? 0, journalChanges: current ? found.changes.length : 0 }, 'data directory loaded');

  let snapshotBytes = snapshot?.bytes ?? 0;
  let compactAt = Math.max(limit, snapshotBytes);
  const compact = (): void => {
    snapshotBytes = writeSnapshot(snapshotPath, generation + 1, store);
    generation++;
    journal.reset(generation);
  };

  store.attach({
    append: (record) => journal.append(record),
    commit() {
      journal.flush();
      // Compacting once the journal outgrows the snapshot keeps the cost of snapshots proportional to the writes.
      if (journal.size <= compactAt) return;
      try {
        compact();
        compactAt = Math.max(limit, snapshotBytes);
      } catch (err) {
        // The journal still holds everything; try again after as many bytes once more.
        compactAt = journal.size + Math.max(limit, snapshotBytes);
        opts.logger?.warn({ dataDir: dir, err: (err as Error).message }, 'snapshot failed; the journal keeps growing');
      }
    },
  });

  let closed = false;
  return {
    store,
    description:
      `in ${dir} (journal and snapshot): a clean stop keeps everything, a kill -9 of the process loses no acknowledged write, ` +
      'a machine crash or power loss can lose the most recent writes (those the OS had not yet flushed to disk)',
    close() {
      if (closed) return;
      closed = true;
      try {
        try {
          // Written first so that a failing snapshot still leaves every change on disk.
          journal.flush();
        } catch {
          // An unwritable journal must not stop the snapshot, which holds these changes too.
        }
        compact();
      } finally {
        journal.close();
        release();
      }
    },
    abandon() {
      if (closed) return;
      closed = true;
      journal.close();
      release();
    },
  };
}
