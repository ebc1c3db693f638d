import { BufferJSON, initAuthCreds, makeCacheableSignalKeyStore, proto } from 'baileys';
import type { AuthenticationCreds, AuthenticationState, SignalDataSet, SignalDataTypeMap, SignalKeyStore } from 'baileys';
import { ParleyError } from '../../domain/errors.ts';
import type { AuthStateStore } from '../../ports/auth-state-store.port.ts';

/**
 * Where the credentials live in the store: beside the signal keys, under a type Baileys never
 * uses for one, so `clear` removes them with the keys.
 */
export const CREDS_TYPE = 'creds';
export const CREDS_ID = 'creds';

/** Baileys' logger, which it does not export by name. */
export type AuthStateLogger = Parameters<typeof makeCacheableSignalKeyStore>[1];

/** One bot's Baileys auth state, kept in Parley's store. */
export interface MongoAuthState {
  /** Hand to `makeWASocket` as `auth`; `keys` has a cache in front of the store. */
  readonly state: AuthenticationState;
  /** Writes `state.creds` as it is now; call it on every `creds.update`. */
  saveCreds(): Promise<void>;
  /**
   * Removes the bot's credentials and every key (logout). The state in hand is spent then: load
   * it again for a new pairing.
   */
  clear(): Promise<void>;
}

/**
 * Values go in as BufferJSON strings: the store BSON-encodes what it is given, which would turn
 * Buffers and Uint8Arrays into BSON binaries that read back as another type, while BufferJSON is
 * the form Baileys itself round-trips.
 */
const encode = (value: unknown): string => JSON.stringify(value, BufferJSON.replacer);

const decodeString = (what: string, stored: unknown): string => {
  if (typeof stored === 'string') return stored;
  // The type only: ids are JIDs, which the log should not collect.
  throw ParleyError.of('STORE_ERROR', { operation: 'authState.get', reason: `a ${what} value is not in the BufferJSON form this adapter writes` });
};

/**
 * The store holds what Baileys wrote under each type, so the parsed value is trusted to have that
 * type; only app-state sync keys need their protobuf class back, which Baileys calls methods on.
 */
const decode = (type: keyof SignalDataTypeMap, stored: unknown) => {
  const value = JSON.parse(decodeString(type, stored), BufferJSON.reviver);
  return type === 'app-state-sync-key' ? proto.Message.AppStateSyncKeyData.fromObject(value) : value;
};

const loadCreds = async (store: AuthStateStore, botId: string): Promise<AuthenticationCreds> => {
  const stored = (await store.get(botId, CREDS_TYPE, [CREDS_ID]))[CREDS_ID];
  return stored === undefined ? initAuthCreds() : JSON.parse(decodeString(CREDS_TYPE, stored), BufferJSON.reviver);
};

/**
 * Opens a bot's auth state: its stored credentials, or new ones for a first pairing. Writes go
 * key by key, so concurrent updates of different keys never overwrite each other. Nothing here
 * logs a value; the cache logs counts only.
 */
export async function loadMongoAuthState(store: AuthStateStore, botId: string, logger?: AuthStateLogger): Promise<MongoAuthState> {
  const creds = await loadCreds(store, botId);

  const keys: SignalKeyStore = {
    async get(type, ids) {
      const stored = await store.get(botId, type, ids);
      const found: { [id: string]: SignalDataTypeMap[typeof type] } = {};
      for (const [id, value] of Object.entries(stored)) found[id] = decode(type, value);
      return found;
    },
    // One call for the whole batch: Baileys retries a failed commit as a whole.
    async set(data: SignalDataSet) {
      const entries: Record<string, Record<string, string | null>> = {};
      for (const [type, values] of Object.entries(data)) {
        const encoded: Record<string, string | null> = {};
        for (const [id, value] of Object.entries(values ?? {})) encoded[id] = value == null ? null : encode(value);
        entries[type] = encoded;
      }
      await store.set(botId, entries);
    },
    async clear() {
      await store.clear(botId);
    },
  };
  const cached = makeCacheableSignalKeyStore(keys, logger);
  const state: AuthenticationState = { creds, keys: cached };

  // Baileys mutates `creds` in place and may save again before a save lands; writing one after
  // another, each with the state as it is when it goes, keeps an older snapshot from landing last.
  let saving: Promise<void> = Promise.resolve();
  const saveCreds = (): Promise<void> => {
    const next = saving.catch(() => undefined).then(() => store.set(botId, { [CREDS_TYPE]: { [CREDS_ID]: encode(state.creds) } }));
    saving = next;
    return next;
  };

  return {
    state,
    saveCreds,
    // Through the cache, so that it forgets the keys too.
    clear: async () => {
      await cached.clear?.();
    },
  };
}
