import type { MediaProcessor } from '../../ports/media-processor.port.ts';

/** Resolves at once with no text, so benchmarks measure the pipeline around processing, not a model. */
export const noopProcessor: MediaProcessor = async () => ({ status: 'processed', text: '' });
