import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { MEDIA_KINDS } from '../../domain/media-kind.ts';
import { WHATSAPP_TEXT_CHARS } from '../../domain/queue-limits.ts';
import { CorrespondentId, EpochMs, Nullable, StringEnum, Timestamp, exactlyOneOf } from './common.dto.ts';


/**
 * `POST /v1/bots/:id/simulator/inbound`. Exactly one of `text` and `media` is part of the schema,
 * so the document tells clients; the base64 is checked by the simulator, which names the field.
 */
export const SimulatorInboundBody = Type.Object(
  {
    from: CorrespondentId('The sender: phone number or JID'),
    // WhatsApp's own ceiling for a text: more could only be a malformed or hostile request.
    text: Type.Optional(Type.String({ minLength: 1, maxLength: WHATSAPP_TEXT_CHARS })),
    media: Type.Optional(
      Type.Object(
        {
          kind: StringEnum(MEDIA_KINDS),
          mimetype: Type.String({ minLength: 1, maxLength: 255 }),
          dataBase64: Type.Optional(Type.String({ description: 'The media bytes; may be empty or absent with `corrupt: true` (a download that fails)' })),
          fileName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          caption: Type.Optional(Type.String({ minLength: 1, maxLength: WHATSAPP_TEXT_CHARS })),
        },
        { additionalProperties: false },
      ),
    ),
    corrupt: Type.Optional(Type.Boolean({ description: 'Make the media download fail' })),
    providerMessageId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Reuse an id to replay a message' })),
    group: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 256 }))),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    fromMe: Type.Optional(Type.Boolean({ description: 'The account owner wrote this to `from` from the phone: the AI pauses in that conversation' })),
  },
  { $id: 'SimulatorInboundBody', additionalProperties: false, ...exactlyOneOf('text', 'media') },
);
export type SimulatorInboundBody = Static<typeof SimulatorInboundBody>;

export const SimulatorInboundAccepted = Type.Object({ messageId: Type.String() }, { $id: 'SimulatorInboundAccepted' });
export type SimulatorInboundAccepted = Static<typeof SimulatorInboundAccepted>;

/** One message a simulator bot sent. */
export const SimulatorOutboundMessage = Type.Object({
  to: Type.String(),
  text: Type.String(),
  providerMessageId: Type.String(),
  sentAt: EpochMs,
});
export type SimulatorOutboundMessage = Static<typeof SimulatorOutboundMessage>;

/** `GET /v1/bots/:id/simulator/outbound`: what the bot sent, oldest first. */
export const SimulatorOutboundList = Type.Object({ messages: Type.Array(SimulatorOutboundMessage) }, { $id: 'SimulatorOutboundList' });
export type SimulatorOutboundList = Static<typeof SimulatorOutboundList>;

/** One provider session of a simulator bot, from start to stop, on the instance that ran it. */
export const SimulatorSessionView = Type.Object({
  sessionId: Type.String(),
  instanceId: Type.String({ description: 'The Parley instance that ran the session' }),
  startedAt: Timestamp,
  connectedAt: Nullable(Timestamp),
  endedAt: Nullable(Timestamp),
  endReason: Nullable(Type.String({ description: '`stopped`, `replaced` (started again without a stop) or `unrecorded` (its start could not be recorded); `null` while running or after a crash' })),
});
export type SimulatorSessionView = Static<typeof SimulatorSessionView>;

/** `GET /v1/bots/:id/simulator/sessions`: the bot's provider sessions, newest last. */
export const SimulatorSessionList = Type.Object({ sessions: Type.Array(SimulatorSessionView) }, { $id: 'SimulatorSessionList' });
export type SimulatorSessionList = Static<typeof SimulatorSessionList>;
