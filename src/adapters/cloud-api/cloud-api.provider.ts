import type { CloudApiAccount } from '../../domain/cloud-api-account.ts';
import { CLOUD_API_TEXT_CHARS } from '../../domain/queue-limits.ts';
import type { Logger } from '../../logging/logger.ts';
import { SendRefused } from '../../ports/provider.port.ts';
import type { ProviderFactory, ProviderHandlers, ProviderSession } from '../../ports/provider.port.ts';
import { GraphError } from './graph-client.ts';
import type { GraphClient } from './graph-client.ts';

/** Provider kind of WhatsApp's Cloud API. */
export const CLOUD_API_PROVIDER = 'cloud-api';

export interface CloudApiProviderOptions {
  /** A bot's account: its settings and sealed secrets; `null` when they are missing. */
  readonly account: (botId: string, settings: Readonly<Record<string, unknown>>) => Promise<CloudApiAccount | null>;
  readonly graph: (account: CloudApiAccount) => GraphClient;
  readonly logger: Logger;
}

/** What an operator does about a Graph error that stops the bot. */
function stopReason(botId: string, err: GraphError): string {
  if (err.kind === 'auth') return `Meta refused the access token (${err.message}); set a valid one with PATCH /v1/bots/${botId} {"cloudApi":{"accessToken":"…"}} and start the bot again`;
  return `Meta refused the account (${err.message}); check cloudApi.phoneNumberId and the app's permissions, then start the bot again`;
}

/**
 * Sessions of the `cloud-api` provider. There is no connection to keep: a session checks the
 * account against Graph when it starts (connected once Graph answers for the phone number), sends
 * through Graph, and turns Graph's answers into what the outbox and the bot machine act on. An
 * expired or revoked token stops the bot with the reason; rate limits wait as long as Meta asks;
 * refusals no retry can change (the 24-hour window closed, an invalid number) fail the message.
 * Inbound messages arrive on Meta's webhook, not through a session.
 */
export function createCloudApiProvider(options: CloudApiProviderOptions): ProviderFactory {
  return (botId, settings, handlers) => cloudApiSession(botId, settings, handlers, options);
}

function cloudApiSession(botId: string, settings: Readonly<Record<string, unknown>>, handlers: ProviderHandlers, options: CloudApiProviderOptions): ProviderSession {
  const log = options.logger.child({ scope: 'cloud-api', botId });
  let generation = 0;
  let graph: GraphClient | null = null;

  async function connect(mine: number): Promise<void> {
    const account = await options.account(botId, settings);
    if (mine !== generation) return;
    if (account === null) {
      handlers.onEvent({ type: 'provider.failed', error: `the Cloud API account is incomplete (phoneNumberId, accessToken, appSecret, verifyToken); set it with PATCH /v1/bots/${botId} {"cloudApi":{…}}` });
      return;
    }
    const client = options.graph(account);
    try {
      await client.phoneNumber();
    } catch (err) {
      if (mine !== generation) return;
      if (!(err instanceof GraphError)) throw err;
      if (err.kind === 'auth' || err.kind === 'permanent') handlers.onEvent({ type: 'provider.failed', error: stopReason(botId, err) });
      else handlers.onEvent({ type: 'provider.disconnected', reason: `Graph API unavailable (${err.message})`, retryable: true });
      return;
    }
    if (mine !== generation) return;
    graph = client;
    handlers.onEvent({ type: 'provider.connected' });
  }

  return {
    start() {
      const mine = ++generation;
      graph = null;
      // Reported after start() returns, as every provider does.
      setImmediate(() => {
        if (mine !== generation) return;
        handlers.onEvent({ type: 'provider.connecting' });
        connect(mine).catch((err: unknown) => {
          log.error({ err }, 'Cloud API account check failed');
          if (mine === generation) handlers.onEvent({ type: 'provider.disconnected', reason: 'account check failed', retryable: true });
        });
      });
      return Promise.resolve();
    },

    stop() {
      generation += 1;
      graph = null;
      return Promise.resolve();
    },

    async send(to, text) {
      const client = graph;
      if (client === null) throw new Error(`bot ${botId} is not connected to the Cloud API`);
      if (text.length > CLOUD_API_TEXT_CHARS) throw new SendRefused(`the Cloud API sends at most ${CLOUD_API_TEXT_CHARS} characters per message`, { retryable: false });
      try {
        const { wamid } = await client.sendText(to.replace(/^\+/, ''), text);
        return { providerMessageId: wamid };
      } catch (err) {
        if (!(err instanceof GraphError)) throw err;
        if (err.kind === 'permanent') throw new SendRefused(err.message, { retryable: false, cause: err });
        if (err.kind === 'rate-limited') throw new SendRefused(`rate limited by Meta: ${err.message}`, { retryable: true, retryAfterMs: err.retryAfterMs, cause: err });
        if (err.kind === 'auth') handlers.onEvent({ type: 'provider.failed', error: stopReason(botId, err) });
        throw err;
      }
    },
  };
}
