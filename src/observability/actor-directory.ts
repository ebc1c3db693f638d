import type { InspectionEvent, StateValue } from 'xstate';
import { statePath } from '../../machines/state-name.ts';
import type { InspectionHub } from '../runtime/actors/inspection-hub.ts';

/** The actor kinds the directory recognizes; also the machine names of their diagrams. */
export type InspectedKind = 'bot' | 'correspondent-queue' | 'media-job' | 'outbox-delivery' | 'conversation-reply' | 'webhook-delivery';

/** One decided event: the state before and after it (equal for a self-transition). */
export interface TransitionRecord {
  readonly at: number;
  readonly event: string;
  /** `null` for the first snapshot the directory saw of this actor. */
  readonly from: string | null;
  readonly to: string;
}

/** A scalar-only summary: ids, counters, deadlines and error texts, never message bodies or QR codes. */
export type ContextSummary = Readonly<Record<string, string | number | boolean | null>>;

export interface ActorEntry {
  readonly id: string;
  readonly kind: InspectedKind;
  readonly botId: string;
  /** Dotted path of the state value (`holding.idle`). */
  readonly state: string;
  readonly context: ContextSummary;
  /** Most recent last. */
  readonly transitions: readonly TransitionRecord[];
  readonly firstSeenAt: number;
  readonly updatedAt: number;
}

export type DirectoryChange = { readonly type: 'actor'; readonly actor: ActorEntry } | { readonly type: 'removed'; readonly id: string };

export interface ActorDirectory {
  /** Every known actor, most recently updated first. */
  list(): ActorEntry[];
  get(id: string): ActorEntry | undefined;
  /** Hears every change; a throwing listener is dropped so it cannot break a transition. */
  subscribe(listener: (change: DirectoryChange) => void): () => void;
  /** Listeners currently subscribed (open /inspect streams, mostly). */
  listenerCount(): number;
  /** Forgets an actor (a deleted bot, say); the hub cannot tell a stopped actor from a gone one. */
  remove(id: string): void;
  /**
   * Forgets every actor of a deleted bot. Snapshots of its actors that arrive late (a worker that
   * was mid-decision) are ignored until a bot actor of that id appears again (it was recreated).
   */
  removeBot(botId: string): void;
  /** Stops listening to the hub. */
  close(): void;
}

export interface ActorDirectoryOptions {
  /** Transitions kept per actor. */
  readonly maxTransitions?: number;
  /** Actors kept per kind; the least recently updated one is forgotten first. */
  readonly maxActors?: Partial<Record<InspectedKind, number>>;
  readonly clock?: () => number;
}

const DEFAULT_MAX_ACTORS: Record<InspectedKind, number> = { bot: 10_000, 'correspondent-queue': 1_000, 'media-job': 300, 'outbox-delivery': 300, 'conversation-reply': 1_000, 'webhook-delivery': 300 };
const TEXT_LIMIT = 200;

// XState machine ids, which survive `machine.provide()` (the runtime's effect collectors).
const KIND_BY_MACHINE_ID: Readonly<Record<string, InspectedKind>> = {
  bot: 'bot', correspondentQueue: 'correspondent-queue', mediaJob: 'media-job', outboxDelivery: 'outbox-delivery', conversationReply: 'conversation-reply', webhookDelivery: 'webhook-delivery',
};

/**
 * A live, in-memory view of every actor the runtime runs, fed by the inspection hub. Keyed by
 * actor id, not XState session id: a media job is decided by a fresh actor instance per
 * transition, and those instances are one job to an operator.
 */
