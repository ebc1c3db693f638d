import path from 'node:path';
import { createMediaProcessors } from './adapters/media-processors/media-processors.ts';
import { createLocalMediaStore } from './adapters/media-store/local-media-store.ts';
import { createS3MediaStore } from './adapters/media-store/s3-media-store.ts';
import type { Config } from './config/config.ts';
import { defaultPools } from './domain/media-pools.ts';
import type { MediaStore } from './ports/media-store.port.ts';
import type { MediaSetup } from './runtime/parley-runtime.ts';

/**
 * The media pipeline as configured: processors (OpenAI ones honour OPENAI_BASE_URL and answer
 * with a note without OPENAI_API_KEY), pools (MEDIA_POOLS or the built-in ones), the staging
 * store (MEDIA_DIR or an S3-compatible bucket) with its limits, and the janitor's schedule.
 */
export async function createMediaSetup(config: Config): Promise<MediaSetup> {
  const processors = createMediaProcessors({
    openai: {
      apiKey: config.openaiApiKey ?? null,
      baseURL: config.openaiBaseUrl ?? null,
      transcriptionModel: config.openaiTranscriptionModel,
      visionModel: config.openaiVisionModel,
      maxRetries: config.openaiMaxRetries,
    },
    timeoutMs: config.mediaProcessorTimeoutMs,
    caps: { audioBytes: config.mediaAudioMaxBytes, imageBytes: config.mediaImageMaxBytes, documentBytes: config.mediaDocumentMaxBytes, videoBytes: config.mediaVideoMaxBytes },
    imageMaxPx: 1024,
    documentMaxChars: config.mediaDocumentMaxChars,
    ffmpegPath: null,
  });
  return {
    processors,
    pools: config.mediaPools ?? defaultPools(config.mediaWorkerConcurrency),
    store: await openMediaStore(config),
    staging: { quotaBytes: config.mediaQuotaBytes, maxFileBytes: config.mediaMaxFileBytes },
    janitor: { intervalMs: config.janitorIntervalMs, staleMs: config.janitorStaleMs, failedRetentionMs: config.mediaFailedRetentionMs },
  };
}

async function openMediaStore(config: Config): Promise<MediaStore> {
  if (config.mediaStore === 'local' || config.mediaS3Bucket === undefined) return createLocalMediaStore(path.resolve(config.mediaDir));
  return createS3MediaStore({
    bucket: config.mediaS3Bucket,
    region: config.mediaS3Region,
    forcePathStyle: config.mediaS3ForcePathStyle,
    ...(config.mediaS3Prefix === undefined ? {} : { prefix: config.mediaS3Prefix }),
    ...(config.mediaS3Endpoint === undefined ? {} : { endpoint: config.mediaS3Endpoint }),
    ...(config.mediaS3AccessKeyId === undefined || config.mediaS3SecretAccessKey === undefined
      ? {}
      : { credentials: { accessKeyId: config.mediaS3AccessKeyId, secretAccessKey: config.mediaS3SecretAccessKey } }),
  });
}
