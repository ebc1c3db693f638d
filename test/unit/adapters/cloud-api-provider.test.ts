import { describe, expect, it } from 'vitest';
import { CLOUD_API_PROVIDER, createCloudApiProvider } from '../../../src/adapters/cloud-api/cloud-api.provider.ts';
import { GraphError } from '../../../src/adapters/cloud-api/graph-client.ts';
import type { GraphClient, GraphErrorKind } from '../../../src/adapters/cloud-api/graph-client.ts';
import type { CloudApiAccount } from '../../../src/domain/cloud-api-account.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { SendRefused } from '../../../src/ports/provider.port.ts';
import type { ProviderEvent } from '../../../src/ports/provider.port.ts';
import { eventually } from '../../support/runtime-harness.ts';

const ACCOUNT: CloudApiAccount = {
  phoneNumberId: '123456789', accessToken: 'token', appSecret: 'secret', verifyToken: 'verify', graphBaseUrl: 'http://graph.test', apiVersion: 'v26.0',
};
const graphError = (kind: GraphErrorKind, message: string, retryAfterMs: number | null = null) => new GraphError(message, { kind, retryAfterMs });

function session(graph: Partial<GraphClient>, account: CloudApiAccount | null = ACCOUNT) {
  const events: ProviderEvent[] = [];
  const client: GraphClient = {
    phoneNumber: async () => ({ displayPhoneNumber: '+1 555 0100', verifiedName: 'Shop' }),
    sendText: async () => ({ wamid: 'wamid.OK' }),
    downloadMedia: async () => (async function* empty() {})(),
    ...graph,
  };
  const factory = createCloudApiProvider({ account: async () => account, graph: () => client, logger: createLogger('silent') });
  const s = factory('shop', {}, { onEvent: (e) => void events.push(e), onMessage: async () => {} });
  return { s, events, types: () => events.map((e) => e.type) };
}

describe(`the ${CLOUD_API_PROVIDER} session`, () => {
  it('connects once Graph answers for the phone number with the token', async () => {
    const { s, types } = session({});
    await s.start();
    await eventually(types, (t) => t.includes('provider.connected'));
    expect(types()).toEqual(['provider.connecting', 'provider.connected']);
    await expect(s.send('+16315551234', 'hi')).resolves.toEqual({ providerMessageId: 'wamid.OK' });
  });

  it('fails with what to do when the account is incomplete or the token is refused', async () => {
    const missing = session({}, null);
    await missing.s.start();
    await eventually(missing.types, (t) => t.includes('provider.failed'));
    expect(missing.events.at(-1)).toMatchObject({ error: expect.stringContaining('PATCH /v1/bots/shop') });

    const expired = session({ phoneNumber: async () => { throw graphError('auth', '190 Error validating access token'); } });
    await expired.s.start();
    await eventually(expired.types, (t) => t.includes('provider.failed'));
    expect(expired.events.at(-1)).toMatchObject({ error: expect.stringMatching(/access token.*190.*accessToken/) });
  });

  it('retries the account check with backoff when Graph is unavailable', async () => {
    const { s, events, types } = session({ phoneNumber: async () => { throw graphError('transient', 'HTTP 503'); } });
    await s.start();
    await eventually(types, (t) => t.includes('provider.disconnected'));
    expect(events.at(-1)).toMatchObject({ type: 'provider.disconnected', retryable: true });
  });

  it('turns Graph\'s answers to a send into what the outbox acts on', async () => {
    const answers: Error[] = [
      graphError('permanent', '131047 Re-engagement message'),
      graphError('rate-limited', '130429 Rate limit hit', 7000),
      graphError('transient', 'HTTP 500'),
      graphError('auth', '190 Error validating access token'),
    ];
    const { s, events, types } = session({ sendText: async () => { throw answers.shift() ?? new Error('none'); } });
    await s.start();
    await eventually(types, (t) => t.includes('provider.connected'));
    const refusal = async () => s.send('16315551234', 'hi').catch((err: unknown) => err);
    expect(await refusal()).toMatchObject({ retryable: false, message: expect.stringContaining('131047') });
    const limited = await refusal();
    expect(limited).toBeInstanceOf(SendRefused);
    expect(limited).toMatchObject({ retryable: true, retryAfterMs: 7000 });
    expect(await refusal()).toBeInstanceOf(GraphError);
    expect(await refusal()).toBeInstanceOf(GraphError);
    expect(events.at(-1)).toMatchObject({ type: 'provider.failed', error: expect.stringContaining('access token') });
  });

  it('refuses a text longer than one Cloud API message without calling Graph', async () => {
    let calls = 0;
    const { s, types } = session({ sendText: async () => ((calls += 1), { wamid: 'w' }) });
    await s.start();
    await eventually(types, (t) => t.includes('provider.connected'));
    await expect(s.send('1', 'x'.repeat(4097))).rejects.toMatchObject({ retryable: false });
    expect(calls).toBe(0);
  });
});
