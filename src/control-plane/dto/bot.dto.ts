import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { MEDIA_KINDS } from '../../domain/media-kind.ts';
import { MEDIA_PROCESSOR_NAMES } from '../../domain/media-pools.ts';
import { QUEUE_LIMIT_CEILINGS, TRUNCATION_MARKER } from '../../domain/queue-limits.ts';
import { BOT_ID_PATTERN, Nullable, StringEnum, Timestamp } from './common.dto.ts';
import { CloudApiCredentials, CloudApiPatch, CloudApiSettings } from './cloud-api.dto.ts';

/** Provider kinds a bot can be created with. */
export const PROVIDER_KINDS = ['simulator', 'baileys', 'cloud-api'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

const limitSchemas = {
  maxMessages: Type.Integer({ minimum: 1, maximum: QUEUE_LIMIT_CEILINGS.maxMessages }),
  maxCharacters: Type.Integer({ minimum: 1, maximum: QUEUE_LIMIT_CEILINGS.maxCharacters }),
  maxAgeDays: Type.Integer({ minimum: 1, maximum: QUEUE_LIMIT_CEILINGS.maxAgeDays }),
  // A cut message must still have room for the marker that says it was cut.
  maxCharactersPerMessage: Type.Integer({ minimum: TRUNCATION_MARKER.length + 1, maximum: QUEUE_LIMIT_CEILINGS.maxCharactersPerMessage }),
};

/** Queue limit overrides; omitted limits keep their defaults. */
export const QueueSettings = Type.Object(
  {
    maxMessages: Type.Optional(limitSchemas.maxMessages),
    maxCharacters: Type.Optional(limitSchemas.maxCharacters),
    maxAgeDays: Type.Optional(limitSchemas.maxAgeDays),
    maxCharactersPerMessage: Type.Optional(limitSchemas.maxCharactersPerMessage),
  },
  { additionalProperties: false },
);
export type QueueSettings = Static<typeof QueueSettings>;

const aiSchemas = {
  enabled: Type.Boolean({ description: 'Whether the bot answers its correspondents with AI replies' }),
  model: Type.String({ minLength: 1, maxLength: 200, description: 'Chat model; default OPENAI_REPLY_MODEL' }),
  systemPrompt: Type.String({ maxLength: 20_000, description: 'Instructions the model reads before the conversation; a built-in one when empty' }),
  temperature: Type.Number({ minimum: 0, maximum: 2, description: 'Sampling temperature; the model\'s default when omitted' }),
  historyMessages: Type.Integer({ minimum: 1, maximum: 500, description: 'Most messages of the conversation a reply sees (default 30)' }),
  historyChars: Type.Integer({ minimum: 100, maximum: 500_000, description: 'Most characters of the conversation a reply sees, newest first (default 12000)' }),
  debounceMs: Type.Integer({ minimum: 0, maximum: 120_000, description: 'Quiet time after a message before the burst is answered (default 1500)' }),
  maxWaitMs: Type.Integer({ minimum: 0, maximum: 600_000, description: 'Longest a burst waits for quiet, from its first message; at least debounceMs (default 10000)' }),
  mediaWaitMs: Type.Integer({ minimum: 0, maximum: 600_000, description: 'Longest a reply waits for earlier media of the burst to be processed (default 60000)' }),
  pauseMs: Type.Integer({ minimum: 1_000, maximum: 30 * 86_400_000, description: 'How long the AI stays quiet in a conversation after the account owner wrote in it from the phone (default 30 minutes)' }),
  typingMaxMs: Type.Integer({ minimum: 0, maximum: 30_000, description: 'Longest typing indication before a reply, proportional to its length; 0: none (default 3000)' }),
  splitOnBlankLines: Type.Boolean({ description: 'Send a reply as several messages, one per paragraph (default false)' }),
  groups: Type.Boolean({ description: 'Answer in group chats too (default false)' }),
};

/** AI reply settings; omitted fields keep their defaults. */
export const AiSettings = Type.Object(
  {
    enabled: aiSchemas.enabled,
    model: Type.Optional(aiSchemas.model),
    systemPrompt: Type.Optional(aiSchemas.systemPrompt),
    temperature: Type.Optional(aiSchemas.temperature),
    historyMessages: Type.Optional(aiSchemas.historyMessages),
    historyChars: Type.Optional(aiSchemas.historyChars),
    debounceMs: Type.Optional(aiSchemas.debounceMs),
    maxWaitMs: Type.Optional(aiSchemas.maxWaitMs),
    mediaWaitMs: Type.Optional(aiSchemas.mediaWaitMs),
    pauseMs: Type.Optional(aiSchemas.pauseMs),
    typingMaxMs: Type.Optional(aiSchemas.typingMaxMs),
    splitOnBlankLines: Type.Optional(aiSchemas.splitOnBlankLines),
    groups: Type.Optional(aiSchemas.groups),
  },
  { additionalProperties: false },
);
export type AiSettings = Static<typeof AiSettings>;

const mediaSchemas = {
  kinds: Type.Array(StringEnum(MEDIA_KINDS), {
    uniqueItems: true,
    maxItems: MEDIA_KINDS.length,
    description: 'Media kinds this bot turns into text; a message of another kind stays in the conversation as a note that it was not processed. Omitted: every kind.',
  }),
  // Bounded before the pattern runs; the pattern itself is linear (each part starts with "-").
  language: Type.String({
    maxLength: 35,
    pattern: '^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$',
    description: 'BCP-47 language hint for the media processors, e.g. "de" or "pt-BR"',
  }),
  pools: Type.Array(
    Type.Object(
      {
        name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$', description: 'Unique within the bot' }),
        kinds: Type.Optional(Type.Array(StringEnum(MEDIA_KINDS), { uniqueItems: true, maxItems: MEDIA_KINDS.length, description: 'Kinds this pool takes; omitted or empty: any' })),
        mimetypes: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9.+-]+/(\\*|[A-Za-z0-9.+-]+)$', maxLength: 100 }), { maxItems: 50, description: 'Exact (`audio/ogg`) or family (`text/*`); omitted or empty: any' })),
        processor: StringEnum(MEDIA_PROCESSOR_NAMES),
        concurrency: Type.Integer({ minimum: 1, maximum: 64, description: 'Jobs of this bot the pool processes at once per instance' }),
      },
      { additionalProperties: false },
    ),
    {
      minItems: 1,
      maxItems: 20,
      description: 'The bot\'s own worker pools, replacing the configured ones for its media: routed by kind, then exact mime type, then family; exactly one pool without kinds and mime types catches the rest. Omitted: the configured pools.',
    },
  ),
};

