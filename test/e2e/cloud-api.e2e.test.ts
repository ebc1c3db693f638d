import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCloudApiProvider } from '../../src/adapters/cloud-api/cloud-api.provider.ts';
import { createCloudApiWebhooks } from '../../src/adapters/cloud-api/cloud-api-webhooks.ts';
import { createGraphClient } from '../../src/adapters/cloud-api/graph-client.ts';
import { createSimulatorHub } from '../../src/adapters/simulator/simulator.provider.ts';
import type { CloudApiAccount } from '../../src/domain/cloud-api-account.ts';
import type { ParleyServices } from '../../src/parley-services.ts';
import type { Receipt } from '../../src/ports/history-store.port.ts';
import { readCloudApiAccount } from '../../src/runtime/bots/cloud-api-credentials.ts';
import { signWebhook, startFakeGraph } from '../support/fake-graph-server.ts';
import type { FakeGraph, GraphCall } from '../support/fake-graph-server.ts';
import { sha256, startFakeOpenAi } from '../support/fake-openai-server.ts';
import type { ChatCall, FakeOpenAi } from '../support/fake-openai-server.ts';
import { oggFixture, pngFixture } from '../support/media-fixtures.ts';
import { eventually } from '../support/runtime-harness.ts';
import { interceptStore } from '../support/store-proxy.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { createRealMedia } from './media-setup.ts';
import type { RealMedia } from './media-setup.ts';
import { E2E_API_KEY, e2eLogger, startProviderApp } from '../support/provider-e2e-app.ts';

/**
 * The `cloud-api` provider end to end: Meta's signed webhooks into the REST app, the runtime,
 * the real media pipeline and AI replies as in production, with only Meta's Graph API (a local
 * fake with Meta's bearer check and error bodies) and OpenAI (a local compatible server)
 * standing in. Payloads are shaped as Meta documents them.
 */

interface HistoryRow {
  seq: number;
  providerMessageId: string | null;
  direction: string;
  source: string;
  kind: string;
  content: string;
  status: string;
  senderName?: string | null;
  error?: string | null;
  receipt?: { status: string; at: string; error?: string | null } | null;
}
interface BotJson {
  state: string;
  lastError?: string | null;
  settings: Record<string, unknown>;
}
interface OutboxJson {
  id: string;
  to: string;
  state: string;
  attempt: number;
  lastError: string | null;
}

const PHONE_ID = '106540352242922';
// Distinct, unmistakable values: none may show up in any answer of the API.
const ACCESS_TOKEN = 'EAAGtestAccessToken7c1e0b9d5f2a4e88';
const APP_SECRET = 'appsecret-3f9a1c77d2e04b51';
const VERIFY_TOKEN = 'verify-token-b62d90e4a1f3';
const GRAPH_VERSION = 'v26.0';
const AI = { enabled: true, debounceMs: 300, maxWaitMs: 3_000, mediaWaitMs: 10_000, typingMaxMs: 0, systemPrompt: 'Be brief.' };
const SETTLE_MS = 10_000;

let fakeGraph: FakeGraph;
let openAi: FakeOpenAi;
let voice: Uint8Array;
let image: Uint8Array;
let realMedia: RealMedia;
let t: TestStore;
let services: ParleyServices;
let app: FastifyInstance;
/** Milliseconds every history append waits before it reaches the store (0: none). */
let appendDelayMs = 0;
/** Receipt writes that fail before reaching the store, as a transient store error would. */
let failingReceipts = 0;

beforeAll(async () => {
  [fakeGraph, openAi, voice, image] = await Promise.all([
    startFakeGraph({ accessToken: ACCESS_TOKEN, phoneNumberId: PHONE_ID }),
    startFakeOpenAi(),
    oggFixture(),
    pngFixture(64, 48),
  ]);
  realMedia = await createRealMedia({ openAiUrl: openAi.url });
  t = await openTestStore('parley_e2e_cloud_api');
  // The real store, but history appends can be made slow: an answer given before the write
  // finished would then be seen.
  const store = interceptStore(t.store, async (label, _args, call) => {
    if (label === 'history.append' && appendDelayMs > 0) await sleep(appendDelayMs);
    if (label === 'history.recordReceipt' && failingReceipts > 0) {
      failingReceipts -= 1;
      throw new Error('transient store failure');
    }
    return call();
  });
  const logger = e2eLogger();
  const graph = (account: CloudApiAccount) => createGraphClient(account);
  const simulator = createSimulatorHub();
  ({ services, app } = await startProviderApp({
    store,
    openAiUrl: openAi.url,
    providers: {
      simulator: simulator.factory,
      'cloud-api': createCloudApiProvider({ account: (botId, settings) => readCloudApiAccount(store.authState, botId, settings), graph, logger }),
    },
    simulator,
    cloudApiWebhooks: createCloudApiWebhooks({ history: store.history, graph, maxMediaBytes: 64 * 1024 * 1024 }),
    media: realMedia.media,
  }));
});
afterAll(async () => {
  await app?.close();
  await services?.shutdown(1000);
  await t?.dispose();
  await realMedia?.dispose();
  await openAi?.close();
  await fakeGraph?.close();
});
beforeEach(() => {
  appendDelayMs = 0;
  failingReceipts = 0;
  openAi.reset();
  // Images are described (a chat call with the image); AI replies answer the last user turn.
  openAi.reply('chat', (call) => {
    if (call.route !== 'chat') return '';
    const shown = call.images[0];
    if (shown !== undefined) return `description of ${shown.sha256.slice(0, 8)}`;
    return `reply to: ${[...call.turns].reverse().find((turn) => turn.role === 'user')?.content ?? ''}`;
  });
});

