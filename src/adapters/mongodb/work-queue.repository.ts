import type { Collection, Db, Document, Filter, UpdateFilter } from 'mongodb';
import type { WorkItem, WorkItemFields, WorkQueueStore } from '../../ports/work-queue.port.ts';
import { createFairSequencer } from './fair-sequencer.ts';
import { guard } from './mongo-errors.ts';

/** How one work queue is stored. */
export interface WorkQueueCollection<TState extends string> {
  readonly collection: string;
  /** Prefix of the store-call names errors and metrics report (`mediaJobs.claim`). */
  readonly name: string;
  /** The state a claim moves a pending item to. */
  readonly claimedState: TState;
  /**
   * Whether items come in lines, and the states in which an item no longer holds back the later
   * items of its line. A queue without lines claims in one atomic update.
   */
  readonly lines: { readonly finishedStates: readonly TState[] } | null;
  /** Keeps this queue's fair-queuing tags apart from other queues'. */
  readonly fairScope?: string;
}

// Kind-specific fields vary by queue, so documents are plain documents here and typed at the port.
interface Doc extends Document {
  _id: string;
}

// Candidates a claim looks at before it gives up on lines held back by an earlier item.
const MAX_CLAIM_ROUNDS = 16;

// One bot stays an equality match, which every index on `botId` serves as it always did.
function botFilter(botId: string | undefined, botIds: readonly string[] | undefined): Filter<Doc> {
  if (botIds === undefined) return botId === undefined ? {} : { botId };
  return { botId: { $in: botId === undefined ? [...botIds] : botIds.filter((id) => id === botId) } };
}

/**
 * A work queue in one collection: insert, an atomic claim fair across bots and ordered within a
 * line, compare-and-set transitions decided by the item's machine, effect acknowledgements.
 */