/** Media processing settings. */
export const MediaSettings = Type.Object(
  { kinds: Type.Optional(mediaSchemas.kinds), language: Type.Optional(mediaSchemas.language), pools: Type.Optional(mediaSchemas.pools) },
  { additionalProperties: false, description: 'Media processing settings' },
);
export type MediaSettings = Static<typeof MediaSettings>;

/** `POST /v1/bots`. */
export const BotCreateBody = Type.Object(
  {
    id: Type.String({ pattern: BOT_ID_PATTERN, description: 'Lower-case letters, digits and dashes, 1–64 characters' }),
    provider: StringEnum(PROVIDER_KINDS),
    queue: Type.Optional(QueueSettings),
    ai: Type.Optional(AiSettings),
    media: Type.Optional(MediaSettings),
    cloudApi: Type.Optional(CloudApiCredentials),
  },
  { $id: 'BotCreateBody', additionalProperties: false },
);
export type BotCreateBody = Static<typeof BotCreateBody>;

/**
 * `PATCH /v1/bots/:id`, a JSON merge patch (RFC 7396) of the settings: a section given merges into
 * the current one, a field set to `null` goes back to its default, and a section set to `null` is
 * removed. Applied live: running conversations take new queue limits at once.
 */
export const BotPatchBody = Type.Object(
  {
    queue: Type.Optional(Nullable(Type.Object(
      {
        maxMessages: Type.Optional(Nullable(limitSchemas.maxMessages)),
        maxCharacters: Type.Optional(Nullable(limitSchemas.maxCharacters)),
        maxAgeDays: Type.Optional(Nullable(limitSchemas.maxAgeDays)),
        maxCharactersPerMessage: Type.Optional(Nullable(limitSchemas.maxCharactersPerMessage)),
      },
      { additionalProperties: false },
    ))),
    ai: Type.Optional(Nullable(Type.Object(
      {
        enabled: Type.Optional(aiSchemas.enabled),
        model: Type.Optional(Nullable(aiSchemas.model)),
        systemPrompt: Type.Optional(Nullable(aiSchemas.systemPrompt)),
        temperature: Type.Optional(Nullable(aiSchemas.temperature)),
        historyMessages: Type.Optional(Nullable(aiSchemas.historyMessages)),
        historyChars: Type.Optional(Nullable(aiSchemas.historyChars)),
        debounceMs: Type.Optional(Nullable(aiSchemas.debounceMs)),
        maxWaitMs: Type.Optional(Nullable(aiSchemas.maxWaitMs)),
        mediaWaitMs: Type.Optional(Nullable(aiSchemas.mediaWaitMs)),
        pauseMs: Type.Optional(Nullable(aiSchemas.pauseMs)),
        typingMaxMs: Type.Optional(Nullable(aiSchemas.typingMaxMs)),
        splitOnBlankLines: Type.Optional(Nullable(aiSchemas.splitOnBlankLines)),
        groups: Type.Optional(Nullable(aiSchemas.groups)),
      },
      { additionalProperties: false },
    ))),
    media: Type.Optional(Nullable(Type.Object(
      {
        kinds: Type.Optional(Nullable(mediaSchemas.kinds)),
        language: Type.Optional(Nullable(mediaSchemas.language)),
        // A list is replaced whole (RFC 7396); null goes back to the configured pools.
        pools: Type.Optional(Nullable(mediaSchemas.pools)),
      },
      { additionalProperties: false },
    ))),
    cloudApi: Type.Optional(CloudApiPatch),
  },
  { $id: 'BotPatchBody', additionalProperties: false, minProperties: 1 },
);
export type BotPatchBody = Static<typeof BotPatchBody>;

