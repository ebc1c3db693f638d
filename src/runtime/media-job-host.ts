import type { InspectionEvent } from 'xstate';
import { MEDIA_JOB_MACHINE_VERSION, mediaJobMachine } from '../../machines/media-job.machine.ts';
import type { MediaJobContext, MediaJobEffects, MediaJobEvent, MediaJobInput } from '../../machines/media-job.machine.ts';
import { statePath, topLevelState } from '../../machines/state-name.ts';
import { ParleyError } from '../domain/errors.ts';
import type { StoredEffect } from '../ports/actor-snapshot-store.port.ts';
import type { MediaJobRecord, MediaJobState, MediaJobStore, MediaJobWrite } from '../ports/media-job-store.port.ts';
import { createDecider } from './actors/decider.ts';
import type { PersistedSnapshot } from './actors/decider.ts';
import { createEffectRunner } from './actors/effect-runner.ts';
import type { EffectRunnerOptions, RunnableEffect } from './actors/effect-runner.ts';
import { isDurable, restoreEffect } from './actors/effect-table.ts';
import type { EffectTable } from './actors/effect-table.ts';
import { sameData } from './actors/retry.ts';

/** What a media job's effect handler learns besides its params: the job as the decision left it. */
export interface JobScope {
  readonly job: MediaJobRecord;
  readonly recovered: boolean;
  /** A durable effect's stored id, the same on every run of it. */
  readonly effectId: string | null;
}

export interface MediaJobHostDeps {
  readonly jobs: MediaJobStore;
  readonly effects: EffectTable<MediaJobEffects, JobScope>;
  readonly inspect?: (event: InspectionEvent) => void;
  readonly clock?: () => number;
  readonly effectRunner?: EffectRunnerOptions<MediaJobEffects>;
}

export interface MediaJobHost {
  create(input: MediaJobInput, media: { mimetype: string; mediaPath: string | null }): Promise<MediaJobRecord>;
  /** Claims the fairest due job and records the claim in its snapshot; `null` when none is due. */
  claim(owner: string, leaseMs: number, kinds?: readonly string[]): Promise<MediaJobRecord | null>;
  /** Decides `event` for the job, stores the outcome and its durable effects with compare-and-set, then runs them. */
  dispatch(jobId: string, event: MediaJobEvent): Promise<MediaJobRecord>;
  get(jobId: string): Promise<MediaJobRecord | null>;
  /** Runs the effects a crash left unacknowledged; resolves with how many jobs had some. */
  recoverEffects(): Promise<number>;
  /** Stops running effects (the process is going away). */
  halt(): void;
}

const MAX_DECISION_ROUNDS = 8;

/**
 * Media jobs are not kept in memory: the stored row is the actor. A transition loads the row,
 * decides with the machine's pure transition, and writes the outcome back with compare-and-set on
 * `version`, together with the durable effects it asked for. A lost race (a claim, a sweep,
 * another worker) re-reads and re-decides, so fencing is the machine's `attempt` guard applied to
 * the freshest state (I5), and the result is durable before `finalizePlaceholder` runs (I4).
 * Effects run after the write and are acknowledged once done; unacknowledged ones run again after
 * a restart.
 */
export function createMediaJobHost(deps: MediaJobHostDeps): MediaJobHost {
  const now = deps.clock ?? Date.now;
  const decider = createDecider(mediaJobMachine, deps.effects, deps.inspect);
  // Effects run inside the transition that decided them, so one job's effects keep decision order
  // while different jobs' effects run side by side.
  const runners = new Set<ReturnType<typeof createEffectRunner<MediaJobEffects, JobScope>>>();
  let halted = false;
  const inspected = (id: string) => ({ id, sessionId: id, logic: mediaJobMachine });

  // A claim updates the row atomically but not the snapshot; the snapshot catches up here.
  function catchUp(record: MediaJobRecord): MediaJobEvent[] {
    const context = (record.snapshot as { context: MediaJobContext }).context;
    if (record.state !== 'processing' || record.attempt <= context.attempt || record.owner === null || record.leaseUntil === null) return [];
    return [{ type: 'job.claimed', owner: record.owner, leaseUntil: record.leaseUntil.getTime(), attempt: record.attempt }];
  }

  async function run(job: MediaJobRecord, items: readonly RunnableEffect<MediaJobEffects>[], recovered: boolean): Promise<void> {
    if (halted || items.length === 0) return;
    const runner = createEffectRunner<MediaJobEffects, JobScope>({ ...deps.effectRunner, effects: deps.effects });
    runners.add(runner);
    const acknowledged: string[] = [];
    try {
      await runner.run(items, (item) => ({ job, recovered, effectId: item.storedId }), (id) => acknowledged.push(id));
    } finally {
      runners.delete(runner);
      if (acknowledged.length > 0 && !halted) await deps.jobs.acknowledgeEffects(job.id, acknowledged);
    }
  }

  async function apply(record: MediaJobRecord, event: MediaJobEvent | null): Promise<MediaJobRecord> {
    let current = record;
    for (let round = 0; round < MAX_DECISION_ROUNDS; round++) {
      const events = [...catchUp(current), ...(event === null ? [] : [event])];
      if (events.length === 0) return current;
      const decided = decider.decide(decider.restore(current.snapshot), events, inspected(current.id));
      const persisted = decider.persist(decided.snapshot);
      const version = current.version + 1;
      const stored: StoredEffect[] = [];
      const items = decided.effects.map((effect): RunnableEffect<MediaJobEffects> => {
        if (!isDurable(deps.effects, effect)) return { effect, storedId: null };
        const id = `${current.id}@${version}#${stored.length}`;
        stored.push({ id, type: effect.type, params: effect.params });
        return { effect, storedId: id };
      });
      // An unchanged snapshot that asks for nothing durable is already as it should be.
      if (stored.length === 0 && sameData(persisted, current.snapshot)) {
        await run(current, items, false);
        return current;
      }
      const written = await deps.jobs.compareAndSet(current.id, current.version, toWrite(decided.snapshot, persisted, stored), new Date(now()));
      if (written !== null) {
        await run(written, items, false);
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
      const snapshot = decider.persist(decider.initial(input, inspected(input.jobId)));
      return deps.jobs.insert(
        {
          id: input.jobId,
          botId: input.botId,
          correspondentId: input.correspondentId,
          messageId: input.messageId,
          kind: input.kind,
          mimetype: media.mimetype,
          mediaPath: media.mediaPath,
          machineVersion: MEDIA_JOB_MACHINE_VERSION,
          snapshot,
        },
        new Date(now()),
      );
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
    async recoverEffects() {
      const jobs = await deps.jobs.list({ withEffects: true });
      for (const job of jobs) {
        const items = job.effects.flatMap((stored) => {
          const effect = restoreEffect(deps.effects, stored);
          return effect === null ? [] : [{ effect, storedId: stored.id }];
        });
        await run(job, items, true).catch(() => undefined);
      }
      return jobs.length;
    },
    halt() {
      halted = true;
      for (const runner of runners) runner.halt();
    },
  };
}

function toWrite(snapshot: ReturnType<typeof mediaJobMachine.resolveState>, persisted: PersistedSnapshot, effects: readonly StoredEffect[]): MediaJobWrite {
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
    effects,
  };
}
