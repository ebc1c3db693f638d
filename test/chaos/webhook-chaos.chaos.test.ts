import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { startReceiver } from '../support/webhook-receiver.ts';
import type { Received } from '../support/webhook-receiver.ts';
import { startParleyProcess } from './parley-process.ts';
import type { ParleyEnv, ParleyProcess } from './parley-process.ts';
import { between, seeded } from '../support/seeded-random.ts';

/**
 * Event webhooks under SIGKILL: Parley runs as its own process, subscribed over REST to a receiver
 * in this process that verifies every request with the `standardwebhooks` package, while phones
 * send texts and the API queues outgoing ones. The process is killed again and again: while the
 * receiver holds a delivery open, the moment an inbound message is acknowledged, at a random
 * moment of a burst, while deliveries are being retried after 5xx answers, and while it is still
 * starting; each time it is restarted on the same database and DATA_DIR (whose key seals the
 * subscription's secret). With a 2 s lease a delivery a dead process held is attempted again
 * within seconds. In the end every acknowledged message's event reached the receiver signed,
 * every event is one `webhook-id` with one body however often it was sent, and every delivery is
 * `delivered`. An outgoing message may end `failed` rather than `sent` (restarts cost it attempts
 * while its bot reconnects): its event is then `message.failed`, which is subscribed too.
 *
 * CHAOS_SEED picks another run; CHAOS_REPORT=1 prints what the run did.
 */

const SEED = Number(process.env['CHAOS_SEED'] ?? 0x5eed_0b0c);
const BOT = 'hooked';
const PHONES = ['4915550701', '4915550702', '4915550703'] as const;
const LEASE_MS = 2_000;
/** Most texts one phone sends in one round; the round usually ends earlier, with the kill. */
const PER_ROUND = 10;
/** Every this many texts a phone also gets an outgoing message from the API. */
const OUTBOUND_EVERY = 2;
/** How long the last life has to deliver everything: lapsed leases wait for the sweeper and the 5 s poll. */
const DRAIN_MS = 25_000;

/** When a life is killed. */
type Moment = 'holding' | 'acked' | 'random' | 'retrying' | 'starting';
const MOMENTS: readonly Moment[] = ['holding', 'acked', 'random', 'retrying', 'starting', 'acked', 'random', 'holding'];

interface Delivery { id: string; eventId: string; type: string; state: string; attempt: number; error: string | null }
interface HistoryRow { seq: number; direction: string; content: string }
interface OutboxRow { id: string; text: string; state: string; attempt: number; lastError: string | null }
/** The event an outgoing message's outcome is published as. */
const SETTLED: Readonly<Record<string, string>> = { sent: 'message.sent', failed: 'message.failed' };

/** What identifies a message.received event to a receiver: the conversation and the (unique) text. */
const inboundKey = (cid: unknown, text: unknown): string => `${String(cid)}|${String(text)}`;