const sha8 = (bytes: Uint8Array): string => sha256(bytes).slice(0, 8);
const base64Sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('base64');
/** Waits past the debounce and a reply's round trip, so a second reply would have shown up. */
const quiet = (ms = 1_200) => sleep(ms);
const chats = (): ChatCall[] => openAi.calls.filter((call): call is ChatCall => call.route === 'chat' && call.images.length === 0);
/** Texts the fake Graph accepted for `waId`. */
const sentTo = (waId: string) => fakeGraph.sent.filter((sent) => sent.to === waId);
/** POSTs that reached the messages endpoint addressed to `waId`, accepted or not. */
const sendCallsTo = (waId: string): GraphCall[] =>
  fakeGraph.calls.filter((call) => call.method === 'POST' && call.path === `/${GRAPH_VERSION}/${PHONE_ID}/messages` && (call.body as { to?: unknown } | null)?.to === waId);

function request(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object): Promise<LightMyRequestResponse> {
  return app.inject({ method, url, headers: { authorization: `Bearer ${E2E_API_KEY}` }, ...(payload === undefined ? {} : { payload }) });
}
const botOf = async (id: string): Promise<BotJson> => (await request('GET', `/v1/bots/${id}`)).json<BotJson>();
const inState = (id: string, state: string, timeoutMs = 5_000): Promise<BotJson> => eventually(() => botOf(id), (bot) => bot.state === state, timeoutMs);
/** The conversation's history through the API; none yet while the bot has no conversation with `waId`. */
async function historyOf(id: string, waId: string): Promise<HistoryRow[]> {
  const res = await request('GET', `/v1/bots/${id}/correspondents/${encodeURIComponent(waId)}/history`);
  if (res.statusCode === 404) return [];
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ messages: HistoryRow[] }>().messages;
}
async function outboxOf(id: string): Promise<OutboxJson[]> {
  const res = await request('GET', `/v1/bots/${id}/outbox`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ messages: OutboxJson[] }>().messages;
}
/**
 * The receipt recorded on the outbound row sent as `wamid`, as the history store holds it; the
 * API's history row must show the same.
 */
async function receiptOf(id: string, waId: string, wamid: string): Promise<Receipt | null> {
  const stored = (await t.store.history.findByProviderMessageId(id, waId, wamid))?.receipt ?? null;
  const shown = (await historyOf(id, waId)).find((row) => row.providerMessageId === wamid)?.receipt ?? null;
  expect(shown).toEqual(stored === null ? null : { status: stored.status, at: stored.at.toISOString(), ...(stored.error == null ? {} : { error: stored.error }) });
  return stored;
}
const errorCode = (res: LightMyRequestResponse): unknown => res.json<{ error?: { code?: unknown } }>().error?.code;

const cloudApi = (overrides: Record<string, unknown> = {}) => ({
  phoneNumberId: PHONE_ID,
  accessToken: ACCESS_TOKEN,
  appSecret: APP_SECRET,
  verifyToken: VERIFY_TOKEN,
  graphBaseUrl: fakeGraph.baseUrl,
  ...overrides,
});
async function createdBot(id: string, extra: Record<string, unknown> = {}, account: Record<string, unknown> = {}): Promise<void> {
  const created = await request('POST', '/v1/bots', { id, provider: 'cloud-api', cloudApi: cloudApi(account), ...extra });
  expect(created.statusCode, created.body).toBe(201);
}
async function start(id: string): Promise<void> {
  const started = await request('POST', `/v1/bots/${id}/start`);
  expect(started.statusCode, started.body).toBe(202);
}
/** A `cloud-api` bot, started and connected (Graph answered for its phone number). */
async function connectedBot(id: string, extra: Record<string, unknown> = {}): Promise<void> {
  await createdBot(id, extra);
  await start(id);
  await inState(id, 'connected');
}

