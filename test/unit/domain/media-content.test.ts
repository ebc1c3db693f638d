import { describe, expect, it } from 'vitest';
import { PENDING_CAPTION_CHARS, formatMediaContent, formatPendingMedia, mediaLabel } from '../../../src/domain/media-content.ts';
import type { MediaLabelSource } from '../../../src/domain/media-content.ts';
import type { MediaKind } from '../../../src/domain/media-kind.ts';
import { MEDIA_KINDS, isMediaKind } from '../../../src/domain/media-kind.ts';

const of = (kind: MediaKind, caption: string | null = null, fileName: string | null = null): MediaLabelSource => ({ kind, caption, fileName });
const processed = (text: string) => ({ status: 'processed' as const, text });

describe('finalized media content', () => {
  it.each([
    ['voice', '[Voice message] hello there'],
    ['audio', '[Audio] hello there'],
    ['image', '[Image] hello there'],
    ['sticker', '[Sticker] hello there'],
    ['video', '[Video] hello there'],
    ['document', '[Document] hello there'],
  ] as const)('formats %s without a caption as a tag and the text', (kind, expected) => {
    expect(formatMediaContent(of(kind), processed('hello there'))).toBe(expected);
  });

  it('shows at most 1,000 characters of a caption while the media waits, and the whole caption with the result', () => {
    const caption = 'c'.repeat(5_000);
    const pending = formatPendingMedia(of('image', caption));
    expect(pending.length).toBeLessThan(PENDING_CAPTION_CHARS + 40);
    expect(pending.startsWith('[Image] (processing)\nCaption: ccc')).toBe(true);
    expect(formatMediaContent(of('image', caption), processed('a cat')).endsWith(caption)).toBe(true);
  });

  it('puts the caption on its own line', () => {
    expect(formatMediaContent(of('image', 'our cat'), processed('A grey cat on a sofa.'))).toBe('[Image] A grey cat on a sofa.\nCaption: our cat');
  });

  it('names the document file in the tag', () => {
    expect(formatMediaContent(of('document', 'the contract', 'offer.pdf'), processed('Dear customer'))).toBe(
      '[Document: offer.pdf] Dear customer\nCaption: the contract',
    );
    expect(mediaLabel({ kind: 'image', fileName: 'x.png' })).toBe('[Image]');
  });

  it('writes a failure note for media that could not be processed', () => {
    expect(formatMediaContent(of('voice'), { status: 'unreadable', reason: 'corrupt file' })).toBe('[Voice message] (could not be processed: corrupt file)');
    expect(formatMediaContent(of('video', 'party'), { status: 'unreadable', reason: 'unsupported format' })).toBe(
      '[Video] (could not be processed: unsupported format)\nCaption: party',
    );
  });

  it('says so when processing produced no text, and ignores blank captions', () => {
    expect(formatMediaContent(of('voice', '   '), processed('  \n'))).toBe('[Voice message] (no content)');
  });

  it('marks a placeholder as processing, caption included', () => {
    expect(formatPendingMedia(of('sticker'))).toBe('[Sticker] (processing)');
    expect(formatPendingMedia(of('audio', 'song'))).toBe('[Audio] (processing)\nCaption: song');
  });

  it('recognises every media kind and nothing else', () => {
    expect(MEDIA_KINDS.every(isMediaKind)).toBe(true);
    expect(isMediaKind('gif')).toBe(false);
    expect(isMediaKind(undefined)).toBe(false);
  });
});
