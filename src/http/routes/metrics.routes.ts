import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../schemas/common.schemas.ts';

/** Renders the Prometheus exposition; the metrics registry lives in the runtime. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}

/** `GET /metrics`, unauthenticated like the health routes. */
export function metricsRoutes(metrics: MetricsEndpoint) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics',
          // Text, not JSON: the exposition format Prometheus scrapes.
          response: { 200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses(503) },
        },
      },
      async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
    );
  };
}
