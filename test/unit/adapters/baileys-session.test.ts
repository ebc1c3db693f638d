import { DisconnectReason } from 'baileys';
import { describe, expect, it } from 'vitest';
import { createBaileysSession } from '../../../src/adapters/baileys/baileys-session.ts';
import type { PairingPolicy } from '../../../src/adapters/baileys/baileys-session.ts';
import { loadMongoAuthState } from '../../../src/adapters/baileys/mongo-auth-state.ts';
import { isParleyError } from '../../../src/domain/errors.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import type { InboundMessage, ProviderEvent } from '../../../src/ports/provider.port.ts';
import { fakeSockets } from '../../support/fake-baileys-socket.ts';
import { useTestStore } from '../../support/test-store.ts';
import { eventually } from '../../support/runtime-harness.ts';

const PAIRING: PairingPolicy = { maxQrCodes: 3, qrTimeoutMs: 60_000, readyWaitMs: 200 };
const ALICE = '4915111111111@s.whatsapp.net';

describe('Baileys session', () => {
  const t = useTestStore('parley_baileys_session');

  function session(botId: string, options: { onMessage?: (m: InboundMessage) => Promise<void>; sentText?: () => Promise<string | null> } = {}) {
    const fakes = fakeSockets();
    const events: ProviderEvent[] = [];
    const messages: InboundMessage[] = [];
    const s = createBaileysSession({
      botId,
      handlers: {
        onEvent: (e) => void events.push(e),
        onMessage: options.onMessage ?? ((m) => Promise.resolve(void messages.push(m))),
      },
      authState: t.store.authState,
      makeSocket: fakes.makeSocket,
      logger: createLogger('silent'),
      pairing: PAIRING,
      sentText: options.sentText ?? (() => Promise.resolve(null)),
      clock: () => 1_000_000,
    });
    return { s, fakes, events, messages, types: () => events.map((e) => e.type) };
  }

  it('opens a socket that never marks the account online, shows QR codes with their expiry, and reports the connection', async () => {
    const { s, fakes, events, types } = session('qr-bot');
    await s.start();
    expect(fakes.last.config).toMatchObject({ markOnlineOnConnect: false, qrTimeout: 60_000 });
    fakes.last.qr('QR-1');
    fakes.last.open();
    expect(types()).toEqual(['provider.connecting', 'provider.qr', 'provider.connected']);
    expect(events[1]).toEqual({ type: 'provider.qr', qr: 'QR-1', expiresAt: 1_060_000 });
  });

  it('stops with a visible reason after the configured number of unscanned QR codes, and ends the socket', async () => {
    const { s, fakes, events } = session('qr-cap');
    await s.start();
    for (const code of ['A', 'B', 'C', 'D']) fakes.last.qr(code);
    expect(events.filter((e) => e.type === 'provider.qr')).toHaveLength(3);
    expect(events.at(-1)).toEqual({ type: 'provider.failed', error: expect.stringContaining('3 QR codes were shown and none was scanned') });
    expect(fakes.last.ended).toBe(true);
    fakes.last.qr('E');
    expect(events.filter((e) => e.type === 'provider.qr')).toHaveLength(3);
  });

  it('builds a new socket for every start and ignores whatever the closed one still says', async () => {
    const { s, fakes, events } = session('fresh-socket');
    await s.start();
    const first = fakes.last;
    first.close(DisconnectReason.restartRequired);
    expect(events.at(-1)).toMatchObject({ type: 'provider.disconnected', retryable: true, immediate: true });
    await s.start();
    expect(fakes.sockets).toHaveLength(2);
    expect(fakes.last).not.toBe(first);
    const before = events.length;
    first.open();
    first.close(DisconnectReason.loggedOut);
    expect(events).toHaveLength(before);
    expect(first.listeners('connection.update')).toBe(0);
  });

  it('ends a socket it still holds before opening the next, so one account never has two', async () => {
    const { s, fakes } = session('one-socket');
    await s.start();
    fakes.last.open();
    const first = fakes.last;
    await s.start();
    expect(first.ended).toBe(true);
    expect(first.listeners('messages.upsert')).toBe(0);
    expect(fakes.sockets).toHaveLength(2);
  });

  it('does not log out on a 401 that follows a 515 while pairing, but does on a plain 401', async () => {
    const { s, fakes, events } = session('pairing-401');
    await s.start();
    fakes.last.qr('QR');
    fakes.last.close(DisconnectReason.restartRequired);
    await s.start();
    fakes.last.close(DisconnectReason.loggedOut);
    expect(events.at(-1)).toMatchObject({ type: 'provider.disconnected', immediate: true });
    await s.start();
    fakes.last.close(DisconnectReason.loggedOut);
    expect(events.at(-1)).toEqual({ type: 'provider.logged-out' });
  });

  it('takes notify and append upserts, skips its own echoes, and hands the owner\'s phone messages over as fromMe', async () => {
    const { s, fakes, messages } = session('inbound');
    await s.start();
    fakes.last.open();
    fakes.last.upsert([{ key: { remoteJid: ALICE, fromMe: false, id: 'LIVE-1' }, message: { conversation: 'hi' }, messageTimestamp: 1_700_000_000 }], 'notify');
    fakes.last.upsert([{ key: { remoteJid: ALICE, fromMe: false, id: 'OFFLINE-1' }, message: { conversation: 'while you were away' } }], 'append');
    const { providerMessageId } = await s.send(ALICE, 'hello back');
    fakes.last.upsert([{ key: { remoteJid: ALICE, fromMe: true, id: 'PHONE-1' }, message: { conversation: 'typed on the phone' } }], 'append');
    await eventually(() => messages.length, (n) => n === 3);
    expect(messages.map((m) => [m.providerMessageId, m.text, m.fromMe])).toEqual([
      ['LIVE-1', 'hi', false], ['OFFLINE-1', 'while you were away', false], ['PHONE-1', 'typed on the phone', true],
    ]);
    expect(fakes.last.sent).toEqual([{ jid: ALICE, content: { text: 'hello back' }, messageId: providerMessageId }]);
  });

  it('hands messages over one at a time in arrival order, retrying one whose store failed', async () => {
    const stored: string[] = [];
    let failures = 1;
    const { s, fakes } = session('retry', {
      onMessage: async (m) => {
        if (m.providerMessageId === 'M-1' && failures-- > 0) throw new Error('store down');
        await new Promise((r) => setTimeout(r, 5));
        stored.push(m.providerMessageId);
      },
    });
    await s.start();
    fakes.last.open();
    fakes.last.upsert(['M-1', 'M-2', 'M-3'].map((id) => ({ key: { remoteJid: ALICE, fromMe: false, id }, message: { conversation: id } })));
    await eventually(() => stored.length, (n) => n === 3, 5000);
    expect(stored).toEqual(['M-1', 'M-2', 'M-3']);
  });

  it('saves credentials on creds.update, so a restarted session reconnects with them instead of a new QR', async () => {
    const { s, fakes } = session('creds-bot');
    await s.start();
    const creds = fakes.last.config.auth.creds;
    creds.registered = true;
    creds.me = { id: '4915100000000:7@s.whatsapp.net' };
    fakes.last.emit('creds.update', { registered: true });
    await eventually(async () => (await loadMongoAuthState(t.store.authState, 'creds-bot')).state.creds.registered, (r) => r);
    const reloaded = await loadMongoAuthState(t.store.authState, 'creds-bot');
    expect(Buffer.from(reloaded.state.creds.noiseKey.private)).toEqual(Buffer.from(creds.noiseKey.private));
    const again = session('creds-bot');
    await again.s.start();
    expect(again.fakes.last.config.auth.creds.me?.id).toBe('4915100000000:7@s.whatsapp.net');
  });

  it('asks for a pairing code only once the socket shows QR codes, with the digits of the number', async () => {
    const { s, fakes } = session('pair-code');
    await s.start();
    const asked = s.requestPairingCode?.('+49 151');
    await expect(asked).rejects.toSatisfy((err: unknown) => isParleyError(err, 'VALIDATION_FAILED'));
    const early = s.requestPairingCode?.('+4915100000000');
    setTimeout(() => fakes.last.qr('QR'), 20);
    await expect(early).resolves.toBe('ABCD1234');
    expect(fakes.last.pairingRequests).toEqual(['4915100000000']);
  });

  it('refuses a pairing code while the connection is not up, and for an account already linked', async () => {
    const { s, fakes } = session('pair-refused');
    await expect(s.requestPairingCode?.('4915100000000')).rejects.toSatisfy((err: unknown) => isParleyError(err, 'PAIRING_NOT_READY'));
    await s.start();
    await expect(s.requestPairingCode?.('4915100000000')).rejects.toSatisfy((err: unknown) => isParleyError(err, 'PAIRING_NOT_READY'));
    fakes.last.config.auth.creds.registered = true;
    await expect(s.requestPairingCode?.('4915100000000')).rejects.toSatisfy((err: unknown) => isParleyError(err, 'ALREADY_PAIRED'));
  });

  it('knows an account linked by QR scan (me set, registered false) as linked, and one with a pairing code under way as not yet', async () => {
    const { s, fakes } = session('pair-linked');
    await s.start();
    const creds = fakes.last.config.auth.creds;
    creds.me = { id: '4915100000000:3@s.whatsapp.net' };
    await expect(s.requestPairingCode?.('4915100000000')).rejects.toSatisfy((err: unknown) => isParleyError(err, 'ALREADY_PAIRED'));
    creds.pairingCode = 'ABCD1234';
    fakes.last.qr('QR');
    await expect(s.requestPairingCode?.('4915100000000')).resolves.toBe('ABCD1234');
  });

  it('logs out a linked bot on a 401 after a 515 when it showed no QR code since it last connected', async () => {
    const { s, fakes, events } = session('linked-401');
    await s.start();
    fakes.last.open();
    fakes.last.close(DisconnectReason.restartRequired);
    await s.start();
    fakes.last.close(DisconnectReason.loggedOut);
    expect(events.at(-1)).toEqual({ type: 'provider.logged-out' });
  });

  it('answers WhatsApp\'s retry receipts with what it sent, from memory or history', async () => {
    const { s, fakes } = session('get-message', { sentText: () => Promise.resolve('from history') });
    await s.start();
    fakes.last.open();
    const { providerMessageId } = await s.send('4915111111111', 'just sent');
    const getMessage = fakes.last.config.getMessage;
    expect(await getMessage?.({ id: providerMessageId, remoteJid: ALICE })).toEqual({ conversation: 'just sent' });
    expect(await getMessage?.({ id: 'OLDER', remoteJid: ALICE })).toEqual({ conversation: 'from history' });
  });

  it('refuses to send without an open connection, and sends presence only while connected', async () => {
    const { s, fakes } = session('offline-send');
    await s.start();
    await expect(s.send(ALICE, 'x')).rejects.toSatisfy((err: unknown) => isParleyError(err, 'CONFLICT'));
    await s.sendPresence?.(ALICE, 'composing');
    fakes.last.open();
    await s.sendPresence?.(ALICE, 'composing');
    await s.sendPresence?.(ALICE, 'paused');
    expect(fakes.last.presences).toEqual([{ type: 'composing', jid: ALICE }, { type: 'paused', jid: ALICE }]);
  });
});