export function createActorDirectory(hub: InspectionHub, options: ActorDirectoryOptions = {}): ActorDirectory {
  const clock = options.clock ?? Date.now;
  const maxTransitions = options.maxTransitions ?? 20;
  const maxActors = { ...DEFAULT_MAX_ACTORS, ...options.maxActors };
  // A Map keeps insertion order; re-inserting on update makes iteration least-recently-updated first.
  const entries = new Map<string, ActorEntry>();
  const counts: Record<InspectedKind, number> = { bot: 0, 'correspondent-queue': 0, 'media-job': 0, 'outbox-delivery': 0, 'conversation-reply': 0, 'webhook-delivery': 0 };
  const listeners = new Set<(change: DirectoryChange) => void>();
  const removedBots = new Set<string>();

  function publish(change: DirectoryChange): void {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch {
        listeners.delete(listener);
      }
    }
  }

  function forget(id: string, entry: ActorEntry): void {
    entries.delete(id);
    counts[entry.kind] -= 1;
    publish({ type: 'removed', id });
  }

  function evictBeyondLimit(kind: InspectedKind): void {
    for (const [id, entry] of entries) {
      if (counts[kind] <= maxActors[kind]) break;
      if (entry.kind === kind) forget(id, entry);
    }
  }

  function onSnapshot(actorRef: unknown, eventType: string, snapshot: unknown): void {
    const id = (actorRef as { id?: unknown }).id;
    const { value, context } = (snapshot ?? {}) as { value?: StateValue; context?: unknown };
    if (typeof id !== 'string' || value === undefined || typeof context !== 'object' || context === null) return;
    const kind = kindOf(actorRef, context);
    if (kind === null) return;
    const at = clock();
    const state = statePath(value);
    const previous = entries.get(id);
    // Every decision starts a (restored) actor, which reports its current state as `xstate.init`;
    // only a first sighting or a state that moved meanwhile is worth a log line.
    const restartedInPlace = eventType === 'xstate.init' && previous !== undefined && previous.state === state;
    const transitions = restartedInPlace
      ? (previous?.transitions ?? [])
      : [...(previous?.transitions ?? []), { at, event: eventType, from: previous?.state ?? null, to: state }].slice(-maxTransitions);
    const ctx = context as Record<string, unknown>;
    const botId = typeof ctx['botId'] === 'string' ? ctx['botId'] : '';
    if (removedBots.has(botId)) {
      if (kind !== 'bot') return;
      removedBots.delete(botId);
    }
    const entry: ActorEntry = {
      id, kind, botId, state, context: summarize(kind, ctx),
      transitions, firstSeenAt: previous?.firstSeenAt ?? at, updatedAt: at,
    };
    entries.delete(id);
    entries.set(id, entry);
    publish({ type: 'actor', actor: entry });
    if (previous === undefined) {
      counts[kind] += 1;
      evictBeyondLimit(kind);
    }
  }

  function removeBot(botId: string): void {
    removedBots.add(botId);
    for (const [id, entry] of [...entries]) if (entry.botId === botId) forget(id, entry);
  }

  const unsubscribeRemovals = hub.onBotRemoved(removeBot);
  const unsubscribe = hub.subscribe((event: InspectionEvent) => {
    // `xstate.stop` ends an actor instance, not the actor: media jobs stop one after every decision.
    if (event.type !== '@xstate.snapshot' || event.event.type === 'xstate.stop') return;
    try {
      onSnapshot(event.actorRef, event.event.type, event.snapshot);
    } catch {
      // The hub drops a subscriber that throws; one odd snapshot must not blind the directory.
    }
  });

  return {
    list: () => [...entries.values()].reverse(),
    get: (id) => entries.get(id),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    listenerCount: () => listeners.size,
    remove(id) {
      const entry = entries.get(id);
      if (entry !== undefined) forget(id, entry);
    },
    removeBot,
    close() {
      unsubscribe();
      unsubscribeRemovals();
      listeners.clear();
    },
  };
}

function kindOf(actorRef: unknown, context: object): InspectedKind | null {
  const machineId = (actorRef as { logic?: { id?: unknown } }).logic?.id;
  if (typeof machineId === 'string' && KIND_BY_MACHINE_ID[machineId] !== undefined) return KIND_BY_MACHINE_ID[machineId];
  // Fallback for logic without a known id: the context shape tells the machines apart.
  if ('jobId' in context) return 'media-job';
  if ('subscriptionId' in context) return 'webhook-delivery';
  if ('deliveryId' in context) return 'outbox-delivery';
  if ('window' in context && 'correspondentId' in context) return 'correspondent-queue';
  if ('answeredThrough' in context) return 'conversation-reply';
  if ('maxReconnectAttempts' in context) return 'bot';
  return null;
}

