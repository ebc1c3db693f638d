import { ParleyError } from '../../domain/errors.ts';
import type { ActorRecord, StoredEffect } from '../../ports/actor-snapshot-store.port.ts';
import type { PersistedSnapshot } from './decider.ts';
import type { Effect } from './effect-table.ts';

/**
 * How an actor's snapshot and durable effects are stored. Writes, the unchanged-write check and
 * the check that a write landed all work on the stored form; restoring and reloading decode it.
 * A machine whose context repeats what the store holds elsewhere (the queue window's message
 * bodies are history rows) stores less and decodes from there.
 */
export interface ActorCodec<TMap> {
  encode(snapshot: PersistedSnapshot): unknown;
  decode(stored: unknown): Promise<PersistedSnapshot>;
  /** What is stored of a durable effect's params; in this process the effect runs with what was decided. */
  encodeEffect(effect: Effect<TMap>): unknown;
  /** A stored effect restored to what was decided, to run again after a restart; `null` when it cannot run. */
  decodeEffect(stored: StoredEffect): Promise<StoredEffect | null>;
}

/** Readers of snapshots that earlier machine versions stored, by that version. */
export type SnapshotMigrations = Readonly<Record<number, (stored: unknown, record: ActorRecord) => Promise<PersistedSnapshot>>>;

/** Stores snapshots and effects as they are. */
export function identityCodec<TMap>(): ActorCodec<TMap> {
  return {
    encode: (snapshot) => snapshot,
    decode: async (stored) => stored as PersistedSnapshot,
    encodeEffect: (effect) => effect.params,
    decodeEffect: async (stored) => stored,
  };
}

/**
 * The snapshot a record holds, decoded: by the codec when this build's machine version stored it,
 * by a migration when an earlier version did. Any other version is refused.
 */
export function decodeRecord<TMap>(
  codec: ActorCodec<TMap>,
  machineVersion: number,
  migrations: SnapshotMigrations,
  record: ActorRecord,
): Promise<PersistedSnapshot> {
  if (record.machineVersion === machineVersion) return codec.decode(record.snapshot);
  const migrate = Object.hasOwn(migrations, record.machineVersion) ? migrations[record.machineVersion] : undefined;
  if (migrate !== undefined) return migrate(record.snapshot, record);
  return Promise.reject(
    new ParleyError(
      'INCOMPATIBLE_SNAPSHOT',
      `${record.kind} ${record.id} was stored by machine version ${record.machineVersion}; this build runs version ${machineVersion} and has no migration for it`,
    ),
  );
}
