import type { CloudApiWebhooks } from './ports/cloud-api.port.ts';
import { createBotQueueLimits } from './control-plane/bot-queue-limits.ts';
import { createBotMediaKinds } from './control-plane/bot-media-kinds.ts';
import { createBotReplySettings } from './control-plane/bot-reply-settings.ts';
import type { BackoffPolicy } from './domain/backoff.ts';
import { DEFAULT_REPLY_MODEL } from './domain/reply-settings.ts';
import type { ReplyGenerator } from './ports/reply-generator.port.ts';
import { createControlPlane } from './control-plane/control-plane.ts';
import { poolsOf } from './control-plane/bot-settings.ts';
import { createMetrics } from './observability/metrics.ts';
import type { MetricsOptions } from './observability/metrics.ts';
import { createParleyRuntime } from './runtime/parley-runtime.ts';
import type { RuntimeDeps } from './runtime/parley-runtime.ts';
import type { SimulatorControl } from './control-plane/simulator-control.ts';
import { createWebhookSetup } from './webhook-setup.ts';
import type { WebhookOptions } from './webhook-setup.ts';

/** The model AI replies come from; AI stays off for every bot when absent. */
export interface AiSetup {
  /** `null` without an OpenAI key: bots that enable AI are warned about, and stay quiet. */
  readonly generator: ReplyGenerator | null;
  /** The model of bots whose settings name none. */
  readonly defaultModel: string;
  readonly retry?: BackoffPolicy;
}

export interface ParleyServicesDeps extends Omit<RuntimeDeps, 'limitsFor' | 'mediaKindsFor' | 'languageFor' | 'hooks' | 'replies' | 'webhooks'> {
  readonly ai?: AiSetup;
  /** Event webhooks: WEBHOOK_* settings, or a sender and resolver of a test's own. */
  readonly webhooks?: WebhookOptions;
  /** Most bots the control plane lets exist. */
  readonly maxBots?: number;
  readonly simulator?: SimulatorControl;
  readonly metrics?: MetricsOptions;
  /** Meta's webhooks of Cloud API bots (the `cloud-api` provider). */
  readonly cloudApiWebhooks?: CloudApiWebhooks;
}

/**
 * Everything behind the REST API, wired once for `main.ts` and tests alike: the queue limits of
 * every bot (new conversations start with them), the runtime on a metrics-instrumented store, the
 * Prometheus registry and the control plane the routes call.
 */
export function createParleyServices(deps: ParleyServicesDeps) {
  const { simulator, metrics: metricsOptions, maxBots, ai, webhooks: webhookOptions, cloudApiWebhooks, ...runtimeDeps } = deps;
  const queueLimits = createBotQueueLimits();
  const mediaKinds = createBotMediaKinds();
  const replySettings = createBotReplySettings(ai?.defaultModel ?? DEFAULT_REPLY_MODEL, (botId) => {
    if (ai?.generator == null) deps.logger.warn({ botId }, 'AI replies are enabled for this bot but no OpenAI API key is configured (OPENAI_API_KEY): AI stays off');
  });
  const replies = { generator: ai?.generator ?? null, settingsFor: replySettings.settingsFor, ...(ai?.retry === undefined ? {} : { retry: ai.retry }) };
  const metrics = createMetrics(metricsOptions);
  const store = metrics.instrumentStore(deps.store);
  /** A bot's settings as stored: read when this instance takes the bot, since another may have changed them. */
  async function rememberBot(botId: string): Promise<void> {
    const bot = await store.bots.get(botId);
    if (bot === null) return;
    queueLimits.remember(bot);
    mediaKinds.remember(bot);
    replySettings.remember(bot);
    await runtime.mediaJobs.pools.setBotPools(bot.id, poolsOf(bot));
  }
  const runtime = createParleyRuntime({
    ...runtimeDeps, store, replies, webhooks: createWebhookSetup(webhookOptions), limitsFor: queueLimits.limitsFor, mediaKindsFor: mediaKinds.mediaKindsFor, languageFor: mediaKinds.languageFor,
    hooks: { onClaim: metrics.onClaim },
    ownership: {
      ...runtimeDeps.ownership,
      onGained: rememberBot,
      onChange: (change, botId) => {
        metrics.onOwnership(change);
        runtimeDeps.ownership?.onChange?.(change, botId);
      },
    },
  });
  const { outbox } = runtime;
  metrics.attach({ bots: runtime.bots, conversations: runtime.conversations, stats: runtime.stats, countJobs: () => store.mediaJobs.countByState(), outbox, replies: runtime.replies, webhooks: runtime.webhooks,
    media: { stagedBytes: () => runtime.staging.stagedBytes(), pools: () => runtime.mediaJobs.pools.stats() },
    cluster: runtime.cluster,
  });
  const controlPlane = createControlPlane({
    store,
    runtime,
    queueLimits,
    mediaKinds,
    replySettings,
    providers: Object.keys(deps.providers),
    outbox,
    metrics,
    cluster: runtime.cluster,
    ...(simulator === undefined ? {} : { simulator }),
    ...(cloudApiWebhooks === undefined ? {} : { cloudApiWebhooks }),
    ...(deps.maxInboundTextChars === undefined ? {} : { maxInboundTextChars: deps.maxInboundTextChars }),
    ...(maxBots === undefined ? {} : { maxBots }),
  });
  return {
    store,
    runtime,
    controlPlane,
    metrics,
    outbox,
    queueLimits,
    /** Loads bot settings, then restores the runtime: bots that should run start again, workers and the outbox start. */
    async start(options: { hosting?: boolean } = {}): Promise<void> {
      for (const bot of await store.bots.list()) {
        queueLimits.remember(bot);
        mediaKinds.remember(bot);
        replySettings.remember(bot);
        await runtime.mediaJobs.pools.setBotPools(bot.id, poolsOf(bot));
      }
      await runtime.start(options);
    },
    /** Stops sending, bots and workers, and writes every snapshot. */
    async shutdown(graceMs?: number): Promise<void> {
      await runtime.shutdown(graceMs);
    },
  };
}

export type ParleyServices = ReturnType<typeof createParleyServices>;
