import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { CLOUD_API_DEFAULTS } from '../../domain/cloud-api-account.ts';
import { Nullable } from './common.dto.ts';

const fields = {
  phoneNumberId: Type.String({ pattern: '^[0-9]{1,32}$', description: 'The WhatsApp phone number id from the Meta app (digits)' }),
  accessToken: Type.String({ minLength: 1, maxLength: 4096, description: 'A permanent (system user) access token; write-only' }),
  appSecret: Type.String({ minLength: 1, maxLength: 512, description: 'The Meta app secret that signs webhook payloads; write-only' }),
  verifyToken: Type.String({ minLength: 1, maxLength: 512, description: 'The token Meta echoes when it verifies the webhook URL; write-only' }),
  graphBaseUrl: Type.String({ maxLength: 2048, pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$', description: `Graph API base URL (default ${CLOUD_API_DEFAULTS.graphBaseUrl})` }),
  apiVersion: Type.String({ pattern: '^v[0-9]{1,3}\\.[0-9]{1,2}$', description: `Graph API version (default ${CLOUD_API_DEFAULTS.apiVersion})` }),
};

/** `cloudApi` of `POST /v1/bots` for `provider: "cloud-api"`: the account and its secrets. */
export const CloudApiCredentials = Type.Object(
  {
    phoneNumberId: fields.phoneNumberId,
    accessToken: fields.accessToken,
    appSecret: fields.appSecret,
    verifyToken: fields.verifyToken,
    graphBaseUrl: Type.Optional(fields.graphBaseUrl),
    apiVersion: Type.Optional(fields.apiVersion),
  },
  { additionalProperties: false },
);
export type CloudApiCredentials = Static<typeof CloudApiCredentials>;

/** `cloudApi` of `PATCH /v1/bots/:id`: fields to replace (a rotated token); `null` restores a default. */
export const CloudApiPatch = Type.Object(
  {
    phoneNumberId: Type.Optional(fields.phoneNumberId),
    accessToken: Type.Optional(fields.accessToken),
    appSecret: Type.Optional(fields.appSecret),
    verifyToken: Type.Optional(fields.verifyToken),
    graphBaseUrl: Type.Optional(Nullable(fields.graphBaseUrl)),
    apiVersion: Type.Optional(Nullable(fields.apiVersion)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type CloudApiPatch = Static<typeof CloudApiPatch>;

/** The `cloudApi` settings section as stored and shown: never a secret. */
export const CloudApiSettings = Type.Object(
  {
    phoneNumberId: fields.phoneNumberId,
    graphBaseUrl: Type.Optional(fields.graphBaseUrl),
    apiVersion: Type.Optional(fields.apiVersion),
  },
  { additionalProperties: false },
);
export type CloudApiSettings = Static<typeof CloudApiSettings>;

/** Answer to a verified notification on Meta's webhook: what it brought. */
export const CloudWebhookReceived = Type.Object(
  {
    messages: Type.Integer({ minimum: 0, description: 'Messages stored (a replay counts, stored once)' }),
    statuses: Type.Integer({ minimum: 0, description: 'Delivery statuses recorded' }),
    skipped: Type.Integer({ minimum: 0, description: 'Changes for another phone number, other fields, malformed parts' }),
  },
  { $id: 'CloudWebhookReceived' },
);
export type CloudWebhookReceived = Static<typeof CloudWebhookReceived>;
