import { describeModel } from './describe-model.ts';
import { mediaJobHostTarget } from './job-runtime-target.ts';
import { mediaJobModel } from './media-job.model.ts';

// Every step crosses the store; the 955 transition paths (6,605 steps) take about 6 to 8 s.
describeModel({
  model: mediaJobModel,
  storePrefix: 'parley_model_media_job',
  runtimePaths: ['shortest', 'transitions', 'definition'],
  runtimeTargets: (store) => [
    ['media-job host on the store, which reloads the stored job for every step', () => mediaJobHostTarget(mediaJobModel, { store: store() })],
  ],
});
