import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { EpochMs, Nullable } from './common.dto.ts';

/** `POST /v1/bots/:id/correspondents/:cid/ai/pause`: for how long; without `durationMs`, until resumed. */
export const AiPauseBody = Type.Object(
  { durationMs: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 365 * 86_400_000, description: 'How long the AI stays quiet in this conversation; omitted: until resumed' })) },
  { $id: 'AiPauseBody', additionalProperties: false },
);
export type AiPauseBody = Static<typeof AiPauseBody>;

/** A conversation's AI reply actor as operators see it. */
export const AiStatus = Type.Object(
  {
    botId: Type.String(),
    correspondentId: Type.String(),
    state: Type.String({ description: 'idle, debouncing, awaiting-media, generating.calling, generating.backoff, sending or paused' }),
    // An enum with null among its values: one schema, which serializers and validators read alike.
    pausedBy: Type.Unsafe<'owner' | 'operator' | null>({
      type: ['string', 'null'],
      enum: ['owner', 'operator', null],
      description: 'owner: the account owner wrote from the phone; operator: paused through the API; null: not paused',
    }),
    pausedUntil: Nullable(EpochMs),
    answeredThrough: Type.Integer({ minimum: 0, description: 'Messages up to this seq are answered (or were left to a human)' }),
    latestSeq: Type.Integer({ minimum: 0, description: 'The newest finalized message the AI heard of' }),
    reply: Nullable(Type.Object({
      id: Type.String(),
      throughSeq: Type.Integer({ minimum: 0, description: 'The reply answers every message up to this seq' }),
      attempt: Type.Integer({ minimum: 1 }),
    })),
    deadline: Nullable(EpochMs),
    sent: Type.Integer({ minimum: 0 }),
    failed: Type.Integer({ minimum: 0 }),
    dropped: Type.Integer({ minimum: 0 }),
    lastError: Nullable(Type.String()),
  },
  { $id: 'AiStatus' },
);
export type AiStatus = Static<typeof AiStatus>;
