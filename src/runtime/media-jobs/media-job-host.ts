import type { InspectionEvent } from 'xstate';
import { MEDIA_JOB_MACHINE_VERSION, mediaJobMachine } from '../../../machines/media-job.machine.ts';
import type { MediaJobEffects } from '../../../machines/media-job.machine.ts';
import type { MediaJobData, MediaJobRecord, MediaJobState, MediaJobStore } from '../../ports/media-job-store.port.ts';
import type { EffectRunnerOptions } from '../actors/effect-runner.ts';
import type { EffectTable } from '../actors/effect-table.ts';
import type { HostOnlyEffects } from '../work-queue/effect-placement.ts';
import { createRowActorHost } from '../work-queue/row-actor-host.ts';
import type { RowActorHost, RowScope } from '../work-queue/row-actor-host.ts';

export type JobScope = RowScope<MediaJobRecord>;
export type MediaJobHost = RowActorHost<typeof mediaJobMachine, MediaJobData, MediaJobState>;

export interface MediaJobHostDeps {
  readonly jobs: MediaJobStore;
  readonly effects: EffectTable<MediaJobEffects, JobScope>;
  readonly inspect?: (event: InspectionEvent) => void;
  readonly clock?: () => number;
  readonly effectRunner?: EffectRunnerOptions<MediaJobEffects>;
  /** Effects that run only on the instance hosting the job's bot; all run anywhere when absent. */
  readonly hostOnly?: HostOnlyEffects<MediaJobEffects>;
}

/** Media jobs as row actors on their work queue: a claim moves a job to `processing`. */
export function createMediaJobHost(deps: MediaJobHostDeps): MediaJobHost {
  return createRowActorHost({
    machine: mediaJobMachine,
    machineVersion: MEDIA_JOB_MACHINE_VERSION,
    store: deps.jobs,
    effects: deps.effects,
    claimedState: 'processing',
    claimedEvent: (claim) => ({ type: 'job.claimed', ...claim }),
    ...(deps.inspect === undefined ? {} : { inspect: deps.inspect }),
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    ...(deps.effectRunner === undefined ? {} : { effectRunner: deps.effectRunner }),
    ...(deps.hostOnly === undefined ? {} : { hostOnly: deps.hostOnly }),
  });
}
