import { isDeepStrictEqual } from 'node:util';
import type { SnapshotFrom, StateValue } from 'xstate';
import { conversationReplyMachine } from '../../machines/conversation-reply.machine.ts';
import type {
  ConversationReplyContext,
  ConversationReplyEffects,
  ConversationReplyEvent,
  DropReplyParams,
  GenerateReplyParams,
  PendingMedia,
  QueueReplyParams,
  ReportAbandonedParams,
  ReportFailureParams,
  ShowTypingParams,
} from '../../machines/conversation-reply.machine.ts';
import { isNews, replyIdOf } from '../../machines/conversation-reply.types.ts';
import { statePath, topLevelState } from '../../machines/state-name.ts';
import type { MachineModel, Observation, PathInvariants } from './model-types.ts';

type Context = ConversationReplyContext;
type Event = ConversationReplyEvent;
type Seen = Observation<Context>;

const T0 = Date.UTC(2025, 0, 1);
/** Three messages at `deadline - 1` extend the burst once within the maximum wait and then hit it. */
const TIMING = { debounceMs: 1_000, maxWaitMs: 2_500 };
const MEDIA_WAIT_MS = 5_000;
const TYPING_MS = 500;
const MAX_ATTEMPTS = 2;
const RETRY_AT = T0 + 4_000;
const OWNER_PAUSE_MS = 60_000;
const OPERATOR_PAUSE_MS = 30_000;
/** The conversation's voice note: the one message that can still be a placeholder. */
const VOICE_NOTE = 1;
const INPUT = { botId: 'bot-1', correspondentId: 'c-1', answeredThrough: 0 };

const EFFECTS = new Set<string>(['generateReply', 'dropReply', 'showTyping', 'queueReply', 'discardLateResult', 'reportFailure', 'reportAbandoned'] satisfies (keyof ConversationReplyEffects)[]);
const HOLDS_REPLY = ['generating', 'sending'];
const HOLDS_DEADLINE = ['debouncing', 'awaiting-media', 'generating.backoff', 'sending'];
const WITHOUT_DEADLINE = ['idle', 'generating.calling'];
const IN_BURST = ['debouncing', 'awaiting-media'];

/**
 * The model's clock. Times are derived from the snapshot so the explored graph stays finite: a
 * message or a timer comes just before the state's deadline (not due) or a timer exactly at it
 * (due); without a deadline, at T0. A pause starts at T0 so repeated pauses do not push time on forever.
 */
const early = (c: Context): number => (c.deadline === null ? T0 : c.deadline - 1);

/**
 * Sample events for a reply snapshot: the texts and the voice note of a short conversation (seqs
 * 1–3, the voice note possibly still a placeholder), timers before and at the deadline, the
 * model's answer or failure for the latest claimed reply and for the one before it (stale), the
 * owner writing from the phone, operator pauses with and without end, resume and abandonment.
 */
