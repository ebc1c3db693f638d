import { CLOUD_API_SECRET_NAMES, cloudApiAccount } from '../../domain/cloud-api-account.ts';
import type { CloudApiAccount, CloudApiSecrets } from '../../domain/cloud-api-account.ts';
import type { AuthStateStore } from '../../ports/auth-state-store.port.ts';

/** Where a Cloud API bot's secrets live among the provider credentials (sealed, one document each). */
export const CLOUD_API_SECRET_TYPE = 'cloud-api';

/** Stores (replaces) some of a bot's Cloud API secrets. */
export function writeCloudApiSecrets(store: AuthStateStore, botId: string, secrets: Partial<CloudApiSecrets>): Promise<void> {
  const entries = Object.fromEntries(Object.entries(secrets).filter(([, v]) => v !== undefined));
  return Object.keys(entries).length === 0 ? Promise.resolve() : store.set(botId, { [CLOUD_API_SECRET_TYPE]: entries });
}

/** A bot's account from its settings section and its stored secrets; `null` when incomplete. */
export async function readCloudApiAccount(store: AuthStateStore, botId: string, settings: Readonly<Record<string, unknown>>): Promise<CloudApiAccount | null> {
  const secrets = await store.get(botId, CLOUD_API_SECRET_TYPE, CLOUD_API_SECRET_NAMES);
  return cloudApiAccount(settings['cloudApi'], secrets);
}
