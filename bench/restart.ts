import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { COLLECTIONS } from '../src/adapters/mongodb/collections.ts';
import type { Store } from '../src/ports/store.port.ts';
import type { MediaJobs } from '../src/runtime/media-jobs/media-jobs.ts';
import { line, runtimeOn, sleep, startBot } from './support.ts';

const BOTS = 1000;
const JOBS = 100_000;
const CONVERSATIONS_PER_BOT = 5;

/**
 * DESIGN §10: a restart with 100,000 open jobs over 1,000 running bots has every bot restored and
 * jobs claimable within 5 s. The first process is killed (halted) with everything in flight; the
 * second is timed from its creation to the first claim, and to every bot connected again.
 */
export async function restart(store: Store, db: Db): Promise<void> {
  const first = await runtimeOn(store, { worker: { pollMs: 600_000, concurrency: 1 } });
  for (let b = 0; b < BOTS; b++) await startBot(first, `restart-${b}`);
  // A few conversations per bot, so queues are resident too, as they would be after a busy hour.
  for (let b = 0; b < BOTS; b++) {
    for (let c = 0; c < CONVERSATIONS_PER_BOT; c++) await first.provider.text(`restart-${b}`, `4917${c}`, 'hello');
  }
  await first.runtime.conversations.flush();
  first.runtime.halt();
  await seedJobs(first.runtime.mediaJobs, db);

  let firstClaim = 0;
  let claims = 0;
  const t0 = performance.now();
  // Claimed jobs hang until the stage fails them: a job still running keeps its lease heartbeat,
  // and with it the process, alive.
  const held = new Set<(err: Error) => void>();
  const second = await runtimeOn(store, {
    worker: { pollMs: 1000, leaseMs: 60_000, concurrency: 8 },
    processor: () => new Promise((_resolve, reject) => void held.add(reject)),
    hooks: { onClaim: () => void ((firstClaim ||= performance.now()), (claims += 1)) },
  });
  const started = performance.now() - t0;
  while (firstClaim === 0) await sleep(1);
  const connected = () => [...Array(BOTS).keys()].filter((b) => second.runtime.bots.state(`restart-${b}`) === 'connected').length;
  while (connected() < BOTS && performance.now() - t0 < 60_000) await sleep(5);
  const allUp = performance.now() - t0;
  line(`restart, ${BOTS} bots + ${JOBS.toLocaleString('en')} open jobs: runtime restored`, `${started.toFixed(0)} ms`);
  line('  first job claimed after restart (target < 5 s)', `${(firstClaim - t0).toFixed(0)} ms`, firstClaim - t0 < 5000);
  line('  every bot connected again', `${allUp.toFixed(0)} ms (${connected()} / ${BOTS})`, connected() === BOTS ? allUp < 5000 : false);
  line('  conversations restored / stored', `${second.runtime.conversations.actors().length} / ${BOTS * CONVERSATIONS_PER_BOT}`);
  second.runtime.halt();
  // A claim under way while halting still starts its job, so fail jobs until none is processing;
  // their failures are written before the database is dropped.
  const jobsColl = db.collection(COLLECTIONS.mediaJobs);
  for (let waited = 0; waited < 5000; waited += 20) {
    held.forEach((reject) => reject(new Error('halted')));
    held.clear();
    if ((await jobsColl.countDocuments({ state: 'processing' })) === 0) break;
    await sleep(20);
  }
}

/**
 * One job per bot is created through the runtime; the rest are copies of those documents under
 * new ids (the claim reads only the row's fields), so seeding takes seconds rather than minutes.
 */
async function seedJobs(jobs: MediaJobs, db: Db): Promise<void> {
  for (let b = 0; b < BOTS; b++) {
    await jobs.create({ jobId: randomUUID(), botId: `restart-${b}`, correspondentId: '49170', messageId: 1, kind: 'voice', caption: null, fileName: null }, { mimetype: 'audio/ogg' }, { status: 'failed', reason: 'seeded without media' });
  }
  const coll = db.collection<{ _id: string; snapshot: { context: { jobId: string } } }>(COLLECTIONS.mediaJobs);
  const templates = await coll.find({}).toArray();
  const copies = JOBS / BOTS - 1;
  for (let k = 0; k < copies; k++) {
    const batch = templates.map((doc) => {
      const id = randomUUID();
      return { ...doc, _id: id, snapshot: { ...doc.snapshot, context: { ...doc.snapshot.context, jobId: id } } };
    });
    await coll.insertMany(batch, { ordered: false });
  }
}
