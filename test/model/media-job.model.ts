import { isDeepStrictEqual } from 'node:util';
import type { SnapshotFrom, StateValue } from 'xstate';
import { mediaJobMachine } from '../../machines/media-job.machine.ts';
import type { FinalizePlaceholderParams, MediaJobContext, MediaJobEvent } from '../../machines/media-job.machine.ts';
import { statePath, topLevelState } from '../../machines/state-name.ts';
import type { MachineModel, Observation, PathInvariants } from './model-types.ts';

const T0 = Date.UTC(2025, 0, 1);
const BUDGET = 2;
/** Later than every lease the model grants: the sweeper finds it lapsed. */
const LAPSED = T0 + 10 * 60_000;
const CLAIMED = ['processing', 'holding.claimed'];

/** Sample events for a job snapshot: current and stale worker reports, lifecycle and operator events. */
function events(snapshot: SnapshotFrom<typeof mediaJobMachine>): MediaJobEvent[] {
  const { attempt, maxAttempts } = snapshot.context;
  const stale = attempt - 1;
  const list: MediaJobEvent[] = [
    { type: 'job.claimed', owner: 'worker-a', leaseUntil: T0 + 60_000, attempt: attempt + 1 },
    { type: 'job.claimed', owner: 'worker-b', leaseUntil: T0 + 60_000, attempt: attempt + 2 },
    { type: 'job.heartbeat', attempt, leaseUntil: T0 + 120_000 },
    { type: 'job.heartbeat', attempt: stale, leaseUntil: T0 + 180_000 },
    { type: 'job.completed', attempt, outcome: { status: 'processed', text: 'hello there' } },
    { type: 'job.completed', attempt, outcome: { status: 'unreadable', reason: 'transcription unavailable: no OpenAI key configured' } },
    { type: 'job.completed', attempt: stale, outcome: { status: 'processed', text: 'late hello' } },
    { type: 'job.failed', attempt, error: 'rate limited', transient: true, retryAt: T0 + 5_000 },
    { type: 'job.failed', attempt, error: 'corrupt file', transient: false, retryAt: null },
    { type: 'job.failed', attempt: stale, error: 'late failure', transient: false, retryAt: null },
    { type: 'job.lease-expired', attempt, now: LAPSED },
    { type: 'job.lease-expired', attempt, now: (snapshot.context.leaseUntil ?? T0) - 1 },
    { type: 'job.lease-expired', attempt: stale, now: LAPSED },
    { type: 'job.delivered' },
    { type: 'bot.stopped' },
    { type: 'bot.started' },
    { type: 'job.dead-lettered', reason: 'stale for 3 hours' },
    { type: 'job.discarded' },
  ];
  if (maxAttempts <= BUDGET) list.push({ type: 'job.retry' });
  return list;
}

/** Everything event payloads depend on (the attempt numbers) plus what decides the next transition. */
function serializeState(snapshot: { readonly value: StateValue; readonly context: MediaJobContext }): string {
  const c = snapshot.context;
  return JSON.stringify([snapshot.value, c.attempt, c.maxAttempts, c.botActive]);
}

const isFenced = (e: MediaJobEvent): e is Extract<MediaJobEvent, { attempt: number }> & { type: 'job.completed' | 'job.failed' | 'job.heartbeat' } =>
  e.type === 'job.completed' || e.type === 'job.failed' || e.type === 'job.heartbeat';

function checkShape(o: Observation<MediaJobContext>): void {
  const path = statePath(o.value);
  const top = topLevelState(o.value);
  const c = o.context;
  const claimed = CLAIMED.includes(path);
  if ((c.owner !== null) !== claimed || (c.leaseUntil !== null) !== claimed) throw new Error(`claim fields must be set exactly in ${CLAIMED}, got ${path}`);
  if ((top === 'pending' || top === 'processing') && !c.botActive) throw new Error(`${top} while the bot is stopped`);
  if (top === 'holding' && c.botActive) throw new Error('holding while the bot runs');
  if ((top === 'completed' || top === 'delivered') && c.result === null) throw new Error(`${top} without a result`);
  if (top === 'failed' && c.error === null) throw new Error('failed without an error');
  if (c.attempt > c.maxAttempts) throw new Error(`attempt ${c.attempt} beyond maxAttempts ${c.maxAttempts}`);
}

