/** Graph API host and version unless a bot names others (a proxy, a test server). */
export const CLOUD_API_DEFAULTS = { graphBaseUrl: 'https://graph.facebook.com', apiVersion: 'v26.0' } as const;

/** The secrets of a Cloud API bot, kept sealed with the provider credentials, never returned. */
export interface CloudApiSecrets {
  readonly accessToken: string;
  readonly appSecret: string;
  readonly verifyToken: string;
}
export const CLOUD_API_SECRET_NAMES: readonly (keyof CloudApiSecrets)[] = ['accessToken', 'appSecret', 'verifyToken'];

/** A Cloud API bot's account: what its settings say and its secrets. */
export interface CloudApiAccount extends CloudApiSecrets {
  readonly phoneNumberId: string;
  readonly graphBaseUrl: string;
  readonly apiVersion: string;
}

/**
 * The account from a bot's `cloudApi` settings section and its secrets, defaults filled in;
 * `null` when either is missing or malformed (a bot created without them, secrets lost).
 */
export function cloudApiAccount(section: unknown, secrets: Readonly<Record<string, unknown>>): CloudApiAccount | null {
  if (typeof section !== 'object' || section === null) return null;
  const phoneNumberId: unknown = Reflect.get(section, 'phoneNumberId');
  const graphBaseUrl: unknown = Reflect.get(section, 'graphBaseUrl');
  const apiVersion: unknown = Reflect.get(section, 'apiVersion');
  const { accessToken, appSecret, verifyToken } = secrets;
  if (typeof phoneNumberId !== 'string' || typeof accessToken !== 'string' || typeof appSecret !== 'string' || typeof verifyToken !== 'string') return null;
  return {
    phoneNumberId,
    accessToken,
    appSecret,
    verifyToken,
    graphBaseUrl: typeof graphBaseUrl === 'string' ? graphBaseUrl : CLOUD_API_DEFAULTS.graphBaseUrl,
    apiVersion: typeof apiVersion === 'string' ? apiVersion : CLOUD_API_DEFAULTS.apiVersion,
  };
}
