import { setImmediate as nextTick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createSimulatorHub } from '../../../src/adapters/simulator/simulator.provider.ts';
import type { SimulatorHub } from '../../../src/adapters/simulator/simulator.provider.ts';
import { isParleyError } from '../../../src/domain/errors.ts';
import type { InboundMessage, ProviderEvent, ProviderHandlers, ProviderSession } from '../../../src/ports/provider.port.ts';

interface FakeHandlers extends ProviderHandlers {
  readonly events: ProviderEvent[];
  readonly messages: InboundMessage[];
}

function fakeHandlers(onMessage?: (m: InboundMessage) => Promise<void>): FakeHandlers {
  const events: ProviderEvent[] = [];
  const messages: InboundMessage[] = [];
  return {
    events,
    messages,
    onEvent: (event) => void events.push(event),
    onMessage: async (message) => {
      messages.push(message);
      await onMessage?.(message);
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTick();
}

async function connected(hub: SimulatorHub, botId = 'bot-1', handlers = fakeHandlers()): Promise<{ session: ProviderSession; handlers: FakeHandlers }> {
  const session = hub.factory(botId, {}, handlers);
  await session.start();
  await settle();
  return { session, handlers };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

const PNG_BASE64 = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]).toString('base64');

describe('simulator lifecycle', () => {
  it('reports connecting then connected after start returns', async () => {
    const hub = createSimulatorHub();
    const handlers = fakeHandlers();
    const session = hub.factory('bot-1', {}, handlers);
    await session.start();
    expect(handlers.events).toEqual([]);
    expect(hub.isConnected('bot-1')).toBe(false);
    await settle();
    expect(handlers.events).toEqual([{ type: 'provider.connecting' }, { type: 'provider.connected' }]);
    expect(hub.isConnected('bot-1')).toBe(true);
  });

  it('stops silently and cancels a connect still in flight', async () => {
    const hub = createSimulatorHub();
    const handlers = fakeHandlers();
    const session = hub.factory('bot-1', {}, handlers);
    await session.start();
    await session.stop();
    await settle();
    expect(handlers.events).toEqual([]);
    expect(hub.isConnected('bot-1')).toBe(false);
  });

  it('disconnects on stop without emitting events, and connects again on restart', async () => {
    const hub = createSimulatorHub();
    const { session, handlers } = await connected(hub);
    await session.stop();
    expect(hub.isConnected('bot-1')).toBe(false);
    expect(handlers.events).toHaveLength(2);
    await session.start();
    await settle();
    expect(handlers.events.map((e) => e.type)).toEqual(['provider.connecting', 'provider.connected', 'provider.connecting', 'provider.connected']);
  });

  it('does not offer pairing codes', () => {
    const session = createSimulatorHub().factory('bot-1', {}, fakeHandlers());
    expect(session.requestPairingCode).toBeUndefined();
  });

  it('knows nothing of bots it never created', async () => {
    expect(createSimulatorHub().isConnected('ghost')).toBe(false);
    expect(await createSimulatorHub().outbound('ghost')).toEqual([]);
    expect(await createSimulatorHub().sessions('ghost')).toEqual([]);
  });
});

describe('simulator inbound', () => {
  it('hands over a text message and returns its id once stored', async () => {
    let stored = false;
    const hub = createSimulatorHub({ now: () => 1_000 });
    const { handlers } = await connected(hub, 'bot-1', fakeHandlers(async () => {
      await nextTick();
      stored = true;
    }));
    const { messageId } = await hub.inbound('bot-1', { from: '15550001111', text: 'hello', displayName: 'Ann' });
    expect(stored).toBe(true);
    expect(messageId).toMatch(/^SIM-[0-9a-f-]{36}$/);
    expect(handlers.messages).toEqual([
      {
        providerMessageId: messageId,
        correspondentId: '15550001111',
        sender: { id: '15550001111', displayName: 'Ann' },
        group: null,
        originatingAt: 1_000,
        text: 'hello',
        media: null,
        fromMe: false,
      },
    ]);
  });

  it('hands over a message the owner wrote from the phone as fromMe, from the account, in the chat it went to', async () => {
    const hub = createSimulatorHub({ now: () => 1_000 });
    const { handlers } = await connected(hub, 'bot-1', fakeHandlers(async () => {}));
    await hub.inbound('bot-1', { from: '15550001111', text: 'this is Anna', fromMe: true });
    expect(handlers.messages[0]).toMatchObject({ correspondentId: '15550001111', sender: { id: 'me', displayName: null }, text: 'this is Anna', fromMe: true });
  });

  it('uses the group as the correspondent and keeps a replayed id', async () => {
    const hub = createSimulatorHub();
    const { handlers } = await connected(hub);
    const payload = { from: '15550001111', text: 'hi', group: 'group-7', providerMessageId: 'WA-1' };
    expect(await hub.inbound('bot-1', payload)).toEqual({ messageId: 'WA-1' });
    expect(await hub.inbound('bot-1', payload)).toEqual({ messageId: 'WA-1' });
    expect(handlers.messages.map((m) => [m.providerMessageId, m.correspondentId, m.group, m.sender.displayName])).toEqual([
      ['WA-1', 'group-7', 'group-7', null],
      ['WA-1', 'group-7', 'group-7', null],
    ]);
  });

  it('hands over media whose download yields the decoded bytes', async () => {
    const hub = createSimulatorHub();
    const { handlers } = await connected(hub);
    await hub.inbound('bot-1', { from: 'a', media: { kind: 'image', mimetype: 'image/png', dataBase64: PNG_BASE64, caption: 'look', fileName: 'x.png' } });
    const media = handlers.messages[0]!.media!;
    expect(handlers.messages[0]!.text).toBeNull();
    expect(media).toMatchObject({ kind: 'image', mimetype: 'image/png', caption: 'look', fileName: 'x.png', sizeBytes: 7 });
    const bytes = await media.download();
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(bytes instanceof Uint8Array ? bytes : [])).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  });

  it('makes the download of corrupt media fail', async () => {
    const hub = createSimulatorHub();
    const { handlers } = await connected(hub);
    await hub.inbound('bot-1', { from: 'a', media: { kind: 'voice', mimetype: 'audio/ogg', dataBase64: PNG_BASE64 }, corrupt: true });
    const media = handlers.messages[0]!.media!;
    expect(media).toMatchObject({ caption: null, fileName: null, sizeBytes: 7 });
    await expect(media.download()).rejects.toThrow('simulated download failure');
  });

  it.each([
    ['empty', { dataBase64: '' }],
    ['absent', {}],
  ])('accepts corrupt media whose data is %s, and its download fails', async (_label, data) => {
    const hub = createSimulatorHub();
    const { handlers } = await connected(hub);
    await hub.inbound('bot-1', { from: 'a', media: { kind: 'document', mimetype: 'application/pdf', ...data }, corrupt: true });
    const media = handlers.messages[0]!.media!;
    expect(media.sizeBytes).toBe(0);
    await expect(media.download()).rejects.toThrow('simulated download failure');
  });

  it('propagates a storage failure to the caller', async () => {
    const hub = createSimulatorHub();
    await connected(hub, 'bot-1', fakeHandlers(() => Promise.reject(new Error('store down'))));
    await expect(hub.inbound('bot-1', { from: 'a', text: 'x' })).rejects.toThrow('store down');
  });

  it.each([
    ['unknown bot', 'ghost'],
    ['stopped bot', 'bot-1'],
  ])('refuses a message for an %s with CONFLICT', async (_label, botId) => {
    const hub = createSimulatorHub();
    const { session } = await connected(hub);
    await session.stop();
    const err = await rejection(hub.inbound(botId, { from: 'a', text: 'x' }));
    expect(isParleyError(err, 'CONFLICT')).toBe(true);
    expect((err as Error).message).toBe('bot is not running');
  });

  it.each<[string, unknown, string]>([
    ['neither text nor media', { from: 'a' }, 'text'],
    ['both text and media', { from: 'a', text: 'x', media: { kind: 'image', mimetype: 'image/png', dataBase64: PNG_BASE64 } }, 'text'],
    ['empty text', { from: 'a', text: '  ' }, 'text'],
    ['missing from', { text: 'x' }, 'from'],
    ['unknown kind', { from: 'a', media: { kind: 'gif', mimetype: 'image/gif', dataBase64: PNG_BASE64 } }, 'media.kind'],
    ['missing mimetype', { from: 'a', media: { kind: 'image', dataBase64: PNG_BASE64 } }, 'media.mimetype'],
    ['empty data', { from: 'a', media: { kind: 'image', mimetype: 'image/png', dataBase64: '' } }, 'media.dataBase64'],
    ['absent data', { from: 'a', media: { kind: 'image', mimetype: 'image/png' } }, 'media.dataBase64'],
    ['non-base64 data', { from: 'a', media: { kind: 'image', mimetype: 'image/png', dataBase64: 'not*base64!' } }, 'media.dataBase64'],
    ['corrupt text', { from: 'a', text: 'x', corrupt: true }, 'corrupt'],
    ['non-boolean corrupt', { from: 'a', media: { kind: 'image', mimetype: 'image/png', dataBase64: PNG_BASE64 }, corrupt: 'yes' }, 'corrupt'],
  ])('rejects %s with VALIDATION_FAILED naming %s', async (_label, payload, field) => {
    const hub = createSimulatorHub();
    const { handlers } = await connected(hub);
    const err = await rejection(hub.inbound('bot-1', payload as never));
    expect(isParleyError(err, 'VALIDATION_FAILED')).toBe(true);
    expect((err as Error).message.startsWith(`${field}: `)).toBe(true);
    expect(handlers.messages).toEqual([]);
  });
});

