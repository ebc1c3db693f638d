import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ParleyError } from '../domain/errors.ts';
import { storableProblems } from '../domain/free-form.ts';
import { mergePatch } from '../domain/merge-patch.ts';
import type { JsonObject } from '../domain/merge-patch.ts';
import { validateLimits } from '../domain/queue-limits.ts';
import { DEFAULT_LIMITS } from '../runtime/parley-runtime.ts';
import { AiSettings, MediaSettings, QueueSettings } from './dto/bot.dto.ts';
import type { BotPatchBody, BotSettings } from './dto/bot.dto.ts';

/**
 * A bot's settings, refused with the first problem named (and how many more there are) when the
 * bot could not run with them or the store could not hold them: a section of the wrong shape,
 * queue limits that contradict each other, free-form keys MongoDB refuses or nesting too deep.
 */
export function checkSettings(settings: JsonObject): BotSettings & Record<string, unknown> {
  const { queue, ai, media } = settings;
  if (queue !== undefined) {
    if (!Value.Check(QueueSettings, queue)) throw shapeError('queue', QueueSettings, queue);
    const problems = validateLimits({ ...DEFAULT_LIMITS, ...queue });
    if (problems.length > 0) throw ParleyError.of('VALIDATION_FAILED', { field: 'body.queue', problem: problems.join('; ') }, { details: { field: 'queue' } });
  }
  if (ai !== undefined && !Value.Check(AiSettings, ai)) throw shapeError('ai', AiSettings, ai);
  if (media !== undefined && !Value.Check(MediaSettings, media)) throw shapeError('media', MediaSettings, media);
  const unstorable = [...storableProblems(media, 'body.media'), ...storableProblems(ai, 'body.ai')];
  const [first] = unstorable;
  if (first !== undefined) {
    const more = unstorable.length > 1 ? ` (and ${unstorable.length - 1} more)` : '';
    throw ParleyError.of('VALIDATION_FAILED', { field: first.field, problem: `${first.problem}${more}` });
  }
  return { ...settings, ...(queue === undefined ? {} : { queue }), ...(ai === undefined ? {} : { ai }), ...(media === undefined ? {} : { media }) };
}

/** The settings after a merge patch, checked as a whole; a queue or AI section left empty is dropped. */
export function patchedSettings(current: JsonObject, patch: BotPatchBody): BotSettings & Record<string, unknown> {
  const merged = mergePatch(current, patch);
  for (const section of ['queue', 'ai']) {
    const value = merged[section];
    if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) delete merged[section];
  }
  return checkSettings(merged);
}

function shapeError(section: string, schema: TSchema, value: unknown): ParleyError {
  const [first] = Value.Errors(schema, value);
  const field = `body.${section}${first?.path.replaceAll('/', '.') ?? ''}`;
  return ParleyError.of('VALIDATION_FAILED', { field, problem: first?.message ?? 'is not valid' }, { details: { field: section } });
}
