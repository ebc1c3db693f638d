import { measureBullmq } from './bullmq.bench.ts';
import { startRedis } from './redis-server.ts';

// The BullMQ side of the media-job comparison on its own:
//   ./node_modules/.bin/node bench/bullmq-only.ts

async function main(): Promise<void> {
  const t0 = performance.now();
  let redis: Awaited<ReturnType<typeof startRedis>>;
  try {
    redis = await startRedis();
  } catch (err) {
    console.log(`BullMQ comparison skipped: ${(err as Error).message}`);
    return;
  }
  try {
    console.log(`redis-server on 127.0.0.1:${redis.port}`);
    const f = await measureBullmq(redis.port);
    console.log(`BullMQ no-op jobs/s, concurrency 1   ${f.jobsPerSecC1.toFixed(0).padStart(10)}`);
    console.log(`BullMQ no-op jobs/s, concurrency 8   ${f.jobsPerSecC8.toFixed(0).padStart(10)}`);
    console.log(`BullMQ pickup p50 / p99 (ms)         ${`${f.pickupMs.p50.toFixed(2)} / ${f.pickupMs.p99.toFixed(2)}`.padStart(10)}`);
  } catch (err) {
    console.log(`BullMQ comparison skipped: ${(err as Error).message}`);
  } finally {
    await redis.stop();
  }
  console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

await main();
