import { resolveReplySettings } from '../../src/domain/reply-settings.ts';
import type { ReplySettings } from '../../src/domain/reply-settings.ts';
import { TransientReplyError } from '../../src/ports/reply-generator.port.ts';
import type { ReplyGenerator, ReplyRequest } from '../../src/ports/reply-generator.port.ts';
import type { Store } from '../../src/ports/store.port.ts';
import type { HistoryRecord } from '../../src/ports/history-store.port.ts';
import type { ReplySetup } from '../../src/runtime/parley-runtime.ts';
import { replyActorId } from '../../src/runtime/replies/replies.ts';
import { ProcessDied } from './crashing-store.ts';
import { interceptStore } from './store-proxy.ts';
import type { StoreCall } from './store-proxy.ts';

/** AI on, a short debounce, no typing indication: a reply goes out some 30 ms after its burst. */
export const FAST_REPLIES: ReplySettings = resolveReplySettings({ enabled: true, debounceMs: 30, maxWaitMs: 500, typingMaxMs: 0 }, 'model');

/** Retries of a failed model call come after 20 ms, not seconds. */
export const FAST_RETRY = { baseMs: 20, maxMs: 40, jitter: 0 } as const;

/** What the model answers: `reply to: <the last user turn>`. */
export const answerTo = (request: ReplyRequest): string => `reply to: ${[...request.turns].reverse().find((t) => t.role === 'user')?.content ?? ''}`;

/** One call the scripted model received, and how it ended. */
export interface ModelCall {
  readonly lastUser: string;
  readonly userTurns: readonly string[];
  outcome: 'pending' | 'answered' | 'transient' | 'aborted';
}

/**
 * A scripted model: answers `reply to: <last user turn>`, records every call, and on request
 * fails the next calls with `TransientReplyError` or holds them until released (a call in flight
 * while the process dies). A held call ends when its signal aborts, as the SDK's does.
 */
export function scriptedModel() {
  const calls: ModelCall[] = [];
  let failures = 0;
  let holding = false;
  const held: Array<() => void> = [];
  const arrivals: Array<() => void> = [];
  const generator: ReplyGenerator = async (request, signal) => {
    const userTurns = request.turns.filter((t) => t.role === 'user').map((t) => t.content);
    const call: ModelCall = { lastUser: userTurns.at(-1) ?? '', userTurns, outcome: 'pending' };
    calls.push(call);
    arrivals.splice(0).forEach((f) => f());
    if (failures > 0) {
      failures -= 1;
      call.outcome = 'transient';
      throw new TransientReplyError('the model is overloaded (scripted)');
    }
    if (holding) {
      await new Promise<void>((resolve, reject) => {
        held.push(resolve);
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }).catch((err: unknown) => {
        call.outcome = 'aborted';
        throw err;
      });
    }
    call.outcome = 'answered';
    return answerTo(request);
  };
  return {
    generator,
    calls,
    /** The next `n` calls fail as a transient error would. */
    failNext(n = 1) {
      failures += n;
    },
    /** Calls from now on wait until `release` (or their abort). */
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      held.splice(0).forEach((f) => f());
    },
    /** Resolves once `n` calls arrived in all. */
    async arrived(n: number): Promise<void> {
      while (calls.length < n) await new Promise<void>((r) => arrivals.push(r));
    },
  };
}

/** The runtime's `replies` dependency with `settings` for every bot. */
export function replySetup(generator: ReplyGenerator, settings: ReplySettings = FAST_REPLIES): ReplySetup {
  return { generator, settingsFor: () => settings, retry: FAST_RETRY };
}

/** The reply actor's stored context and state, `null` when it has none. */
export async function storedReply(store: Store, botId: string, correspondentId: string) {
  const record = await store.actors.get(replyActorId(botId, correspondentId));
  if (record === null) return null;
  const snapshot = record.snapshot as { value: unknown; context: { claimed: number; sent: number; failed: number; dropped: number; answeredThrough: number; reply: { id: string; attempt: number } | null } };
  return { state: record.state, value: snapshot.value, context: snapshot.context, effects: record.effects.length };
}

/** The conversation's outbound history rows. */
export async function outboundRows(store: Store, botId: string, correspondentId: string): Promise<HistoryRecord[]> {
  return (await store.history.list(botId, correspondentId)).filter((r) => r.direction === 'outbound');
}

