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
  /** A queue untouched this long is unloaded from memory. */
  readonly queueIdleMs: number;
  /** An outbound message whose sender died is sent again after this long. */
  readonly outboxLeaseMs: number;
  /** Largest accepted request body. */
  readonly bodyLimitBytes: number;
  /** Requests per key and window on `/v1`. */
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
  /** Start the bridge to Stately's visual inspector. */
  readonly inspect: boolean;
  readonly inspectPort: number;
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
  if (problems.length > 0) {
    throw new ParleyError('CONFIG_INVALID', `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      details: { problems },
    });
  }
  const apiKeyGenerated = values['apiKey'] === undefined;
  const apiKey = apiKeyGenerated ? randomBytes(24).toString('base64url') : (values['apiKey'] as string);
  return Object.freeze({ ...(values as Omit<Config, 'apiKey' | 'apiKeyGenerated'>), apiKey, apiKeyGenerated });
}
