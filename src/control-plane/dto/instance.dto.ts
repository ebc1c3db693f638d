import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { Nullable, Timestamp } from './common.dto.ts';

/** A live instance of Parley on the shared store, with the bots it hosts. */
export const InstanceView = Type.Object(
  {
    id: Type.String({ description: 'The instance\'s id (INSTANCE_ID)' }),
    url: Nullable(Type.String({ description: 'Where the instance answers REST calls, as it announced it; other instances forward calls for its bots there. null: it announced none' })),
    startedAt: Timestamp,
    seenAt: Timestamp,
    aliveUntil: Timestamp,
    capacity: Nullable(Type.Integer({ minimum: 0, description: 'Most bots it hosts; null: no limit' })),
    bots: Type.Array(Type.String(), { description: 'Ids of the bots it hosts now, by id' }),
    self: Type.Boolean({ description: 'Whether this is the instance that answered' }),
  },
  { $id: 'InstanceView' },
);
export type InstanceView = Static<typeof InstanceView>;

/** `GET /v1/instances`: oldest first. */
export const InstanceList = Type.Object({ instances: Type.Array(InstanceView) }, { $id: 'InstanceList' });
export type InstanceList = Static<typeof InstanceList>;