const WRITE_OPS: Readonly<Record<string, readonly string[]>> = {
  actors: ['insert', 'compareAndSet', 'markResident', 'fenceBot', 'delete', 'deleteByBot'],
  history: ['append', 'finalize', 'reopen', 'settleOutbound', 'deleteByBot'],
  outbox: ['insert', 'claim', 'compareAndSet', 'acknowledgeEffects', 'delete', 'deleteByBot'],
  mediaJobs: ['insert', 'claim', 'compareAndSet', 'acknowledgeEffects', 'delete', 'deleteByBot'],
  webhookDeliveries: ['insert', 'claim', 'compareAndSet', 'acknowledgeEffects', 'delete', 'deleteByBot'],
  bots: ['create', 'update', 'delete'],
  authState: ['set', 'clear'],
  webhookSubscriptions: ['create', 'delete'],
  ownership: ['acquire', 'renew', 'release', 'delete'],
  instances: ['heartbeat', 'leave'],
  simulator: ['sessionStarted', 'sessionConnected', 'sessionEnded', 'recordOutbound', 'forget'],
};

/**
 * A write named by what it writes: `actors.compareAndSet[reply]` (the reply actor's),
 * `[queue]` (the conversation's), `[bot]`; `history.append[inbound]` or `[outbound]`; other
 * writes by their repository call (`outbox.insert`, `history.settleOutbound`).
 */
export function writeKey(label: string, args: readonly unknown[]): string | null {
  const [repo = '', op = ''] = label.split('.');
  if (WRITE_OPS[repo]?.includes(op) !== true) return null;
  if (repo === 'actors' && op !== 'deleteByBot') {
    const first = args[0];
    const id = typeof first === 'string' ? first : typeof first === 'object' && first !== null && 'id' in first ? String(first.id) : '';
    return `${label}[${id.startsWith('reply|') ? 'reply' : id.includes('|') ? 'queue' : 'bot'}]`;
  }
  if (label === 'history.append') {
    const [record] = (args[0] ?? []) as readonly { direction?: string }[];
    return `${label}[${record?.direction ?? 'unknown'}]`;
  }
  return label;
}

/** One write of a path: the `occurrence`-th write under `key` counted from a chosen moment. */
export interface WritePoint {
  readonly key: string;
  readonly occurrence: number;
}

export const describePoint = (p: WritePoint): string => `${p.key} #${p.occurrence}`;

/**
 * Like `crashingStore`, with the writes told apart by what they write (see `writeKey`), so a test
 * can aim at the reply actor's third write however the conversation's and the bot's own writes
 * interleave with it, and with `history.settleOutbound` counted as the write it is. The process
 * "dies" right before (or right after) the chosen write: that write and every later call fail.
 */
export function crashingPathStore(store: Store) {
  const seen = new Map<string, number>();
  const trace: string[] = [];
  let dead = false;
  let before: { key: string; at: number } | null = null;
  let after: { key: string; at: number } | null = null;
  const intercept: StoreCall = async (label, args, call) => {
    if (dead) throw new ProcessDied(label);
    const key = writeKey(label, args);
    if (key === null) return call();
    const occurrence = (seen.get(key) ?? 0) + 1;
    seen.set(key, occurrence);
    if (before?.key === key && occurrence >= before.at) {
      dead = true;
      trace.push(`died before ${key}`);
      throw new ProcessDied(key);
    }
    trace.push(key);
    if (after?.key === key && occurrence >= after.at) {
      await call();
      dead = true;
      trace.push(`died after ${key}`);
      throw new ProcessDied(`the answer to ${key}`);
    }
    return call();
  };
  return {
    store: interceptStore(store, intercept, () => (dead ? Promise.reject(new ProcessDied('ping')) : store.ping())),
    /** Every write so far, by key, in the order they were made. */
    trace,
    /** The process dies right before the `occurrence`-th write under `key` from now. */
    armBefore(point: WritePoint) {
      before = { key: point.key, at: (seen.get(point.key) ?? 0) + point.occurrence };
    },
    /** The process dies right after the `occurrence`-th write under `key` from now: it landed, its caller never learns so. */
    armAfter(point: WritePoint) {
      after = { key: point.key, at: (seen.get(point.key) ?? 0) + point.occurrence };
    },
    isDead: () => dead,
  };
}

/** Numbers each write of a trace by its key: the points a crash or fault can be aimed at. */
export function pointsOf(trace: readonly string[]): WritePoint[] {
  const counts = new Map<string, number>();
  return trace.map((key) => {
    const occurrence = (counts.get(key) ?? 0) + 1;
    counts.set(key, occurrence);
    return { key, occurrence };
  });
}
