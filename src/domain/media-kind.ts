/** The kinds of media message Parley turns into text. */
export type MediaKind = 'voice' | 'audio' | 'image' | 'sticker' | 'video' | 'document';

/** Every media kind, in a stable order. */
export const MEDIA_KINDS: readonly MediaKind[] = ['voice', 'audio', 'image', 'sticker', 'video', 'document'];

/** Narrows untrusted input (config, REST payloads) to a media kind. */
export function isMediaKind(value: unknown): value is MediaKind {
  return typeof value === 'string' && (MEDIA_KINDS as readonly string[]).includes(value);
}

/**
 * What a media message is, independent of its bytes. The kind comes from the provider's message
 * type, not the mime type: a sticker and an image can both be `image/webp`.
 */
export interface MediaDescriptor {
  readonly kind: MediaKind;
  readonly mimetype: string;
  readonly caption: string | null;
  readonly fileName: string | null;
}