/** Invariants of one job's path: fencing (I5), persistence before finalization (I4), monotonic attempts, one media release. */
function invariants(): PathInvariants<MediaJobEvent, MediaJobContext> {
  let releases = 0;
  return {
    start: checkShape,
    step({ event, before, after }) {
      checkShape(after);
      const types = after.effects.map((e) => e.type);
      if (after.context.attempt < before.context.attempt) throw new Error('attempt decreased');
      if (after.context.maxAttempts < before.context.maxAttempts) throw new Error('maxAttempts decreased');
      // Race (k): an expiry decided before the lease's latest extension changes nothing.
      if (event.type === 'job.lease-expired' && before.context.leaseUntil !== null && event.now < before.context.leaseUntil) {
        if (!isDeepStrictEqual(after.value, before.value) || !isDeepStrictEqual(after.context, before.context) || after.effects.length > 0) {
          throw new Error('an expiry of a lease that still held changed the job');
        }
      }

      if (isFenced(event)) {
        const live = CLAIMED.includes(statePath(before.value)) && event.attempt === before.context.attempt;
        if (!live) {
          if (!isDeepStrictEqual(after.value, before.value)) throw new Error(`stale ${event.type} changed the state`);
          const expected = { ...before.context, discardedResults: before.context.discardedResults + 1 };
          if (!isDeepStrictEqual(after.context, expected)) throw new Error(`stale ${event.type} changed more than the discard count`);
          if (!isDeepStrictEqual(types, ['discardLateResult'])) throw new Error(`stale ${event.type} ran ${types}`);
        } else if (types.includes('discardLateResult')) {
          throw new Error(`live ${event.type} was discarded`);
        } else if (event.type === 'job.completed' && event.outcome.status === 'unreadable') {
          // Media that could not be read is never shown as a success; its reason is the job's error.
          if (topLevelState(after.value) !== 'failed' || after.context.error !== event.outcome.reason) throw new Error('unreadable media did not end failed with its reason');
        }
      }

      const enteredTop = topLevelState(after.value) !== topLevelState(before.value) ? topLevelState(after.value) : null;
      if (enteredTop === 'delivered' && topLevelState(before.value) !== 'completed') throw new Error('delivered without completing first');

      for (const effect of after.effects) {
        if (effect.type === 'finalizePlaceholder') {
          const p = effect.params as FinalizePlaceholderParams;
          // The snapshot that asks for the finalize holds the result, and the two are written together (I4).
          if (p.status === 'final' && (after.context.result === null || p.content !== after.context.result)) throw new Error('placeholder finalized with a result its snapshot does not hold');
          if (p.status === 'failed' && !p.content.includes('could not be processed')) throw new Error('failure note lacks the reason');
          if (!after.context.botActive) throw new Error('placeholder finalized while the bot is stopped');
        }
        if (effect.type === 'releaseMedia') {
          releases += 1;
          if (enteredTop !== 'delivered' && enteredTop !== 'discarded') throw new Error('media released outside delivered/discarded');
        }
      }
      if (releases > 1) throw new Error('media released twice');
    },
  };
}

export const mediaJobModel: MachineModel<typeof mediaJobMachine> = {
  name: 'media-job',
  machine: mediaJobMachine,
  input: { jobId: 'job-1', botId: 'bot-1', correspondentId: 'c-1', messageId: 7, kind: 'voice', caption: 'listen', fileName: null, maxAttempts: BUDGET },
  events,
  serializeState,
  invariants,
};
