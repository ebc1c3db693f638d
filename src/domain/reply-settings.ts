import { WHATSAPP_TEXT_CHARS } from './queue-limits.ts';

/** A bot's AI reply settings with every default applied: what the reply runtime reads. */
export interface ReplySettings {
  readonly enabled: boolean;
  readonly model: string;
  readonly systemPrompt: string;
  readonly temperature: number | null;
  readonly historyMessages: number;
  readonly historyChars: number;
  readonly debounceMs: number;
  readonly maxWaitMs: number;
  readonly mediaWaitMs: number;
  readonly pauseMs: number;
  readonly typingMaxMs: number;
  readonly splitOnBlankLines: boolean;
  readonly groups: boolean;
  /** Longest message the bot's provider sends; a longer reply goes out in parts (not a setting: the provider's limit). */
  readonly maxMessageChars: number;
}

/** The stored `ai` section: every field optional but `enabled`. */
export type ReplySettingsSection = { readonly enabled: boolean } & Partial<Omit<ReplySettings, 'enabled' | 'maxMessageChars'>>;

export const REPLY_DEFAULTS: Omit<ReplySettings, 'enabled' | 'model'> = {
  systemPrompt: '',
  temperature: null,
  historyMessages: 30,
  historyChars: 12_000,
  debounceMs: 1_500,
  maxWaitMs: 10_000,
  mediaWaitMs: 60_000,
  pauseMs: 30 * 60_000,
  typingMaxMs: 3_000,
  maxMessageChars: WHATSAPP_TEXT_CHARS,
  splitOnBlankLines: false,
  groups: false,
};

/** The chat model of bots whose settings name none, unless configured otherwise (OPENAI_REPLY_MODEL). */
export const DEFAULT_REPLY_MODEL = 'gpt-4o-mini';

/** Typing speed the indication is proportional to, in ms per character of the reply. */
export const TYPING_MS_PER_CHAR = 30;

/** Calls to the model per reply before it is given up (the first and two retries). */
export const REPLY_MAX_ATTEMPTS = 3;

/** The settings a bot runs with: its section over the defaults; AI off without a section. */
export function resolveReplySettings(section: ReplySettingsSection | undefined, defaultModel: string): ReplySettings {
  return { ...REPLY_DEFAULTS, model: defaultModel, ...section, enabled: section?.enabled === true };
}

/** Problems of a section no schema can see: fields that contradict each other. */
export function replySettingsProblems(section: ReplySettingsSection): string[] {
  const debounce = section.debounceMs ?? REPLY_DEFAULTS.debounceMs;
  const maxWait = section.maxWaitMs ?? REPLY_DEFAULTS.maxWaitMs;
  return maxWait < debounce ? [`maxWaitMs (${maxWait}) is below debounceMs (${debounce})`] : [];
}
