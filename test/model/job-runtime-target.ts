import { statePath, topLevelState } from '../../machines/state-name.ts';
import type { mediaJobMachine, MediaJobContext, MediaJobEffects, MediaJobEvent } from '../../machines/media-job.machine.ts';
import type { MediaJobRecord } from '../../src/ports/media-job-store.port.ts';
import type { Store } from '../../src/ports/store.port.ts';
import type { EffectTable } from '../../src/runtime/actors/effect-table.ts';
import { createMediaJobHost } from '../../src/runtime/media-job-host.ts';
import type { JobScope } from '../../src/runtime/media-job-host.ts';
import type { Effect } from './model-types.ts';
import type { MachineModel, ModelTarget, Observation } from './model-types.ts';
import { checkAgreement, checkInitial, machineStep } from './runtime-target.ts';

export interface MediaJobHostTargetOptions {
  /** The run's store (`openTestStore()`); jobs are written to `store.mediaJobs`. */
  readonly store: Store;
}

/**
 * Runs the media-job machine through Parley's media-job host on the run's store. The host keeps
 * nothing in memory: every `dispatch` loads the stored row, restores the machine from its
 * snapshot, decides, writes with compare-and-set and then runs the effects, which this target
 * records. Observations are read from the snapshot of the row the host wrote, so every step
 * crosses the database. At every step the row's query fields must mirror the snapshot, its
 * version must increase, and the host must agree with the machine alone on value, context and
 * effects.
 */
export function mediaJobHostTarget(
  model: MachineModel<typeof mediaJobMachine>,
  options: MediaJobHostTargetOptions,
): ModelTarget<MediaJobEvent, MediaJobContext> {
  const released: { record: MediaJobRecord; effects: readonly Effect[] }[] = [];
  const record = (type: keyof MediaJobEffects) => (params: unknown, { job }: JobScope) => {
    const last = released.at(-1);
    if (last?.record.version === job.version) released[released.length - 1] = { record: job, effects: [...last.effects, { type, params }] };
    else released.push({ record: job, effects: [{ type, params }] });
  };
  const effects = {
    finalizePlaceholder: { durable: true, run: record('finalizePlaceholder') },
    reopenPlaceholder: { durable: true, run: record('reopenPlaceholder') },
    releaseMedia: { durable: true, run: record('releaseMedia') },
    deadLetter: { durable: false, run: record('deadLetter') },
    discardLateResult: { durable: false, run: record('discardLateResult') },
  } satisfies EffectTable<MediaJobEffects, JobScope>;
  const host = createMediaJobHost({ jobs: options.store.mediaJobs, effects });
  const jobId = model.input.jobId;
  let current: Observation<MediaJobContext> | undefined;
  let version = 0;
  let lastState = '';
  let created = false;

  const observe = async (record: MediaJobRecord): Promise<Observation<MediaJobContext>> => {
    // Effects that ran are acknowledged: none is left to run again after a restart.
    const stored = await options.store.mediaJobs.get(record.id);
    if (stored !== null && stored.effects.length > 0) throw new Error(`job ${jobId}: effects ${stored.effects.map((e) => e.type)} ran but stayed unacknowledged`);
    const runs = released.splice(0);
    for (const run of runs) {
      if (run.record.version !== record.version) throw new Error(`job ${jobId}: effects ran for version ${run.record.version}, the host returned ${record.version}`);
    }
    const { value, context } = record.snapshot as Pick<Observation<MediaJobContext>, 'value' | 'context'>;
    const observed = { value, context, effects: runs.flatMap((r) => r.effects) };
    checkRow(record, observed, runs.length > 0);
    return observed;
  };

  // The row's query fields mirror the snapshot; every change bumps the version.
  const checkRow = (record: MediaJobRecord, { value, context: c }: Observation<MediaJobContext>, ranEffects: boolean): void => {
    const where = `job ${jobId} (stored version ${record.version})`;
    const mirrored = {
      state: [record.state, topLevelState(value)],
      statePath: [record.statePath, statePath(value)],
      attempt: [record.attempt, c.attempt],
      owner: [record.owner, c.owner],
      leaseUntil: [record.leaseUntil?.getTime() ?? null, c.leaseUntil],
      error: [record.error, c.error],
      ...(c.notBefore === null ? {} : { notBefore: [record.notBefore.getTime(), c.notBefore] }),
    };
    for (const [field, [stored, snapshot]] of Object.entries(mirrored)) {
      if (stored !== snapshot) throw new Error(`${where}: stored ${field} ${JSON.stringify(stored)}, snapshot has ${JSON.stringify(snapshot)}`);
    }
    // A decision that changes nothing and stores no effect is not written; any change is, one version further.
    const state = JSON.stringify({ value, context: c });
    if (state !== lastState && record.version <= version) throw new Error(`${where}: version did not increase from ${version}`);
    if (state === lastState && record.version !== version && !ranEffects) throw new Error(`${where}: an unchanged snapshot was written again`);
    lastState = state;
    version = record.version;
  };

  return {
    async start() {
      created = true;
      const first = await observe(await host.create(model.input, { mimetype: 'x/y', mediaPath: null }));
      checkInitial(model.machine, model.input, first);
      current = first;
      return first;
    },
    async send(event) {
      if (current === undefined) throw new Error('target not started');
      const expected = machineStep(model.machine, current, event);
      const observed = await observe(await host.dispatch(jobId, event));
      checkAgreement(`${model.name} ${jobId}`, event, expected, observed);
      current = observed;
      return observed;
    },
    async dispose() {
      current = undefined;
      released.length = 0;
      // Every path reuses the model's job id, so its row goes with the path.
      if (created) await options.store.mediaJobs.delete(jobId);
      created = false;
    },
  };
}