// ---- Meta's payloads ----------------------------------------------------------------------

const nowSeconds = (): string => String(Math.floor(Date.now() / 1000));
let wamids = 0;
const newWamid = (): string => `wamid.HBgLNDkxNTExMTExMTExFQIAEhgg${(wamids += 1).toString().padStart(6, '0')}`;

type MetaMessage = Record<string, unknown>;
const textOf = (from: string, body: string, id = newWamid()): MetaMessage => ({ from, id, timestamp: nowSeconds(), type: 'text', text: { body } });
const imageOf = (from: string, mediaId: string, bytes: Uint8Array, caption: string, id = newWamid()): MetaMessage => ({
  from, id, timestamp: nowSeconds(), type: 'image', image: { caption, mime_type: 'image/png', sha256: base64Sha(bytes), id: mediaId },
});
const documentOf = (from: string, mediaId: string, bytes: Uint8Array, filename: string, mimeType: string, id = newWamid()): MetaMessage => ({
  from, id, timestamp: nowSeconds(), type: 'document', document: { filename, mime_type: mimeType, sha256: base64Sha(bytes), id: mediaId },
});
const voiceOf = (from: string, mediaId: string, bytes: Uint8Array, id = newWamid()): MetaMessage => ({
  from, id, timestamp: nowSeconds(), type: 'audio', audio: { mime_type: 'audio/ogg; codecs=opus', sha256: base64Sha(bytes), id: mediaId, voice: true },
});
const reactionOf = (from: string, to: string, emoji: string, id = newWamid()): MetaMessage => ({
  from, id, timestamp: nowSeconds(), type: 'reaction', reaction: { message_id: to, emoji },
});
const statusOf = (waId: string, wamid: string, status: 'sent' | 'delivered' | 'read' | 'failed', at = Math.floor(Date.now() / 1000), errors?: readonly object[]) => ({
  id: wamid,
  status,
  timestamp: String(at),
  recipient_id: waId,
  ...(status === 'failed' ? {} : {
    conversation: { id: 'CONVERSATION_ID', origin: { type: 'service' } },
    pricing: { billable: true, pricing_model: 'PMP', category: 'service' },
  }),
  ...(errors === undefined ? {} : { errors }),
});

/** A notification as Meta POSTs it: one entry, one `messages` change for the bot's number. */
function notification(value: { contacts?: readonly { name: string; waId: string }[]; messages?: readonly MetaMessage[]; statuses?: readonly object[] }): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_ID },
          ...(value.contacts === undefined ? {} : { contacts: value.contacts.map((c) => ({ profile: { name: c.name }, wa_id: c.waId })) }),
          ...(value.messages === undefined ? {} : { messages: value.messages }),
          ...(value.statuses === undefined ? {} : { statuses: value.statuses }),
        },
      }],
    }],
  });
}

