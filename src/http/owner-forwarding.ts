import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { BOT_ID_PATTERN } from '../control-plane/dto/common.dto.ts';
import { ParleyError, isParleyError } from '../domain/errors.ts';
import type { BotOwner, Cluster } from '../ports/cluster.port.ts';
import { FORWARDED_BY_HEADER, INSTANCE_HEADER, createOwnerProxy } from './owner-proxy.ts';
import { appendRouteHook } from './route-hooks.ts';
import type { PayloadHook } from './route-hooks.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route can answer from the store when the bot's owner cannot: it runs here when no live
     * instance hosts the bot or its owner does not answer, instead of 503 OWNER_UNAVAILABLE.
     */
    answersWithoutOwner?: boolean;
  }
}

/** Routes of one bot, by their full path: executed by the instance that hosts the bot. */
const BOT_ROUTES: readonly RegExp[] = [/^\/v1\/bots\/:id(\/|$)/, /^\/webhooks\/whatsapp\/:id$/];
const BOT_ID = new RegExp(BOT_ID_PATTERN);
/** Longest `Retry-After` suggested while an unreachable owner's lease runs out. */
const MAX_RETRY_AFTER_S = 60;

export interface OwnerForwardingOptions {
  readonly cluster: Cluster;
  /** Whether the bot exists: a call for an unknown bot runs here and gets its 404. */
  readonly botExists: (botId: string) => Promise<boolean>;
  /** Silence after which the owner counts as not answering. */
  readonly timeoutMs: number;
  readonly clock?: () => number;
}

/** Sets `parley-instance` on every answer this instance gives itself (a relayed answer keeps the owner's). */
export function registerInstanceHeader(app: FastifyInstance, instanceId: string): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader(INSTANCE_HEADER)) void reply.header(INSTANCE_HEADER, instanceId);
    return payload;
  });
}

/**
 * Runs each call of one bot (`/v1/bots/:id…`, Meta's `/webhooks/whatsapp/:id`) on the instance
 * that hosts the bot. A call for a bot hosted elsewhere is relayed to its owner, at the URL the
 * owner announced in the store's instance registry, and the owner's answer is passed back. It
 * happens in `preParsing`: after the key check, the failed-key throttle and the rate limit (all
 * `onRequest`), and before a byte of the body is read, so the body goes on unchanged. A relayed
 * call carries `parley-forwarded-by`; an instance receiving one for a bot it does not host answers
 * 503 itself rather than forwarding again, so instances that disagree about an owner for a moment
 * cannot pass a call around. Register on the root instance before any route.
 */
export function registerOwnerForwarding(app: FastifyInstance, options: OwnerForwardingOptions): void {
  const { cluster } = options;
  const clock = options.clock ?? Date.now;
  const proxy = createOwnerProxy({ instanceId: cluster.instanceId, timeoutMs: options.timeoutMs });
  app.addHook('onClose', async () => proxy.close());

  async function ownerOf(botId: string): Promise<BotOwner | null> {
    try {
      return await cluster.ownerOf(botId);
    } catch (err) {
      if (isParleyError(err)) throw err;
      throw ParleyError.of('OWNER_UNAVAILABLE', { id: botId }, { cause: err });
    }
  }

  const forward: PayloadHook = async (request, reply, payload) => {
    const botId = botIdOf(request);
    if (botId === null || cluster.hostsLocally(botId)) return payload;
    const fallback = request.routeOptions.config.answersWithoutOwner === true;
    if (request.headers[FORWARDED_BY_HEADER] !== undefined) {
      if (fallback) return payload;
      throw unavailable(reply, botId, 1);
    }
    const owner = await ownerOf(botId);
    if (owner === null || owner.local || owner.url === null) {
      if (fallback) return payload;
      if (owner === null && !(await options.botExists(botId))) return payload;
      throw unavailable(reply, botId, 1);
    }
    request.log.debug({ botId, owner: owner.instanceId }, 'forwarding to the bot\'s owner');
    const outcome = await proxy.relay({ baseUrl: owner.url, instanceId: owner.instanceId }, request, reply, payload);
    if (outcome === 'relayed') return undefined;
    // A read can still be answered here from the store. A change is not: the live owner would not
    // hear of it until it next takes the bot.
    if (fallback && request.method === 'GET' && !hasBody(request)) return payload;
    throw unavailable(reply, botId, secondsUntil(owner.leaseUntil, clock()));
  };

  app.addHook('onRoute', (route: RouteOptions) => {
    if (BOT_ROUTES.some((pattern) => pattern.test(route.url))) appendRouteHook(route, 'preParsing', forward);
  });
}

/** The route's bot id when it is one (a malformed id runs here, to be refused by validation). */
function botIdOf(request: FastifyRequest): string | null {
  const params: unknown = request.params;
  if (typeof params !== 'object' || params === null || !('id' in params)) return null;
  const { id } = params;
  return typeof id === 'string' && BOT_ID.test(id) ? id : null;
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function unavailable(reply: FastifyReply, botId: string, retryAfterS: number): ParleyError {
  void reply.header('retry-after', String(retryAfterS));
  return ParleyError.of('OWNER_UNAVAILABLE', { id: botId });
}

/** Until the silent owner's lease runs out (another instance may take the bot then), within bounds. */
function secondsUntil(leaseUntil: Date, now: number): number {
  return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((leaseUntil.getTime() - now) / 1000)));
}