describe('simulator outbound', () => {
  it('records sent texts with their ids', async () => {
    const hub = createSimulatorHub({ now: () => 42 });
    const { session } = await connected(hub);
    const { providerMessageId } = await session.send('15550001111', 'reply');
    expect(await hub.outbound('bot-1')).toEqual([{ to: '15550001111', text: 'reply', providerMessageId, sentAt: 42 }]);
    expect(await hub.outbound('bot-2')).toEqual([]);
  });

  it('keeps only the newest messages per bot', async () => {
    const hub = createSimulatorHub({ maxOutboundPerBot: 3 });
    const { session } = await connected(hub);
    for (let i = 1; i <= 5; i++) await session.send('a', `m${i}`);
    expect((await hub.outbound('bot-1')).map((m) => m.text)).toEqual(['m3', 'm4', 'm5']);
  });

  it('keeps at most the configured characters of outbound text per bot, dropping the oldest, never the newest', async () => {
    const hub = createSimulatorHub({ maxOutboundCharsPerBot: 10 });
    const { session } = await connected(hub);
    for (const text of ['aaaa', 'bbbb', 'cccc']) await session.send('a', text);
    expect((await hub.outbound('bot-1')).map((m) => m.text)).toEqual(['bbbb', 'cccc']);
    await session.send('a', 'x'.repeat(50));
    expect((await hub.outbound('bot-1')).map((m) => m.text.length)).toEqual([50]);
    await session.send('a', 'y');
    expect((await hub.outbound('bot-1')).map((m) => m.text)).toEqual(['y']);
  });

  it('fails to send while not connected', async () => {
    const hub = createSimulatorHub();
    const { session } = await connected(hub);
    await session.stop();
    await expect(session.send('a', 'x')).rejects.toThrow(/not connected/);
    const fresh = hub.factory('bot-2', {}, fakeHandlers());
    await expect(fresh.send('a', 'x')).rejects.toThrow(/not connected/);
    expect(await hub.outbound('bot-1')).toEqual([]);
  });

  it('keeps the log across sessions of the same bot', async () => {
    const hub = createSimulatorHub();
    const first = await connected(hub);
    await first.session.send('a', 'before');
    await first.session.stop();
    const second = await connected(hub);
    await second.session.send('a', 'after');
    expect((await hub.outbound('bot-1')).map((m) => m.text)).toEqual(['before', 'after']);
  });

  it('rejects a nonsensical bound', () => {
    expect(() => createSimulatorHub({ maxOutboundPerBot: 0 })).toThrow(RangeError);
  });
});