function events(snapshot: SnapshotFrom<typeof conversationReplyMachine>): Event[] {
  const c = snapshot.context;
  const { deadline } = c;
  const path = statePath(snapshot.value);
  const latest = replyIdOf(c, c.claimed);
  const previous = replyIdOf(c, c.claimed - 1);
  const calling = path === 'generating.calling';
  // Only a burst being settled reads the placeholders (a message only while media is awaited):
  // elsewhere one sample of each event does.
  const pendings: PendingMedia[] = IN_BURST.includes(path) ? [[], [VOICE_NOTE]] : [[]];
  const messagePendings: PendingMedia[] = path === 'awaiting-media' ? pendings : [[]];
  const message = (seq: number, pendingMedia: PendingMedia): Event => ({ type: 'message.finalized', seq, now: early(c), timing: TIMING, pendingMedia, mediaWaitMs: MEDIA_WAIT_MS });
  const timer = (now: number, pendingMedia: PendingMedia): Event => ({ type: 'reply.deadline', now, pendingMedia, mediaWaitMs: MEDIA_WAIT_MS, maxAttempts: MAX_ATTEMPTS });
  const generated = (replyId: string, typingMs: number): Event => ({ type: 'reply.generated', replyId, text: `${typingMs > 0 ? 'typed' : 'answer'} ${replyId}`, now: early(c), typingMs });
  const failed = (replyId: string, retryAt: number | null): Event => ({ type: 'reply.failed', replyId, error: retryAt === null ? 'context too long' : 'HTTP 500', now: early(c), retryAt, maxAttempts: MAX_ATTEMPTS });
  // New messages, late media, the awaited voice note, and one replay (the latest message heard again).
  const seqs = [1, 2, 3].filter((seq) => seq >= c.latestSeq || c.lateMedia.includes(seq) || (path === 'awaiting-media' && seq === VOICE_NOTE));
  const list: Event[] = [
    ...seqs.flatMap((seq) => (seq === VOICE_NOTE ? [message(seq, [])] : messagePendings.map((pending) => message(seq, pending)))),
    // A timer before the deadline reads nothing else; one at it sees the placeholders.
    ...(deadline === null ? [timer(T0, [])] : [timer(deadline - 1, []), ...pendings.map((pending) => timer(deadline, pending))]),
    { type: 'reply.abandoned', reason: 'AI switched off' },
    { type: 'owner.wrote', now: T0, pauseMs: OWNER_PAUSE_MS },
    { type: 'ai.paused', now: T0, durationMs: OPERATOR_PAUSE_MS },
    { type: 'ai.resumed', now: T0 },
  ];
  if (calling) {
    list.push(generated(latest, 0), failed(latest, null), generated(previous, 0), failed(previous, RETRY_AT));
    // Typing first and retrying are tried on the first reply: on later ones they would double the states for no new transition.
    if (c.claimed === 1) list.push(generated(latest, TYPING_MS), failed(latest, RETRY_AT));
  } else {
    // Elsewhere every result is stale (late, dropped, given up or already answered): one of each kind.
    list.push(generated(latest, 0), failed(latest, RETRY_AT));
  }
  // A pause without end, where it differs from a timed one: a reply to drop, an owner who writes, a resume.
  if (calling || path === 'idle' || path === 'paused') list.push({ type: 'ai.paused', now: T0, durationMs: null });
  return list;
}

/** Fields that neither decide a transition nor shape an event: the conversation's names and the operators' counters. */
const UNDECIDING = new Set<string>(['botId', 'correspondentId', 'sent', 'failed', 'dropped', 'lastError']);

/**
 * Every other field of the context, by name (a context read back from the store may order its
 * fields otherwise), so a field the machine gains is part of the key without editing the model.
 * Event payloads depend on `deadline` and `claimed`. The counters are checked against the effects
 * by the invariants, and the runtime targets compare whole contexts with the machine alone.
 */
function serializeState(snapshot: { readonly value: StateValue; readonly context: Context }): string {
  const fields = Object.entries(snapshot.context).filter(([name]) => !UNDECIDING.has(name));
  return JSON.stringify([snapshot.value, fields.sort(([x], [y]) => (x < y ? -1 : 1))]);
}

function fail(message: string): never {
  throw new Error(message);
}

/** What must hold of every snapshot at rest. */
function checkShape({ value, context: c }: Seen): void {
  const path = statePath(value);
  const top = topLevelState(value);
  if ((c.reply !== null) !== HOLDS_REPLY.includes(top)) fail(`reply ${JSON.stringify(c.reply)} in ${path}: a reply is held exactly while generating or sending`);
  if (HOLDS_DEADLINE.includes(path) && c.deadline === null) fail(`${path} without a deadline: no timer would ever move it on`);
  if (WITHOUT_DEADLINE.includes(path) && c.deadline !== null) fail(`${path} with a deadline ${c.deadline}`);
  if ((c.burstStartedAt !== null) !== IN_BURST.includes(path)) fail(`burstStartedAt ${c.burstStartedAt} in ${path}`);
  if ((c.pausedBy !== null) !== (top === 'paused')) fail(`pausedBy ${c.pausedBy} in ${path}`);
  if (top === 'paused' && c.deadline === null && c.pausedBy !== 'operator') fail('a pause without end that no operator asked for');
  if (c.answeredThrough > c.latestSeq) fail(`answered through ${c.answeredThrough} beyond the latest seq ${c.latestSeq}`);
  if (top === 'idle' && c.latestSeq !== c.answeredThrough) fail(`idle with messages ${c.answeredThrough + 1}..${c.latestSeq} unanswered and nothing scheduled`);
  if (new Set(c.lateMedia).size !== c.lateMedia.length) fail(`late media listed twice: ${c.lateMedia}`);
  for (const seq of c.lateMedia) if (seq > c.latestSeq || seq <= INPUT.answeredThrough) fail(`late media ${seq} outside the conversation heard`);
  if (c.reply !== null) {
    const r = c.reply;
    if (r.id !== replyIdOf(c, c.claimed)) fail(`the reply ${r.id} is not the latest claimed (#${c.claimed})`);
    if (r.throughSeq > c.latestSeq || r.throughSeq < c.answeredThrough) fail(`the reply claims through ${r.throughSeq}, answered ${c.answeredThrough}, latest ${c.latestSeq}`);
    if (r.attempt < 1 || r.attempt > MAX_ATTEMPTS) fail(`attempt ${r.attempt} outside 1..${MAX_ATTEMPTS}`);
    if ((r.text !== null) !== (top === 'sending')) fail(`reply text ${JSON.stringify(r.text)} in ${path}`);
  }
  if (c.sent + c.failed + c.dropped > c.claimed) fail('more replies ended than were claimed');
}

