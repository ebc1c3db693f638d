import { BSON, type Db } from 'mongodb';
import { COLLECTIONS } from '../src/adapters/mongodb/collections.ts';
import type { Store } from '../src/ports/store.port.ts';
import { queueActorId } from '../src/runtime/conversations/conversations.ts';
import { createHistoryWriter } from '../src/runtime/conversations/history-writer.ts';
import { line, median, rate, runtimeOn, startBot } from './support.ts';

const CONVERSATIONS = 20;
const PER_CONVERSATION = 100;
const WARM_UP_ROUNDS = 2;
const ROUNDS = 5;

/**
 * DESIGN §10: inbound text through provider → queue actor → history against raw insertOne of
 * history-like documents, 20 concurrent writers each, on the same store; and, as the ceiling the
 * pipeline works under, its history writes alone. Raw and pipeline rounds
 * alternate after warm-up pairs, so both run equally warm and a noisy round moves the median,
 * not the verdict. Every pipeline round talks to fresh correspondents: each queue grows from empty
 * to 100 messages, as in a single cold run.
 */
export async function inboundRatio(store: Store, db: Db, where = 'store as selected'): Promise<void> {
  const n = CONVERSATIONS * PER_CONVERSATION;
  const raw = db.collection<{ _id: string } & Record<string, unknown>>('raw_history');
  // What each write hands the store is sized after each round, so sizing costs nothing while timed:
  // the snapshot, and apart from it the durable effects stored with it until acknowledged.
  const written: { snapshot: unknown; effects: readonly unknown[] }[] = [];
  const recording: Store = {
    ...store,
    actors: {
      ...store.actors,
      compareAndSet: (id, version, next) => {
        written.push({ snapshot: next.snapshot, effects: next.effects ?? [] });
        return store.actors.compareAndSet(id, version, next);
      },
    },
  };
  const r = await runtimeOn(recording);
  await startBot(r, 'inbound');
  const correspondent = (round: number, c: number) => `4915${String(round).padStart(2, '0')}${String(c).padStart(3, '0')}`;

  const rawRound = (round: number) =>
    rate(n, () => Promise.all(Array.from({ length: CONVERSATIONS }, async (_, c) => {
      for (let i = 0; i < PER_CONVERSATION; i++) {
        await raw.insertOne({ _id: `${round}|${c}|${i}`, botId: 'raw', correspondentId: `c${c}`, seq: i, content: `message ${i}`, acceptedAt: new Date() });
      }
    })));

  // The ceiling the pipeline works under: its history writes alone, group-committed the same way,
  // into the real collection and its indexes, with no queue decision and no snapshot write.
  const historyAlone = createHistoryWriter({ history: store.history });
  const historyRound = (round: number) =>
    rate(n, () => Promise.all(Array.from({ length: CONVERSATIONS }, async (_, c) => {
      for (let i = 0; i < PER_CONVERSATION; i++) {
        await historyAlone.write({
          botId: 'history-alone', correspondentId: correspondent(round, c), seq: i + 1, providerMessageId: `h-${round}-${c}-${i}`, direction: 'inbound',
          source: 'user', sender: correspondent(round, c), kind: 'text', content: `message ${i}`, status: 'final', mediaJobId: null, acceptedAt: new Date(), finalizedAt: null,
        });
      }
    })));

  const pipeRound = async (round: number) => {
    const writes = r.runtime.stats.writes;
    written.length = 0;
    const perSecond = await rate(n, () => Promise.all(Array.from({ length: CONVERSATIONS }, async (_, c) => {
      for (let i = 0; i < PER_CONVERSATION; i++) await r.provider.text('inbound', correspondent(round, c), `message ${i}`);
    })));
    // Snapshot writes still coalescing belong to this round, not to the raw round after it.
    await r.runtime.conversations.flush();
    const bytes = written.reduce<number>((sum, w) => sum + BSON.calculateObjectSize(w.snapshot as object), 0);
    const effectBytes = written.reduce<number>((sum, w) => sum + (w.effects.length === 0 ? 0 : BSON.calculateObjectSize({ effects: w.effects })), 0);
    return { perSecond, writesPerMessage: (r.runtime.stats.writes - writes) / n, bytesPerMessage: bytes / n, effectBytesPerMessage: effectBytes / n };
  };

  console.log(`inbound text rounds on the ${where} (${CONVERSATIONS} conversations x ${PER_CONVERSATION} texts; raw and pipeline alternate):`);
  console.log(`  ${'round'.padEnd(9)}${'raw /s'.padStart(10)}${'history /s'.padStart(12)}${'pipeline /s'.padStart(14)}${'ratio'.padStart(8)}${'snapshot writes/msg'.padStart(22)}${'snapshot bytes/msg'.padStart(21)}${'effect bytes/msg'.padStart(19)}`);
  const rounds: { raw: number; history: number; pipe: number; ratio: number; writes: number; bytes: number; effectBytes: number }[] = [];
  const history = { ...r.runtime.history.stats };
  for (let round = 0; round < WARM_UP_ROUNDS + ROUNDS; round++) {
    const rawRate = await rawRound(round);
    const historyRate = await historyRound(round);
    const pipe = await pipeRound(round);
    const result = { raw: rawRate, history: historyRate, pipe: pipe.perSecond, ratio: pipe.perSecond / rawRate, writes: pipe.writesPerMessage, bytes: pipe.bytesPerMessage, effectBytes: pipe.effectBytesPerMessage };
    const label = round < WARM_UP_ROUNDS ? 'warm-up' : String(round - WARM_UP_ROUNDS + 1);
    console.log(`  ${label.padEnd(9)}${result.raw.toFixed(0).padStart(10)}${result.history.toFixed(0).padStart(12)}${result.pipe.toFixed(0).padStart(14)}${result.ratio.toFixed(2).padStart(8)}${result.writes.toFixed(2).padStart(22)}${result.bytes.toFixed(0).padStart(21)}${result.effectBytes.toFixed(0).padStart(19)}`);
    if (round >= WARM_UP_ROUNDS) rounds.push(result);
  }

  const ratio = median(rounds.map((x) => x.ratio));
  const sample = await db.collection(COLLECTIONS.actors).findOne({ _id: queueActorId('inbound', correspondent(0, 0)) as never });
  const batches = r.runtime.history.stats.batches - history.batches;
  line('raw insertOne into history-like docs (20 writers), median', `${median(rounds.map((x) => x.raw)).toFixed(0)} /s`);
  line('history rows alone, group-committed (20 writers), median', `${median(rounds.map((x) => x.history)).toFixed(0)} /s`);
  line('  its ratio to raw insert rate: the ceiling of the one below', median(rounds.map((x) => x.history / x.raw)).toFixed(2));
  line('inbound text: provider -> queue actor -> history, median', `${median(rounds.map((x) => x.pipe)).toFixed(0)} /s`);
  const bytes = median(rounds.map((x) => x.bytes));
  line(`  ratio to raw insert rate, median of ${ROUNDS} rounds (>= 1.0)`, ratio.toFixed(2), ratio >= 1.0);
  line('  queue snapshot writes per inbound message, median', median(rounds.map((x) => x.writes)).toFixed(2));
  line('  queue snapshot bytes (BSON) per inbound message (< 500)', bytes.toFixed(0), bytes < 500);
  line('  stored effect bytes (BSON) per inbound message, median', median(rounds.map((x) => x.effectBytes)).toFixed(0));
  line('  queue actor document at 100 messages (BSON)', sample === null ? 'n/a' : `${(BSON.calculateObjectSize(sample) / 1024).toFixed(1)} KB`);
  line('  history rows per batch (group commit)', ((r.runtime.history.stats.rows - history.rows) / Math.max(1, batches)).toFixed(1));
  await r.runtime.shutdown();
}
