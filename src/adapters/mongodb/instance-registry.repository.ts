import type { Collection, Db } from 'mongodb';
import type { InstanceRecord, InstanceRegistry } from '../../ports/ownership-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { guard } from './mongo-errors.ts';

type InstanceDoc = Omit<InstanceRecord, 'id'> & { _id: string; incarnation?: string };

const toRecord = ({ _id, incarnation: _incarnation, ...rest }: InstanceDoc): InstanceRecord => ({ id: _id, ...rest });

/**
 * Instances announce themselves in `instances` with a deadline; one that stops heartbeating
 * simply drops out of `alive`, and a TTL index clears its document later.
 */
export function createInstanceRegistryRepository(db: Db): InstanceRegistry {
  const instances: Collection<InstanceDoc> = db.collection<InstanceDoc>(COLLECTIONS.instances);
  return {
    async heartbeat({ id, url, capacity, startedAt, incarnation }, now, ttlMs) {
      const fields = { url, capacity, startedAt, incarnation, seenAt: now, aliveUntil: new Date(now.getTime() + ttlMs) };
      // An upsert on `_id` alone: MongoDB retries it itself if two heartbeats race on a new instance.
      const before = await guard('instances.heartbeat', () =>
        instances.findOneAndUpdate({ _id: id }, { $set: fields }, { upsert: true, returnDocument: 'before', projection: { incarnation: 1 } }),
      );
      return before?.incarnation ?? null;
    },
    async alive(now) {
      const docs = await guard('instances.alive', () => instances.find({ aliveUntil: { $gt: now } }).sort({ startedAt: 1, _id: 1 }).toArray());
      return docs.map(toRecord);
    },
    async leave(id) {
      await guard('instances.leave', () => instances.deleteOne({ _id: id }));
    },
  };
}
