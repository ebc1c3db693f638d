import type { MediaDescriptor } from '../../../src/domain/media-kind.ts';
import { DAY_MS } from '../../../src/domain/queue-limits.ts';
import type { IncomingMessage, QueueLimits, QueueWindow } from '../../../src/domain/queue-message.ts';
import { sumSizes } from '../../../src/domain/queue-message.ts';
import type { IncomingMedia } from '../../../src/domain/queue-window.ts';

export const T0 = Date.UTC(2025, 0, 1);
export { DAY_MS };

export const roomyLimits: QueueLimits = { maxMessages: 100, maxCharacters: 10_000, maxAgeDays: 30, maxCharactersPerMessage: 1_000 };

export function limits(overrides: Partial<QueueLimits>): QueueLimits {
  return { ...roomyLimits, ...overrides };
}

export function text(content: string, providerMessageId: string | null = null): IncomingMessage {
  return {
    content,
    sender: { id: '4915550001@s.whatsapp.net', displayName: 'Ada' },
    source: 'user',
    originatingAt: null,
    group: null,
    providerMessageId,
  };
}

export function media(mediaJobId: string, overrides: Partial<MediaDescriptor> = {}, providerMessageId: string | null = null): IncomingMedia {
  const { content: _content, ...rest } = text('', providerMessageId);
  return { ...rest, mediaJobId, media: { kind: 'voice', mimetype: 'audio/ogg', caption: null, fileName: null, ...overrides } };
}

/** The window's structural invariants: I2 and strictly increasing ids below `nextId`. */
export function expectConsistent(window: QueueWindow): void {
  if (window.totalChars !== sumSizes(window.messages)) {
    throw new Error(`totalChars ${window.totalChars} != sum of sizes ${sumSizes(window.messages)}`);
  }
  for (const [i, m] of window.messages.entries()) {
    if (m.size !== m.content.length) throw new Error(`message ${m.id} size ${m.size} != content length ${m.content.length}`);
    const prev = window.messages[i - 1];
    if (prev !== undefined && prev.id >= m.id) throw new Error(`ids not increasing: ${prev.id} then ${m.id}`);
    if (m.id >= window.nextId) throw new Error(`message id ${m.id} not below nextId ${window.nextId}`);
  }
}
