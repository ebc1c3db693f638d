import { randomUUID } from 'node:crypto';
import type { MediaOutcome } from '../../src/domain/media-content.ts';
import type { MediaKind } from '../../src/domain/media-kind.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { MediaProcessor, MediaToProcess } from '../../src/ports/media-processor.port.ts';
import type { InboundMessage, ProviderEvent, ProviderFactory, ProviderHandlers } from '../../src/ports/provider.port.ts';
import type { Store } from '../../src/ports/store.port.ts';
import type { DeliveredMessage } from '../../src/runtime/conversations/listener-registry.ts';
import { createParleyRuntime } from '../../src/runtime/parley-runtime.ts';
import type { ParleyRuntime, RuntimeDeps } from '../../src/runtime/parley-runtime.ts';
import { testMedia } from './test-media.ts';

/** A provider test double: connects at once, lets the test push inbound messages, records what bots send. */
export function testProvider() {
  const handlers = new Map<string, ProviderHandlers>();
  const sent: { botId: string; to: string; text: string }[] = [];
  const started = new Map<string, number>();
  const factory: ProviderFactory = (botId, _settings, h) => {
    handlers.set(botId, h);
    return {
      start: async () => {
        started.set(botId, (started.get(botId) ?? 0) + 1);
        setImmediate(() => h.onEvent({ type: 'provider.connected' }));
      },
      stop: async () => {},
      send: async (to, text) => {
        sent.push({ botId, to, text });
        return { providerMessageId: randomUUID() };
      },
    };
  };
  return {
    factory,
    sent,
    /** How often sessions of the bot were started. */
    starts: (botId: string) => started.get(botId) ?? 0,
    emit(botId: string, event: ProviderEvent) {
      handlers.get(botId)?.onEvent(event);
    },
    async text(botId: string, from: string, text: string, providerMessageId: string = randomUUID()) {
      await deliver(botId, { providerMessageId, correspondentId: from, sender: { id: from, displayName: null }, group: null, originatingAt: null, text, media: null });
    },
    /** A text the account owner wrote to `to` from the phone (`fromMe`). */
    async own(botId: string, to: string, text: string, providerMessageId: string = randomUUID()) {
      await deliver(botId, { providerMessageId, correspondentId: to, sender: { id: 'me', displayName: null }, group: null, originatingAt: null, text, media: null, fromMe: true });
    },
    /** A reaction of `from` to an earlier message: recorded, never answered or announced. */
    async reaction(botId: string, from: string, emoji: string, providerMessageId: string = randomUUID()) {
      await deliver(botId, { providerMessageId, correspondentId: from, sender: { id: from, displayName: null }, group: null, originatingAt: null, text: `[Reaction ${emoji}]`, media: null, reaction: true });
    },
    async media(botId: string, from: string, kind: MediaKind, providerMessageId: string = randomUUID(), caption: string | null = null) {
      await deliver(botId, {
        providerMessageId, correspondentId: from, sender: { id: from, displayName: null }, group: null, originatingAt: null, text: null,
        media: { kind, mimetype: 'application/octet-stream', fileName: null, caption, sizeBytes: 3, download: async () => new Uint8Array([1, 2, 3]) },
      });
    },
  };
  async function deliver(botId: string, message: InboundMessage) {
    const h = handlers.get(botId);
    if (h === undefined) throw new Error(`bot ${botId} has no session`);
    await h.onMessage(message);
  }
}

/** A job as the controlled processor received it. */
export interface RunningJob {
  readonly id: string;
  readonly attempt: number;
  readonly kind: string;
  readonly botId: string;
  readonly correspondentId: string;
  readonly messageId: number;
}

/** A processor whose results the test releases one job at a time (one claim of it at a time, when several run). */
export function controlledProcessor() {
  type Waiting = { job: RunningJob; resolve: (o: MediaOutcome) => void; reject: (e: Error) => void };
  const waiting: Waiting[] = [];
  const arrivals: Array<() => void> = [];
  // The claim of `jobId` with that attempt, or its latest one.
  const take = (jobId: string, attempt?: number): Waiting | undefined => {
    const mine = waiting.filter((w) => w.job.id === jobId && (attempt === undefined || w.job.attempt === attempt));
    const found = mine.at(-1);
    if (found !== undefined) waiting.splice(waiting.indexOf(found), 1);
    return found;
  };
  return {
    processor: (media: MediaToProcess) =>
      new Promise<MediaOutcome>((resolve, reject) => {
        const { jobId: id, attempt, kind, botId, correspondentId, messageId } = media;
        waiting.push({ job: { id, attempt, kind, botId, correspondentId, messageId }, resolve, reject });
        arrivals.splice(0).forEach((f) => f());
      }),
    running: () => waiting.map((w) => w.job),
    async next(): Promise<RunningJob> {
      while (waiting.length === 0) await new Promise<void>((r) => arrivals.push(r));
      return waiting[0]!.job;
    },
    complete(jobId: string, text: string, attempt?: number) {
      take(jobId, attempt)?.resolve({ status: 'processed', text });
    },
    /** Ends the job's run with any outcome, e.g. media that could not be read. */
    answer(jobId: string, outcome: MediaOutcome, attempt?: number) {
      take(jobId, attempt)?.resolve(outcome);
    },
    fail(jobId: string, message: string, attempt?: number) {
      take(jobId, attempt)?.reject(new Error(message));
    },
  };
}

export interface Harness {
  runtime: ParleyRuntime;
  provider: ReturnType<typeof testProvider>;
  delivered: DeliveredMessage[];
}

/** What a test may set: runtime deps, or one `processor` in one catch-all pool of `worker.concurrency`. */
export type HarnessOptions = Partial<Omit<RuntimeDeps, 'worker'>> & {
  readonly processor?: MediaProcessor;
  readonly worker?: NonNullable<RuntimeDeps['worker']> & { concurrency?: number };
};

/** A runtime on a real store with the test provider; `processor` defaults to echoing the job kind. */
export async function startRuntime(store: Store, options: HarnessOptions = {}): Promise<Harness> {
  const provider = testProvider();
  const { processor = async (job) => ({ status: 'processed', text: `text of ${job.kind}` }), worker = {}, ...deps } = options;
  const { concurrency = 2, ...workerOptions } = worker;
  const runtime = createParleyRuntime({
    store,
    providers: { test: provider.factory },
    media: testMedia(processor, { concurrency }),
    logger: createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent'),
    worker: { pollMs: 50, leaseMs: 2_000, ...workerOptions },
    historyWindowMs: 1,
    ...deps,
  });
  const delivered: DeliveredMessage[] = [];
  runtime.listeners.add((m) => void delivered.push(m));
  await runtime.start();
  return { runtime, provider, delivered };
}

export async function eventually<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Creates a bot on the test provider and waits until it is connected. */
export async function connectedBot(h: Harness, id = `bot-${randomUUID().slice(0, 6)}`): Promise<string> {
  await h.runtime.bots.create({ id, provider: 'test', settings: {}, desiredState: 'stopped' });
  await h.runtime.bots.start(id);
  await eventually(() => h.runtime.bots.state(id), (s) => s === 'connected');
  return id;
}
