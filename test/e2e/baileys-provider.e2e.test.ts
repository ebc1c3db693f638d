import { DisconnectReason } from 'baileys';
import type { proto } from 'baileys';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBaileysProvider } from '../../src/adapters/baileys/baileys.provider.ts';
import type { ParleyServices } from '../../src/parley-services.ts';
import type { ProviderFactory } from '../../src/ports/provider.port.ts';
import { encryptMedia, startMediaServer } from '../support/baileys-media-fixtures.ts';
import type { EncryptedMedia, MediaServer } from '../support/baileys-media-fixtures.ts';
import { fakeSockets } from '../support/fake-baileys-socket.ts';
import type { FakeSocket } from '../support/fake-baileys-socket.ts';
import { sha256, startFakeOpenAi } from '../support/fake-openai-server.ts';
import type { ChatCall, FakeCall, FakeOpenAi } from '../support/fake-openai-server.ts';
import { oggFixture } from '../support/media-fixtures.ts';
import { eventually } from '../support/runtime-harness.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { createRealMedia } from './media-setup.ts';
import type { RealMedia } from './media-setup.ts';
import { E2E_API_KEY, e2eLogger, startProviderApp } from '../support/provider-e2e-app.ts';

/**
 * The simulator's end-to-end story told on the real `baileys` provider: the REST API, the
 * runtime, the media pipeline and AI replies as in production, with only Baileys' socket (a fake
 * that emits real `proto` messages), WhatsApp's media CDN (a local server holding media encrypted
 * with Baileys' own crypto) and OpenAI (a local compatible server) standing in.
 */

interface HistoryRow {
  seq: number;
  providerMessageId: string | null;
  direction: string;
  source: string;
  kind: string;
  content: string;
  status: string;
}
interface BotJson {
  state: string;
  lastError?: string | null;
  reconnect?: { attempt: number; nextAt: string | null; lastDisconnect: string | null };
}

const ALICE = '4915111111111@s.whatsapp.net';
const AI = { enabled: true, debounceMs: 300, maxWaitMs: 3_000, mediaWaitMs: 10_000, typingMaxMs: 0, systemPrompt: 'Be brief.' };
const SETTLE_MS = 10_000;

let fake: FakeOpenAi;
let voice: Uint8Array;
let encrypted: EncryptedMedia;
let cdn: MediaServer;
let realMedia: RealMedia;
let t: TestStore;
let services: ParleyServices;
let app: FastifyInstance;

/** Each bot's sockets: the provider builds one session per bot, and each test looks only at its bot's. */
const fakesByBot = new Map<string, ReturnType<typeof fakeSockets>>();
function fakesOf(botId: string): ReturnType<typeof fakeSockets> {
  let fakes = fakesByBot.get(botId);
  if (fakes === undefined) {
    fakes = fakeSockets();
    fakesByBot.set(botId, fakes);
  }
  return fakes;
}

beforeAll(async () => {
  [fake, voice, cdn] = await Promise.all([startFakeOpenAi(), oggFixture(), startMediaServer()]);
  encrypted = await encryptMedia(voice, 'audio');
  realMedia = await createRealMedia({ openAiUrl: fake.url });
  t = await openTestStore('parley_e2e_baileys');
  const logger = e2eLogger();
  const baileys: ProviderFactory = (botId, settings, handlers) =>
    createBaileysProvider({ authState: t.store.authState, history: t.store.history, logger, makeSocket: fakesOf(botId).makeSocket })(botId, settings, handlers);
  ({ services, app } = await startProviderApp({ store: t.store, openAiUrl: fake.url, providers: { baileys }, media: realMedia.media }));
});
afterAll(async () => {
  await app?.close();
  await services?.shutdown(1000);
  await t?.dispose();
  await realMedia?.dispose();
  await cdn?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
  fake.reply('chat', (call) => `reply to: ${lastUserTurn(call)}`);
});

