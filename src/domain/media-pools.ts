import { isMediaKind } from './media-kind.ts';

import type { MediaPoolRoute } from './media-routing.ts';

/** The processors a pool may name. Each is one module behind the media processor port. */
export const MEDIA_PROCESSOR_NAMES = ['transcribe', 'describe-image', 'video', 'document', 'unsupported', 'noop'] as const;
export type MediaProcessorName = (typeof MEDIA_PROCESSOR_NAMES)[number];

/** Document types the `document` processor reads; any other document gets the catch-all's note. */
export const DOCUMENT_MIMETYPES: readonly string[] = [
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/json',
  'text/*',
];

/**
 * The pools every bot uses unless it has its own: audio, images, stickers (routed by kind, though
 * their mime type is an image type), video, readable documents, and a catch-all that answers
 * with a note naming the type.
 */
export function defaultPools(concurrency: number): MediaPoolRoute[] {
  return [
    { name: 'audio', kinds: ['voice', 'audio'], mimetypes: [], processor: 'transcribe', concurrency },
    { name: 'image', kinds: ['image'], mimetypes: [], processor: 'describe-image', concurrency },
    { name: 'sticker', kinds: ['sticker'], mimetypes: [], processor: 'describe-image', concurrency },
    { name: 'video', kinds: ['video'], mimetypes: [], processor: 'video', concurrency: Math.max(1, Math.floor(concurrency / 2)) },
    { name: 'document', kinds: ['document'], mimetypes: [...DOCUMENT_MIMETYPES], processor: 'document', concurrency },
    { name: 'other', kinds: [], mimetypes: [], processor: 'unsupported', concurrency: 1 },
  ];
}

/**
 * Reads pools from untrusted JSON (configuration, a bot's settings), naming every shape problem
 * at once; the routing rules are checked after by `validatePools`.
 */
export function parsePools(value: unknown): { pools: MediaPoolRoute[]; problems: string[] } {
  if (!Array.isArray(value)) return { pools: [], problems: ['must be a JSON array of pools'] };
  const problems: string[] = [];
  const pools: MediaPoolRoute[] = [];
  value.forEach((entry: unknown, i) => {
    const at = `pool ${i + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${at} must be an object`);
      return;
    }
    const fields = new Map<string, unknown>(Object.entries(entry));
    const unknownKeys = [...fields.keys()].filter((k) => !['name', 'kinds', 'mimetypes', 'processor', 'concurrency'].includes(k));
    if (unknownKeys.length > 0) problems.push(`${at} has unknown fields: ${unknownKeys.join(', ')}`);
    const name = fields.get('name');
    const processor = fields.get('processor');
    const concurrency = fields.get('concurrency') ?? 1;
    const kinds = stringList(fields.get('kinds'));
    const mimetypes = stringList(fields.get('mimetypes'));
    if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(name)) problems.push(`${at} needs a name of 1-32 lower-case letters, digits or "-"`);
    if (typeof processor !== 'string') problems.push(`${at} needs a processor (one of ${MEDIA_PROCESSOR_NAMES.join(', ')})`);
    if (typeof concurrency !== 'number') problems.push(`${at} needs a numeric concurrency`);
    if (kinds === null) problems.push(`${at} kinds must be a list of media kinds`);
    if (mimetypes === null || mimetypes.some((m) => !/^[a-z0-9.+-]+\/(\*|[a-z0-9.+-]+)$/i.test(m))) problems.push(`${at} mimetypes must be a list like ["audio/ogg", "text/*"]`);
    const badKinds = (kinds ?? []).filter((k) => !isMediaKind(k));
    if (badKinds.length > 0) problems.push(`${at} lists unknown kinds: ${badKinds.join(', ')}`);
    if (typeof name === 'string' && typeof processor === 'string' && typeof concurrency === 'number' && kinds !== null && mimetypes !== null) {
      pools.push({ name, kinds: kinds.filter(isMediaKind), mimetypes, processor, concurrency });
    }
  });
  return { pools, problems };
}

function stringList(value: unknown): string[] | null {
  if (value === undefined) return [];
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : null;
}


