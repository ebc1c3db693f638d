import type { FastifyInstance } from 'fastify';
import { createOpenAiReplyGenerator } from '../../src/adapters/openai/openai-reply-generator.ts';
import { buildApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { createParleyServices } from '../../src/parley-services.ts';
import type { ParleyServices, ParleyServicesDeps } from '../../src/parley-services.ts';
import type { Store } from '../../src/ports/store.port.ts';

export const E2E_API_KEY = 'e2e-provider-key-0123456789abcdef';

/** What differs between the provider end-to-end suites: the providers and their extras. */
export type ProviderAppOptions = Pick<ParleyServicesDeps, 'providers' | 'media'> & Partial<Pick<ParleyServicesDeps, 'simulator' | 'cloudApiWebhooks'>> & {
  readonly store: Store;
  /** The local OpenAI-compatible server the AI replies and media processors talk to. */
  readonly openAiUrl: string;
};

export const e2eLogger = (): Logger => createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent');

/**
 * Services and app as `main.ts` wires them, tuned for tests: fast polls and retries, AI replies
 * from the local OpenAI-compatible server, a rate limit no test reaches. Routes load before the
 * first request.
 */
export async function startProviderApp(options: ProviderAppOptions): Promise<{ services: ParleyServices; app: FastifyInstance }> {
  const logger = e2eLogger();
  const { store, openAiUrl, ...wiring } = options;
  const services = createParleyServices({
    store,
    ...wiring,
    logger,
    worker: { pollMs: 50, leaseMs: 5_000, maxAttempts: 2 },
    historyWindowMs: 1,
    outbox: { pollMs: 50, retry: { baseMs: 20, maxMs: 80, jitter: 0 } },
    metrics: { defaultMetrics: false },
    ai: {
      generator: createOpenAiReplyGenerator({ apiKey: 'test-key', baseURL: openAiUrl, timeoutMs: 5_000 }),
      defaultModel: 'gpt-test',
      retry: { baseMs: 100, maxMs: 200, jitter: 0 },
    },
  });
  await services.start();
  const app = await buildApp({
    logger,
    health: { pingStore: () => store.ping(), storeKind: 'test' },
    metrics: services.metrics,
    api: { controlPlane: services.controlPlane, apiKey: E2E_API_KEY, rateLimit: { max: 10_000, timeWindow: 60_000 } },
  });
  await app.ready();
  return { services, app };
}
