import { DisconnectReason } from 'baileys';
import { describe, expect, it } from 'vitest';
import { decideClose } from '../../../src/adapters/baileys/disconnect-policy.ts';
import type { CloseContext } from '../../../src/adapters/baileys/disconnect-policy.ts';

const close = (statusCode: number | null, more: Partial<CloseContext> = {}): CloseContext => ({ statusCode, message: 'closed', pairing: false, previousStatusCode: null, ...more });

describe('what each WhatsApp Web disconnect reason does', () => {
  it.each([
    ['restart required (515)', DisconnectReason.restartRequired, { type: 'provider.disconnected', retryable: true, immediate: true }],
    ['logged out (401)', DisconnectReason.loggedOut, { type: 'provider.logged-out' }],
    ['forbidden (403)', DisconnectReason.forbidden, { type: 'provider.failed', error: expect.stringContaining('forbidden') }],
    ['connection replaced (440)', DisconnectReason.connectionReplaced, { type: 'provider.failed', error: expect.stringContaining('another client') }],
    ['multi-device mismatch (411)', DisconnectReason.multideviceMismatch, { type: 'provider.failed', error: expect.stringContaining('pair the bot again') }],
    ['timed out or lost (408)', DisconnectReason.timedOut, { type: 'provider.disconnected', retryable: true }],
    ['connection closed (428)', DisconnectReason.connectionClosed, { type: 'provider.disconnected', retryable: true }],
    ['bad session (500)', DisconnectReason.badSession, { type: 'provider.disconnected', retryable: true }],
    ['service unavailable (503)', DisconnectReason.unavailableService, { type: 'provider.disconnected', retryable: true }],
    ['no status at all', null, { type: 'provider.disconnected', retryable: true }],
  ])('%s', (_name, status, expected) => {
    const decision = decideClose(close(status));
    expect(decision).toMatchObject(expected);
    // Only WhatsApp's own request for a fresh socket skips the backoff.
    if (decision.type === 'provider.disconnected' && status !== DisconnectReason.restartRequired) expect(decision.immediate).toBeUndefined();
  });

  it('keeps the link made by a scan: a 401 right after a 515 while pairing reconnects at once instead of logging out', () => {
    expect(decideClose(close(DisconnectReason.loggedOut, { pairing: true, previousStatusCode: DisconnectReason.restartRequired }))).toMatchObject({ type: 'provider.disconnected', immediate: true });
  });

  it('logs out on a 401 after a 515 once the account is linked, and on a 401 while pairing after any other close', () => {
    expect(decideClose(close(DisconnectReason.loggedOut, { pairing: false, previousStatusCode: DisconnectReason.restartRequired }))).toEqual({ type: 'provider.logged-out' });
    expect(decideClose(close(DisconnectReason.loggedOut, { pairing: true, previousStatusCode: DisconnectReason.timedOut }))).toEqual({ type: 'provider.logged-out' });
  });

  it('names the status and Baileys\' message in the reason the bot shows', () => {
    expect(decideClose({ statusCode: 428, message: 'Connection Closed', pairing: false, previousStatusCode: null })).toMatchObject({ reason: 'connection closed (428: Connection Closed)' });
  });
});
