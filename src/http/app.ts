import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { redactPath } from '../logging/logger.ts';
import type { Logger } from '../logging/logger.ts';
import { installErrorHandler } from './error-handler.ts';
import { healthRoutes } from './health.routes.ts';
import type { HealthDeps } from './health.routes.ts';

/** Everything the HTTP layer needs, injected so tests build the app without listening. */
export interface AppDeps {
  readonly logger: Logger;
  readonly health: HealthDeps;
  /** Maximum request body in bytes. */
  readonly bodyLimit?: number;
}

/** Builds the Fastify app; `listen` is the caller's business. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child(
      { scope: 'http' },
      { serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, url: redactPath(req.url) }) } },
    ) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? 25 * 1024 * 1024,
    return503OnClosing: true,
  });
  installErrorHandler(app);
  await app.register(healthRoutes(deps.health));
  return app;
}