export function createWorkQueueRepository<TData, TState extends string>(db: Db, config: WorkQueueCollection<TState>): WorkQueueStore<TData, TState> {
  type Item = WorkItem<TData, TState>;
  const items: Collection<Doc> = db.collection<Doc>(config.collection);
  const fairness = createFairSequencer(db, config.collection, config.fairScope ?? '');
  const label = (op: string) => `${config.name}.${op}`;

  function toItem({ _id, effects, ...rest }: Doc): Item {
    // The document is what `insert` wrote and the transitions kept up to date: a row of this queue.
    return { id: _id, ...rest, effects: effects ?? [] } as Item;
  }

  const claimUpdate = (owner: string, now: Date, leaseMs: number): UpdateFilter<Doc> => ({
    $set: { state: config.claimedState, statePath: config.claimedState, owner, leaseUntil: new Date(now.getTime() + leaseMs), updatedAt: now },
    $inc: { attempt: 1, version: 1 },
  });

  // The fairest due item is taken, unless an earlier item of its line is unfinished: then that
  // earlier item is the one to take if it is due itself, and otherwise the line is passed over.
  // Claiming by `_id` and `version` keeps it atomic.
  async function claimInLines(due: Filter<Doc>, owner: string, now: Date, leaseMs: number, finished: readonly TState[]): Promise<Doc | null> {
    const heldBack: string[] = [];
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const filter: Filter<Doc> = heldBack.length === 0 ? due : { ...due, line: { $nin: heldBack } };
      let candidate = await guard(label('claim'), () => items.find(filter).sort({ fairSeq: 1, createdAt: 1, _id: 1 }).limit(1).next());
      if (candidate === null) return null;
      if (candidate['line'] !== null && candidate['lineSeq'] !== null) {
        const line: unknown = candidate['line'];
        const head = await guard(label('claim'), () =>
          items.find({ line, state: { $nin: [...finished] } }).sort({ lineSeq: 1 }).limit(1).next(),
        );
        if (head !== null && head._id !== candidate._id) {
          const headDue = await guard(label('claim'), () => items.findOne({ ...due, _id: head._id }, { projection: { _id: 1 } }));
          if (headDue === null) {
            heldBack.push(String(line));
            continue;
          }
          candidate = head;
        }
      }
      const claimed = await guard(label('claim'), () =>
        items.findOneAndUpdate({ _id: candidate._id, version: candidate['version'], state: 'pending' }, claimUpdate(owner, now, leaseMs), { returnDocument: 'after' }),
      );
      if (claimed !== null) return claimed;
    }
    return null;
  }

  return {
    async insert(item, now) {
      const fairSeq = await fairness.next(item.botId);
      const fields: Omit<WorkItemFields, 'id'> = {
        botId: item.botId,
        kind: item.kind,
        line: item.line,
        lineSeq: item.lineSeq,
        state: 'pending',
        statePath: 'pending',
        attempt: 0,
        owner: null,
        leaseUntil: null,
        notBefore: now,
        fairSeq,
        error: null,
        version: 1,
        machineVersion: item.machineVersion,
        snapshot: item.snapshot,
        effects: [],
        createdAt: now,
        updatedAt: now,
      };
      const doc: Doc = { ...item, ...fields, _id: item.id, effects: [] };
      delete doc['id'];
      await guard(label('insert'), () => items.insertOne(doc));
      return toItem(doc);
    },
    async get(id) {
      const doc = await guard(label('get'), () => items.findOne({ _id: id }));
      return doc === null ? null : toItem(doc);
    },
    async claim({ owner, leaseMs, now, kinds, pools, botIds }) {
      if (botIds?.length === 0) return null;
      const due: Filter<Doc> = {
        state: 'pending',
        notBefore: { $lte: now },
        ...(kinds === undefined ? {} : { kind: { $in: [...kinds] } }),
        ...(pools === undefined ? {} : { pool: { $in: [...pools] } }),
        ...(botIds === undefined ? {} : { botId: { $in: [...botIds] } }),
      };
      const order = { fairSeq: 1, createdAt: 1, _id: 1 } as const;
      const doc = config.lines === null
        ? await guard(label('claim'), () => items.findOneAndUpdate(due, claimUpdate(owner, now, leaseMs), { sort: order, returnDocument: 'after' }))
        : await claimInLines(due, owner, now, leaseMs, config.lines.finishedStates);
      if (doc === null) return null;
      fairness.observeClaimed(doc.fairSeq);
      return toItem(doc);
    },
    async compareAndSet(id, expectedVersion, write, now) {
      const { effects = [], acknowledge = [], ...fields } = write;
      const set = { ...fields, notBefore: fields.notBefore ?? new Date(0), updatedAt: now };
      // The driver's update types cannot follow fields the port adds per queue; this is a plain update.
      const update: Document | Document[] = acknowledge.length === 0
        ? {
            $set: set,
            $inc: { version: 1 },
            ...(effects.length === 0 ? {} : { $push: { effects: { $each: [...effects] } } }),
          }
        : // `$pull` and `$push` on one field cannot share an update: a pipeline filters out the
          // acknowledged effects and appends the new ones, every value taken literally.
          [{
            $set: {
              ...Object.fromEntries(Object.entries(set).map(([field, value]) => [field, { $literal: value }])),
              version: { $add: ['$version', 1] },
              effects: {
                $concatArrays: [
                  { $filter: { input: { $ifNull: ['$effects', []] }, cond: { $not: [{ $in: ['$$this.id', { $literal: [...acknowledge] }] }] } } },
                  { $literal: [...effects] },
                ],
              },
            },
          }];
      const doc = await guard(label('compareAndSet'), () => items.findOneAndUpdate({ _id: id, version: expectedVersion }, update, { returnDocument: 'after' }));
      return doc === null ? null : toItem(doc);
    },
    async acknowledgeEffects(id, effectIds) {
      const update: Document = { $pull: { effects: { id: { $in: [...effectIds] } } } };
      await guard(label('acknowledgeEffects'), () => items.updateOne({ _id: id }, update));
    },
    async list({ botId, botIds, states, statePaths, leaseBefore, withEffects, effectTypes, owner, outsidePools, after, limit }) {
      const filter: Filter<Doc> = {
        ...(outsidePools === undefined ? {} : { pool: { $nin: [...outsidePools] } }),
        ...(owner === undefined ? {} : { owner }),
        ...(withEffects === true ? { 'effects.0': { $exists: true } } : {}),
        ...(effectTypes === undefined ? {} : { 'effects.type': { $in: [...effectTypes] } }),
        ...botFilter(botId, botIds),
        ...(states === undefined ? {} : { state: { $in: [...states] } }),
        ...(statePaths === undefined ? {} : { statePath: { $in: [...statePaths] } }),
        ...(leaseBefore === undefined ? {} : { leaseUntil: { $lt: leaseBefore } }),
        ...(after === undefined ? {} : { $or: [{ createdAt: { $gt: after.createdAt } }, { createdAt: after.createdAt, _id: { $gt: after.id } }] }),
      };
      const docs = await guard(label('list'), () => items.find(filter).sort({ createdAt: 1, _id: 1 }).limit(limit ?? 0).toArray());
      return docs.map(toItem);
    },
    async countByState(botId) {
      const match = botId === undefined ? {} : { botId };
      const rows = await guard(label('countByState'), () =>
        items.aggregate<{ _id: TState; n: number }>([{ $match: match }, { $group: { _id: '$state', n: { $sum: 1 } } }]).toArray(),
      );
      return Object.fromEntries(rows.map((r) => [r._id, r.n])) as Partial<Record<TState, number>>;
    },
    async delete(id) {
      const res = await guard(label('delete'), () => items.deleteOne({ _id: id }));
      return res.deletedCount === 1;
    },
    async deleteByBot(botId) {
      const res = await guard(label('deleteByBot'), () => items.deleteMany({ botId }));
      await fairness.forget(botId);
      return res.deletedCount;
    },
  };
}
