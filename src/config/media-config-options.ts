import { bad, flag, integer, ok, oneOf, optionalSecret, optionalUrl } from './config-parsers.ts';
import type { ConfigOption, Parsed } from './config-parsers.ts';
import { mediaPools, optionalText, text } from './media-config-parsers.ts';

/** The media pipeline's settings: pools, staging, processors, janitor. Part of `CONFIG_OPTIONS`. */
export const MEDIA_CONFIG_OPTIONS = {
  mediaPools: {
    env: 'MEDIA_POOLS',
    doc: 'Worker pools as a JSON array of `{"name", "kinds", "mimetypes", "processor", "concurrency"}` (processors: transcribe, describe-image, video, document, unsupported, noop); one pool with no kinds and no mime types catches the rest. Unset: audio, image, sticker, video, document and a catch-all, each of MEDIA_WORKER_CONCURRENCY (see docs/media.md).',
    defaultText: 'built-in pools',
    parse: mediaPools,
  },
  mediaStore: {
    env: 'MEDIA_STORE',
    doc: 'Where downloaded media is staged: "local" (MEDIA_DIR) or "s3" (an S3-compatible bucket, MEDIA_S3_*).',
    defaultText: 'local',
    parse: oneOf(['local', 's3'] as const, 'local'),
  },
  mediaS3Bucket: {
    env: 'MEDIA_S3_BUCKET',
    doc: 'Bucket for MEDIA_STORE=s3 (it must exist).',
    defaultText: 'unset',
    parse: optionalText(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  },
  mediaS3Prefix: {
    env: 'MEDIA_S3_PREFIX',
    doc: 'Key prefix inside the bucket, e.g. `parley/media/`.',
    defaultText: 'none',
    parse: optionalText(/^[A-Za-z0-9!_.*'()/-]{0,200}$/, 'must be a plain key prefix'),
  },
  mediaS3Endpoint: {
    env: 'MEDIA_S3_ENDPOINT',
    doc: 'Endpoint of an S3-compatible server such as MinIO (`http://minio:9000`); unset for AWS S3.',
    defaultText: 'unset',
    parse: optionalUrl(['http', 'https']),
  },
  mediaS3Region: {
    env: 'MEDIA_S3_REGION',
    doc: 'Region of the bucket.',
    defaultText: 'us-east-1',
    parse: (raw: string | undefined): Parsed<string> => {
      const v = raw?.trim() || 'us-east-1';
      return /^[a-z0-9-]{2,32}$/.test(v) ? ok(v) : bad(`is not a region name: "${raw}"`);
    },
  },
  mediaS3AccessKeyId: {
    env: 'MEDIA_S3_ACCESS_KEY_ID',
    doc: 'Access key for the bucket; unset: the AWS SDK\'s default credential chain.',
    defaultText: 'unset',
    secret: true,
    parse: optionalSecret(3),
  },
  mediaS3SecretAccessKey: {
    env: 'MEDIA_S3_SECRET_ACCESS_KEY',
    doc: 'Secret for MEDIA_S3_ACCESS_KEY_ID.',
    defaultText: 'unset',
    secret: true,
    parse: optionalSecret(3),
  },
  mediaS3ForcePathStyle: {
    env: 'MEDIA_S3_FORCE_PATH_STYLE',
    doc: '1 addresses the bucket in the path (`http://host/bucket/key`), as MinIO and most S3-compatible servers need.',
    defaultText: '0',
    parse: flag,
  },
  mediaQuotaBytes: {
    env: 'MEDIA_QUOTA_BYTES',
    doc: 'Most bytes staged at once over all files; media past it is kept as a note that staging was full.',
    defaultText: '2147483648',
    parse: integer(1024 * 1024, 2 ** 50, 2 * 1024 ** 3),
  },
  mediaMaxFileBytes: {
    env: 'MEDIA_MAX_FILE_BYTES',
    doc: 'Largest media file downloaded; a larger one is kept as a note naming the limit.',
    defaultText: '67108864',
    parse: integer(1024, 2 ** 40, 64 * 1024 ** 2),
  },
  mediaAudioMaxBytes: {
    env: 'MEDIA_AUDIO_MAX_BYTES',
    doc: 'Largest voice note or audio file sent for transcription (OpenAI accepts 25 MB).',
    defaultText: '26214400',
    parse: integer(1024, 2 ** 40, 25 * 1024 ** 2),
  },
  mediaImageMaxBytes: {
    env: 'MEDIA_IMAGE_MAX_BYTES',
    doc: 'Images larger than this (or than 1024 px) are downscaled before they are described.',
    defaultText: '20971520',
    parse: integer(1024, 2 ** 40, 20 * 1024 ** 2),
  },
  mediaDocumentMaxBytes: {
    env: 'MEDIA_DOCUMENT_MAX_BYTES',
    doc: 'Largest document whose text is extracted.',
    defaultText: '10485760',
    parse: integer(1024, 2 ** 40, 10 * 1024 ** 2),
  },
  mediaVideoMaxBytes: {
    env: 'MEDIA_VIDEO_MAX_BYTES',
    doc: 'Largest video whose sound is transcribed and frame described.',
    defaultText: '67108864',
    parse: integer(1024, 2 ** 40, 64 * 1024 ** 2),
  },
  mediaDocumentMaxChars: {
    env: 'MEDIA_DOCUMENT_MAX_CHARS',
    doc: 'Longest document text kept; the rest is cut with a visible marker.',
    defaultText: '20000',
    parse: integer(100, 1_000_000, 20_000),
  },
  mediaProcessorTimeoutMs: {
    env: 'MEDIA_PROCESSOR_TIMEOUT_MS',
    doc: 'How long one processing attempt may take before it is aborted and retried.',
    defaultText: '120000',
    parse: integer(1000, 3_600_000, 120_000),
  },
  openaiTranscriptionModel: {
    env: 'OPENAI_TRANSCRIPTION_MODEL',
    doc: 'Model that transcribes voice notes, audio and video sound.',
    defaultText: 'gpt-4o-mini-transcribe',
    parse: text(/^[A-Za-z0-9._:/-]{1,100}$/, 'must be a model name', 'gpt-4o-mini-transcribe'),
  },
  openaiVisionModel: {
    env: 'OPENAI_VISION_MODEL',
    doc: 'Model that describes images, stickers and video frames.',
    defaultText: 'gpt-4o-mini',
    parse: text(/^[A-Za-z0-9._:/-]{1,100}$/, 'must be a model name', 'gpt-4o-mini'),
  },
  openaiReplyModel: {
    env: 'OPENAI_REPLY_MODEL',
    doc: 'Chat model of AI replies for bots whose `ai.model` names none.',
    defaultText: 'gpt-4o-mini',
    parse: text(/^[A-Za-z0-9._:/-]{1,100}$/, 'must be a model name', 'gpt-4o-mini'),
  },
  openaiReplyTimeoutMs: {
    env: 'OPENAI_REPLY_TIMEOUT_MS',
    doc: 'Time limit of one call for an AI reply; a slower call is retried with backoff like a server error, up to three calls per reply.',
    defaultText: '60000',
    parse: integer(1000, 600_000, 60_000),
  },
  openaiMaxRetries: {
    env: 'OPENAI_MAX_RETRIES',
    doc: 'Retries, with backoff, of an OpenAI call that met a rate limit (429), a server error (5xx) or a network failure; after them the job is retried later, then ends with a note.',
    defaultText: '1',
    parse: integer(0, 10, 1),
  },
  janitorIntervalMs: {
    env: 'JANITOR_INTERVAL_MS',
    doc: 'How often the media janitor dead-letters stale jobs and placeholders and removes orphan files.',
    defaultText: '3600000',
    parse: integer(1000, 86_400_000, 3_600_000),
  },
  mediaFailedRetentionMs: {
    env: 'MEDIA_FAILED_RETENTION_MS',
    doc: 'A failed media job keeps its staged file this long, so POST /v1/jobs/:id/retry can process it again; then the janitor discards the job and deletes the file.',
    defaultText: '86400000',
    parse: integer(60_000, 365 * 86_400_000, 86_400_000),
  },
  janitorStaleMs: {
    env: 'JANITOR_STALE_MS',
    doc: 'A media job or placeholder older than this without a live lease is dead-lettered with a note to its conversation.',
    defaultText: '10800000',
    parse: integer(60_000, 30 * 86_400_000, 3 * 3_600_000),
  },
} satisfies Record<string, ConfigOption<unknown>>;
