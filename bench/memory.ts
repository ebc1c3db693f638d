import { randomBytes } from 'node:crypto';
import { openMongoStore } from '../src/adapters/mongodb/mongo-store.ts';
import type { Store } from '../src/ports/store.port.ts';
import { gc, line, runtimeOn, sleep, startBot, storeOutsideThisHeap } from './support.ts';
import type { BenchRuntime } from './support.ts';

const IDLE_BOTS = 1000;
const QUEUES = 1000;
const MESSAGES = 100;
const CONCURRENT_CONVERSATIONS = 50;

const kb = (bytes: number) => `${(Math.round(bytes / 102.4) / 10).toFixed(1)} KB`;

/** Heap still reachable once every pending callback has run and several full collections found nothing more to free. */
async function retained(): Promise<{ heap: number; external: number }> {
  for (let i = 0; i < 6; i++) {
    await sleep(20);
    gc!();
  }
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, external: usage.external };
}

/**
 * A flat two-byte string: its heap size is a fixed header plus exactly its UTF-16 bytes, so the
 * text subtracted below is what the heap really holds (ASCII alone would be stored one byte a
 * character). WhatsApp text with any emoji is two-byte too.
 */
const body = (c: number, i: number) => [`message number ${i} in conversation ${c} `, '✓'].join('');

/** Fills `count` conversations of the started bot `mem` with MESSAGES texts each; returns the UTF-16 bytes sent. */
async function fillQueues(r: BenchRuntime, first: number, count: number): Promise<number> {
  let bytes = 0;
  for (let wave = first; wave < first + count; wave += CONCURRENT_CONVERSATIONS) {
    const conversations = Array.from({ length: Math.min(CONCURRENT_CONVERSATIONS, first + count - wave) }, (_, k) => wave + k);
    await Promise.all(conversations.map(async (c) => {
      for (let i = 0; i < MESSAGES; i++) {
        const text = body(c, i);
        bytes += 2 * text.length;
        // Ids off the wire are flat strings; the test provider's default, randomUUID(), is a chain of concatenations.
        await r.provider.text('mem', `4916${String(c).padStart(5, '0')}`, text, randomBytes(16).toString('hex'));
      }
    }));
  }
  await r.runtime.conversations.flush();
  return bytes;
}

export async function memory(inProcessStore: Store, bundled: boolean): Promise<void> {
  if (gc === undefined) return line('memory (run with --expose-gc)', 'skipped');
  const external = bundled ? await storeOutsideThisHeap() : undefined;
  const store = external === undefined ? inProcessStore : await openMongoStore({ uri: external.uri, dbName: 'memory' });
  try {
    await measure(store);
  } finally {
    if (external !== undefined) {
      await store.close();
      external.stop();
    }
  }
}

/**
 * Retained heap per idle bot and per 100-message queue, from many of each so heap noise is small
 * against what is measured. The runtime holds every actor while the heap is read; a warm-up of
 * the same work first lets compiled code, connection pools and buffers reach their steady size.
 */
async function measure(store: Store): Promise<void> {
  const r = await runtimeOn(store);
  await startBot(r, 'mem');
  for (let b = 0; b < 50; b++) await r.runtime.bots.create({ id: `warm-${b}`, provider: 'test', settings: {}, desiredState: 'stopped' });
  await fillQueues(r, 0, 2 * CONCURRENT_CONVERSATIONS);

  let base = await retained();
  for (let b = 0; b < IDLE_BOTS; b++) await r.runtime.bots.create({ id: `idle-${b}`, provider: 'test', settings: {}, desiredState: 'stopped' });
  const bots = await retained();
  const perBot = (bots.heap - base.heap) / IDLE_BOTS;
  line('memory per idle bot, no provider socket (< 200 KB)', kb(perBot), perBot > 0 ? perBot < 200 * 1024 : null);
  line('  idle bots measured', String(IDLE_BOTS));

  base = bots;
  const firstHalf = QUEUES / 2;
  const textFirst = await fillQueues(r, 1000, firstHalf);
  const half = await retained();
  const textSecond = await fillQueues(r, 1000 + firstHalf, QUEUES - firstHalf);
  const full = await retained();

  const queues = r.runtime.conversations.actors().filter((q) => q.botId === 'mem');
  const complete = queues.filter((q) => q.getSnapshot().context.window.messages.length === MESSAGES).length;
  const perQueue = (full.heap - base.heap - textFirst - textSecond) / QUEUES;
  // Both halves should cost the same per queue; if they do not, the figure is not measuring queues.
  const slopes = [(half.heap - base.heap - textFirst) / firstHalf, (full.heap - half.heap - textSecond) / (QUEUES - firstHalf)];
  const consistent = perQueue > 0 && Math.abs(slopes[0]! - slopes[1]!) <= 0.25 * perQueue && complete === QUEUES + 2 * CONCURRENT_CONVERSATIONS;
  line(`memory per ${MESSAGES}-message queue beyond its text (< 50 KB)`, kb(perQueue), consistent ? perQueue < 50 * 1024 : null);
  line(`  first ${firstHalf} / last ${QUEUES - firstHalf} queues measured`, slopes.map(kb).join(' / '));
  line('  text per queue (UTF-16 bytes, subtracted above)', kb((textFirst + textSecond) / QUEUES));
  line('  off-heap (external) per queue, not included', kb((full.external - base.external) / QUEUES));
  line('  queues holding all their messages', `${complete} / ${QUEUES + 2 * CONCURRENT_CONVERSATIONS}`);
  await r.runtime.shutdown();
  await idleConversations(store);
}

const IDLE_CONVERSATIONS = 10_000;

/**
 * Memory returns to where it was once conversations go idle: a runtime that unloads a queue as
 * soon as it is idle takes one message in each of 10,000 conversations, holds them all (the heap
 * they cost while active is the yardstick), then unloads them. Heap noise of a few MB is why the
 * verdict compares with the active cost instead of zero.
 */
async function idleConversations(store: Store): Promise<void> {
  const r = await runtimeOn(store, { queueIdleMs: 1 });
  await startBot(r, 'idle');
  const talk = async (first: number, count: number) => {
    for (let wave = first; wave < first + count; wave += CONCURRENT_CONVERSATIONS) {
      await Promise.all(Array.from({ length: Math.min(CONCURRENT_CONVERSATIONS, first + count - wave) }, (_, k) =>
        r.provider.text('idle', `4918${String(wave + k).padStart(6, '0')}`, body(wave + k, 0), randomBytes(16).toString('hex'))));
    }
    await r.runtime.conversations.flush();
  };
  const unload = async () => {
    await sleep(5);
    await r.runtime.conversations.unloadIdle();
  };
  // A warm-up round reaches steady pools and compiled code before the baseline.
  await talk(0, 2000);
  await unload();
  const base = await retained();
  await talk(2000, IDLE_CONVERSATIONS);
  const active = await retained();
  await unload();
  const idle = await retained();
  const activeEach = (active.heap - base.heap) / IDLE_CONVERSATIONS;
  const idleEach = (idle.heap - base.heap) / IDLE_CONVERSATIONS;
  line(`memory per active 1-message conversation (${IDLE_CONVERSATIONS.toLocaleString('en')} at once)`, kb(activeEach));
  line('  left per conversation once idle (flat: < 10 % of active)', `${idleEach.toFixed(0)} B`, activeEach > 0 ? idleEach < 0.1 * activeEach : null);
  line('  conversations in memory after going idle', String(r.runtime.conversations.actors().length), r.runtime.conversations.actors().length === 0);
  await r.runtime.shutdown();
}