/** A bot's settings as the API shows them: the known sections, each with its known fields. */
export const BotSettings = Type.Object(
  {
    queue: Type.Optional(QueueSettings),
    ai: Type.Optional(AiSettings),
    media: Type.Optional(MediaSettings),
    cloudApi: Type.Optional(CloudApiSettings),
  },
  { additionalProperties: false },
);
export type BotSettings = Static<typeof BotSettings>;

/** The instance hosting a bot and its lease; the instance renews the lease while it hosts the bot. */
export const BotOwnerView = Type.Object(
  {
    instanceId: Type.String({ description: 'The hosting instance (its INSTANCE_ID)' }),
    epoch: Type.Integer({ minimum: 0, description: 'Grows by one every time the bot changes hands' }),
    leaseUntil: Timestamp,
  },
  { description: 'The instance hosting the bot; null while no live instance holds it (being taken over, or not placed)' },
);
export type BotOwnerView = Static<typeof BotOwnerView>;

/**
 * A bot as operators see it: its definition plus what its actors report right now (as the hosting
 * instance last stored it, when another instance hosts the bot).
 */
export const BotView = Type.Object({
  id: Type.String(),
  provider: Type.String(),
  state: Type.String({ description: 'Top-level state of the bot actor, e.g. stopped, connecting, connected, reconnecting, failed' }),
  desiredState: StringEnum(['running', 'stopped'] as const),
  pendingMediaJobs: Type.Integer({ minimum: 0 }),
  queues: Type.Object({
    correspondents: Type.Integer({ minimum: 0 }),
    messages: Type.Integer({ minimum: 0 }),
    placeholders: Type.Integer({ minimum: 0 }),
  }),
  lastError: Type.Optional(Nullable(Type.String())),
  reconnect: Type.Optional(Type.Object({
    attempt: Type.Integer({ minimum: 0, description: 'Reconnects in a row since the last successful connection; the bot fails after BOT_MAX_RECONNECT_ATTEMPTS' }),
    nextAt: Nullable(Timestamp),
    lastDisconnect: Nullable(Type.String({ description: 'Why the connection last dropped' })),
  })),
  settings: Type.Optional(BotSettings),
  owner: Nullable(BotOwnerView),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { $id: 'BotView' });
export type BotView = Static<typeof BotView>;

export const BotList = Type.Object({ bots: Type.Array(BotView) }, { $id: 'BotList' });
export type BotList = Static<typeof BotList>;

/** `GET /v1/bots/:id/qr`: the latest pairing QR; every field `null` when none is waiting to be scanned. */
export const QrView = Type.Object(
  {
    qr: Nullable(Type.String({ description: 'The QR code\'s text, for a terminal or a QR library' })),
    dataUrl: Nullable(Type.String({ description: 'The QR code as a PNG `data:` URL, ready for an <img>' })),
    expiresAt: Nullable(Timestamp),
  },
  { $id: 'QrView' },
);
export type QrView = Static<typeof QrView>;

/** `POST /v1/bots/:id/pairing-code`. */
export const PairingCodeBody = Type.Object(
  { phoneNumber: Type.String({ pattern: '^\\+?[0-9]{6,20}$', description: 'International format, digits only' }) },
  { $id: 'PairingCodeBody', additionalProperties: false },
);
export type PairingCodeBody = Static<typeof PairingCodeBody>;

export const PairingCodeView = Type.Object({ code: Type.String() }, { $id: 'PairingCodeView' });
export type PairingCodeView = Static<typeof PairingCodeView>;