describe('Parley killed with SIGKILL while event webhooks are being delivered', () => {
  it('delivers every acknowledged message\'s event signed, at least once, under one webhook-id and body, and leaves no delivery stuck', async () => {
    const rng = seeded(SEED);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-webhook-chaos-'));
    const env: ParleyEnv = {
      MONGODB_URI: inject('mongoUri'),
      MONGODB_DB: `parley_webhook_chaos_${randomBytes(4).toString('hex')}`,
      DATA_DIR: dataDir,
      WEBHOOK_LEASE_MS: String(LEASE_MS),
      // A request the receiver was told to hold that no kill ended gives up soon, and is retried.
      WEBHOOK_TIMEOUT_MS: '5000',
      // Six attempts: a lapsed lease costs one, so a delivery answered 5xx twice and then cut off by
      // a kill or two still ends delivered, not dead-lettered.
      WEBHOOK_RETRY_DELAYS_MS: '200,400,800,800,800',
      // An outgoing message whose sender died goes again after a second, and then settles (message.sent or message.failed).
      OUTBOX_LEASE_MS: '1000',
    };
    const receiver = await startReceiver();
    const lives: ParleyProcess[] = [];
    const startMs: number[] = [];
    /** Inbound texts answered 202, by `inboundKey`. */
    const ackedInbound = new Set<string>();
    /** Outgoing messages answered 202: outbox id → text. */
    const ackedOutbound = new Map<string, string>();
    /** webhook-ids of requests the receiver held open when the process was killed. */
    const held: string[] = [];
    const moments: string[] = [];
    let round = 0;
    const t0 = performance.now();

    const start = async (waitForBot = true): Promise<ParleyProcess> => {
      const began = performance.now();
      const p = await startParleyProcess(env);
      lives.push(p);
      if (waitForBot) await p.waitForBot(BOT, 'connected');
      startMs.push(Math.round(performance.now() - began));
      return p;
    };
    const killed = async (p: ParleyProcess): Promise<void> => {
      p.kill();
      expect(await p.exited).toBe('SIGKILL');
    };

    /**
     * One round: every phone sends its texts one after another and gets an outgoing message every
     * few texts, until the process dies or the round is over. `onAck` is told of each inbound
     * acknowledgement as it arrives, so a kill can land right after it.
     */
    const burst = async (p: ParleyProcess, onAck: (acks: number) => void = () => {}): Promise<void> => {
      round += 1;
      let acks = 0;
      await Promise.all(PHONES.map(async (cid) => {
        for (let i = 0; i < PER_ROUND; i++) {
          const text = `round ${round} from ${cid} #${i}`;
          const res = await p.request('POST', `/v1/bots/${BOT}/simulator/inbound`, { from: cid, text }).catch(() => undefined);
          if (res?.status !== 202) return;
          ackedInbound.add(inboundKey(cid, text));
          onAck(++acks);
          if (i % OUTBOUND_EVERY !== OUTBOUND_EVERY - 1) continue;
          const out = `reply ${round} to ${cid} #${i}`;
          const sent = await p.request('POST', `/v1/bots/${BOT}/messages`, { to: cid, text: out }).catch(() => undefined);
          if (sent?.status !== 202) return;
          ackedOutbound.set((await sent.json() as { id: string }).id, out);
        }
      }));
    };
    /** Kills `p` once the receiver got the `n`th request from now on (or after `timeoutMs` in any case). */
    const killAtRequest = async (p: ParleyProcess, n: number, timeoutMs = 3_000): Promise<Received | undefined> => {
      const index = receiver.received.length + n - 1;
      for (const until = Date.now() + timeoutMs; receiver.received.length <= index && Date.now() < until;) await sleep(1);
      p.kill();
      return receiver.received[index];
    };

    let subscription: { id: string; secret: string } | undefined;
    const deliveries = async (p: ParleyProcess): Promise<Delivery[]> => {
      const all: Delivery[] = [];
      for (let after: string | null = ''; after !== null;) {
        const page: { deliveries: Delivery[]; nextCursor: string | null } = await p.json(`/v1/webhooks/${subscription!.id}/deliveries?limit=1000${after === '' ? '' : `&after=${after}`}`);
        all.push(...page.deliveries);
        after = page.nextCursor;
      }
      return all;
    };

    try {
      let p = await start(false);
      const created = await p.request('POST', '/v1/webhooks', { url: receiver.url('/parley'), events: ['message.received', 'message.sent', 'message.failed', 'bot.state'] });
      expect(created.status, await created.clone().text()).toBe(201);
      subscription = await created.json() as { id: string; secret: string };
      expect(subscription.secret).toMatch(/^whsec_/);
      receiver.verifyWith(subscription.secret);
      expect((await p.request('POST', '/v1/bots', { id: BOT, provider: 'simulator' })).status).toBe(201);
      expect((await p.request('POST', `/v1/bots/${BOT}/start`)).status).toBe(202);
      await p.waitForBot(BOT, 'connected');

      for (const moment of MOMENTS) {
        const victim = p;
        if (moment === 'holding') {
          // The next request is held open by the receiver; the process dies waiting for the answer.
          receiver.answer('hang');
          const traffic = burst(victim);
          const hung = await killAtRequest(victim, 1);
          if (hung !== undefined) held.push(hung.id);
          await traffic;
          moments.push(`holding${hung === undefined ? ' (nothing arrived)' : ''}`);
        } else if (moment === 'acked') {
          // Right after an acknowledgement: the message is stored, its notification may not have run.
          const at = between(rng, [2, 12]);
          await burst(victim, (acks) => {
            if (acks === at) victim.kill();
          });
          moments.push(`after ack ${at}`);
        } else if (moment === 'random') {
          const delay = between(rng, [5, 250]);
          const timer = setTimeout(() => victim.kill(), delay);
          await burst(victim);
          clearTimeout(timer);
          moments.push(`after ${delay} ms`);
        } else if (moment === 'retrying') {
          // The receiver fails a few requests: the process dies with retries due and attempts under way.
          receiver.answer({ status: 500 }, { status: 503 });
          const traffic = burst(victim);
          const n = between(rng, [3, 6]);
          await killAtRequest(victim, n);
          await traffic;
          moments.push(`retrying, at request ${n}`);
        } else {
          // Still starting: effects a crash left owed are being run and leases swept.
          await killed(victim);
          const starting = await start(false);
          const delay = between(rng, [0, 400]);
          await sleep(delay);
          starting.kill();
          moments.push(`starting, ${delay} ms after listening`);
          p = starting;
        }
        // A burst that outran its kill (every message acknowledged) still ends with one.
        p.kill();
        expect(await p.exited).toBe('SIGKILL');
        p = await start();
      }

      // The last life delivers everything: lapsed leases are swept back, retries come due.
      const drainStart = performance.now();
      const historyKeys = async (): Promise<Set<string>> => {
        const keys = new Set<string>();
        for (const cid of PHONES) {
          const rows = (await p.json<{ messages: HistoryRow[] }>(`/v1/bots/${BOT}/correspondents/${cid}/history?limit=1000`)).messages;
          for (const row of rows) if (row.direction === 'inbound') keys.add(inboundKey(cid, row.content));
        }
        return keys;
      };
      const receivedOf = (type: string) => receiver.received.filter((r) => r.payload.type === type);
      const inboundReceived = () => new Set(receivedOf('message.received').map((r) => inboundKey(r.payload.data['correspondentId'], r.payload.data['content'])));
      /** Outgoing messages whose outcome arrived, by outbox id: the event types it arrived as. */
      const outboundReceived = () => {
        const types = new Map<string, Set<string>>();
        for (const r of receiver.received.filter((x) => x.payload.type === 'message.sent' || x.payload.type === 'message.failed')) {
          const id = String(r.payload.data['outboxId']);
          types.set(id, (types.get(id) ?? new Set()).add(r.payload.type));
        }
        return types;
      };
      const outbox = async () => (await p.json<{ messages: OutboxRow[] }>(`/v1/bots/${BOT}/outbox?limit=1000`)).messages;
      let rows: Delivery[] = [];
      let stored = new Set<string>();
      let queued: OutboxRow[] = [];
      for (const until = Date.now() + DRAIN_MS; ; await sleep(100)) {
        rows = await deliveries(p);
        stored = await historyKeys();
        queued = await outbox();
        const inbound = inboundReceived();
        const outbound = outboundReceived();
        const done = rows.every((d) => d.state === 'delivered') &&
          [...stored].every((k) => inbound.has(k)) &&
          queued.every((m) => outbound.has(m.id)) &&
          [...ackedOutbound.keys()].every((id) => outbound.has(id)) &&
          new Set(receiver.received.map((r) => r.id)).size === rows.length;
        if (done || Date.now() > until) break;
      }
      const drainMs = Math.round(performance.now() - drainStart);

      // Every request verified with the subscription's secret.
      expect(receiver.received.filter((r) => r.verification !== null).map((r) => [r.id, r.verification])).toEqual([]);
      // No event lost: every acknowledged text and outgoing message, and every inbound row in
      // history (acknowledged or cut off by the kill after it was stored), reached the receiver.
      const inbound = inboundReceived();
      expect([...ackedInbound].filter((k) => !inbound.has(k)), 'acknowledged texts whose message.received never arrived').toEqual([]);
      expect([...stored].filter((k) => !inbound.has(k)), 'stored inbound messages whose message.received never arrived').toEqual([]);
      expect([...inbound].filter((k) => !stored.has(k)), 'message.received of no stored message').toEqual([]);
      const outbound = outboundReceived();
      expect([...ackedOutbound].filter(([id]) => !outbound.has(id)), 'acknowledged outgoing messages whose outcome never arrived').toEqual([]);
      // Every outgoing message settled, and its outcome arrived as the event of that outcome, once.
      expect(queued.filter((m) => SETTLED[m.state] === undefined), 'outgoing messages not settled').toEqual([]);
      expect(queued.filter((m) => [...(outbound.get(m.id) ?? [])].join() !== SETTLED[m.state]).map((m) => [m.id, m.state, [...(outbound.get(m.id) ?? [])]]))
        .toEqual([]);
      expect([...ackedOutbound].filter(([id, text]) => queued.find((m) => m.id === id)?.text !== text), 'acknowledged outgoing messages not in the outbox').toEqual([]);
      expect(ackedInbound.size).toBeGreaterThan(0);
      expect(ackedOutbound.size).toBeGreaterThan(0);

      // None stuck: every delivery ended delivered, and the deliveries are exactly what arrived.
      expect(rows.filter((d) => d.state !== 'delivered')).toEqual([]);
      const byId = new Map(rows.map((d) => [d.id, d]));
      expect(byId.size).toBe(rows.length);
      expect(new Set(rows.map((d) => d.eventId)).size, 'one delivery per event').toBe(rows.length);
      expect([...new Set(receiver.received.map((r) => r.id))].filter((id) => !byId.has(id)), 'requests of no delivery').toEqual([]);
      expect(rows.filter((d) => !receiver.received.some((r) => r.id === d.id)).map((d) => d.eventId), 'deliveries never received').toEqual([]);

      // At least once, under one identity: a webhook-id always carries the same body (and so the
      // same event), and no event reached the receiver under two webhook-ids.
      const bodies = new Map<string, Set<string>>();
      for (const r of receiver.received) bodies.set(r.id, (bodies.get(r.id) ?? new Set()).add(r.body));
      expect([...bodies].filter(([, b]) => b.size !== 1).map(([id, b]) => [id, [...b]]), 'webhook-ids sent with different bodies').toEqual([]);
      for (const r of receiver.received) expect(r.payload.type, r.id).toBe(byId.get(r.id)?.type);
      const idsOf = (type: string, key: (r: Received) => string) => {
        const ids = new Map<string, Set<string>>();
        for (const r of receivedOf(type)) ids.set(key(r), (ids.get(key(r)) ?? new Set()).add(r.id));
        return [...ids].filter(([, set]) => set.size > 1).map(([k, set]) => [k, [...set]]);
      };
      expect(idsOf('message.received', (r) => inboundKey(r.payload.data['correspondentId'], r.payload.data['content'])), 'a message under two webhook-ids').toEqual([]);
      for (const type of ['message.sent', 'message.failed']) {
        expect(idsOf(type, (r) => String(r.payload.data['outboxId'])), `an outgoing message under two webhook-ids (${type})`).toEqual([]);
        for (const r of receivedOf(type)) expect(ackedOutbound.get(String(r.payload.data['outboxId'])) ?? r.payload.data['text']).toBe(r.payload.data['text']);
      }

      // What the receiver held open when its sender died was sent again, same id, same body.
      for (const id of held) expect(receiver.received.filter((r) => r.id === id).length, `held request ${id} sent again`).toBeGreaterThanOrEqual(2);
      expect(held.length).toBeGreaterThanOrEqual(1);

      if (process.env['CHAOS_REPORT'] === '1') {
        const counts = new Map<string, number>();
        for (const r of receiver.received) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
        const again = [...counts.values()].filter((n) => n > 1).length;
        const types = Object.fromEntries(['message.received', 'message.sent', 'message.failed', 'bot.state'].map((t) => [t, rows.filter((d) => d.type === t).length]));
        const failed = queued.filter((m) => m.state === 'failed').map((m) => `${m.attempt} attempts, ${m.lastError ?? ''}`);
        process.stdout.write(
          `[webhook chaos] seed ${SEED}: ${MOMENTS.length} kills (${moments.join('; ')}), ${lives.length} processes, ` +
            `${ackedInbound.size} texts and ${ackedOutbound.size} outgoing messages acknowledged (${failed.length} ended failed${failed.length > 0 ? `: ${failed.join('; ')}` : ''}), ` +
            `${rows.length} deliveries ${JSON.stringify(types)}, ` +
            `${receiver.received.length} requests (${again} webhook-ids more than once, ${held.length} held open at a kill, ` +
            `most attempts of a delivery ${Math.max(...rows.map((d) => d.attempt))}); ` +
            `start-up ${startMs.join('/')} ms, drain ${drainMs} ms, total ${Math.round(performance.now() - t0)} ms\n`,
        );
      }
    } catch (err) {
      const logFile = path.join(tmpdir(), `${env.MONGODB_DB}.log`);
      await writeFile(logFile, lives.map((life, n) => `=== life ${n + 1} ===\n${life.output()}`).join('\n')).catch(() => undefined);
      throw new Error(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n(seed ${SEED}; kills: ${moments.join('; ')}; every Parley process's output: ${logFile})`, { cause: err });
    } finally {
      for (const life of lives) life.kill();
      await Promise.all(lives.map((life) => life.exited));
      await lives.at(-1)?.dropDatabase().catch(() => undefined);
      await receiver.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