const unchanged = (before: Seen, after: Seen): boolean => isDeepStrictEqual(before.value, after.value) && isDeepStrictEqual(before.context, after.context);

function expectNothing(what: string, before: Seen, after: Seen, effects: readonly string[] = []): void {
  if (!unchanged(before, after)) fail(`${what} changed the reply: ${serializeState(before)} → ${serializeState(after)}`);
  const types = after.effects.map((e) => e.type);
  if (!isDeepStrictEqual(types, effects)) fail(`${what} ran [${types}], expected [${effects}]`);
}

/** Seqs of the event's placeholders that fall in the range (answered, through]. */
const waitingIn = (pending: PendingMedia, answered: number, through: number): number[] => pending.filter((seq) => seq > answered && seq <= through);

/**
 * Invariants of one conversation's path. I12: a reply is claimed (in the snapshot that asks for
 * it) before it is generated, covers every message heard, claims no range twice and is queued at
 * most once, never after it was dropped or given up; one reply in flight. Race (l): the owner
 * writing drops the reply in flight for good and pauses. Race (m): no reply is claimed while a
 * message of its range is a placeholder, until the bounded media wait is over. Timers before
 * their deadline, replayed messages and stale model results change nothing.
 */
function invariants(): PathInvariants<Event, Context> {
  const claims = new Map<string, { readonly throughSeq: number; readonly late: boolean }>();
  const queued = new Set<string>();
  const ended = new Set<string>();
  const droppedForOwner = new Set<string>();
  let inFlight: { id: string; attempt: number } | null = null;
  let claimedThrough = INPUT.answeredThrough;
  let lastQueuedThrough = -1;
  /** Late media finalized since the last call to the model; a reply must still answer them. */
  let owedLate = new Set<number>();
  let initial: Context | undefined;
  let counts = { claimed: 0, sent: 0, failed: 0, dropped: 0 };

  return {
    start(first) {
      checkShape(first);
      if (first.effects.length > 0) fail('the initial state asked for effects');
      initial = first.context;
    },
    step({ event, before, after }) {
      checkShape(after);
      const b = before.context;
      const a = after.context;
      const from = statePath(before.value);
      const to = statePath(after.value);
      const types = after.effects.map((e) => e.type);

      for (const key of ['answeredThrough', 'latestSeq', 'claimed', 'sent', 'failed', 'dropped'] as const) {
        if (a[key] < b[key]) fail(`${key} decreased from ${b[key]} to ${a[key]}`);
      }
      const unknown = types.filter((t) => !EFFECTS.has(t));
      if (unknown.length > 0) fail(`unexpected effects [${unknown}]`);
      for (const effect of after.effects) {
        const p = effect.params as { botId: string; correspondentId: string };
        if (p.botId !== INPUT.botId || p.correspondentId !== INPUT.correspondentId) fail(`${effect.type} for another conversation`);
      }
      if (types.filter((t) => t === 'generateReply').length > 1 || types.filter((t) => t === 'queueReply').length > 1) fail(`one step asked twice: [${types}]`);

      // Events that must change nothing.
      if (event.type === 'reply.deadline' && (b.deadline === null || event.now < b.deadline)) expectNothing(`a timer at ${event.now} before the deadline ${b.deadline}`, before, after);
      if (event.type === 'message.finalized' && !isNews(b, event.seq) && from !== 'awaiting-media') expectNothing(`message ${event.seq} heard again`, before, after);
      if (event.type === 'reply.generated' || event.type === 'reply.failed') {
        const live = from === 'generating.calling' && event.replyId === b.reply?.id;
        if (!live) expectNothing(`a stale ${event.type} for ${event.replyId}`, before, after, ['discardLateResult']);
        else if (types.includes('discardLateResult')) fail(`the live ${event.type} was discarded`);
      }
      if (event.type === 'message.finalized' && b.lateMedia.includes(event.seq) && to !== 'paused') owedLate.add(event.seq);

      // Race (l) and operator pauses: the reply in flight is dropped, nothing more is answered meanwhile.
      if (event.type === 'owner.wrote' || event.type === 'ai.paused') {
        if (to !== 'paused') fail(`${event.type} left the AI in ${to}`);
        if (a.answeredThrough !== a.latestSeq || a.lateMedia.length > 0) fail(`${event.type} left messages for the AI to answer`);
        const drop = after.effects.find((e) => e.type === 'dropReply');
        if ((b.reply !== null) !== (drop !== undefined)) fail(`${event.type} with reply ${b.reply?.id ?? 'none'} ran [${types}]`);
        if (drop !== undefined && event.type === 'owner.wrote') droppedForOwner.add((drop.params as DropReplyParams).replyId);
        if (event.type === 'owner.wrote') {
          if (b.pausedBy === 'operator' && b.deadline === null && a.deadline !== null) fail('the owner ended an operator pause without end');
          if (a.deadline !== null && (a.deadline < event.now + event.pauseMs || (b.pausedBy !== null && b.deadline !== null && a.deadline < b.deadline))) fail(`the owner's pause ends too early, at ${a.deadline}`);
        }
        if (event.type === 'ai.paused' && a.deadline !== (event.durationMs === null ? null : event.now + event.durationMs)) fail(`the operator's pause ends at ${a.deadline}`);
        owedLate = new Set();
      }
      if (from === 'paused' && to !== 'paused') {
        const due = event.type === 'reply.deadline' && b.deadline !== null && event.now >= b.deadline;
        if (to !== 'idle' || !(due || event.type === 'ai.resumed')) fail(`left the pause to ${to} on ${event.type}`);
      }
      if (from === 'paused' && types.some((t) => t !== 'discardLateResult')) fail(`paused, yet ran [${types}]`);

      for (const effect of after.effects) {
        switch (effect.type) {
          case 'generateReply': {
            const p = effect.params as GenerateReplyParams;
            const r = a.reply;
            // I12: the claim is in the very snapshot that asks for the answer, so it is durable first.
            if (r === null || r.id !== p.replyId || r.throughSeq !== p.throughSeq || r.attempt !== p.attempt) fail(`generateReply ${JSON.stringify(p)} without its claim ${JSON.stringify(r)}`);
            if (to !== 'generating.calling') fail(`generateReply entering ${to}`);
            if (p.attempt === 1) {
              if (claims.has(p.replyId)) fail(`reply ${p.replyId} claimed twice`);
              if (b.reply !== null || inFlight !== null) fail(`claimed ${p.replyId} while ${inFlight?.id ?? b.reply?.id} was in flight`);
              if (p.throughSeq !== a.latestSeq) fail(`claimed through ${p.throughSeq}, not every message heard (${a.latestSeq})`);
              if (b.answeredThrough < claimedThrough) fail(`claimed again from ${b.answeredThrough}, below an earlier claim through ${claimedThrough}`);
              const late = p.throughSeq === b.answeredThrough;
              if (late && owedLate.size === 0) fail(`claimed ${p.replyId} through ${p.throughSeq} with nothing new to answer`);
              // Race (m): a placeholder of the range is waited for, until the bounded wait is over.
              const pending = 'pendingMedia' in event ? event.pendingMedia : [];
              const waiting = waitingIn(pending, b.answeredThrough, p.throughSeq);
              if (waiting.length > 0) {
                const waitedEnough = from === 'awaiting-media' && event.type === 'reply.deadline' && b.deadline !== null && event.now >= b.deadline;
                if (!waitedEnough) fail(`claimed ${p.replyId} on ${event.type} while media ${waiting} still waits and the media wait is not over`);
                const missing = waiting.filter((seq) => !a.lateMedia.includes(seq));
                if (missing.length > 0) fail(`media ${missing} went without the reply yet will not be answered once final`);
              }
              claims.set(p.replyId, { throughSeq: p.throughSeq, late });
              claimedThrough = Math.max(claimedThrough, p.throughSeq);
              counts = { ...counts, claimed: counts.claimed + 1 };
            } else {
              if (inFlight?.id !== p.replyId || p.attempt !== inFlight.attempt + 1) fail(`attempt ${p.attempt} of ${p.replyId} after ${JSON.stringify(inFlight)}`);
              if (p.throughSeq !== claims.get(p.replyId)?.throughSeq) fail(`a retry of ${p.replyId} changed its range`);
              if (from !== 'generating.backoff' || event.type !== 'reply.deadline') fail(`retried ${p.replyId} from ${from} on ${event.type}`);
            }
            if (ended.has(p.replyId) || queued.has(p.replyId)) fail(`generated ${p.replyId} after it ended`);
            if (p.attempt > MAX_ATTEMPTS) fail(`attempt ${p.attempt} beyond ${MAX_ATTEMPTS}`);
            inFlight = { id: p.replyId, attempt: p.attempt };
            // The model reads the window when called: late media final by then is answered.
            owedLate = new Set([...owedLate].filter((seq) => seq > p.throughSeq));
            break;
          }
          case 'queueReply': {
            const p = effect.params as QueueReplyParams;
            const claim = claims.get(p.replyId);
            // I12: once per reply id, never for a reply dropped or given up (race l: never after the owner wrote).
            if (queued.has(p.replyId)) fail(`reply ${p.replyId} queued twice`);
            if (droppedForOwner.has(p.replyId)) fail(`reply ${p.replyId} queued after the owner wrote from the phone`);
            if (ended.has(p.replyId)) fail(`reply ${p.replyId} queued after it was dropped or given up`);
            if (claim === undefined || inFlight?.id !== p.replyId) fail(`reply ${p.replyId} queued without being in flight`);
            if (p.throughSeq !== claim.throughSeq || b.reply?.throughSeq !== p.throughSeq) fail(`reply ${p.replyId} queued through ${p.throughSeq}, claimed through ${claim.throughSeq}`);
            if (p.throughSeq > b.latestSeq) fail(`queued through ${p.throughSeq} beyond the latest seq ${b.latestSeq}`);
            // Late media is answered on its own: its reply may cover no seq past the previous one.
            if (p.throughSeq < lastQueuedThrough || (p.throughSeq === lastQueuedThrough && !claim.late)) fail(`queued through ${p.throughSeq} after a reply through ${lastQueuedThrough}`);
            const text = event.type === 'reply.generated' ? event.text : b.reply?.text;
            if (p.text !== text) fail(`queued the text ${JSON.stringify(p.text)}, the model said ${JSON.stringify(text)}`);
            const typed = from === 'sending' && event.type === 'reply.deadline';
            const direct = from === 'generating.calling' && event.type === 'reply.generated' && event.typingMs === 0;
            if (!typed && !direct) fail(`queued from ${from} on ${event.type}`);
            if (a.answeredThrough < p.throughSeq) fail(`queued through ${p.throughSeq} but answered only through ${a.answeredThrough}`);
            queued.add(p.replyId);
            lastQueuedThrough = p.throughSeq;
            inFlight = null;
            counts = { ...counts, sent: counts.sent + 1 };
            break;
          }
          case 'dropReply': {
            const p = effect.params as DropReplyParams;
            if (inFlight?.id !== p.replyId || b.reply?.id !== p.replyId) fail(`dropped ${p.replyId}, in flight ${inFlight?.id ?? 'none'}`);
            if (!['owner.wrote', 'ai.paused', 'reply.abandoned'].includes(event.type)) fail(`dropped a reply on ${event.type}`);
            ended.add(p.replyId);
            inFlight = null;
            if (event.type !== 'reply.abandoned') counts = { ...counts, dropped: counts.dropped + 1 };
            break;
          }
          case 'reportFailure': {
            const p = effect.params as ReportFailureParams;
            if (event.type !== 'reply.failed' || inFlight?.id !== p.replyId || p.replyId !== event.replyId || p.attempt !== inFlight.attempt) fail(`reportFailure ${JSON.stringify(p)} on ${event.type}`);
            if (p.error !== event.error) fail('reportFailure lost the error');
            if (p.willRetry) {
              if (to !== 'generating.backoff' || a.deadline !== event.retryAt || a.reply?.id !== p.replyId) fail(`a retry of ${p.replyId} not scheduled at ${event.retryAt}`);
            } else {
              if (a.reply !== null || a.lastError !== event.error) fail(`gave up ${p.replyId} but holds ${JSON.stringify(a.reply)}, lastError ${a.lastError}`);
              if (a.answeredThrough < (b.reply?.throughSeq ?? Infinity)) fail(`gave up ${p.replyId} and will answer its range again`);
              ended.add(p.replyId);
              inFlight = null;
              counts = { ...counts, failed: counts.failed + 1 };
            }
            break;
          }
          case 'showTyping': {
            const p = effect.params as ShowTypingParams;
            if (event.type !== 'reply.generated' || to !== 'sending' || p.durationMs !== event.typingMs || a.deadline !== event.now + event.typingMs) fail(`typing ${JSON.stringify(p)} entering ${to}`);
            if (a.reply?.text !== event.text) fail('typing without holding the answer');
            break;
          }
          case 'reportAbandoned': {
            const p = effect.params as ReportAbandonedParams;
            if (event.type !== 'reply.abandoned' || p.throughSeq !== b.latestSeq || p.reason !== event.reason) fail(`reportAbandoned ${JSON.stringify(p)}`);
            if (to !== 'idle' || a.answeredThrough !== a.latestSeq) fail('an abandoned burst stays to be answered');
            if (b.reply !== null && !types.includes('dropReply')) fail('abandoned without dropping the reply in flight');
            owedLate = new Set();
            break;
          }
          default:
            break;
        }
      }

      // One reply in flight, and the context agrees with the effects about which.
      if ((a.reply === null) !== (inFlight === null) || (a.reply !== null && (a.reply.id !== inFlight?.id || a.reply.attempt !== inFlight.attempt))) {
        fail(`the snapshot holds ${JSON.stringify(a.reply)}, the effects left ${JSON.stringify(inFlight)} in flight`);
      }
      // The transient `replied`: what came meanwhile is due at once, otherwise nothing is left to do.
      const finished = types.includes('queueReply') || after.effects.some((e) => e.type === 'reportFailure' && !(e.params as ReportFailureParams).willRetry);
      if (finished) {
        const owed = [...owedLate, ...Array.from({ length: a.latestSeq - a.answeredThrough }, (_, i) => a.answeredThrough + 1 + i)];
        if (owed.length > 0 && to !== 'debouncing') fail(`messages ${owed} became final while the reply was made, yet it ended in ${to}: nothing will answer them`);
        if (owed.length === 0 && to !== 'idle') fail(`nothing left to answer, yet the reply ended in ${to}`);
      }
      if (to === 'idle' && owedLate.size > 0) fail(`idle although late media ${[...owedLate]} became final after its reply went out without it, and no reply answers it`);

      if (initial !== undefined) {
        for (const key of ['claimed', 'sent', 'failed', 'dropped'] as const) {
          if (a[key] - initial[key] !== counts[key]) fail(`${key} is ${a[key]}, the effects count ${counts[key]}`);
        }
      }
    },
  };
}