/** POSTs `raw` as Meta does: signed with the app secret unless another signature (or none: null) is given. */
function deliver(id: string, raw: string, signature: string | null = signWebhook(raw, APP_SECRET)): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/webhooks/whatsapp/${id}`,
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'x-hub-signature-256': signature }) },
    payload: raw,
  });
}
async function delivered(id: string, raw: string): Promise<{ messages: number; statuses: number; skipped: number }> {
  const res = await deliver(id, raw);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}
const verify = (id: string, query: Record<string, string>) =>
  app.inject({ method: 'GET', url: `/webhooks/whatsapp/${id}?${new URLSearchParams(query).toString()}` });

describe('Cloud API provider end to end (fake Graph)', () => {
  it('verifies the webhook URL: echoes a digits challenge as text for the bot\'s verify token only', async () => {
    const id = 'ca-verify';
    await createdBot(id);
    const ok = await verify(id, { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1158201444' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
    expect(ok.body).toBe('1158201444');

    const wrong = await verify(id, { 'hub.mode': 'subscribe', 'hub.verify_token': `${VERIFY_TOKEN}x`, 'hub.challenge': '1158201444' });
    expect(wrong.statusCode).toBe(403);
    expect(errorCode(wrong)).toBe('WEBHOOK_VERIFICATION_FAILED');
    expect(wrong.body).not.toContain('1158201444');
    const noToken = await verify(id, { 'hub.mode': 'subscribe', 'hub.challenge': '1158201444' });
    expect(noToken.statusCode).toBe(403);
    expect(errorCode(noToken)).toBe('WEBHOOK_VERIFICATION_FAILED');

    const mode = await verify(id, { 'hub.mode': 'unsubscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1158201444' });
    expect(mode.statusCode).toBe(403);
    expect(errorCode(mode)).toBe('WEBHOOK_VERIFICATION_FAILED');

    const markup = await verify(id, { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '<script>alert(1)</script>' });
    expect(markup.statusCode).toBe(400);
    expect(markup.body).not.toContain('<script>');
    expect(markup.headers['content-type']).toMatch(/^application\/json/);

    const unknown = await verify('ca-nobody', { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1158201444' });
    expect(unknown.statusCode).toBe(404);
    // A bot of another provider has no Meta webhook either.
    expect((await request('POST', '/v1/bots', { id: 'ca-verify-sim', provider: 'simulator' })).statusCode).toBe(201);
    expect((await verify('ca-verify-sim', { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1' })).statusCode).toBe(404);
  });

  it('refuses unsigned, forged, altered and malformed notifications with 401 and stores nothing', async () => {
    const id = 'ca-refuse';
    const wa = '4915100000201';
    await connectedBot(id);
    const raw = notification({ contacts: [{ name: 'Mallory', waId: wa }], messages: [textOf(wa, 'transfer 100 EUR to me')] });

    const refusals: [string, LightMyRequestResponse][] = [
      ['signed with another secret', await deliver(id, raw, signWebhook(raw, 'not-the-app-secret'))],
      ['without a signature', await deliver(id, raw, null)],
      ['altered after signing', await deliver(id, raw.replace('100 EUR', '900 EUR'), signWebhook(raw, APP_SECRET))],
      ['with a short digest', await deliver(id, raw, `sha256=${signWebhook(raw, APP_SECRET).slice('sha256='.length, 'sha256='.length + 40)}`)],
      ['with an empty digest', await deliver(id, raw, 'sha256=')],
      ['with the secret itself', await deliver(id, raw, APP_SECRET)],
    ];
    for (const [what, res] of refusals) {
      expect([what, res.statusCode]).toEqual([what, 401]);
      expect([what, errorCode(res)]).toEqual([what, 'WEBHOOK_SIGNATURE_INVALID']);
    }
    expect(await historyOf(id, wa)).toEqual([]);
    expect(await t.store.history.list(id, wa, { limit: 10 })).toEqual([]);

    const notJson = '{not json';
    const malformed = await deliver(id, notJson);
    expect(malformed.statusCode).toBe(400);
    expect(errorCode(malformed)).toBe('MALFORMED_PAYLOAD');
    const notWhatsApp = await deliver(id, JSON.stringify({ object: 'page', entry: [] }));
    expect(notWhatsApp.statusCode).toBe(400);
    expect(errorCode(notWhatsApp)).toBe('MALFORMED_PAYLOAD');
    expect(await historyOf(id, wa)).toEqual([]);

    // The same notification signed as Meta signs it is taken: the refusals were the signatures'.
    expect(await delivered(id, raw)).toEqual({ messages: 1, statuses: 0, skipped: 0 });
    expect((await historyOf(id, wa)).map((row) => row.content)).toEqual(['transfer 100 EUR to me']);
  });

  it('answers a text notification only once it is in history, and stores a replay of it once', async () => {
    const id = 'ca-text';
    const wa = '4915100000301';
    await connectedBot(id);
    const message = textOf(wa, 'Hello, is the shop open today?');
    const raw = notification({ contacts: [{ name: 'Alice Example', waId: wa }], messages: [message] });
    // Slow writes: an answer sent before the row is durable would come back before it is there.
    appendDelayMs = 300;

    expect(await delivered(id, raw)).toEqual({ messages: 1, statuses: 0, skipped: 0 });
    const rows = await historyOf(id, wa);
    expect(rows.map((row) => [row.direction, row.source, row.kind, row.content, row.status, row.providerMessageId, row.senderName])).toEqual([
      ['inbound', 'user', 'text', 'Hello, is the shop open today?', 'final', message['id'], 'Alice Example'],
    ]);

    // Meta retries a notification whose answer it did not get: the same wamid is stored once.
    const again = await deliver(id, raw);
    expect(again.statusCode, again.body).toBe(200);
    appendDelayMs = 0;
    await sleep(200);
    expect((await historyOf(id, wa)).map((row) => row.providerMessageId)).toEqual([message['id']]);
    // The number with its `+` names the same conversation.
    expect((await historyOf(id, `+${wa}`)).map((row) => row.providerMessageId)).toEqual([message['id']]);
  });

  it('stores a batch in order: text, captioned image, document and reaction, media fetched with the bearer token', async () => {
    const id = 'ca-batch';
    const wa = '4915100000401';
    await connectedBot(id);
    const notes = new TextEncoder().encode('plain words here');
    fakeGraph.addMedia('media-image-401', image, 'image/png');
    fakeGraph.addMedia('media-doc-401', notes, 'text/plain');
    const first = textOf(wa, 'Here is the photo and the list');
    const batch = [
      first,
      imageOf(wa, 'media-image-401', image, 'look at this'),
      documentOf(wa, 'media-doc-401', notes, 'notes.txt', 'text/plain'),
      reactionOf(wa, String(first['id']), '👍'),
    ];
    expect(await delivered(id, notification({ contacts: [{ name: 'Bob', waId: wa }], messages: batch }))).toEqual({ messages: 4, statuses: 0, skipped: 0 });

    const rows = await eventually(() => historyOf(id, wa), (r) => r.length === 4 && r.every((row) => row.status === 'final'), SETTLE_MS);
    expect(rows.map((row) => [row.providerMessageId, row.kind, row.content, row.senderName])).toEqual([
      [batch[0]?.['id'], 'text', 'Here is the photo and the list', 'Bob'],
      [batch[1]?.['id'], 'image', `[Image] description of ${sha8(image)}\nCaption: look at this`, 'Bob'],
      [batch[2]?.['id'], 'document', '[Document: notes.txt] plain words here', 'Bob'],
      [batch[3]?.['id'], 'reaction', '[Reaction 👍]', 'Bob'],
    ]);
    expect(rows.map((row) => row.seq)).toEqual([...rows.map((row) => row.seq)].sort((a, b) => a - b));
    // Each media id was looked up, then downloaded, with the bot's access token.
    for (const mediaId of ['media-image-401', 'media-doc-401']) {
      const fetched = fakeGraph.calls.filter((call) => call.path === `/${GRAPH_VERSION}/${mediaId}` || call.path === `/media/${mediaId}`);
      expect(fetched.map((call) => [call.method, call.path, call.authorization])).toEqual([
        ['GET', `/${GRAPH_VERSION}/${mediaId}`, `Bearer ${ACCESS_TOKEN}`],
        ['GET', `/media/${mediaId}`, `Bearer ${ACCESS_TOKEN}`],
      ]);
    }
  });

  it('records a reaction to an AI bot without answering it, and answers the text after it', async () => {
    const id = 'ca-reaction';
    const wa = '4915100000402';
    await connectedBot(id, { ai: AI });
    expect(await delivered(id, notification({ contacts: [{ name: 'Carol', waId: wa }], messages: [reactionOf(wa, 'wamid.SOMETHING_EARLIER', '❤️')] }))).toMatchObject({ messages: 1 });
    await quiet();
    expect((await historyOf(id, wa)).map((row) => [row.kind, row.content])).toEqual([['reaction', '[Reaction ❤️]']]);
    expect(chats()).toEqual([]);
    expect(sendCallsTo(wa)).toEqual([]);
    // The bot does answer: a text after it gets one reply.
    expect(await delivered(id, notification({ contacts: [{ name: 'Carol', waId: wa }], messages: [textOf(wa, 'Thanks!')] }))).toMatchObject({ messages: 1 });
    await eventually(() => sentTo(wa).length, (n) => n === 1, SETTLE_MS);
    expect(sentTo(wa)[0]?.text).toBe('reply to: Thanks!');
  });

  it('keeps the account\'s secrets write-only: no answer and no stored document holds one', async () => {
    const id = 'ca-secrets';
    await createdBot(id);
    const secrets = [ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN];
    const answers = [await request('GET', `/v1/bots/${id}`), await request('GET', '/v1/bots')];
    const rotated = 'EAAGrotatedToken0a9b8c7d6e5f';
    const patched = await request('PATCH', `/v1/bots/${id}`, { cloudApi: { accessToken: rotated } });
    expect(patched.statusCode, patched.body).toBe(200);
    answers.push(patched, await request('GET', `/v1/bots/${id}`));
    for (const res of answers) {
      expect(res.statusCode).toBe(200);
      for (const secret of [...secrets, rotated]) expect(res.body).not.toContain(secret);
    }
    const bot = await botOf(id);
    expect(bot.settings['cloudApi']).toEqual({ phoneNumberId: PHONE_ID, graphBaseUrl: fakeGraph.baseUrl });
    // Sealed at rest too: no collection of the database holds a secret in the clear.
    for (const { name } of await t.db.listCollections().toArray()) {
      const documents = JSON.stringify(await t.db.collection(name).find({}).toArray());
      for (const secret of [...secrets, rotated]) expect([name, documents.includes(secret)]).toEqual([name, false]);
    }
    // …and the rotated token is the one the bot now uses.
    expect((await readCloudApiAccount(t.store.authState, id, bot.settings))?.accessToken).toBe(rotated);
  });

  it('transcribes a signed voice note, answers it once through Graph, and records delivered and read receipts on the reply', async () => {
    const id = 'ca-voice-ai';
    const wa = '4915100000601';
    await connectedBot(id, { ai: AI });
    fakeGraph.addMedia('media-voice-601', voice, 'audio/ogg; codecs=opus');
    const note = voiceOf(wa, 'media-voice-601', voice);
    expect(await delivered(id, notification({ contacts: [{ name: 'Dana', waId: wa }], messages: [note] }))).toEqual({ messages: 1, statuses: 0, skipped: 0 });

    await eventually(() => sentTo(wa).length, (n) => n >= 1, SETTLE_MS);
    await quiet();
    const voiceLine = `[Voice message] transcript of ${sha8(voice)}`;
    expect(sentTo(wa)).toEqual([{ to: wa, text: `reply to: ${voiceLine}`, wamid: expect.stringMatching(/^wamid\./) }]);
    expect(sendCallsTo(wa)).toHaveLength(1);
    const [reply] = sentTo(wa);
    const wamid = reply?.wamid ?? '';
    // The media was looked up and downloaded with the bot's token; the model saw the transcript.
    expect(fakeGraph.calls.filter((call) => call.path.endsWith('media-voice-601')).map((call) => [call.path, call.authorization])).toEqual([
      [`/${GRAPH_VERSION}/media-voice-601`, `Bearer ${ACCESS_TOKEN}`],
      ['/media/media-voice-601', `Bearer ${ACCESS_TOKEN}`],
    ]);
    expect(openAi.calls.filter((call) => call.route === 'transcriptions').map((call) => call.route === 'transcriptions' && call.sha256)).toEqual([sha256(voice)]);
    expect(chats()).toHaveLength(1);
    expect(chats()[0]?.turns.filter((turn) => turn.role === 'user').map((turn) => turn.content)).toEqual([voiceLine]);

    const rows = await eventually(() => historyOf(id, wa), (r) => r.some((row) => row.direction === 'outbound' && row.status === 'sent'), SETTLE_MS);
    expect(rows.map((row) => [row.direction, row.source, row.kind, row.content, row.status, row.providerMessageId])).toEqual([
      ['inbound', 'user', 'voice', voiceLine, 'final', note['id']],
      ['outbound', 'bot', 'text', `reply to: ${voiceLine}`, 'sent', wamid],
    ]);
    expect(await receiptOf(id, wa, wamid)).toBeNull();

    const base = Math.floor(Date.now() / 1000);
    expect(await delivered(id, notification({ statuses: [statusOf(wa, wamid, 'delivered', base)] }))).toEqual({ messages: 0, statuses: 1, skipped: 0 });
    expect(await receiptOf(id, wa, wamid)).toEqual({ status: 'delivered', at: new Date(base * 1000) });
    expect(await delivered(id, notification({ statuses: [statusOf(wa, wamid, 'read', base + 5)] }))).toEqual({ messages: 0, statuses: 1, skipped: 0 });
    expect(await receiptOf(id, wa, wamid)).toEqual({ status: 'read', at: new Date((base + 5) * 1000) });
    // A late `delivered` (Meta does not promise order) does not move the receipt back.
    expect(await delivered(id, notification({ statuses: [statusOf(wa, wamid, 'delivered', base + 1)] }))).toEqual({ messages: 0, statuses: 1, skipped: 0 });
    expect(await receiptOf(id, wa, wamid)).toEqual({ status: 'read', at: new Date((base + 5) * 1000) });
    const after = (await historyOf(id, wa)).find((row) => row.providerMessageId === wamid);
    expect(after?.status).toBe('sent');
    expect(after?.error ?? null).toBeNull();
    // Receipts are no messages: nothing more was stored, and nothing answered.
    expect(await historyOf(id, wa)).toHaveLength(2);
    await quiet(500);
    expect(sendCallsTo(wa)).toHaveLength(1);
  });

  it('marks a sent message failed on a failed status, with Meta\'s code and title', async () => {
    const id = 'ca-failed-status';
    const wa = '4915100000701';
    await connectedBot(id);
    const queued = await request('POST', `/v1/bots/${id}/messages`, { to: `+${wa}`, text: 'Your order has shipped' });
    expect(queued.statusCode, queued.body).toBe(202);
    await eventually(() => sentTo(wa).length, (n) => n === 1);
    const wamid = sentTo(wa)[0]?.wamid ?? '';
    await eventually(() => historyOf(id, wa), (rows) => rows.some((row) => row.status === 'sent'));

    const errors = [{
      code: 131047,
      title: 'Re-engagement message',
      message: 'Re-engagement message',
      error_data: { details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
      href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
    }];
    expect(await delivered(id, notification({ statuses: [statusOf(wa, wamid, 'failed', undefined, errors)] }))).toEqual({ messages: 0, statuses: 1, skipped: 0 });
    const rows = await historyOf(id, wa);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ direction: 'outbound', providerMessageId: wamid, status: 'failed' });
    expect(rows[0]?.error).toContain('131047');
    expect(rows[0]?.error).toContain('Re-engagement message');
    expect((await receiptOf(id, wa, wamid))?.status).toBe('failed');
  });

  it('fails a send Meta refuses for good at once, retries a 5xx, and refuses a text over 4096 characters', async () => {
    const id = 'ca-send';
    await connectedBot(id);

    const closed = '4915100000801';
    fakeGraph.scriptSends({
      status: 400,
      error: { code: 131047, message: '(#131047) Re-engagement message', type: 'OAuthException', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
    });
    const refused = await request('POST', `/v1/bots/${id}/messages`, { to: `+${closed}`, text: 'Are you still there?' });
    expect(refused.statusCode, refused.body).toBe(202);
    const refusedId = refused.json<{ id: string }>().id;
    const failed = await eventually(() => outboxOf(id), (list) => list.find((m) => m.id === refusedId)?.state === 'failed');
    expect(failed.find((m) => m.id === refusedId)).toMatchObject({ to: closed, state: 'failed', attempt: 1, lastError: expect.stringContaining('131047') });
    await quiet(400);
    expect(sendCallsTo(closed)).toHaveLength(1);
    expect((await outboxOf(id)).find((m) => m.id === refusedId)).toMatchObject({ state: 'failed', attempt: 1 });
    const refusedRows = await historyOf(id, closed);
    expect(refusedRows).toMatchObject([{ direction: 'outbound', status: 'failed', error: expect.stringContaining('131047') }]);

    const flaky = '4915100000802';
    fakeGraph.scriptSends({ status: 500, error: { code: 2, message: 'Service temporarily unavailable' } }, 'ok');
    const retried = await request('POST', `/v1/bots/${id}/messages`, { to: flaky, text: 'Second try works' });
    expect(retried.statusCode, retried.body).toBe(202);
    const retriedId = retried.json<{ id: string }>().id;
    const sent = await eventually(() => outboxOf(id), (list) => list.find((m) => m.id === retriedId)?.state === 'sent');
    expect(sent.find((m) => m.id === retriedId)).toMatchObject({ state: 'sent', attempt: 2 });
    expect(sendCallsTo(flaky)).toHaveLength(2);
    expect(sentTo(flaky).map((m) => m.text)).toEqual(['Second try works']);
    const flakyRows = await eventually(() => historyOf(id, flaky), (rows) => rows[0]?.status === 'sent');
    expect(flakyRows.map((row) => [row.status, row.providerMessageId])).toEqual([['sent', sentTo(flaky)[0]?.wamid]]);

    const long = '4915100000803';
    const tooLong = await request('POST', `/v1/bots/${id}/messages`, { to: long, text: 'x'.repeat(4097) });
    expect(tooLong.statusCode).toBe(400);
    expect(errorCode(tooLong)).toBe('VALIDATION_FAILED');
    // 4096 characters are one Cloud API message.
    const longest = await request('POST', `/v1/bots/${id}/messages`, { to: long, text: 'y'.repeat(4096) });
    expect(longest.statusCode, longest.body).toBe(202);
    await eventually(() => sentTo(long).length, (n) => n === 1);
    expect(sentTo(long)[0]?.text).toHaveLength(4096);
    expect(sendCallsTo(long)).toHaveLength(1);
  });

  it('fails the bot with what to do when Meta refuses the access token, and connects once it is replaced', async () => {
    const id = 'ca-expired';
    const wa = '4915100000901';
    await connectedBot(id);
    fakeGraph.scriptSends({ status: 401, error: { code: 190, error_subcode: 463, type: 'OAuthException', message: 'Error validating access token: Session has expired on Friday, 01-Jan-27 00:00:00 PST.' } });
    const queued = await request('POST', `/v1/bots/${id}/messages`, { to: wa, text: 'Sent once the token is renewed' });
    expect(queued.statusCode, queued.body).toBe(202);
    const failed = await inState(id, 'failed');
    expect(failed.lastError).toMatch(/access token/);
    expect(failed.lastError).toContain('190');
    expect(failed.lastError).toContain(`PATCH /v1/bots/${id}`);
    expect(failed.lastError).not.toContain(ACCESS_TOKEN);
    // The message is not lost: it waits for the bot rather than failing.
    const queuedId = queued.json<{ id: string }>().id;
    expect((await outboxOf(id)).find((m) => m.id === queuedId)?.state).not.toBe('failed');

    // A renewed token (the same one stands in for it here), then a start: connected, and the message goes out.
    expect((await request('PATCH', `/v1/bots/${id}`, { cloudApi: { accessToken: ACCESS_TOKEN } })).statusCode).toBe(200);
    await start(id);
    await inState(id, 'connected');
    await eventually(() => sentTo(wa).length, (n) => n === 1);
    expect(sentTo(wa)[0]?.text).toBe('Sent once the token is renewed');
    await eventually(() => outboxOf(id), (list) => list.find((m) => m.id === queuedId)?.state === 'sent');

    const wrongId = 'ca-wrong-token';
    const wrongToken = 'EAAGwrongTokenffffffffffffff';
    await createdBot(wrongId, {}, { accessToken: wrongToken });
    await start(wrongId);
    const refused = await inState(wrongId, 'failed');
    expect(refused.lastError).toMatch(/access token/);
    expect(refused.lastError).toContain(`PATCH /v1/bots/${wrongId}`);
    expect(refused.lastError).not.toContain(wrongToken);
    const checks = fakeGraph.calls.filter((call) => call.method === 'GET' && call.path === `/${GRAPH_VERSION}/${PHONE_ID}` && call.authorization === `Bearer ${wrongToken}`);
    expect(checks).toHaveLength(1);

    const patched = await request('PATCH', `/v1/bots/${wrongId}`, { cloudApi: { accessToken: ACCESS_TOKEN } });
    expect(patched.statusCode, patched.body).toBe(200);
    await start(wrongId);
    const connected = await inState(wrongId, 'connected');
    expect(connected.lastError ?? null).toBeNull();
  });

  it('refuses bots without their account, an account on another provider, and a malformed phone number id', async () => {
    const missing = await request('POST', '/v1/bots', { id: 'ca-bad-1', provider: 'cloud-api' });
    expect(missing.statusCode).toBe(400);
    expect(errorCode(missing)).toBe('VALIDATION_FAILED');
    expect(missing.body).toContain('cloudApi');

    const misplaced = await request('POST', '/v1/bots', { id: 'ca-bad-2', provider: 'simulator', cloudApi: cloudApi() });
    expect(misplaced.statusCode).toBe(400);
    expect(errorCode(misplaced)).toBe('VALIDATION_FAILED');
    expect(misplaced.body).not.toContain(ACCESS_TOKEN);

    const letters = await request('POST', '/v1/bots', { id: 'ca-bad-3', provider: 'cloud-api', cloudApi: cloudApi({ phoneNumberId: '10654abc' }) });
    expect(letters.statusCode).toBe(400);
    expect(errorCode(letters)).toBe('VALIDATION_FAILED');

    const partial = await request('POST', '/v1/bots', { id: 'ca-bad-4', provider: 'cloud-api', cloudApi: { phoneNumberId: PHONE_ID, accessToken: ACCESS_TOKEN } });
    expect(partial.statusCode).toBe(400);

    for (const id of ['ca-bad-1', 'ca-bad-2', 'ca-bad-3', 'ca-bad-4']) expect((await request('GET', `/v1/bots/${id}`)).statusCode).toBe(404);

    expect((await request('POST', '/v1/bots', { id: 'ca-bad-sim', provider: 'simulator' })).statusCode).toBe(201);
    const patchMisplaced = await request('PATCH', '/v1/bots/ca-bad-sim', { cloudApi: { accessToken: ACCESS_TOKEN } });
    expect(patchMisplaced.statusCode).toBe(400);
    expect(errorCode(patchMisplaced)).toBe('VALIDATION_FAILED');
  });

  it('refuses a body over the webhook route\'s own limit with 413 before reading it, signed or not', async () => {
    const id = 'ca-oversized';
    await createdBot(id);
    const raw = JSON.stringify({ object: 'whatsapp_business_account', entry: [], padding: 'x'.repeat(300 * 1024) });
    const res = await deliver(id, raw);
    expect(res.statusCode).toBe(413);
    expect(errorCode(res)).toBe('PAYLOAD_TOO_LARGE');
    expect(await historyOf(id, '16315551234')).toEqual([]);
  });

  it('answers a status whose write failed with an error, so Meta\'s retry records it once', async () => {
    const id = 'ca-receipt-fault';
    const wa = '4915100000702';
    await connectedBot(id);
    expect((await request('POST', `/v1/bots/${id}/messages`, { to: wa, text: 'On its way' })).statusCode).toBe(202);
    await eventually(() => sentTo(wa).length, (n) => n === 1);
    const wamid = sentTo(wa)[0]?.wamid ?? '';
    await eventually(() => historyOf(id, wa), (rows) => rows.some((row) => row.status === 'sent'));
    const raw = notification({ statuses: [statusOf(wa, wamid, 'delivered')] });
    failingReceipts = 1;
    const first = await deliver(id, raw);
    expect(first.statusCode).toBeGreaterThanOrEqual(500);
    expect(await receiptOf(id, wa, wamid)).toBeNull();
    expect(await delivered(id, raw)).toEqual({ messages: 0, statuses: 1, skipped: 0 });
    expect((await receiptOf(id, wa, wamid))?.status).toBe('delivered');
  });
});
