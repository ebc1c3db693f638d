import { ObjectId } from 'mongodb';
import type { Collection, Db } from 'mongodb';
import type { SimulatorSent, SimulatorSession, SimulatorWorld } from '../../ports/simulator-world.port.ts';
import { COLLECTIONS } from './collections.ts';
import { guard, isDuplicateKey } from './mongo-errors.ts';

// `_id` is an ObjectId made when the record is: it breaks ties between records of the same
// millisecond in the order this process made them (its counter only grows).
type SessionDoc = SimulatorSession & { _id: ObjectId };
type SentDoc = Omit<SimulatorSent, 'sentAt'> & { _id: ObjectId; sentAt: Date; chars: number };

const NEWEST_FIRST = { startedAt: -1, _id: -1 } as const;

const toSession = ({ sessionId, botId, instanceId, startedAt, connectedAt, endedAt, endReason }: SessionDoc): SimulatorSession =>
  ({ sessionId, botId, instanceId, startedAt, connectedAt, endedAt, endReason });
const toSent = ({ botId, to, text, providerMessageId, sentAt }: SentDoc): SimulatorSent => ({ botId, to, text, providerMessageId, sentAt: sentAt.getTime() });

/**
 * The simulator's world in `simulator_sessions` and `simulator_outbound`, so every instance reads
 * the same sessions and sent messages. Each record is one insert; trimming the oldest beyond the
 * caps follows it and only ever removes records beyond the newest ones, so concurrent trims agree.
 */
export function createSimulatorWorldRepository(db: Db): SimulatorWorld {
  const sessions: Collection<SessionDoc> = db.collection<SessionDoc>(COLLECTIONS.simulatorSessions);
  const sent: Collection<SentDoc> = db.collection<SentDoc>(COLLECTIONS.simulatorOutbound);

  /** Inserts once: a duplicate is the same record written by an earlier try whose reply was lost. */
  async function insertOnce<T extends { _id: ObjectId }>(operation: string, collection: Collection<T>, doc: Parameters<Collection<T>['insertOne']>[0]): Promise<void> {
    await guard(operation, async () => {
      try {
        await collection.insertOne(doc);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    });
  }

  return {
    async sessionStarted(start, keep) {
      const doc: SessionDoc = { _id: new ObjectId(), ...start, connectedAt: null, endedAt: null, endReason: null };
      await insertOnce('simulator.sessionStarted', sessions, doc);
      const beyond = await guard('simulator.sessionStarted', () =>
        sessions.find({ botId: start.botId }, { projection: { _id: 1 } }).sort(NEWEST_FIRST).skip(keep).toArray(),
      );
      if (beyond.length > 0) await guard('simulator.sessionStarted', () => sessions.deleteMany({ _id: { $in: beyond.map((d) => d._id) } }));
    },
    async sessionConnected(sessionId, at) {
      await guard('simulator.sessionConnected', () => sessions.updateOne({ sessionId }, { $set: { connectedAt: at } }));
    },
    async sessionEnded(sessionId, at, reason) {
      await guard('simulator.sessionEnded', () => sessions.updateOne({ sessionId, endedAt: null }, { $set: { endedAt: at, endReason: reason } }));
    },
    async sessions(botId) {
      const docs = await guard('simulator.sessions', () => sessions.find({ botId }).sort({ startedAt: 1, _id: 1 }).toArray());
      return docs.map(toSession);
    },
    async recordOutbound(message, caps) {
      const doc: SentDoc = { _id: new ObjectId(), ...message, sentAt: new Date(message.sentAt), chars: message.text.length };
      await insertOnce('simulator.recordOutbound', sent, doc);
      // Sizes only, newest first: the kept ones are the longest run within both caps.
      const sizes = await guard('simulator.recordOutbound', () =>
        sent.find({ botId: message.botId }, { projection: { _id: 1, chars: 1 } }).sort({ sentAt: -1, _id: -1 }).toArray(),
      );
      let chars = 0;
      const cut = sizes.findIndex((row, index) => {
        chars += row.chars;
        return index > 0 && (index >= caps.maxMessages || chars > caps.maxChars);
      });
      if (cut >= 0) await guard('simulator.recordOutbound', () => sent.deleteMany({ _id: { $in: sizes.slice(cut).map((row) => row._id) } }));
    },
    async outbound(botId) {
      const docs = await guard('simulator.outbound', () => sent.find({ botId }).sort({ sentAt: 1, _id: 1 }).toArray());
      return docs.map(toSent);
    },
    async forget(botId) {
      await guard('simulator.forget', () => sessions.deleteMany({ botId }));
      await guard('simulator.forget', () => sent.deleteMany({ botId }));
    },
  };
}