export const conversationReplyModel: MachineModel<typeof conversationReplyMachine> = {
  name: 'conversation-reply',
  machine: conversationReplyMachine,
  input: INPUT,
  events,
  serializeState,
  invariants,
};

const text = (seq: number, now: number, pendingMedia: PendingMedia = []): Event => ({ type: 'message.finalized', seq, now, timing: TIMING, pendingMedia, mediaWaitMs: MEDIA_WAIT_MS });
const timerAt = (now: number, pendingMedia: PendingMedia = []): Event => ({ type: 'reply.deadline', now, pendingMedia, mediaWaitMs: MEDIA_WAIT_MS, maxAttempts: MAX_ATTEMPTS });
const answer = (n: number, now: number, typingMs = 0): Event => ({ type: 'reply.generated', replyId: replyIdOf(INPUT, n), text: `answer ${n}`, now, typingMs });
const voiceNoteWait = T0 + TIMING.debounceMs + MEDIA_WAIT_MS;

/**
 * Named paths through the races of DESIGN §5 and the histories the state abstraction merges (late
 * media is remembered only by the path), walked on every target with the model's invariants.
 */
export const conversationReplyScenarios: Readonly<Record<string, readonly Event[]>> = {
  'race (l): the owner writes from the phone while a reply is generating; its late answer is discarded': [
    text(1, T0), timerAt(T0 + 1_000), { type: 'owner.wrote', now: T0 + 1_200, pauseMs: OWNER_PAUSE_MS }, answer(1, T0 + 1_300),
    text(2, T0 + 2_000), timerAt(T0 + 1_200 + OWNER_PAUSE_MS), text(3, T0 + 70_000), timerAt(T0 + 71_000), answer(2, T0 + 71_500),
  ],
  'race (l): the answer of the dropped reply comes while the next one is generated, and is discarded': [
    text(1, T0), timerAt(T0 + 1_000), { type: 'owner.wrote', now: T0 + 1_200, pauseMs: OWNER_PAUSE_MS }, { type: 'ai.resumed', now: T0 + 2_000 },
    text(2, T0 + 3_000), timerAt(T0 + 4_000), answer(1, T0 + 4_500), answer(2, T0 + 5_000),
  ],
  'race (l): the owner writes while the reply is typed; the typing deadline queues nothing': [
    text(1, T0), timerAt(T0 + 1_000), answer(1, T0 + 1_100, TYPING_MS), { type: 'owner.wrote', now: T0 + 1_200, pauseMs: OWNER_PAUSE_MS }, timerAt(T0 + 1_600),
  ],
  'race (m): a text after a voice note still processing is answered once, after the transcript': [
    text(2, T0, [VOICE_NOTE]), timerAt(T0 + 1_000, [VOICE_NOTE]), text(3, T0 + 2_000, [VOICE_NOTE]), text(VOICE_NOTE, T0 + 3_000), answer(1, T0 + 4_000),
  ],
  'race (m): the bounded media wait ends, and the voice note is answered on its own once final': [
    text(2, T0, [VOICE_NOTE]), timerAt(T0 + 1_000, [VOICE_NOTE]), timerAt(voiceNoteWait, [VOICE_NOTE]), answer(1, voiceNoteWait + 500),
    text(VOICE_NOTE, voiceNoteWait + 1_000), timerAt(voiceNoteWait + 2_000), answer(2, voiceNoteWait + 2_500),
  ],
  'a voice note that becomes final while the reply without it is typed is still answered': [
    text(2, T0, [VOICE_NOTE]), timerAt(T0 + 1_000, [VOICE_NOTE]), timerAt(voiceNoteWait, [VOICE_NOTE]), answer(1, voiceNoteWait + 500, TYPING_MS),
    text(VOICE_NOTE, voiceNoteWait + 700), timerAt(voiceNoteWait + 1_000),
  ],
  'messages that came while a reply failed for good are answered next, at once': [
    text(1, T0), timerAt(T0 + 1_000), text(2, T0 + 1_500), { type: 'reply.failed', replyId: replyIdOf(INPUT, 1), error: 'context too long', now: T0 + 1_600, retryAt: null, maxAttempts: MAX_ATTEMPTS },
  ],
  'a retried reply keeps its claim, and a result of the failed attempt is discarded': [
    text(1, T0), timerAt(T0 + 1_000), { type: 'reply.failed', replyId: replyIdOf(INPUT, 1), error: 'HTTP 500', now: T0 + 1_100, retryAt: RETRY_AT, maxAttempts: MAX_ATTEMPTS },
    answer(1, T0 + 2_000), timerAt(RETRY_AT), text(2, RETRY_AT + 100), answer(1, RETRY_AT + 200), timerAt(RETRY_AT + 200), answer(2, RETRY_AT + 300),
  ],
};
