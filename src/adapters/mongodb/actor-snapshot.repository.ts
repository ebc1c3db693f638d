import type { Collection, Db } from 'mongodb';
import type { ActorKind, ActorRecord, ActorSnapshotStore, ActorWrite, StoredEffect } from '../../ports/actor-snapshot-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { guard } from './mongo-errors.ts';

interface ActorDoc {
  _id: string;
  kind: ActorKind;
  botId: string;
  version: number;
  machineVersion: number;
  state: string;
  snapshot: unknown;
  /** Absent on documents written before effects were stored. */
  effects?: StoredEffect[];
  updatedAt: Date;
  resident?: boolean;
  epoch?: number;
}

function toRecord({ _id, effects, ...rest }: ActorDoc): ActorRecord {
  return { id: _id, ...rest, effects: effects ?? [] };
}

/** Every top-level field, and of the snapshot only the named paths. */
function snapshotProjection(fields: readonly string[]): Record<string, 1> {
  const projection: Record<string, 1> = { kind: 1, botId: 1, version: 1, machineVersion: 1, state: 1, effects: 1, updatedAt: 1, resident: 1, epoch: 1 };
  for (const field of fields) projection[`snapshot.${field}`] = 1;
  return projection;
}

/** Actor snapshots with compare-and-set on `version`. */
export function createActorSnapshotRepository(db: Db, clock: () => Date = () => new Date()): ActorSnapshotStore {
  const actors: Collection<ActorDoc> = db.collection<ActorDoc>(COLLECTIONS.actors);
  return {
    async get(id) {
      const doc = await guard('actors.get', () => actors.findOne({ _id: id }));
      return doc === null ? null : toRecord(doc);
    },
    async insert(record) {
      const doc: ActorDoc = {
        _id: record.id,
        kind: record.kind,
        botId: record.botId,
        version: 1,
        machineVersion: record.machineVersion,
        state: record.state,
        snapshot: record.snapshot,
        effects: [...(record.effects ?? [])],
        updatedAt: clock(),
        ...(record.epoch === undefined ? {} : { epoch: record.epoch }),
      };
      await guard('actors.insert', () => actors.insertOne(doc));
      return toRecord(doc);
    },
    async compareAndSet(id, expectedVersion, next: ActorWrite) {
      // A fenced write matches only while no later owner raised the epoch (a missing one is lower).
      const fence = next.epoch === undefined ? {} : { epoch: { $not: { $gt: next.epoch } } };
      const doc = await guard('actors.compareAndSet', () =>
        actors.findOneAndUpdate(
          { _id: id, version: expectedVersion, ...fence },
          {
            $set: {
              machineVersion: next.machineVersion, state: next.state, snapshot: next.snapshot, effects: [...(next.effects ?? [])], updatedAt: clock(),
              ...(next.epoch === undefined ? {} : { epoch: next.epoch }),
            },
            $inc: { version: 1 },
          },
          // The caller holds the snapshot it wrote; sending a whole window back is most of a write's cost.
          { returnDocument: 'after', projection: { snapshot: 0, effects: 0 } },
        ),
      );
      return doc === null ? null : toRecord({ ...doc, snapshot: next.snapshot, effects: [...(next.effects ?? [])] });
    },
    async list({ kind, botId, states, resident, withEffects }, options = {}) {
      const filter: Record<string, unknown> = { kind };
      if (resident === true) filter['resident'] = true;
      if (withEffects === true) filter['effects.0'] = { $exists: true };
      if (botId !== undefined) filter['botId'] = botId;
      if (states !== undefined) filter['state'] = { $in: [...states] };
      const projection = options.fields === undefined ? undefined : snapshotProjection(options.fields);
      const docs = await guard('actors.list', () => actors.find(filter, projection === undefined ? {} : { projection }).sort({ _id: 1 }).toArray());
      return docs.map(toRecord);
    },
    async pageQueues(botId, { after, limit }, options = {}) {
      const recency = 'snapshot.context.window.lastAcceptedAt';
      const filter: Record<string, unknown> = { kind: 'correspondent-queue', botId };
      if (after !== undefined) {
        // Descending by time puts queues with no time (null or missing) last, each run by id.
        filter['$or'] = after.lastAcceptedAt === null
          ? [{ [recency]: null, _id: { $gt: after.id } }]
          : [{ [recency]: { $lt: after.lastAcceptedAt } }, { [recency]: after.lastAcceptedAt, _id: { $gt: after.id } }, { [recency]: null }];
      }
      const projection = options.fields === undefined ? undefined : snapshotProjection(options.fields);
      const docs = await guard('actors.pageQueues', () =>
        actors.find(filter, projection === undefined ? {} : { projection }).sort({ [recency]: -1, _id: 1 }).limit(limit).toArray(),
      );
      return docs.map(toRecord);
    },
    async markResident(id, resident) {
      await guard('actors.markResident', () => actors.updateOne({ _id: id }, resident ? { $set: { resident: true } } : { $unset: { resident: '' } }));
    },
    async delete(id) {
      const res = await guard('actors.delete', () => actors.deleteOne({ _id: id }));
      return res.deletedCount === 1;
    },
    async fenceBot(botId, epoch) {
      const res = await guard('actors.fenceBot', () => actors.updateMany({ botId, epoch: { $not: { $gte: epoch } } }, { $set: { epoch } }));
      return res.modifiedCount;
    },
    async deleteByBot(botId) {
      const res = await guard('actors.deleteByBot', () => actors.deleteMany({ botId }));
      return res.deletedCount;
    },
  };
}
