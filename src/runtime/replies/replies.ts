import type { InspectionEvent, StateValue } from 'xstate';
import { CONVERSATION_REPLY_MACHINE_VERSION, conversationReplyMachine } from '../../../machines/conversation-reply.machine.ts';
import type { ConversationReplyContext, ConversationReplyEffects, ConversationReplyEvent } from '../../../machines/conversation-reply.machine.ts';
import { statePath } from '../../../machines/state-name.ts';
import type { BackoffPolicy } from '../../domain/backoff.ts';
import { ParleyError } from '../../domain/errors.ts';
import { isPlaceholder } from '../../domain/queue-message.ts';
import type { QueueWindow } from '../../domain/queue-message.ts';
import { REPLY_MAX_ATTEMPTS } from '../../domain/reply-settings.ts';
import type { ReplySettings } from '../../domain/reply-settings.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ReplyGenerator } from '../../ports/reply-generator.port.ts';
import type { Store } from '../../ports/store.port.ts';
import { createLanes } from '../actors/lanes.ts';
import { createPersistedActor, restorePersistedActor } from '../actors/persisted-actor.ts';
import type { ActorFence, PersistedActor, PersistedActorOptions } from '../actors/persisted-actor.ts';
import type { EffectTable } from '../actors/effect-table.ts';
import type { ActorScope } from '../actors/persisted-actor.ts';
import type { DeliveredMessage } from '../conversations/listener-registry.ts';
import { replyEffects } from './reply-effects.ts';
import type { ReplyEffectDeps, ReplyStats } from './reply-effects.ts';
import { createReplyGeneration } from './reply-generation.ts';

export type ReplyActor = PersistedActor<typeof conversationReplyMachine>;

export const replyActorId = (botId: string, correspondentId: string): string => `reply|${botId}|${correspondentId}`;

/**
 * Longest single timer: Node fires a longer one at once, and a pause may last weeks. A later
 * deadline is armed again when the timer fires (a timer that is not due decides nothing).
 */
const MAX_TIMER_MS = 6 * 3_600_000;

/** States a reply actor is kept in memory in (a timer or a call runs for it), and restored in. */
const ACTIVE_STATES = ['debouncing', 'awaiting-media', 'generating', 'sending', 'paused'] as const;

export interface RepliesDeps {
  readonly store: Pick<Store, 'actors' | 'history'>;
  /** The conversation's live window: which of its messages still wait for their media. */
  readonly windowOf: (botId: string, correspondentId: string) => Promise<QueueWindow>;
  readonly outbox: ReplyEffectDeps['outbox'];
  readonly presence: ReplyEffectDeps['presence'];
  readonly generator: ReplyGenerator | null;
  readonly settingsFor: (botId: string) => ReplySettings;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly inspect?: (event: InspectionEvent) => void;
  readonly retry?: BackoffPolicy;
  /** Replaces the effect handlers (model tests record what the machine asks for instead). */
  readonly effects?: EffectTable<ConversationReplyEffects, ActorScope>;
  /** Ownership fencing (I14) of every reply actor's write; unfenced when absent. */
  readonly fence?: ActorFence;
}

/** A conversation's AI reply as operators see it. */
export interface ReplyView {
  readonly botId: string;
  readonly correspondentId: string;
  readonly state: string;
  readonly pausedBy: 'owner' | 'operator' | null;
  readonly pausedUntil: number | null;
  readonly answeredThrough: number;
  readonly latestSeq: number;
  readonly reply: { readonly id: string; readonly throughSeq: number; readonly attempt: number } | null;
  readonly deadline: number | null;
  readonly sent: number;
  readonly failed: number;
  readonly dropped: number;
  readonly lastError: string | null;
}

/**
 * AI replies: one conversation-reply actor per bot and correspondent, persisted like the queues.
 * It is driven by the queue's durable notifications of finalized messages (this listener makes
 * its decision durable before it returns, so a crash notifies again and the actor dedupes by
 * seq), by the runtime's timer for its deadline, by the model's answers, and by the owner's and
 * operators' pauses. An actor with nothing pending leaves memory; those with a deadline, a call
 * or unacknowledged effects are restored at start.
 */
