import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { TRUNCATION_MARKER } from '../../domain/queue-limits.ts';
import { BOT_ID_PATTERN, Nullable, StringEnum, Timestamp } from './common.dto.ts';

/** Provider kinds a bot can be created with. */
export const PROVIDER_KINDS = ['simulator', 'baileys', 'cloud-api'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Queue limit overrides; omitted limits keep their defaults. */
export const QueueSettings = Type.Object(
  {
    maxMessages: Type.Optional(Type.Integer({ minimum: 1 })),
    maxCharacters: Type.Optional(Type.Integer({ minimum: 1 })),
    maxAgeDays: Type.Optional(Type.Integer({ minimum: 1 })),
    // A cut message must still have room for the marker that says it was cut.
    maxCharactersPerMessage: Type.Optional(Type.Integer({ minimum: TRUNCATION_MARKER.length + 1 })),
  },
  { additionalProperties: false },
);
export type QueueSettings = Static<typeof QueueSettings>;

export const AiSettings = Type.Object(
  {
    enabled: Type.Boolean(),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    systemPrompt: Type.Optional(Type.String({ maxLength: 20_000 })),
  },
  { additionalProperties: false },
);
export type AiSettings = Static<typeof AiSettings>;

/** `POST /v1/bots`. */
export const BotCreateBody = Type.Object(
  {
    id: Type.String({ pattern: BOT_ID_PATTERN, description: 'Lower-case letters, digits and dashes, 1–64 characters' }),
    provider: StringEnum(PROVIDER_KINDS),
    queue: Type.Optional(QueueSettings),
    ai: Type.Optional(AiSettings),
    media: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Media processing settings' })),
  },
  { additionalProperties: false },
);
export type BotCreateBody = Static<typeof BotCreateBody>;

/** What a bot was created with; each part is validated by the layer that owns it. */
export const BotSettings = Type.Object({
  queue: Type.Optional(QueueSettings),
  ai: Type.Optional(AiSettings),
  media: Type.Optional(Type.Object({}, { additionalProperties: true })),
});
export type BotSettings = Static<typeof BotSettings>;

/** A bot as operators see it: its definition plus what its actors report right now. */
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
  settings: Type.Optional(BotSettings),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type BotView = Static<typeof BotView>;

export const BotList = Type.Object({ bots: Type.Array(BotView) });
export type BotList = Static<typeof BotList>;

/** `GET /v1/bots/:id/qr`: the latest pairing QR, `null` when none is waiting to be scanned. */
export const QrView = Type.Object({ qr: Nullable(Type.String()) });
export type QrView = Static<typeof QrView>;

/** `POST /v1/bots/:id/pairing-code`. */
export const PairingCodeBody = Type.Object(
  { phoneNumber: Type.String({ pattern: '^\\+?[0-9]{6,20}$', description: 'International format, digits only' }) },
  { additionalProperties: false },
);
export type PairingCodeBody = Static<typeof PairingCodeBody>;

export const PairingCodeView = Type.Object({ code: Type.String() });
export type PairingCodeView = Static<typeof PairingCodeView>;
