import { Value } from '@sinclair/typebox/value';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { ParleyError } from '../domain/errors.ts';
import { mergePatch } from '../domain/merge-patch.ts';
import type { JsonObject } from '../domain/merge-patch.ts';
import { validateLimits } from '../domain/queue-limits.ts';
import { replySettingsProblems } from '../domain/reply-settings.ts';
import { MEDIA_PROCESSOR_NAMES } from '../domain/media-pools.ts';
import { validatePools } from '../domain/media-routing.ts';
import type { MediaPoolRoute } from '../domain/media-routing.ts';
import { DEFAULT_LIMITS } from '../runtime/parley-runtime.ts';
import { AiSettings, MediaSettings, QueueSettings } from './dto/bot.dto.ts';
import { CloudApiSettings } from './dto/cloud-api.dto.ts';
import type { CloudApiPatch } from './dto/cloud-api.dto.ts';
import type { BotPatchBody, BotSettings, MediaSettings as MediaSettingsType } from './dto/bot.dto.ts';

/** The sections the API knows; a stored bot may hold others, owned by other layers. */
const SECTIONS: readonly string[] = ['queue', 'ai', 'media', 'cloudApi'];

/**
 * A bot's settings, refused with the first problem named when the bot could not run with them: a
 * section of the wrong shape (unknown keys included) or queue limits that contradict each other.
 */
export function checkSettings(settings: JsonObject): BotSettings & Record<string, unknown> {
  const { queue, ai, media, cloudApi } = settings;
  if (cloudApi !== undefined && !Value.Check(CloudApiSettings, cloudApi)) throw shapeError('cloudApi', CloudApiSettings, cloudApi);
  if (queue !== undefined) {
    if (!Value.Check(QueueSettings, queue)) throw shapeError('queue', QueueSettings, queue);
    const problems = validateLimits({ ...DEFAULT_LIMITS, ...queue });
    if (problems.length > 0) throw ParleyError.of('VALIDATION_FAILED', { field: 'body.queue', problem: problems.join('; ') }, { details: { field: 'queue' } });
  }
  if (ai !== undefined && !Value.Check(AiSettings, ai)) throw shapeError('ai', AiSettings, ai);
  if (ai !== undefined) {
    const problems = replySettingsProblems(ai);
    if (problems.length > 0) throw ParleyError.of('VALIDATION_FAILED', { field: 'body.ai', problem: problems.join('; ') }, { details: { field: 'ai' } });
  }
  if (media !== undefined && !Value.Check(MediaSettings, media)) throw shapeError('media', MediaSettings, media);
  if (media?.pools !== undefined) {
    const problems = validatePools(botPools(media.pools), MEDIA_PROCESSOR_NAMES);
    if (problems.length > 0) throw ParleyError.of('VALIDATION_FAILED', { field: 'body.media.pools', problem: problems.join('; ') }, { details: { field: 'media.pools', problems } });
  }
  return {
    ...settings, ...(queue === undefined ? {} : { queue }), ...(ai === undefined ? {} : { ai }), ...(media === undefined ? {} : { media }),
    ...(cloudApi === undefined ? {} : { cloudApi }),
  };
}

/**
 * A stored bot's settings as the API shows them and a patch starts from: each known section with
 * its known, valid fields. Bots stored while `media` was free-form still load and list; what no
 * schema knows (an `apiKey`, deep nesting) is never shown and is dropped at the next settings write.
 */
export function knownSettings(stored: JsonObject): BotSettings {
  const queue = knownSection(QueueSettings, stored['queue']);
  const ai = knownSection(AiSettings, stored['ai']);
  const media = knownSection(MediaSettings, stored['media']);
  const cloudApi = knownSection(CloudApiSettings, stored['cloudApi']);
  return {
    ...(queue === undefined ? {} : { queue }), ...(ai === undefined ? {} : { ai }), ...(media === undefined ? {} : { media }),
    ...(cloudApi === undefined ? {} : { cloudApi }),
  };
}

/** The settings after a merge patch, checked as a whole; a section left empty is dropped. */
export function patchedSettings(current: JsonObject, patch: BotPatchBody): BotSettings & Record<string, unknown> {
  const others = Object.fromEntries(Object.entries(current).filter(([section]) => !SECTIONS.includes(section)));
  // The secrets of a `cloudApi` patch are stored apart (sealed); only its settings merge here.
  const { cloudApi, ...sections } = patch;
  const cloudApiSettings = cloudApi === undefined ? {} : { cloudApi: cloudApiSettingsPatch(cloudApi) };
  const merged = mergePatch({ ...others, ...knownSettings(current) }, { ...sections, ...cloudApiSettings });
  for (const section of SECTIONS) {
    const value = merged[section];
    if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) delete merged[section];
  }
  return checkSettings(merged);
}

function cloudApiSettingsPatch(patch: CloudApiPatch): JsonObject {
  const { phoneNumberId, graphBaseUrl, apiVersion } = patch;
  return {
    ...(phoneNumberId === undefined ? {} : { phoneNumberId }),
    ...(graphBaseUrl === undefined ? {} : { graphBaseUrl }),
    ...(apiVersion === undefined ? {} : { apiVersion }),
  };
}

/** The section whole when it is valid, else its valid known fields if they make a valid section. */
function knownSection<T extends TObject>(schema: T, value: unknown): Static<T> | undefined {
  if (Value.Check(schema, value)) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = new Map(Object.entries(value));
  const kept: Record<string, unknown> = {};
  for (const [field, fieldSchema] of Object.entries(schema.properties)) {
    const fieldValue = fields.get(field);
    if (fieldValue !== undefined && Value.Check(fieldSchema, fieldValue)) kept[field] = fieldValue;
  }
  return Value.Check(schema, kept) ? kept : undefined;
}

function shapeError(section: string, schema: TSchema, value: unknown): ParleyError {
  const [first] = Value.Errors(schema, value);
  const field = `body.${section}${first?.path.replaceAll('/', '.') ?? ''}`;
  return ParleyError.of('VALIDATION_FAILED', { field, problem: first?.message ?? 'is not valid' }, { details: { field: section } });
}

/** A bot's pools as routing reads them: an omitted list of kinds or mime types means any. */
export function botPools(pools: NonNullable<MediaSettingsType['pools']>): MediaPoolRoute[] {
  return pools.map((p) => ({ name: p.name, kinds: p.kinds ?? [], mimetypes: p.mimetypes ?? [], processor: p.processor, concurrency: p.concurrency }));
}

/** The pools a stored bot runs its media on; `undefined` for the configured ones. */
export function poolsOf(record: { readonly settings: JsonObject }): MediaPoolRoute[] | undefined {
  const pools = knownSettings(record.settings).media?.pools;
  return pools === undefined ? undefined : botPools(pools);
}