const text = (v: unknown): string | null => (typeof v === 'string' ? (v.length > TEXT_LIMIT ? `${v.slice(0, TEXT_LIMIT)}…` : v) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Picks the fields an operator needs, by name, so new context fields stay private until chosen. */
export function summarize(kind: InspectedKind, c: Readonly<Record<string, unknown>>): ContextSummary {
  switch (kind) {
    case 'bot':
      return {
        attempt: num(c['attempt']), maxReconnectAttempts: num(c['maxReconnectAttempts']), retryAt: num(c['retryAt']),
        // The QR code pairs a phone to the account: say that there is one, never what it is.
        qrAvailable: typeof c['qr'] === 'string', stopReason: text(c['stopReason']),
        lastDisconnect: text(c['lastDisconnect']), lastError: text(c['lastError']),
      };
    case 'correspondent-queue': {
      const window = (c['window'] ?? {}) as { messages?: readonly { mediaJobId?: unknown }[]; totalChars?: unknown; nextId?: unknown };
      const messages = Array.isArray(window.messages) ? window.messages : [];
      const limits = (c['limits'] ?? {}) as Record<string, unknown>;
      return {
        correspondentId: text(c['correspondentId']), messages: messages.length,
        placeholders: messages.filter((m) => m.mediaJobId !== null && m.mediaJobId !== undefined).length,
        characters: num(window.totalChars), nextId: num(window.nextId),
        maxMessages: num(limits['maxMessages']), maxCharacters: num(limits['maxCharacters']),
      };
    }
    case 'media-job':
      return {
        kind: text(c['kind']), correspondentId: text(c['correspondentId']), messageId: num(c['messageId']),
        attempt: num(c['attempt']), attemptBudget: num(c['attemptBudget']), owner: text(c['owner']),
        leaseUntil: num(c['leaseUntil']), notBefore: num(c['notBefore']), hasResult: typeof c['result'] === 'string',
        error: text(c['error']), discardedResults: num(c['discardedResults']), botActive: c['botActive'] === true,
      };
    case 'outbox-delivery':
      // The text is a message body: its length is shown, never the text.
      return {
        correspondentId: text(c['correspondentId']), seq: num(c['seq']), characters: typeof c['text'] === 'string' ? c['text'].length : null,
        attempt: num(c['attempt']), attemptBudget: num(c['attemptBudget']), owner: text(c['owner']), leaseUntil: num(c['leaseUntil']),
        notBefore: num(c['notBefore']), sent: typeof c['providerMessageId'] === 'string', error: text(c['error']),
        discardedReports: num(c['discardedReports']), botConnected: c['botConnected'] === true,
      };
    case 'webhook-delivery':
      // Ids, the event type and the receiver's answers: never the body, the URL or the secret.
      return {
        subscriptionId: text(c['subscriptionId']), eventId: text(c['eventId']), eventType: text(c['eventType']),
        attempt: num(c['attempt']), attemptBudget: num(c['attemptBudget']), owner: text(c['owner']), leaseUntil: num(c['leaseUntil']),
        notBefore: num(c['notBefore']), lastStatus: num(c['lastStatus']), error: text(c['error']), discardedReports: num(c['discardedReports']),
      };
    case 'conversation-reply': {
      // The reply's text is a message body: never shown.
      const reply = (c['reply'] ?? null) as { id?: unknown; throughSeq?: unknown; attempt?: unknown } | null;
      return {
        correspondentId: text(c['correspondentId']), answeredThrough: num(c['answeredThrough']), latestSeq: num(c['latestSeq']),
        replyId: text(reply?.id), throughSeq: num(reply?.throughSeq), attempt: num(reply?.attempt), deadline: num(c['deadline']),
        pausedBy: text(c['pausedBy']), sent: num(c['sent']), failed: num(c['failed']), dropped: num(c['dropped']), lastError: text(c['lastError']),
      };
    }
  }
}
