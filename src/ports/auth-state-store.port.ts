/**
 * Provider credentials and signal keys (Baileys' auth state). Each key is its own document so
 * concurrent key updates never overwrite each other, unlike a whole-file save. Every value is a
 * secret: the adapter keeps it encrypted at rest and hands it back decrypted.
 */
export interface AuthStateStore {
  /** Values for the requested ids of one key type; absent keys are missing from the result. */
  get(botId: string, type: string, ids: readonly string[]): Promise<Record<string, unknown>>;
  /** Upserts each value; `null` deletes that key. */
  set(botId: string, entries: Readonly<Record<string, Readonly<Record<string, unknown | null>>>>): Promise<void>;
  /** Removes every key of a bot (logout, deletion); resolves with how many. */
  clear(botId: string): Promise<number>;
  /**
   * Encrypts again, with the current key, every value stored under an earlier key or before
   * encryption; values no configured key opens are left as they are and counted.
   */
  reseal(): Promise<{ resealed: number; unreadable: number }>;
}
