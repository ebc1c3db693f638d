import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { ParleyError } from '../domain/errors.ts';
import { redactPath } from '../logging/logger.ts';
import type { Logger } from '../logging/logger.ts';
import type { ControlPlane } from '../control-plane/control-plane.ts';
import type { Cluster } from '../ports/cluster.port.ts';
import { registerBearerAuth } from './auth.plugin.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { MAX_PARAM_LENGTH, frameworkErrors, installErrorHandler, refuseWhileClosing } from './error-handler.ts';
import { installHardening } from './hardening.ts';
import { healthRoutes } from './health.routes.ts';
import type { HealthDeps } from './health.routes.ts';
import { resolveHttpLimits, serverTimeouts } from './http-limits.ts';
import type { HttpLimits } from './http-limits.ts';
import { registerOpenApi } from './openapi.plugin.ts';
import { registerInstanceHeader, registerOwnerForwarding } from './owner-forwarding.ts';
import { registerRateLimit } from './rate-limit.plugin.ts';
import { registerSharedSchemas } from './schemas/shared-schemas.ts';
import { botRoutes } from './routes/bots.routes.ts';
import { conversationRoutes } from './routes/conversations.routes.ts';
import { aiRoutes } from './routes/ai.routes.ts';
import { instanceRoutes } from './routes/instances.routes.ts';
import { jobRoutes } from './routes/jobs.routes.ts';
import { messageRoutes } from './routes/messages.routes.ts';
import { metricsRoutes } from './routes/metrics.routes.ts';
import type { MetricsEndpoint } from './routes/metrics.routes.ts';
import { simulatorRoutes } from './routes/simulator.routes.ts';
import { webhookRoutes } from './routes/webhooks.routes.ts';
import { whatsappWebhookRoutes } from './routes/whatsapp-webhook.routes.ts';
import type { WhatsAppWebhookLimits } from './routes/whatsapp-webhook.routes.ts';

/** Of every route but the media-carrying ones, which take `HttpLimits.mediaBodyLimit`. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_RATE_LIMIT = { max: 600, timeWindow: 60_000 } as const;

/** The `/v1` control plane and what guards it. */
export interface ApiDeps {
  readonly controlPlane: ControlPlane;
  /** Every `/v1` request must present `Authorization: Bearer <apiKey>`. */
  readonly apiKey: string;
  /** Requests per key (or client address) and window. */
  readonly rateLimit?: { readonly max: number; readonly timeWindow: number };
  /** Body and rate limits of Meta's webhook routes (`/webhooks/whatsapp/:id`). */
  readonly whatsappWebhooks?: WhatsAppWebhookLimits;
  /** Counts failed keys per client address; pass the one `/inspect` uses too. */
  readonly authThrottle?: AuthThrottle;
}

/** Everything the HTTP layer needs, injected so tests build the app without listening. */
export interface AppDeps {
  readonly logger: Logger;
  readonly health: HealthDeps;
  /** Maximum request body in bytes; larger bodies get 413 PAYLOAD_TOO_LARGE. */
  readonly bodyLimit?: number;
  /** Timeouts, the media body limit, concurrent large bodies and event streams; defaults for any left out. */
  readonly limits?: Partial<HttpLimits>;
  /** Version shown in the OpenAPI document. */
  readonly version?: string;
  /** Without it only the health, metrics and docs routes are served. */
  readonly api?: ApiDeps;
  readonly metrics?: MetricsEndpoint;
  /** Further root-level route plugins (e.g. `/inspect`), registered after the OpenAPI plugin. */
  readonly routes?: ReadonlyArray<(app: FastifyInstance) => Promise<void>>;
  /**
   * Which instance hosts each bot. With it, a call of a bot hosted elsewhere is forwarded to its
   * owner and every answer names the instance that executed it (`parley-instance`); without it,
   * every call runs here.
   */
  readonly cluster?: Cluster;
}

/** Builds the Fastify app; `listen` is the caller's business. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits = resolveHttpLimits(deps.limits);
  const app = Fastify({
    loggerInstance: deps.logger.child(
      { scope: 'http' },
      { serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, url: redactPath(req.url) }) } },
    ) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...serverTimeouts(limits),
    // Requests arriving while the server closes get `refuseWhileClosing`'s 503 in the API's error
    // shape; Fastify's own has another.
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    // `additionalProperties: false` in a schema rejects unknown fields instead of dropping them;
    // `verbose` hands the error handler the schema of a failed keyword, to word it plainly.
    ajv: { customOptions: { removeAdditional: false, verbose: true } },
  });
  installErrorHandler(app);
  refuseWhileClosing(app);
  installHardening(app, limits, deps.bodyLimit ?? DEFAULT_BODY_LIMIT);
  const { cluster } = deps;
  if (cluster !== undefined) {
    registerInstanceHeader(app, cluster.instanceId);
    const controlPlane = deps.api?.controlPlane;
    if (controlPlane !== undefined) registerOwnerForwarding(app, { cluster, botExists: (id) => controlPlane.hasBot(id), timeoutMs: limits.ownerTimeoutMs });
  }
  registerSharedSchemas(app);
  // The API speaks JSON only: any other body is refused as such (415), not parsed as text.
  app.removeContentTypeParser('text/plain');
  await registerOpenApi(app, { version: deps.version ?? '0.0.0' });
  await app.register(healthRoutes(deps.health));
  if (deps.metrics !== undefined) await app.register(metricsRoutes(deps.metrics));
  for (const routes of deps.routes ?? []) await app.register(routes);
  const api = deps.api;
  if (api !== undefined) {
    if (api.apiKey.length === 0) throw ParleyError.of('CONFIG_INVALID', { problem: 'the /v1 API needs an API key' });
    await app.register(
      async (v1) => {
        registerBearerAuth(v1, { apiKey: api.apiKey, ...(api.authThrottle === undefined ? {} : { throttle: api.authThrottle }) });
        await registerRateLimit(v1, api.rateLimit ?? DEFAULT_RATE_LIMIT);
        await v1.register(botRoutes(api.controlPlane));
        await v1.register(conversationRoutes(api.controlPlane));
        await v1.register(aiRoutes(api.controlPlane));
        await v1.register(messageRoutes(api.controlPlane));
        await v1.register(jobRoutes(api.controlPlane));
        await v1.register(simulatorRoutes(api.controlPlane));
        await v1.register(webhookRoutes(api.controlPlane));
        await v1.register(instanceRoutes(api.controlPlane));
      },
      { prefix: '/v1' },
    );
    await app.register(whatsappWebhookRoutes(api.controlPlane, api.whatsappWebhooks), { prefix: '/webhooks' });
  }
  return app;
}
