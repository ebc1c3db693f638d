import mammoth from 'mammoth';
import { extractText, getDocumentProxy } from 'unpdf';
import type { MediaOutcome } from '../../domain/media-content.ts';
import type { MediaProcessor } from '../../ports/media-processor.port.ts';
import { htmlToText } from './html-to-text.ts';
import { baseMime, fileExtension } from './mime.ts';
import { prettyJson } from './pretty-json.ts';
import { formatMegabytes } from './processor-settings.ts';
import type { MediaProcessorSettings } from './processor-settings.ts';
import { raceDeadline, withTimeout } from './with-timeout.ts';

type DocumentFormat = 'pdf' | 'docx' | 'text' | 'json';

export const UNREADABLE_DOCUMENT = 'the document could not be read';

const DOCX_MIME = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const TEXT_MIMES: ReadonlySet<string> = new Set(['text/plain', 'text/csv', 'text/markdown', 'text/x-markdown']);
const TEXT_EXTENSIONS: ReadonlySet<string> = new Set(['txt', 'csv', 'md', 'markdown']);
/** Mime types that say nothing; WhatsApp sends these for files it does not recognise. */
const GENERIC_MIMES: ReadonlySet<string> = new Set(['', 'application/octet-stream', 'application/zip', 'binary/octet-stream']);

/**
 * Text from a PDF, DOCX or plain-text document, read locally (no OpenAI call, so no key is
 * needed). Every failure here is the file's own, so it is a note rather than a retry.
 */
export function createDocumentProcessor(settings: MediaProcessorSettings): MediaProcessor {
  return async (media, signal) => {
    if (media.bytes.byteLength > settings.caps.documentBytes) {
      return { status: 'unreadable', reason: `document larger than ${formatMegabytes(settings.caps.documentBytes)}` };
    }
    const format = detectFormat(baseMime(media.mimetype), fileExtension(media.fileName), media.bytes);
    if (format === 'mismatch') return { status: 'unreadable', reason: UNREADABLE_DOCUMENT };
    if (format === null) return { status: 'unreadable', reason: `unsupported document type ${baseMime(media.mimetype) || 'unknown'}` };
    const deadline = withTimeout(signal, settings.timeoutMs);
    const outcome = await raceDeadline(readDocument(format, media.bytes), deadline, 'document reading');
    return outcome.status === 'processed' ? { status: 'processed', text: truncateText(outcome.text, settings.documentMaxChars) } : outcome;
  };
}

/**
 * The content decides when it is PDF or ZIP, since senders' mime types are often generic or
 * wrong; a file whose mime type promises PDF or DOCX but whose bytes are neither is corrupt.
 */
export function detectFormat(mime: string, extension: string | null, bytes: Uint8Array): DocumentFormat | 'mismatch' | null {
  const generic = GENERIC_MIMES.has(mime);
  const isPdf = startsWith(bytes, [0x25, 0x50, 0x44, 0x46]); // %PDF
  const isZip = startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]); // PK\x03\x04
  const claimsPdf = mime === 'application/pdf' || (generic && extension === 'pdf');
  const claimsDocx = mime === DOCX_MIME || (generic && extension === 'docx');
  if (isPdf) return 'pdf';
  if (claimsPdf) return 'mismatch';
  if (claimsDocx) return isZip ? 'docx' : 'mismatch';
  if (mime === 'application/json' || (generic && extension === 'json')) return 'json';
  if (TEXT_MIMES.has(mime) || (generic && extension !== null && TEXT_EXTENSIONS.has(extension))) return 'text';
  return null;
}

async function readDocument(format: DocumentFormat, bytes: Uint8Array): Promise<MediaOutcome> {
  if (format === 'text' || format === 'json') {
    const text = decodeUtf8(bytes);
    if (text === null) return { status: 'unreadable', reason: 'the document is not valid UTF-8 text' };
    return { status: 'processed', text: format === 'json' ? prettyJson(text) : text };
  }
  try {
    return { status: 'processed', text: format === 'pdf' ? await pdfText(bytes) : await docxText(bytes) };
  } catch {
    return { status: 'unreadable', reason: UNREADABLE_DOCUMENT };
  }
}

async function pdfText(bytes: Uint8Array): Promise<string> {
  // pdf.js takes ownership of (detaches) the buffer it is given; the staged bytes stay the caller's.
  const pdf = await getDocumentProxy(bytes.slice(), { verbosity: 0 });
  try {
    const { text } = await extractText(pdf, { mergePages: false });
    if (text.every((page) => page.trim() === '')) return '';
    return text.map((page, index) => `--- Page ${index + 1} ---\n${page.trim()}`).join('\n\n');
  } finally {
    await pdf.destroy();
  }
}

async function docxText(bytes: Uint8Array): Promise<string> {
  // Images would be inlined as base64 data URLs the text never uses; an empty source skips that work.
  const result = await mammoth.convertToHtml(
    { buffer: Buffer.from(bytes) },
    { convertImage: mammoth.images.imgElement(async () => ({ src: '' })), externalFileAccess: false },
  );
  return htmlToText(result.value);
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Cuts at `maxChars` without splitting a surrogate pair, and says how much was left out. */
export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const last = text.charCodeAt(maxChars - 1);
  const kept = text.slice(0, last >= 0xd800 && last <= 0xdbff ? maxChars - 1 : maxChars);
  return `${kept}\n… [truncated: ${text.length - kept.length} more characters]`;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((byte, index) => bytes[index] === byte);
}
