import type { FastifyInstance } from 'fastify';
import { InstanceList } from '../../control-plane/dto/instance.dto.ts';
import type { ControlPlane } from '../../control-plane/control-plane.ts';
import { errorResponses, ref } from '../schemas/common.schemas.ts';

const tags = ['instances'];

/** The instances sharing the store and the bots each hosts. */
export function instanceRoutes(cp: ControlPlane) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get(
      '/instances',
      { schema: { tags, summary: 'Live instances, oldest first, each with the bots it hosts', response: { 200: ref(InstanceList), ...errorResponses(401, 429, 503) } } },
      async () => cp.instances(),
    );
  };
}
