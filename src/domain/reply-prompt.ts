/** One turn of the conversation as the model reads it. */
export type ChatTurn =
  | { readonly role: 'system'; readonly content: string }
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string };

/** A conversation message as the prompt needs it (a history row's fields). */
export interface PromptMessage {
  readonly seq: number;
  readonly direction: 'inbound' | 'outbound';
  readonly content: string;
  readonly status: string;
}

/** How much of the conversation a reply sees. */
export interface PromptWindow {
  readonly systemPrompt: string;
  /** Most messages (the newest ones) sent to the model. */
  readonly maxMessages: number;
  /** Most characters of message text sent to the model; the newest messages are kept first. */
  readonly maxChars: number;
}

export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful assistant replying in a WhatsApp chat. Answer briefly and in the language of the last message. ' +
  'Media reaches you as text: "[Voice message] …" is a transcript, "[Image] …" a description, "(processing)" means it is not available yet.';

/**
 * The turns a reply to everything up to `throughSeq` sends to the model: the system prompt, then
 * the newest messages that fit the window, oldest first. Inbound messages are the user's turns,
 * including media in its labelled text form; the bot's own messages (and the owner's, written
 * from the phone) are the assistant's, so the model sees what was already said. Outbound
 * messages that failed for good were never read by the correspondent and are left out. The
 * newest message is always kept, cut to the character budget if it alone exceeds it.
 */
export function buildReplyTurns(messages: readonly PromptMessage[], throughSeq: number, window: PromptWindow): ChatTurn[] {
  const eligible = messages
    .filter((m) => m.seq <= throughSeq && !(m.direction === 'outbound' && m.status === 'failed') && m.content.trim() !== '')
    .sort((a, b) => a.seq - b.seq);
  const kept: ChatTurn[] = [];
  let chars = 0;
  for (let i = eligible.length - 1; i >= 0 && kept.length < window.maxMessages; i--) {
    const m = eligible[i];
    if (m === undefined) break;
    const room = window.maxChars - chars;
    if (room <= 0) break;
    if (m.content.length > room && kept.length > 0) break;
    const content = m.content.length > room ? m.content.slice(m.content.length - room) : m.content;
    chars += content.length;
    kept.push(m.direction === 'inbound' ? { role: 'user', content } : { role: 'assistant', content });
  }
  const system = window.systemPrompt.trim() === '' ? DEFAULT_SYSTEM_PROMPT : window.systemPrompt;
  return [{ role: 'system', content: system }, ...kept.reverse()];
}

/**
 * A reply cut into messages at blank lines, each at most `maxChars` (longer paragraphs are cut
 * at the limit). Blank parts are dropped; a reply with no blank line stays one message.
 */
export function splitReply(text: string, maxChars: number): string[] {
  const parts: string[] = [];
  for (const paragraph of text.split(/\n[ \t]*\n/)) {
    const trimmed = paragraph.trim();
    for (let i = 0; i < trimmed.length; i += maxChars) parts.push(trimmed.slice(i, i + maxChars));
  }
  return parts.length === 0 ? [text.trim()].filter((p) => p !== '') : parts;
}

/** A reply in consecutive pieces of at most `maxChars`, for a provider whose messages are shorter. */
export function chunkText(text: string, maxChars: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += maxChars) parts.push(text.slice(i, i + maxChars));
  return parts.length === 0 ? [text] : parts;
}

/** How long the bot shows it is typing before a reply of `chars` characters: proportional, capped. */
export function typingDuration(chars: number, msPerChar: number, maxMs: number): number {
  return Math.max(0, Math.min(maxMs, Math.round(chars * msPerChar)));
}
