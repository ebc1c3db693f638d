import { createActor } from 'xstate';
import type { InspectionEvent } from 'xstate';
import { MEDIA_JOB_MACHINE_VERSION, mediaJobMachine } from '../../machines/media-job.machine.ts';
import type { MediaJobContext, MediaJobEvent, MediaJobInput } from '../../machines/media-job.machine.ts';
import { statePath, topLevelState } from '../../machines/state-name.ts';
import { ParleyError } from '../domain/errors.ts';
import type { MediaJobRecord, MediaJobState, MediaJobStore, MediaJobWrite } from '../ports/media-job-store.port.ts';
import { collectingLogic } from './effects.ts';
import type { Effect } from './effects.ts';

/** Runs a job's effects in order, after the transition that decided them is durable. */
export type EffectRunner = (job: MediaJobRecord, effects: readonly Effect[]) => Promise<void>;

export interface MediaJobHostDeps {
  readonly jobs: MediaJobStore;
  readonly runEffects: EffectRunner;
  readonly inspect?: (event: InspectionEvent) => void;
  readonly clock?: () => number;
}

export interface MediaJobHost {
  create(input: MediaJobInput, media: { mimetype: string; mediaPath: string | null }): Promise<MediaJobRecord>;
  /** Claims the fairest due job and records the claim in its snapshot; `null` when none is due. */
  claim(owner: string, leaseMs: number, kinds?: readonly string[]): Promise<MediaJobRecord | null>;
  /** Decides `event` for the job, stores the outcome with compare-and-set, then runs its effects. */
  dispatch(jobId: string, event: MediaJobEvent): Promise<MediaJobRecord>;
  get(jobId: string): Promise<MediaJobRecord | null>;
}

const MAX_DECISION_ROUNDS = 8;
type JobSnapshot = ReturnType<ReturnType<typeof createActor<typeof mediaJobMachine>>['getSnapshot']>;

/**
 * Media jobs are not kept in memory: the stored row is the actor. A transition loads the row,
 * restores the machine from its snapshot, decides, and writes back with compare-and-set on
 * `version`. A lost race (a claim, a sweep, another worker) re-reads and re-decides, so fencing is
 * the machine's `attempt` guard applied to the freshest state (I5), and the result is durable
 * before `finalizePlaceholder` runs (I4).
 */
export function createMediaJobHost(deps: MediaJobHostDeps): MediaJobHost {
  const now = deps.clock ?? Date.now;
  const { logic, collect } = collectingLogic(mediaJobMachine);

  function decide(record: MediaJobRecord, events: readonly MediaJobEvent[]) {
    const actor = createActor(logic, { snapshot: record.snapshot, inspect: deps.inspect, id: record.id } as never);
    actor.start();
    const effects: Effect[] = collect(() => {
      for (const event of events) actor.send(event);
    });
    const snapshot = actor.getSnapshot();
    const persisted = actor.getPersistedSnapshot();
    actor.stop();
    return { snapshot, persisted, effects };
  }

  // A claim updates the row atomically but not the snapshot; the snapshot catches up here.
  function catchUp(record: MediaJobRecord): MediaJobEvent[] {
    const context = (record.snapshot as { context: MediaJobContext }).context;
    if (record.state !== 'processing' || record.attempt <= context.attempt || record.owner === null || record.leaseUntil === null) return [];
    return [{ type: 'job.claimed', owner: record.owner, leaseUntil: record.leaseUntil.getTime(), attempt: record.attempt }];
  }

  async function apply(record: MediaJobRecord, event: MediaJobEvent | null): Promise<MediaJobRecord> {
    let current = record;
    for (let round = 0; round < MAX_DECISION_ROUNDS; round++) {
      const events = [...catchUp(current), ...(event === null ? [] : [event])];
      if (events.length === 0) return current;
      const decided = decide(current, events);
      // An unchanged snapshot is already durable; its effects (a re-delivery on reap) may run at once.
      if (JSON.stringify(decided.persisted) === JSON.stringify(current.snapshot)) {
        if (decided.effects.length > 0) await deps.runEffects(current, decided.effects);
        return current;
      }
      const written = await deps.jobs.compareAndSet(current.id, current.version, toWrite(decided.snapshot, decided.persisted), new Date(now()));
      if (written !== null) {
        if (decided.effects.length > 0) await deps.runEffects(written, decided.effects);
        return written;
      }
      const fresh = await deps.jobs.get(current.id);
      if (fresh === null) throw new ParleyError('NOT_FOUND', `media job ${current.id} not found`);
      current = fresh;
    }
    throw new ParleyError('STORE_WRITE_CONFLICT', `media job ${record.id}: too many concurrent writers`);
  }

  return {
    async create(input, media) {
      const probe = createActor(mediaJobMachine, { input, inspect: deps.inspect, id: input.jobId });
      probe.start();
      const record = await deps.jobs.insert(
        {
          id: input.jobId,
          botId: input.botId,
          correspondentId: input.correspondentId,
          messageId: input.messageId,
          kind: input.kind,
          mimetype: media.mimetype,
          mediaPath: media.mediaPath,
          machineVersion: MEDIA_JOB_MACHINE_VERSION,
          snapshot: probe.getPersistedSnapshot(),
        },
        new Date(now()),
      );
      probe.stop();
      return record;
    },
    async claim(owner, leaseMs, kinds) {
      const claimed = await deps.jobs.claim({ owner, leaseMs, now: new Date(now()), ...(kinds === undefined ? {} : { kinds }) });
      return claimed === null ? null : apply(claimed, null);
    },
    async dispatch(jobId, event) {
      const record = await deps.jobs.get(jobId);
      if (record === null) throw new ParleyError('NOT_FOUND', `media job ${jobId} not found`);
      if (record.machineVersion !== MEDIA_JOB_MACHINE_VERSION) {
        throw new ParleyError('INCOMPATIBLE_SNAPSHOT', `media job ${jobId} was stored by machine version ${record.machineVersion}`);
      }
      return apply(record, event);
    },
    get: (jobId) => deps.jobs.get(jobId),
  };
}

function toWrite(snapshot: JobSnapshot, persisted: unknown): MediaJobWrite {
  const c = snapshot.context;
  return {
    state: topLevelState(snapshot.value) as MediaJobState,
    statePath: statePath(snapshot.value),
    attempt: c.attempt,
    owner: c.owner,
    leaseUntil: c.leaseUntil === null ? null : new Date(c.leaseUntil),
    notBefore: c.notBefore === null ? null : new Date(c.notBefore),
    error: c.error,
    machineVersion: MEDIA_JOB_MACHINE_VERSION,
    snapshot: persisted,
  };
}
