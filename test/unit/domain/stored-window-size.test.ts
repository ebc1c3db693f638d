import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { MAX_PENDING_MEDIA } from '../../../src/runtime/conversations/conversations.ts';
import { formatPendingMedia } from '../../../src/domain/media-content.ts';
import { QUEUE_LIMIT_CEILINGS, truncateContent } from '../../../src/domain/queue-limits.ts';
import type { QueueMessage } from '../../../src/domain/queue-message.ts';
import { encodeWindow } from '../../../src/domain/stored-window.ts';

const MONGODB_DOCUMENT_LIMIT = 16 * 1024 * 1024;

describe('the stored form of a queue window', () => {
  it('stays far below MongoDB\'s 16 MiB document limit at the ceilings, with every placeholder a conversation may hold', () => {
    const limits = { ...QUEUE_LIMIT_CEILINGS, maxCharactersPerMessage: 100 };
    const longest = '✓'.repeat(QUEUE_LIMIT_CEILINGS.maxCharactersPerMessage);
    const message = (id: number, mediaJobId: string | null): QueueMessage => {
      const content = mediaJobId === null ? truncateContent(longest, 100).slice(0, 90 + (id % 7)) : formatPendingMedia({ kind: 'image', caption: longest, fileName: null });
      return {
        id, content, size: content.length, sender: { id: '4915550000000', displayName: null }, source: 'user',
        acceptedAt: 1_700_000_000_000 + id, originatingAt: null, group: null, providerMessageId: `id-${id}`, mediaJobId,
      };
    };
    // Every other id missing (each member its own run), sizes no cut reproduces, and the most
    // placeholders one conversation may hold, each with the longest caption a message may carry.
    const messages = Array.from({ length: QUEUE_LIMIT_CEILINGS.maxMessages + MAX_PENDING_MEDIA }, (_, i) =>
      message(2 * i + 1, i < MAX_PENDING_MEDIA ? `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` : null));
    const window = { messages, totalChars: messages.reduce((n, m) => n + m.size, 0), nextId: 2 * messages.length + 1 };
    const bytes = BSON.calculateObjectSize({ context: { window: encodeWindow(window, limits) } });
    expect(bytes).toBeLessThan(MONGODB_DOCUMENT_LIMIT / 2);
  });
});
