import type { MediaJobEffects } from '../../machines/media-job.machine.ts';
import { createMediaJobHost } from '../../src/runtime/media-jobs/media-job-host.ts';
import { describeModel } from './describe-model.ts';
import { mediaJobModel } from './media-job.model.ts';
import { rowActorTarget } from './row-actor-target.ts';
import type { EffectDurability } from './runtime-target.ts';

const effects: EffectDurability<MediaJobEffects> = {
  finalizePlaceholder: true, reopenPlaceholder: true, releaseMedia: true, deadLetter: false, discardLateResult: false,
};
const { jobId: id, botId, correspondentId, messageId, kind } = mediaJobModel.input;
const row = { id, botId, kind, line: null, lineSeq: null, correspondentId, messageId, mimetype: 'audio/ogg', mediaKey: null, sizeBytes: null, stagingError: null, pool: 'media', caption: null, fileName: null };

// Every step crosses the store; the 955 transition paths (6,605 steps) take about 6 to 8 s.
describeModel({
  model: mediaJobModel,
  storePrefix: 'parley_model_media_job',
  runtimePaths: ['shortest', 'transitions', 'definition'],
  runtimeTargets: (store) => [
    [
      'media-job host on the store, which reloads the stored job for every step',
      () => rowActorTarget(mediaJobModel, { queue: store().mediaJobs, effects, row, host: (table) => createMediaJobHost({ jobs: store().mediaJobs, effects: table }) }),
    ],
  ],
});
