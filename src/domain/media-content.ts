import type { MediaDescriptor, MediaKind } from './media-kind.ts';
import { truncateContent } from './queue-limits.ts';

/**
 * What processing a media message produced: text to show the conversation, or the reason the
 * media could not be read (corrupt, unsupported, too large, dead-lettered).
 */
export type MediaOutcome =
  | { readonly status: 'processed'; readonly text: string }
  | { readonly status: 'unreadable'; readonly reason: string };

/** The parts of a media message that shape its text form. */
export type MediaLabelSource = Pick<MediaDescriptor, 'kind' | 'caption' | 'fileName'>;

const KIND_LABELS: Readonly<Record<MediaKind, string>> = {
  voice: 'Voice message',
  audio: 'Audio',
  image: 'Image',
  sticker: 'Sticker',
  video: 'Video',
  document: 'Document',
};

/** The bracketed tag that opens every media message, e.g. `[Voice message]`, `[Document: a.pdf]`. */
export function mediaLabel(media: Pick<MediaDescriptor, 'kind' | 'fileName'>): string {
  const name = media.fileName?.trim();
  const label = KIND_LABELS[media.kind];
  return media.kind === 'document' && name ? `[${label}: ${name}]` : `[${label}]`;
}

/**
 * Final content of a media message, one format for every kind so the AI knows what it received:
 * the tag, then the text (or a note when there is none or it could not be read), then the
 * caption on its own line.
 */
export function formatMediaContent(media: MediaLabelSource, outcome: MediaOutcome): string {
  const body = outcome.status === 'processed' ? processedBody(outcome.text) : `(could not be processed: ${outcome.reason.trim() || 'unknown error'})`;
  return withCaption(`${mediaLabel(media)} ${body}`, media.caption);
}

/**
 * Longest caption a placeholder shows. A placeholder's text is stored with its queue until the
 * result replaces it, so a long caption waits in the job and returns whole with the result.
 */
export const PENDING_CAPTION_CHARS = 1_000;

/** Content of a placeholder while its media job runs; it tells readers of the window what is coming. */
export function formatPendingMedia(media: MediaLabelSource): string {
  const caption = media.caption === null ? null : truncateContent(media.caption.trim(), PENDING_CAPTION_CHARS);
  return withCaption(`${mediaLabel(media)} (processing)`, caption);
}

function processedBody(text: string): string {
  const trimmed = text.trim();
  return trimmed === '' ? '(no content)' : trimmed;
}

function withCaption(line: string, caption: string | null): string {
  const trimmed = caption?.trim();
  return trimmed ? `${line}\nCaption: ${trimmed}` : line;
}
