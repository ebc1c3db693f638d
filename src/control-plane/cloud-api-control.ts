import type { CloudApiAccount, CloudApiSecrets } from '../domain/cloud-api-account.ts';
import { ParleyError } from '../domain/errors.ts';
import type { CloudApiWebhooks } from '../ports/cloud-api.port.ts';
import type { Store } from '../ports/store.port.ts';
import { readCloudApiAccount } from '../runtime/bots/cloud-api-credentials.ts';
import type { ParleyRuntime } from '../runtime/parley-runtime.ts';
import type { BotCreateBody } from './dto/bot.dto.ts';
import type { CloudApiPatch, CloudApiSettings, CloudWebhookReceived } from './dto/cloud-api.dto.ts';

/** Provider kind of WhatsApp's Cloud API. */
export const CLOUD_API_PROVIDER = 'cloud-api';

export const cloudApiMisplaced = (): ParleyError =>
  ParleyError.of('VALIDATION_FAILED', { field: 'body.cloudApi', problem: 'applies only to provider cloud-api' }, { details: { field: 'cloudApi' } });

/**
 * A create request's Cloud API account, split into what the settings keep and the secrets kept
 * sealed apart; required for `cloud-api`, refused for any other provider.
 */
export function cloudApiOfCreate(request: BotCreateBody): { settings: CloudApiSettings; secrets: CloudApiSecrets } | null {
  const body = request.cloudApi;
  if (request.provider !== CLOUD_API_PROVIDER) {
    if (body !== undefined) throw cloudApiMisplaced();
    return null;
  }
  if (body === undefined) {
    throw ParleyError.of('VALIDATION_FAILED', { field: 'body.cloudApi', problem: 'is required for provider cloud-api (phoneNumberId, accessToken, appSecret, verifyToken)' }, { details: { field: 'cloudApi' } });
  }
  const { accessToken, appSecret, verifyToken, phoneNumberId, graphBaseUrl, apiVersion } = body;
  return {
    settings: { phoneNumberId, ...(graphBaseUrl === undefined ? {} : { graphBaseUrl }), ...(apiVersion === undefined ? {} : { apiVersion }) },
    secrets: { accessToken, appSecret, verifyToken },
  };
}

/** The secrets a patch replaces. */
export function secretsOf(patch: CloudApiPatch): Partial<CloudApiSecrets> {
  const { accessToken, appSecret, verifyToken } = patch;
  return {
    ...(accessToken === undefined ? {} : { accessToken }),
    ...(appSecret === undefined ? {} : { appSecret }),
    ...(verifyToken === undefined ? {} : { verifyToken }),
  };
}


export interface CloudWebhookDeps {
  readonly store: Pick<Store, 'bots' | 'authState'>;
  readonly webhooks: CloudApiWebhooks | undefined;
  readonly runtime: Pick<ParleyRuntime, 'receive' | 'recordReceipt'>;
}

/**
 * Meta's webhook of a Cloud API bot. The GET echoes `hub.challenge` when `hub.verify_token` is the
 * bot's; the POST stores every message of a correctly signed notification (in order, each durable
 * before the next) and records its receipts before it answers, so Meta's retry of an answer that
 * did not arrive stores nothing twice (messages are deduplicated by wamid).
 */
export function createCloudWebhookControl(deps: CloudWebhookDeps) {
  async function accountOf(botId: string): Promise<{ account: CloudApiAccount; webhooks: CloudApiWebhooks }> {
    const record = await deps.store.bots.get(botId);
    if (record === null || record.provider !== CLOUD_API_PROVIDER || deps.webhooks === undefined) {
      throw ParleyError.of('NOT_FOUND', { resource: `Cloud API bot ${botId}` });
    }
    const account = await readCloudApiAccount(deps.store.authState, botId, record.settings);
    if (account === null) throw ParleyError.of('CONFLICT', { reason: `Cloud API bot ${botId} has no complete account; set cloudApi with PATCH /v1/bots/${botId}` });
    return { account, webhooks: deps.webhooks };
  }

  return {
    async verifyCloudWebhook(botId: string, query: { mode?: string; token?: string; challenge?: string }): Promise<string> {
      const { account, webhooks } = await accountOf(botId);
      if (query.mode !== 'subscribe') throw ParleyError.of('WEBHOOK_VERIFICATION_FAILED', { reason: 'hub.mode is not subscribe' });
      if (query.token === undefined || !webhooks.verifyTokenMatches(account, query.token)) throw ParleyError.of('WEBHOOK_VERIFICATION_FAILED', { reason: 'hub.verify_token does not match' });
      // Echoed only as digits (Meta's challenges are), so the answer can never carry markup.
      if (query.challenge === undefined || !/^[0-9]{1,64}$/.test(query.challenge)) {
        throw ParleyError.of('VALIDATION_FAILED', { field: 'query.hub.challenge', problem: 'must be 1-64 digits' }, { details: { field: 'hub.challenge' } });
      }
      return query.challenge;
    },

    async receiveCloudWebhook(botId: string, rawBody: Uint8Array, signature: string | undefined): Promise<CloudWebhookReceived> {
      const { account, webhooks } = await accountOf(botId);
      const opened = await webhooks.open(botId, account, rawBody, signature);
      if (opened.outcome === 'bad-signature') throw ParleyError.of('WEBHOOK_SIGNATURE_INVALID');
      if (opened.outcome === 'malformed') throw ParleyError.of('MALFORMED_PAYLOAD', { problem: opened.problem });
      const { messages, statuses, skipped } = opened.notification;
      for (const message of messages) await deps.runtime.receive(botId, message);
      for (const status of statuses) await deps.runtime.recordReceipt(botId, status);
      return { messages: messages.length, statuses: statuses.length, skipped };
    },
  };
}
