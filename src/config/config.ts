import { randomBytes } from 'node:crypto';
import { ParleyError } from '../domain/errors.ts';
import { CONFIG_OPTIONS } from './config-options.ts';
import type { LogLevel } from './config-options.ts';

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
  readonly dataDir: string;
  readonly mediaDir: string;
  /** Encrypts secrets at rest; unset means the key file in `dataDir` (see `resolveSecretKey`). */
  readonly secretKey: Uint8Array | undefined;
  /** Earlier keys, for decryption only while secrets are re-encrypted with `secretKey`. */
  readonly secretKeysPrevious: readonly Uint8Array[];
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  /** Media jobs processed at once by this instance. */
  readonly mediaWorkerConcurrency: number;
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
  if (problems.length > 0) {
    throw new ParleyError('CONFIG_INVALID', `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      details: { problems },
    });
  }
  const apiKeyGenerated = values['apiKey'] === undefined;
  const apiKey = apiKeyGenerated ? randomBytes(24).toString('base64url') : (values['apiKey'] as string);
  return Object.freeze({ ...(values as Omit<Config, 'apiKey' | 'apiKeyGenerated'>), apiKey, apiKeyGenerated });
}
