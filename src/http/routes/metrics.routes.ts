import type { FastifyInstance } from 'fastify';

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
      { schema: { tags: ['operations'], summary: 'Prometheus metrics', response: { 200: { type: 'string', description: 'Prometheus text exposition' } } } },
      async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
    );
  };
}