export function createReplies(deps: RepliesDeps) {
  const clock = deps.clock ?? Date.now;
  const log = deps.logger.child({ scope: 'replies' });
  const stats: ReplyStats = { queued: 0, messages: 0, retried: 0, failed: 0, dropped: 0, abandoned: 0, lateResults: 0 };
  const lanes = createLanes();
  const actors = new Map<string, ReplyActor>();
  const timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  const warnedNoKey = new Set<string>();
  let halted = false;

  const generation = createReplyGeneration({
    history: deps.store.history, generator: deps.generator, settingsFor: deps.settingsFor, clock, log,
    canType: (botId) => deps.presence(botId) !== undefined,
    report: (botId, correspondentId, event) => dispatch(botId, correspondentId, event, null).then(() => undefined),
    ...(deps.retry === undefined ? {} : { retry: deps.retry }),
  });
  const options: PersistedActorOptions<typeof conversationReplyMachine, ConversationReplyEffects> = {
    machine: conversationReplyMachine,
    machineVersion: CONVERSATION_REPLY_MACHINE_VERSION,
    store: deps.store.actors,
    effects: deps.effects ?? replyEffects({ settingsFor: deps.settingsFor, outbox: deps.outbox, presence: deps.presence, generation, stats, log }),
    ...(deps.inspect === undefined ? {} : { inspect: deps.inspect }),
    effectRunner: { onError: (err, effect) => log.error({ err, effect: effect.type }, 'reply effect failed') },
    ...(deps.fence === undefined ? {} : { fence: deps.fence }),
  };

  /** The actor in memory, else the stored one, else (with `answeredThrough`) a new one. */
  async function load(botId: string, correspondentId: string, answeredThrough: number | null): Promise<ReplyActor | null> {
    const id = replyActorId(botId, correspondentId);
    const held = actors.get(id);
    if (held !== undefined) return held;
    const record = await deps.store.actors.get(id);
    let actor: ReplyActor;
    if (record !== null) actor = await restorePersistedActor(options, record);
    else if (answeredThrough === null) return null;
    else {
      try {
        actor = await createPersistedActor(options, { id, kind: 'conversation-reply', botId }, { botId, correspondentId, answeredThrough });
      } catch (err) {
        // An insert whose reply was lost may have landed: then the actor exists and is taken up.
        const landed = await deps.store.actors.get(id).catch(() => null);
        if (landed === null) throw err;
        actor = await restorePersistedActor(options, landed);
      }
    }
    actors.set(id, actor);
    return actor;
  }

  const pendingMedia = async (botId: string, correspondentId: string): Promise<number[]> =>
    (await deps.windowOf(botId, correspondentId)).messages.filter(isPlaceholder).map((m) => m.id);

  /**
   * Decides one event on the conversation's actor, in its lane; `build` may read what the event
   * needs (the window) in turn. `create` is the range a new actor starts after; `null`: never create.
   */
  async function dispatch(
    botId: string,
    correspondentId: string,
    event: ConversationReplyEvent | ((context: ConversationReplyContext) => Promise<ConversationReplyEvent | null>),
    create: number | null,
  ): Promise<ReplyActor | null> {
    const id = replyActorId(botId, correspondentId);
    return lanes.run(id, async () => {
      // Refused, not ignored: a notification not taken is made again after the restart.
      if (halted) throw ParleyError.of('SHUTTING_DOWN');
      const actor = await load(botId, correspondentId, create);
      if (actor === null) return null;
      const decided = typeof event === 'function' ? await event(actor.getSnapshot().context) : event;
      if (decided !== null) await actor.send(decided, { urgent: true });
      await settle(actor);
      return actor;
    });
  }

  /** After a decision: arm the deadline's timer, or let an actor with nothing pending leave memory. */
  async function settle(actor: ReplyActor): Promise<void> {
    const snapshot = actor.getSnapshot();
    const { botId, correspondentId, deadline } = snapshot.context;
    arm(botId, correspondentId, deadline);
    if (snapshot.value !== 'idle' || halted) return;
    await actor.flush();
    if (actor.getSnapshot().value !== 'idle' || actor.unacknowledgedEffects() > 0) return;
    await actor.stop();
    actors.delete(actor.id);
  }

  function arm(botId: string, correspondentId: string, deadline: number | null): void {
    const id = replyActorId(botId, correspondentId);
    const current = timers.get(id);
    if (current?.at === deadline) return;
    if (current !== undefined) clearTimeout(current.timer);
    timers.delete(id);
    if (deadline === null || halted) return;
    const timer = setTimeout(() => {
      timers.delete(id);
      void dispatch(botId, correspondentId, (context) => deadlineEvent(context), null).catch((err: unknown) =>
        log.error({ err, botId }, 'reply deadline could not be decided'),
      );
    }, Math.min(MAX_TIMER_MS, Math.max(0, deadline - clock())));
    timer.unref();
    timers.set(id, { at: deadline, timer });
  }

  async function deadlineEvent(context: ConversationReplyContext): Promise<ConversationReplyEvent> {
    const settings = deps.settingsFor(context.botId);
    return {
      type: 'reply.deadline',
      now: clock(),
      pendingMedia: await pendingMedia(context.botId, context.correspondentId),
      mediaWaitMs: settings.mediaWaitMs,
      maxAttempts: REPLY_MAX_ATTEMPTS,
    };
  }

  /** Whether the bot answers at all now; says once per bot why not when it is on without a model. */
  /** Restores interrupted actors (see `restoreBot`). */
  async function restore(botId: string): Promise<number> {
    const records = [
      ...(await deps.store.actors.list({ kind: 'conversation-reply', states: ACTIVE_STATES, botId })),
      ...(await deps.store.actors.list({ kind: 'conversation-reply', states: ['idle'], withEffects: true, botId })),
    ];
    for (const record of records) {
      if (!isStoredReply(record.snapshot)) continue;
      const { context } = record.snapshot;
      await lanes.run(record.id, async () => {
        const actor = await load(context.botId, context.correspondentId, null);
        if (actor === null) return;
        const snapshot = actor.getSnapshot();
        const reply = snapshot.context.reply;
        if (statePath(snapshot.value) === 'generating.calling' && reply !== null) {
          generation.start({ botId: context.botId, correspondentId: context.correspondentId, replyId: reply.id, throughSeq: reply.throughSeq, attempt: reply.attempt });
        }
        await settle(actor);
      }).catch((err: unknown) => log.error({ err, actorId: record.id }, 'reply actor could not be restored'));
    }
    if (records.length > 0) log.info({ restored: records.length }, 'reply actors restored');
    return records.length;
}

  function answering(botId: string): ReplySettings | null {
    const settings = deps.settingsFor(botId);
    if (!settings.enabled) return null;
    if (deps.generator === null) {
      if (!warnedNoKey.has(botId)) log.warn({ botId }, 'AI replies are enabled for this bot but no OpenAI API key is configured (OPENAI_API_KEY): AI stays off');
      warnedNoKey.add(botId);
      return null;
    }
    return settings;
  }

  function view(botId: string, correspondentId: string, snapshot: StoredReply | null): ReplyView {
    if (snapshot === null) {
      return { botId, correspondentId, state: 'idle', pausedBy: null, pausedUntil: null, answeredThrough: 0, latestSeq: 0, reply: null, deadline: null, sent: 0, failed: 0, dropped: 0, lastError: null };
    }
    const c = snapshot.context;
    const state = statePath(snapshot.value);
    return {
      botId, correspondentId, state,
      pausedBy: c.pausedBy,
      pausedUntil: state === 'paused' ? c.deadline : null,
      answeredThrough: c.answeredThrough,
      latestSeq: c.latestSeq,
      reply: c.reply === null ? null : { id: c.reply.id, throughSeq: c.reply.throughSeq, attempt: c.reply.attempt },
      deadline: c.deadline,
      sent: c.sent, failed: c.failed, dropped: c.dropped, lastError: c.lastError,
    };
  }

  const lastSeq = (botId: string, correspondentId: string) => deps.store.history.maxSeq(botId, correspondentId);

  return {
    stats,
    generation,

    /**
     * The listener of finalized messages. Resolves once the actor's decision is durable, so the
     * queue acknowledges its notification only then.
     */
    async onMessage(message: DeliveredMessage): Promise<void> {
      if (message.source !== 'user') return;
      const settings = answering(message.botId);
      if (settings === null || (message.group !== null && !settings.groups)) return;
      const { botId, correspondentId, messageId: seq } = message;
      await dispatch(botId, correspondentId, async () => ({
        type: 'message.finalized',
        seq,
        now: clock(),
        timing: { debounceMs: settings.debounceMs, maxWaitMs: settings.maxWaitMs },
        pendingMedia: await pendingMedia(botId, correspondentId),
        mediaWaitMs: settings.mediaWaitMs,
      }), seq - 1);
    },

    /** The account owner wrote in the conversation (message `seq`) from the phone: the AI pauses there. */
    async ownerWrote(botId: string, correspondentId: string, seq: number): Promise<void> {
      const settings = deps.settingsFor(botId);
      if (!settings.enabled) return;
      await dispatch(botId, correspondentId, { type: 'owner.wrote', now: clock(), pauseMs: settings.pauseMs }, seq);
    },

    /** An operator pauses the AI in a conversation, for `durationMs` or until resumed (`null`). */
    async pause(botId: string, correspondentId: string, durationMs: number | null): Promise<ReplyView> {
      const since = await lastSeq(botId, correspondentId);
      const actor = await dispatch(botId, correspondentId, { type: 'ai.paused', now: clock(), durationMs }, since);
      return view(botId, correspondentId, actor?.getSnapshot() ?? null);
    },

    async resume(botId: string, correspondentId: string): Promise<ReplyView> {
      const actor = await dispatch(botId, correspondentId, { type: 'ai.resumed', now: clock() }, null);
      return view(botId, correspondentId, actor?.getSnapshot() ?? null);
    },

    /** The conversation's reply actor now; an idle view when it never had one. */
    async view(botId: string, correspondentId: string): Promise<ReplyView> {
      const id = replyActorId(botId, correspondentId);
      return lanes.run(id, async () => {
        const held = actors.get(id);
        if (held !== undefined) return view(botId, correspondentId, held.getSnapshot());
        // Read, not restored: restoring would run the effects it owes a second time.
        const record = await deps.store.actors.get(id);
        return view(botId, correspondentId, isStoredReply(record?.snapshot) ? record.snapshot : null);
      });
    },


    /**
     * Restores the actors of a bot this instance just took that its last host left interrupted:
     * those waiting on a deadline or a call, and those owing a durable effect (a reply not yet
     * handed to the outbox). A call is started again for the claimed reply, under the same id.
     */
    restoreBot: (botId: string) => restore(botId),

    /** Reply actors in memory now. */
    actors: (): ReplyActor[] => [...actors.values()],

    /**
     * Hands a bot's actors over: the work queued on them finishes, then each writes what it
     * decided and leaves memory. A model call under way here is made again by the next host under
     * the same reply id; the outbox takes that reply once.
     */
    async releaseBot(botId: string): Promise<number> {
      await lanes.idle(replyActorId(botId, ''));
      const mine = [...actors].filter(([, actor]) => actor.botId === botId);
      await Promise.all(mine.map(async ([id, actor]) => {
        actors.delete(id);
        clearTimeout(timers.get(id)?.timer);
        timers.delete(id);
        await actor.stop().catch((err: unknown) => log.warn({ err, botId }, 'a reply actor did not stop cleanly'));
      }));
      return mine.length;
    },

    /** Forgets the actors of a deleted bot (their records go with the bot's), or of a bot this instance lost (the next host has them). */
    dropBot(botId: string): void {
      for (const [id, actor] of actors) {
        if (actor.botId !== botId) continue;
        actor.halt();
        actors.delete(id);
        clearTimeout(timers.get(id)?.timer);
        timers.delete(id);
      }
    },

    halt(): void {
      halted = true;
      generation.halt();
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
      for (const actor of actors.values()) actor.halt();
    },

    /** Stops timers and calls, then writes every decision and acknowledgement. */
    async stop(): Promise<void> {
      generation.halt();
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
      halted = true;
      await lanes.idle();
      await Promise.all([...actors.values()].map((a) => a.stop().catch(() => undefined)));
    },
  };
}

export type Replies = ReturnType<typeof createReplies>;

/** A reply actor's snapshot as stored (as it is: the reply machine has no codec). */
interface StoredReply {
  readonly value: StateValue;
  readonly context: ConversationReplyContext;
}

function isStoredReply(snapshot: unknown): snapshot is StoredReply {
  return typeof snapshot === 'object' && snapshot !== null && 'value' in snapshot && 'context' in snapshot;
}
