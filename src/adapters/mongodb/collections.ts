import type { IndexDescription } from 'mongodb';

/** Collection names, in one place so indexes, repositories and tests agree. */
export const COLLECTIONS = {
  actors: 'actors',
  mediaJobs: 'media_jobs',
  messages: 'messages',
  bots: 'bots',
  // A new name: rows of the outbox before it was a work queue have another shape and are not read.
  outbox: 'outbox_deliveries',
  authState: 'auth_state',
  webhookSubscriptions: 'webhook_subscriptions',
  webhookDeliveries: 'webhook_deliveries',
  counters: 'counters',
  botLeases: 'bot_leases',
  instances: 'instances',
  simulatorSessions: 'simulator_sessions',
  simulatorOutbound: 'simulator_outbound',
} as const;

/**
 * The history index that makes a second copy of a provider message a replay. Keyed per chat:
 * WhatsApp message ids are unique per chat and sender, not per account.
 */
export const PROVIDER_ID_INDEX = 'conversation_providerMessageId_unique';

/** Indexes earlier versions created that the ones above replace; start-up drops them. */
export const RETIRED_INDEXES: Readonly<Record<string, readonly string[]>> = {
  messages: ['botId_providerMessageId_unique'],
};

/**
 * Every index Parley relies on, declared in code and applied idempotently at start-up. The
 * history index is partial so rows without a provider id (outbound, system notes) never collide.
 */
export const INDEXES: Readonly<Record<string, readonly IndexDescription[]>> = {
  [COLLECTIONS.actors]: [
    { key: { kind: 1, botId: 1, state: 1 }, name: 'kind_botId_state' },
    // Few queues are resident at a time; a restart lists only them.
    { key: { kind: 1 }, name: 'kind_resident', partialFilterExpression: { resident: true } },
    // A bot's conversations, most recently active first, paged.
    { key: { kind: 1, botId: 1, 'snapshot.context.window.lastAcceptedAt': -1, _id: 1 }, name: 'queue_recency' },
  ],
  [COLLECTIONS.mediaJobs]: [
    { key: { state: 1, fairSeq: 1, createdAt: 1 }, name: 'claim_order' },
    // Each pool claims its own jobs: a busy pool's backlog is not scanned by an idle one.
    { key: { state: 1, pool: 1, fairSeq: 1, createdAt: 1 }, name: 'pool_claim_order' },
    // The janitor asks which staged files jobs still refer to.
    { key: { mediaKey: 1 }, name: 'mediaKey', partialFilterExpression: { mediaKey: { $type: 'string' } } },
    { key: { botId: 1, state: 1 }, name: 'botId_state' },
    // A connecting bot reaps its held and undelivered jobs, never the failed ones already told.
    { key: { botId: 1, statePath: 1 }, name: 'botId_statePath' },
    { key: { state: 1, leaseUntil: 1 }, name: 'state_leaseUntil' },
    { key: { createdAt: 1, _id: 1 }, name: 'listing_order' },
    // A bot's host looks for placeholder results other instances left it, every poll.
    { key: { 'effects.type': 1, botId: 1 }, name: 'effects_botId', partialFilterExpression: { 'effects.0': { $exists: true } } },
  ],
  [COLLECTIONS.messages]: [
    {
      key: { botId: 1, correspondentId: 1, providerMessageId: 1 },
      name: PROVIDER_ID_INDEX,
      unique: true,
      partialFilterExpression: { providerMessageId: { $type: 'string' } },
    },
    { key: { botId: 1, correspondentId: 1, seq: 1 }, name: 'conversation_seq_unique', unique: true },
    { key: { botId: 1, mediaJobId: 1 }, name: 'botId_mediaJobId', sparse: true },
    // An AI reply queued again after a crash finds the row its first run wrote.
    { key: { botId: 1, correspondentId: 1, outboxId: 1 }, name: 'conversation_outboxId', partialFilterExpression: { outboxId: { $type: 'string' } } },
    // The janitor looks for placeholders left waiting; finalized rows never enter this index.
    { key: { acceptedAt: 1 }, name: 'placeholder_age', partialFilterExpression: { status: 'placeholder' } },
  ],
  [COLLECTIONS.outbox]: [
    { key: { state: 1, fairSeq: 1, createdAt: 1 }, name: 'claim_order' },
    // An instance claims only the messages of bots connected on it.
    { key: { state: 1, botId: 1, fairSeq: 1, createdAt: 1 }, name: 'bot_claim_order' },
    { key: { line: 1, lineSeq: 1 }, name: 'line_order' },
    { key: { botId: 1, state: 1 }, name: 'botId_state' },
    { key: { state: 1, leaseUntil: 1 }, name: 'state_leaseUntil' },
    { key: { createdAt: 1, _id: 1 }, name: 'listing_order' },
  ],
  [COLLECTIONS.authState]: [
    { key: { botId: 1, type: 1 }, name: 'botId_type' },
  ],
  // A subscription's deliveries are listed and deleted by its id, which the work queue's `botId` holds.
  [COLLECTIONS.webhookDeliveries]: [
    { key: { state: 1, fairSeq: 1, createdAt: 1 }, name: 'claim_order' },
    { key: { botId: 1, state: 1 }, name: 'botId_state' },
    { key: { state: 1, leaseUntil: 1 }, name: 'state_leaseUntil' },
    { key: { createdAt: 1, _id: 1 }, name: 'listing_order' },
    { key: { botId: 1, createdAt: 1, _id: 1 }, name: 'subscription_listing_order' },
  ],
  [COLLECTIONS.webhookSubscriptions]: [
    { key: { createdAt: 1, _id: 1 }, name: 'listing_order' },
  ],
  // An instance that is gone for good (a replaced container) would leave its row forever; `alive`
  // reads only live rows, and MongoDB clears the dead ones a day after they stopped heartbeating.
  [COLLECTIONS.instances]: [
    { key: { aliveUntil: 1 }, name: 'dead_instances_ttl', expireAfterSeconds: 86_400 },
  ],
  // The simulator's fake WhatsApp: a retried record collides with the first instead of doubling it.
  [COLLECTIONS.simulatorSessions]: [
    { key: { sessionId: 1 }, name: 'sessionId_unique', unique: true },
    { key: { botId: 1, startedAt: 1, _id: 1 }, name: 'bot_sessions' },
  ],
  [COLLECTIONS.simulatorOutbound]: [
    { key: { botId: 1, providerMessageId: 1 }, name: 'bot_providerMessageId_unique', unique: true },
    { key: { botId: 1, sentAt: 1, _id: 1 }, name: 'bot_outbound' },
  ],
};