const lastUserTurn = (call: FakeCall): string => (call.route === 'chat' ? ([...call.turns].reverse().find((turn) => turn.role === 'user')?.content ?? '') : '');
const chats = (): ChatCall[] => fake.calls.filter((call): call is ChatCall => call.route === 'chat');
const sha8 = (bytes: Uint8Array): string => sha256(bytes).slice(0, 8);
/** What the voice note becomes: the fake server transcribes the decrypted bytes by their hash. */
const voiceLine = (): string => `[Voice message] transcript of ${sha8(voice)}`;
/** Waits past the debounce and a reply's round trip, so a second reply would have shown up. */
const quiet = (ms = 1_200) => new Promise((resolve) => setTimeout(resolve, ms));

function request(method: 'GET' | 'POST', url: string, payload?: object): Promise<LightMyRequestResponse> {
  return app.inject({ method, url, headers: { authorization: `Bearer ${E2E_API_KEY}` }, ...(payload === undefined ? {} : { payload }) });
}
const botOf = async (id: string): Promise<BotJson> => (await request('GET', `/v1/bots/${id}`)).json<BotJson>();
const inState = (id: string, state: string, timeoutMs = 5_000): Promise<BotJson> => eventually(() => botOf(id), (bot) => bot.state === state, timeoutMs);
const qrOf = async (id: string) => {
  const res = await request('GET', `/v1/bots/${id}/qr`);
  expect(res.statusCode).toBe(200);
  return res.json<{ qr: string | null; dataUrl: string | null; expiresAt: string | null }>();
};
/** The conversation's history; none yet while the bot has no conversation with `cid`. */
async function historyOf(id: string, cid: string): Promise<HistoryRow[]> {
  const res = await request('GET', `/v1/bots/${id}/correspondents/${encodeURIComponent(cid)}/history`);
  if (res.statusCode === 404) return [];
  expect(res.statusCode).toBe(200);
  return res.json<{ messages: HistoryRow[] }>().messages;
}
const credsOf = (id: string) => t.store.authState.get(id, 'creds', ['creds']);

/** Creates a `baileys` bot and starts it; resolves with its first socket. */
async function startedBot(id: string, extra: Record<string, unknown> = {}): Promise<FakeSocket> {
  const created = await request('POST', '/v1/bots', { id, provider: 'baileys', ...extra });
  expect(created.statusCode, created.body).toBe(201);
  expect((await request('POST', `/v1/bots/${id}/start`)).statusCode).toBe(202);
  const fakes = fakesOf(id);
  await eventually(() => fakes.sockets.length, (n) => n === 1);
  return fakes.last;
}
/** A started bot whose socket WhatsApp accepted: connected. */
async function connectedBot(id: string, extra: Record<string, unknown> = {}): Promise<FakeSocket> {
  const socket = await startedBot(id, extra);
  socket.open();
  await inState(id, 'connected');
  return socket;
}

const textMessage = (id: string, text: string, from = ALICE): proto.IWebMessageInfo => ({
  key: { remoteJid: from, fromMe: false, id },
  message: { conversation: text },
  messageTimestamp: Math.floor(Date.now() / 1000),
  pushName: 'Alice',
});
/** A voice note as Baileys hands it over, its encrypted OGG on the local CDN at `path` (no `directPath`). */
const voiceMessage = (id: string, path: string, from = ALICE): proto.IWebMessageInfo => ({
  key: { remoteJid: from, fromMe: false, id },
  message: {
    audioMessage: {
      url: cdn.url(path),
      mimetype: 'audio/ogg; codecs=opus',
      ptt: true,
      seconds: 1,
      mediaKey: encrypted.mediaKey,
      fileSha256: encrypted.fileSha256,
      fileEncSha256: encrypted.fileEncSha256,
      fileLength: encrypted.fileLength,
    },
  },
  messageTimestamp: Math.floor(Date.now() / 1000),
  pushName: 'Alice',
});

