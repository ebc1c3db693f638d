import type { MediaProcessorName } from '../../domain/media-pools.ts';
import type { MediaProcessor } from '../../ports/media-processor.port.ts';
import { createDocumentProcessor } from './document.processor.ts';
import { noopProcessor } from './noop.processor.ts';
import { createOpenAiClient } from './openai-client.ts';
import type { MediaProcessorSettings } from './processor-settings.ts';
import { createTranscriptionProcessor } from './transcription.processor.ts';
import { unsupportedProcessor } from './unsupported.processor.ts';
import { createVideoProcessor } from './video.processor.ts';
import { createVisionProcessor } from './vision.processor.ts';


/**
 * Every processor, sharing one OpenAI client (one connection pool) among those that call it.
 * The result is a `MediaProcessors`; its precise keys let callers name a processor without a lookup that can miss.
 */
export function createMediaProcessors(settings: MediaProcessorSettings): Readonly<Record<MediaProcessorName, MediaProcessor>> {
  const client = createOpenAiClient(settings);
  return {
    transcribe: createTranscriptionProcessor(settings, client),
    'describe-image': createVisionProcessor(settings, client),
    video: createVideoProcessor(settings, client),
    document: createDocumentProcessor(settings),
    unsupported: unsupportedProcessor,
    noop: noopProcessor,
  };
}
