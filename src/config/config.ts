import { randomBytes } from 'node:crypto';
import { ParleyError } from '../domain/errors.ts';
import { CONFIG_OPTIONS } from './config-options.ts';
import type { LogLevel } from './config-options.ts';
import type { MediaPoolRoute } from '../domain/media-routing.ts';

/** Parley's validated settings. Built once at start-up and frozen. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly apiKey: string;
  /** True when API_KEY was unset and a key was generated for this run. */
  readonly apiKeyGenerated: boolean;
  readonly mongodbUri: string | undefined;
  readonly mongodbDb: string;
  /** Wait for a usable server before a store call fails; a value in the URI wins. */
  readonly mongodbServerSelectionTimeoutMs: number;
  readonly memoryServer: 'auto' | 'off';
  readonly openaiApiKey: string | undefined;
  readonly openaiBaseUrl: string | undefined;
  /** Chat model of AI replies when a bot names none. */
  readonly openaiReplyModel: string;
  /** One AI reply call's time limit. */
  readonly openaiReplyTimeoutMs: number;
  readonly dataDir: string;
  readonly mediaDir: string;
  /** Encrypts secrets at rest; unset means the key file in `dataDir` (see `resolveSecretKey`). */
  readonly secretKey: Uint8Array | undefined;
  /** Earlier keys, for decryption only while secrets are re-encrypted with `secretKey`. */
  readonly secretKeysPrevious: readonly Uint8Array[];
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  /** Media jobs each built-in pool processes at once. */
  readonly mediaWorkerConcurrency: number;
  /** Configured pools; `undefined` keeps the built-in ones. */
  readonly mediaPools: readonly MediaPoolRoute[] | undefined;
  readonly mediaStore: 'local' | 's3';
  readonly mediaS3Bucket: string | undefined;
  readonly mediaS3Prefix: string | undefined;
  readonly mediaS3Endpoint: string | undefined;
  readonly mediaS3Region: string;
  readonly mediaS3AccessKeyId: string | undefined;
  readonly mediaS3SecretAccessKey: string | undefined;
  readonly mediaS3ForcePathStyle: boolean;
  /** Staging: bytes over all files, and per file. */
  readonly mediaQuotaBytes: number;
  readonly mediaMaxFileBytes: number;
  /** What each processor accepts. */
  readonly mediaAudioMaxBytes: number;
  readonly mediaImageMaxBytes: number;
  readonly mediaDocumentMaxBytes: number;
  readonly mediaVideoMaxBytes: number;
  readonly mediaDocumentMaxChars: number;
  readonly mediaProcessorTimeoutMs: number;
  readonly openaiTranscriptionModel: string;
  readonly openaiVisionModel: string;
  readonly openaiMaxRetries: number;
  /** The media janitor's period, and the age past which unprocessed media is dead-lettered. */
  readonly janitorIntervalMs: number;
  readonly janitorStaleMs: number;
  /** How long a failed job keeps its staged file for a retry. */
  readonly mediaFailedRetentionMs: number;
  /** A claimed job whose worker stopped heartbeating is claimable again after this long. */
  readonly mediaJobLeaseMs: number;
  /** Attempts before a media job fails for good. */
  readonly mediaJobMaxAttempts: number;
  /** Longest inbound text or caption taken whole. */
  readonly inboundTextMaxChars: number;
  /** Most bots this instance holds. */
  readonly maxBots: number;
  /** Most conversations in memory at once. */
  readonly maxResidentQueues: number;
  /** A queue untouched this long is unloaded from memory. */
  readonly queueIdleMs: number;
  /** An outbound message whose sender died is sent again after this long. */
  readonly outboxLeaseMs: number;
  /** Delays before each retry of a webhook delivery; their number is the number of retries. */
  readonly webhookRetryDelaysMs: readonly number[];
  /** One webhook delivery attempt's time limit. */
  readonly webhookTimeoutMs: number;
  /** A webhook delivery attempt whose worker stopped heartbeating is made again after this long. */
  readonly webhookLeaseMs: number;
  /** Refuse webhook receivers on loopback, private, link-local and similar addresses. */
  readonly webhookDenyPrivate: boolean;
  /** 0: no limit. */
  readonly botMaxReconnectAttempts: number;
  readonly botReconnectMaxDelayMs: number;
  readonly baileysQrMaxCodes: number;
  readonly baileysQrTimeoutMs: number;
  readonly cloudApiWebhookBodyLimitBytes: number;
  readonly cloudApiWebhookRateLimitMax: number;
  readonly instanceId: string;
  /** Unset: derived from the listen address. */
  readonly instanceUrl: string | undefined;
  readonly ownershipLeaseMs: number;
  readonly ownershipTakeoverDelayMs: number;
  /** 0: no limit. */
  readonly maxBotsPerInstance: number;
  readonly workPollMs: number;
  /** Largest accepted request body. */
  readonly bodyLimitBytes: number;
  /** Largest body of a media-carrying route. */
  readonly mediaBodyLimitBytes: number;
  /** Bodies over `bodyLimitBytes` received at once. */
  readonly maxConcurrentLargeBodies: number;
  readonly httpRequestTimeoutMs: number;
  readonly httpHeadersTimeoutMs: number;
  /** Closes a connection without traffic either way. */
  readonly httpConnectionTimeoutMs: number;
  readonly httpKeepAliveTimeoutMs: number;
  /** Event streams open at once, overall and per client address. */
  readonly maxEventStreams: number;
  readonly maxEventStreamsPerClient: number;
  /** Requests per key and window on `/v1`. */
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
  /** Failed authentications per client address and window, over every door that takes a key. */
  readonly authFailureLimit: number;
  readonly authFailureWindowMs: number;
  /** Start the bridge to Stately's visual inspector. */
  readonly inspect: boolean;
  readonly inspectPort: number;
  /** Opens `/inspect` and the Stately bridge, never `/v1`. */
  readonly inspectKey: string | undefined;
  readonly inspectSessionTtlMs: number;
  /** Origins besides the bridge's own page that may connect to it. */
  readonly inspectAllowedOrigins: readonly string[];
  /** Forward message bodies and phone numbers to the Stately bridge unredacted. */
  readonly inspectShowContent: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses the environment into a frozen Config. Every problem is collected before failing, so an
 * operator fixes a broken deployment in one pass instead of one variable per restart.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(CONFIG_OPTIONS)) {
    const result = (option.parse as (raw: string | undefined) => ReturnType<typeof option.parse>)(env[option.env]);
    if (result.ok) values[key] = result.value;
    else problems.push(`${option.env} ${result.problem}`);
  }
  // A read-only key equal to the admin key would be an admin key handed out as a read-only one.
  if (values['inspectKey'] !== undefined && values['inspectKey'] === values['apiKey']) problems.push('INSPECT_KEY must differ from API_KEY');
  problems.push(...mediaProblems(values));
  const lease = values['ownershipLeaseMs'];
  const delay = values['ownershipTakeoverDelayMs'];
  if (typeof lease === 'number' && typeof delay === 'number' && delay > lease) problems.push(`OWNERSHIP_TAKEOVER_DELAY_MS (${delay}) must not exceed OWNERSHIP_LEASE_MS (${lease})`);
  if (problems.length > 0) {
    throw new ParleyError('CONFIG_INVALID', `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      details: { problems },
    });
  }
  const apiKeyGenerated = values['apiKey'] === undefined;
  const apiKey = apiKeyGenerated ? randomBytes(24).toString('base64url') : (values['apiKey'] as string);
  return Object.freeze({ ...(values as Omit<Config, 'apiKey' | 'apiKeyGenerated'>), apiKey, apiKeyGenerated });
}

/** What the media settings require of each other. */
function mediaProblems(values: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  if (values['mediaStore'] === 's3' && values['mediaS3Bucket'] === undefined) problems.push('MEDIA_S3_BUCKET is required with MEDIA_STORE=s3');
  if ((values['mediaS3AccessKeyId'] === undefined) !== (values['mediaS3SecretAccessKey'] === undefined)) {
    problems.push('MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY go together');
  }
  const quota = values['mediaQuotaBytes'];
  const perFile = values['mediaMaxFileBytes'];
  if (typeof quota === 'number' && typeof perFile === 'number' && perFile > quota) problems.push(`MEDIA_MAX_FILE_BYTES (${perFile}) must not exceed MEDIA_QUOTA_BYTES (${quota})`);
  return problems;
}
