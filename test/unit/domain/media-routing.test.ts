import { describe, expect, it } from 'vitest';
import { resolvePool, validatePools } from '../../../src/domain/media-routing.ts';
import type { MediaPoolRoute } from '../../../src/domain/media-routing.ts';
import { defaultPools } from '../../../src/domain/media-pools.ts';

const pool = (name: string, kinds: MediaPoolRoute['kinds'], mimetypes: string[], processor = name): MediaPoolRoute => ({
  name,
  kinds,
  mimetypes,
  processor,
  concurrency: 2,
});

const pools = [
  pool('audio', ['voice', 'audio'], []),
  pool('images', [], ['image/*']),
  pool('png', [], ['image/png']),
  pool('stickers', ['sticker'], []),
  pool('documents', ['document'], ['application/pdf', 'text/plain']),
  pool('fallback', [], [], 'unsupported'),
];
const processors = ['audio', 'images', 'png', 'stickers', 'documents', 'unsupported'];

describe('media routing', () => {
  it('routes stickers by kind even though their mime type is an image type', () => {
    expect(resolvePool(pools, { kind: 'sticker', mimetype: 'image/webp' })?.name).toBe('stickers');
    expect(resolvePool(pools, { kind: 'image', mimetype: 'image/webp' })?.name).toBe('images');
  });

  it('prefers an exact mime type over a family', () => {
    expect(resolvePool(pools, { kind: 'image', mimetype: 'image/png' })?.name).toBe('png');
  });

  it('ignores mime parameters and case', () => {
    expect(resolvePool(pools, { kind: 'voice', mimetype: 'Audio/OGG; codecs=opus' })?.name).toBe('audio');
    expect(resolvePool(pools, { kind: 'document', mimetype: 'TEXT/PLAIN; charset=utf-8' })?.name).toBe('documents');
  });

  it('sends anything else to the catch-all', () => {
    expect(resolvePool(pools, { kind: 'document', mimetype: 'application/zip' })?.name).toBe('fallback');
    expect(resolvePool(pools, { kind: 'video', mimetype: 'video/mp4' })?.name).toBe('fallback');
  });

  it('returns null when nothing matches', () => {
    expect(resolvePool([pool('audio', ['voice'], [])], { kind: 'video', mimetype: 'video/mp4' })).toBeNull();
  });

  it('accepts a valid configuration', () => {
    expect(validatePools(pools, processors)).toEqual([]);
  });

  it('lists every configuration error at once', () => {
    const bad: MediaPoolRoute[] = [
      pool('a', ['voice'], []),
      pool('b', ['voice'], [], 'whisper-typo'),
      { ...pool('a', ['image'], []), concurrency: 0 },
    ];
    expect(validatePools(bad, ['a', 'b'])).toEqual([
      'pool "b" uses unknown processor "whisper-typo"',
      'route voice * is claimed by both "a" and "b"',
      'pool "a" is defined more than once',
      'pool "a" needs concurrency >= 1 (got 0)',
      'no catch-all pool (one with no kinds and no mime types) for media nothing else accepts',
    ]);
  });
});

describe('the built-in pools', () => {
  const builtIn = defaultPools(4);
  it.each([
    ['voice', 'audio/ogg; codecs=opus', 'audio'],
    ['audio', 'audio/mpeg', 'audio'],
    ['image', 'image/webp', 'image'],
    ['sticker', 'image/webp', 'sticker'],
    ['video', 'video/mp4', 'video'],
    ['document', 'application/pdf', 'document'],
    ['document', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'document'],
    ['document', 'text/csv', 'document'],
    ['document', 'application/json', 'document'],
    ['document', 'application/x-msdownload', 'other'],
  ] as const)('send %s %s to the %s pool', (kind, mimetype, expected) => {
    expect(resolvePool(builtIn, { kind, mimetype })?.name).toBe(expected);
  });
});
