import type { MediaProcessor } from '../../src/ports/media-processor.port.ts';
import type { MediaStore } from '../../src/ports/media-store.port.ts';
import type { MediaSetup } from '../../src/runtime/parley-runtime.ts';
import { createMemoryMediaStore } from './memory-media-store.ts';

// One store for every runtime of the test process, as a media directory outlives a process: a
// runtime started again after a simulated crash finds the files the first one staged.
const sharedStore = createMemoryMediaStore();

/** One catch-all pool running `processor`, media staged in memory: the setup of tests that are not about routing. */
export function testMedia(processor: MediaProcessor, options: { concurrency?: number; store?: MediaStore } = {}): MediaSetup {
  return {
    processors: { test: processor },
    pools: [{ name: 'media', kinds: [], mimetypes: [], processor: 'test', concurrency: options.concurrency ?? 4 }],
    store: options.store ?? sharedStore,
    staging: { downloadBackoff: { baseMs: 5, maxMs: 20, jitter: 0 } },
  };
}
