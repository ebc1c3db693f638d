import type { FastifyInstance } from 'fastify';
import { JobList, JobListQuery, JobView } from '../../control-plane/dto/job.dto.ts';
import type { ControlPlane } from '../../control-plane/control-plane.ts';
import { JobIdParams, errorResponses, ref } from '../schemas/common.schemas.ts';

const tags = ['jobs'];

/** Media jobs: listing and operator retry of dead-lettered ones. */
export function jobRoutes(cp: ControlPlane) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get<{ Querystring: JobListQuery }>(
      '/jobs',
      {
        schema: {
          tags,
          summary: 'Media jobs, optionally of one bot and in one state, a page at a time, oldest first',
          querystring: JobListQuery,
          response: { 200: ref(JobList), ...errorResponses(400, 401, 429, 503) },
        },
      },
      async (request) => cp.listJobs(request.query),
    );

    app.post<{ Params: JobIdParams }>(
      '/jobs/:id/retry',
      {
        schema: {
          tags,
          summary: 'Retry a failed job: its message becomes a placeholder again and the job is queued (or held while the bot is stopped)',
          params: JobIdParams,
          response: { 202: ref(JobView), ...errorResponses(400, 401, 404, 409, 413, 414, 415, 429, 503) },
        },
      },
      async (request, reply) => reply.status(202).send(await cp.retryJob(request.params.id)),
    );
  };
}
