import { describe, expect, it } from 'vitest';
import { createMediaProcessors } from '../../../src/adapters/media-processors/media-processors.ts';
import { MEDIA_PROCESSOR_NAMES } from '../../../src/domain/media-pools.ts';
import { DEFAULT_PROCESSOR_SETTINGS, formatMegabytes } from '../../../src/adapters/media-processors/processor-settings.ts';
import type { MediaProcessors } from '../../../src/ports/media-processor.port.ts';
import { mediaOf, running } from './processor-test-kit.ts';

describe('createMediaProcessors', () => {
  const processors: MediaProcessors = createMediaProcessors(DEFAULT_PROCESSOR_SETTINGS);

  it('offers exactly the named processors', () => {
    expect(Object.keys(processors).sort()).toEqual([...MEDIA_PROCESSOR_NAMES].sort());
  });

  it('has an unsupported processor that names the mime type', async () => {
    await expect(processors['unsupported']!(mediaOf('document', 'application/x-foo; v=1', new Uint8Array(1)), running)).resolves.toEqual({
      status: 'unreadable',
      reason: 'unsupported media type application/x-foo',
    });
  });

  it('has a no-op processor that resolves at once with no text', async () => {
    await expect(processors['noop']!(mediaOf('image', 'image/png', new Uint8Array(0)), running)).resolves.toEqual({ status: 'processed', text: '' });
  });
});

describe('default settings', () => {
  it('cap OpenAI uploads at the service limits and name them as readers see them', () => {
    expect(formatMegabytes(DEFAULT_PROCESSOR_SETTINGS.caps.audioBytes)).toBe('25 MB');
    expect(formatMegabytes(DEFAULT_PROCESSOR_SETTINGS.caps.videoBytes)).toBe('64 MB');
    expect(formatMegabytes(1536)).toBe('1.5 KB');
    expect(DEFAULT_PROCESSOR_SETTINGS.openai).toMatchObject({ apiKey: null, baseURL: null, transcriptionModel: 'gpt-4o-mini-transcribe', visionModel: 'gpt-4o-mini', maxRetries: 1 });
  });
});
