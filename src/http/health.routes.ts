import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { isParleyError } from '../domain/errors.ts';
import { errorResponses, ref } from './schemas/common.schemas.ts';

export const Liveness = Type.Object({ status: Type.Literal('ok') }, { $id: 'Liveness' });
export const Readiness = Type.Object({ status: Type.Literal('ready'), store: Type.String({ description: 'Which store backs this process' }) }, { $id: 'Readiness' });

/** What readiness needs to know about the process. */
export interface HealthDeps {
  /** Rejects when the store cannot be reached. */
  readonly pingStore: () => Promise<void>;
  /** Which store backs this process, for operators reading /readyz. */
  readonly storeKind: string;
  /** How long readiness waits for the store before it says not ready. Default 2000 ms. */
  readonly readyTimeoutMs?: number;
}

/** Rejects after `ms`: a store waiting out an election must not hold a probe for its whole timeout. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('store did not answer in time')), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export function healthRoutes(deps: HealthDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: ref(Liveness), ...errorResponses(503) } } }, async () => ({
      status: 'ok',
    }));

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['operations'],
          summary: 'Readiness: the store answers within 2 s',
          response: { 200: ref(Readiness), ...errorResponses(503) },
        },
      },
      async (_request, reply) => {
        try {
          await within(deps.readyTimeoutMs ?? 2000, deps.pingStore());
          return { status: 'ready', store: deps.storeKind };
        } catch (err) {
          const code = isParleyError(err) ? err.code : 'STORE_UNAVAILABLE';
          return reply.status(503).send({ error: { code, message: 'Store is not reachable' } });
        }
      },
    );
  };
}
