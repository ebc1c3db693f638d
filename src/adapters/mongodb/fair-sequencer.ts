import type { Collection, Db } from 'mongodb';
import { COLLECTIONS } from './collections.ts';
import { guard } from './mongo-errors.ts';

interface CounterDoc {
  _id: string;
  seq: number;
}

/**
 * Start-time fair queuing for one work queue. A new item's tag is one past its bot's previous tag,
 * but never below the tag of the item claimed last; claiming in tag order then interleaves bots,
 * so a bot that queued 1,000 items delays a newcomer by at most one item per busy bot. `scope`
 * keeps the tags of different queues apart (media jobs keep the unscoped tags they always had).
 */
export function createFairSequencer(db: Db, collection: string = COLLECTIONS.mediaJobs, scope = '') {
  const counters: Collection<CounterDoc> = db.collection<CounterDoc>(COLLECTIONS.counters);
  const jobs = db.collection<{ state: string; fairSeq: number }>(collection);
  const key = (botId: string) => `fair:${scope}${botId}`;
  let floor = 0;
  let floorLoaded: Promise<void> | undefined;
  // After a restart the last claimed tag is unknown; the oldest waiting job's tag stands in for it.
  const loadFloor = async (): Promise<void> => {
    const oldest = await guard('counters.loadFloor', () =>
      jobs.find({ state: 'pending' }, { projection: { fairSeq: 1 } }).sort({ state: 1, fairSeq: 1 }).limit(1).next(),
    );
    if (oldest !== null) floor = Math.max(floor, oldest.fairSeq - 1);
  };
  return {
    async next(botId: string): Promise<number> {
      floorLoaded ??= loadFloor();
      await floorLoaded;
      // One atomic write: seq = max(seq, floor) + 1, the bot's counter created at floor + 1. An update
      // pipeline, as `$max` and `$inc` on one field cannot share an update; `$ifNull` for a new
      // counter, whose missing `seq` not every engine leaves out of `$max`.
      const next = [{ $set: { seq: { $add: [{ $max: [{ $ifNull: ['$seq', floor] }, floor] }, 1] } } }];
      const doc = await guard('counters.next', () => counters.findOneAndUpdate({ _id: key(botId) }, next, { upsert: true, returnDocument: 'after' }));
      return doc?.seq ?? floor + 1;
    },
    // A claim restricted to some bots (those connected here) counts as well: they are the bots this
    // process queues work for, so their progress is the floor its new items should start from.
    observeClaimed(seq: number): void {
      if (seq > floor) floor = seq;
    },
    /** Drops a deleted bot's tag, so a bot created again under its id starts level with the others. */
    async forget(botId: string): Promise<void> {
      await guard('counters.forget', () => counters.deleteOne({ _id: key(botId) }));
    },
  };
}