describe('Baileys provider end to end (fake socket)', () => {
  it('pairs over REST: shows the QR as text and PNG, hands out a pairing code, then connects', async () => {
    const id = 'bl-pair';
    const socket = await startedBot(id);
    const qr = '2@abcDEF123+/=,ref,pub,adv';
    socket.qr(qr);
    await inState(id, 'awaiting-qr');
    const shown = await qrOf(id);
    expect(shown.qr).toBe(qr);
    expect(shown.dataUrl).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    expect(shown.expiresAt).not.toBeNull();
    const expiresAt = Date.parse(shown.expiresAt ?? '');
    expect(new Date(expiresAt).toISOString()).toBe(shown.expiresAt);
    // The default QR lifetime is a minute.
    expect(expiresAt).toBeGreaterThan(Date.now() + 50_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);

    const code = await request('POST', `/v1/bots/${id}/pairing-code`, { phoneNumber: '+4915100000000' });
    expect(code.statusCode, code.body).toBe(200);
    expect(code.json()).toEqual({ code: 'ABCD1234' });
    expect(socket.pairingRequests).toEqual(['4915100000000']);

    const invalid = await request('POST', `/v1/bots/${id}/pairing-code`, { phoneNumber: '12ab' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(socket.pairingRequests).toHaveLength(1);

    socket.open();
    await inState(id, 'connected');
    expect(await qrOf(id)).toEqual({ qr: null, dataUrl: null, expiresAt: null });
    expect(fakesOf(id).sockets).toHaveLength(1);
  });

  it('stores an inbound text and a voice note\'s transcript, answers once through sendMessage, and does not store its own echo', async () => {
    const id = 'bl-ai';
    const socket = await connectedBot(id, { ai: AI });
    cdn.serve('/enc/voice-ai', encrypted.ciphertext);
    socket.upsert([textMessage('TXT-1', 'Hi, please listen to my voice note'), voiceMessage('VOICE-1', '/enc/voice-ai')], 'notify');

    await eventually(() => socket.sent.length, (n) => n >= 1, SETTLE_MS);
    await quiet();
    expect(socket.sent).toHaveLength(1);
    const [sent] = socket.sent;
    expect(sent?.jid).toBe(ALICE);
    expect(sent?.messageId).toEqual(expect.any(String));
    // The model saw both messages, the voice note as its transcript, in one prompt.
    expect(chats()).toHaveLength(1);
    expect(chats()[0]?.turns.filter((turn) => turn.role === 'user').map((turn) => turn.content)).toEqual(['Hi, please listen to my voice note', voiceLine()]);
    expect(sent?.content).toEqual({ text: `reply to: ${voiceLine()}` });
    expect(cdn.hits('/enc/voice-ai')).toBe(1);

    const rows = await eventually(() => historyOf(id, ALICE), (r) => r.some((row) => row.direction === 'outbound' && row.status === 'sent'), SETTLE_MS);
    // Three rows: the echo Baileys emits for the bot's own send (an `append` upsert with `fromMe`) is not a fourth.
    expect(rows.map((row) => [row.direction, row.source, row.kind, row.content, row.status, row.providerMessageId])).toEqual([
      ['inbound', 'user', 'text', 'Hi, please listen to my voice note', 'final', 'TXT-1'],
      ['inbound', 'user', 'voice', voiceLine(), 'final', 'VOICE-1'],
      ['outbound', 'bot', 'text', `reply to: ${voiceLine()}`, 'sent', sent?.messageId],
    ]);
    // Taking the echo for the owner writing from the phone would also have paused the AI.
    const ai = (await request('GET', `/v1/bots/${id}/correspondents/${encodeURIComponent(ALICE)}/ai`)).json<Record<string, unknown>>();
    expect(ai).toMatchObject({ state: 'idle', pausedBy: null, sent: 1 });
  });

  it('stores a message replayed offline as `append` and delivered again as `notify` once', async () => {
    const id = 'bl-replay';
    const socket = await connectedBot(id);
    const offline = { ...textMessage('REPLAY-1', 'sent while you were away'), messageTimestamp: Math.floor(Date.now() / 1000) - 600 };
    socket.upsert([offline], 'append');
    socket.upsert([offline], 'notify');
    socket.upsert([textMessage('LIVE-2', 'and now live')], 'notify');
    await eventually(() => historyOf(id, ALICE), (rows) => rows.some((row) => row.providerMessageId === 'LIVE-2'));
    // Once more after the live one, as a late duplicate.
    socket.upsert([offline], 'append');
    await quiet(300);
    const rows = await historyOf(id, ALICE);
    expect(rows.map((row) => [row.providerMessageId, row.content])).toEqual([
      ['REPLAY-1', 'sent while you were away'],
      ['LIVE-2', 'and now live'],
    ]);
  });

  it('asks the phone to re-upload a voice note whose media expired (410), and transcribes the new copy', async () => {
    const id = 'bl-reupload';
    const socket = await connectedBot(id);
    cdn.serve('/enc/expired', 410);
    cdn.serve('/enc/reuploaded', encrypted.ciphertext);
    let reuploads = 0;
    socket.reupload = async (message) => {
      reuploads += 1;
      const audio = message.message?.audioMessage;
      if (audio == null) throw new Error('the re-upload request carries no audio message');
      audio.url = cdn.url('/enc/reuploaded');
      return message;
    };
    socket.upsert([voiceMessage('VOICE-EXPIRED', '/enc/expired')], 'notify');
    const rows = await eventually(() => historyOf(id, ALICE), (r) => r.length === 1 && r[0]?.status === 'final', SETTLE_MS);
    expect(rows.map((row) => [row.providerMessageId, row.kind, row.content])).toEqual([['VOICE-EXPIRED', 'voice', voiceLine()]]);
    expect(cdn.hits('/enc/expired')).toBe(1);
    expect(cdn.hits('/enc/reuploaded')).toBe(1);
    expect(reuploads).toBe(1);
  });

  it('ends `logged-out` on a 401 of a linked bot, discards its keys, and pairs afresh on the next start', async () => {
    const id = 'bl-logout';
    const socket = await connectedBot(id);
    // Linked: Baileys updates the credentials in place and asks for them to be saved.
    const creds = socket.config.auth.creds;
    creds.me = { id: '4915100000000:3@s.whatsapp.net' };
    creds.registered = true;
    socket.emit('creds.update', { me: creds.me, registered: true });
    await eventually(() => credsOf(id), (stored) => 'creds' in stored);

    socket.close(DisconnectReason.loggedOut, 'Connection Failure');
    await inState(id, 'logged-out');
    expect(await eventually(() => credsOf(id), (stored) => Object.keys(stored).length === 0)).toEqual({});

    expect((await request('POST', `/v1/bots/${id}/start`)).statusCode).toBe(202);
    const fakes = fakesOf(id);
    await eventually(() => fakes.sockets.length, (n) => n === 2);
    const fresh = fakes.last;
    expect(fresh).not.toBe(socket);
    expect(fresh.config.auth.creds.me).toBeUndefined();
    expect(fresh.config.auth.creds.registered).toBe(false);
    fresh.qr('2@fresh-pairing');
    await inState(id, 'awaiting-qr');
    expect((await qrOf(id)).qr).toBe('2@fresh-pairing');
  });

  it('reconnects at once on 515 while pairing, and is not logged out by a 401 right after it', async () => {
    const id = 'bl-restart';
    const first = await startedBot(id);
    first.qr('2@scan-me');
    await inState(id, 'awaiting-qr');
    // The scan: Baileys stores the new identity, then WhatsApp asks for a restart.
    const creds = first.config.auth.creds;
    creds.me = { id: '4915100000000:4@s.whatsapp.net' };
    first.emit('creds.update', { me: creds.me });
    await eventually(() => credsOf(id), (stored) => 'creds' in stored);
    const fakes = fakesOf(id);

    // A backed-off reconnect would wait 0.7 s at least (1 s base, 30 % jitter), 1.4 s for a second one.
    let closedAt = Date.now();
    first.close(DisconnectReason.restartRequired, 'Stream Errored (restart required)');
    await eventually(() => fakes.sockets.length, (n) => n === 2, 3_000);
    expect(Date.now() - closedAt).toBeLessThan(500);
    const second = fakes.last;
    expect(second.config.auth.creds.me?.id).toBe('4915100000000:4@s.whatsapp.net');

    closedAt = Date.now();
    second.close(DisconnectReason.loggedOut, 'Connection Failure');
    await eventually(() => fakes.sockets.length, (n) => n === 3, 3_000);
    expect(Date.now() - closedAt).toBeLessThan(500);
    expect((await botOf(id)).state).not.toBe('logged-out');
    expect(Object.keys(await credsOf(id))).toEqual(['creds']);

    fakes.last.open();
    await inState(id, 'connected');
    expect(Object.keys(await credsOf(id))).toEqual(['creds']);
    expect(fakes.sockets).toHaveLength(3);
  });

  it('fails with the reason when another client takes the session over (440), without a reconnect loop', async () => {
    const id = 'bl-replaced';
    const socket = await connectedBot(id);
    socket.close(DisconnectReason.connectionReplaced, 'Stream Errored (conflict)');
    const bot = await inState(id, 'failed');
    expect(bot.lastError).toMatch(/another client/);
    await quiet(1_500);
    expect(fakesOf(id).sockets).toHaveLength(1);
    expect((await botOf(id)).state).toBe('failed');
  });

  it('shows a dropped connection\'s reconnect on the bot, then connects on a new socket', async () => {
    const id = 'bl-dropped';
    const socket = await connectedBot(id);
    socket.close(DisconnectReason.connectionLost, 'Connection was lost');
    const bot = await inState(id, 'reconnecting');
    expect(bot.reconnect).toEqual({ attempt: 1, nextAt: expect.any(String), lastDisconnect: 'connection closed (408: Connection was lost)' });
    await eventually(() => fakesOf(id).sockets.length, (n) => n === 2, 5_000);
    fakesOf(id).last.open();
    const back = await inState(id, 'connected');
    expect(back.reconnect).toMatchObject({ attempt: 0, nextAt: null });
  });

  it('takes a bare phone number over REST as the chat WhatsApp keyed by JID, for history and for sending', async () => {
    const id = 'bl-number';
    const socket = await connectedBot(id);
    socket.upsert([textMessage('NUM-1', 'hello from Alice')], 'notify');
    const digits = ALICE.split('@')[0] ?? '';
    const rows = await eventually(() => historyOf(id, digits), (r) => r.length === 1);
    expect(rows[0]?.providerMessageId).toBe('NUM-1');
    const sent = await request('POST', `/v1/bots/${id}/messages`, { to: `+${digits}`, text: 'hi Alice' });
    expect(sent.statusCode, sent.body).toBe(202);
    await eventually(() => socket.sent.length, (n) => n === 1);
    expect(socket.sent[0]).toMatchObject({ jid: ALICE, content: { text: 'hi Alice' } });
    const after = await eventually(() => historyOf(id, ALICE), (r) => r.length === 2 && r[1]?.status === 'sent');
    expect(after.map((row) => [row.direction, row.content])).toEqual([['inbound', 'hello from Alice'], ['outbound', 'hi Alice']]);
  });

  it('answers WhatsApp\'s retry receipt for a message sent before a restart of the session from history', async () => {
    const id = 'bl-retry-receipt';
    const socket = await connectedBot(id);
    expect((await request('POST', `/v1/bots/${id}/messages`, { to: ALICE, text: 'your order shipped' })).statusCode).toBe(202);
    await eventually(() => socket.sent.length, (n) => n === 1);
    const messageId = socket.sent[0]?.messageId ?? '';
    await eventually(() => historyOf(id, ALICE), (rows) => rows.some((row) => row.status === 'sent'));
    expect((await request('POST', `/v1/bots/${id}/stop`)).statusCode).toBe(200);
    await inState(id, 'stopped');
    expect((await request('POST', `/v1/bots/${id}/start`)).statusCode).toBe(202);
    await eventually(() => fakesOf(id).sockets.length, (n) => n === 2);
    const getMessage = fakesOf(id).last.config.getMessage;
    expect(await getMessage?.({ id: messageId, remoteJid: ALICE, fromMe: true })).toEqual({ conversation: 'your order shipped' });
    expect(await getMessage?.({ id: 'NEVER-SENT', remoteJid: ALICE, fromMe: true })).toBeUndefined();
  });
});
