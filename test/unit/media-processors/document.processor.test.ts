import { describe, expect, it } from 'vitest';
import { createDocumentProcessor, detectFormat, truncateText } from '../../../src/adapters/media-processors/document.processor.ts';
import { htmlToText } from '../../../src/adapters/media-processors/html-to-text.ts';
import { DEFAULT_PROCESSOR_SETTINGS } from '../../../src/adapters/media-processors/processor-settings.ts';
import type { MediaOutcome } from '../../../src/domain/media-content.ts';
import { docxFixture, pdfFixture } from '../../support/media-fixtures.ts';
import { mediaOf, running } from './processor-test-kit.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
// Documents are read locally: the defaults have no key, and none is needed.
const read = (mimetype: string, bytes: Uint8Array, settings = DEFAULT_PROCESSOR_SETTINGS, fileName: string | null = null): Promise<MediaOutcome> =>
  createDocumentProcessor(settings)(mediaOf('document', mimetype, bytes, fileName), running);
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('document processor', () => {
  it('reads a PDF page by page, in order', async () => {
    const pdf = await pdfFixture(['First page text', 'Second page text', 'Third page text']);

    await expect(read('application/pdf', pdf)).resolves.toEqual({
      status: 'processed',
      text: '--- Page 1 ---\nFirst page text\n\n--- Page 2 ---\nSecond page text\n\n--- Page 3 ---\nThird page text',
    });
  });

  it('reads a DOCX: paragraphs on lines, table rows as cells joined by bars', async () => {
    const docx = await docxFixture({
      paragraphs: ['Quarterly report', 'Fish & chips <cheap>'],
      table: [
        ['a', 'b'],
        ['1', '2'],
      ],
    });

    await expect(read(DOCX, docx)).resolves.toEqual({ status: 'processed', text: 'Quarterly report\nFish & chips <cheap>\na | b\n1 | 2' });
  });

  it('goes by the bytes when the sender gave a generic mime type', async () => {
    const pdf = await pdfFixture(['Only page']);
    const docx = await docxFixture({ paragraphs: ['Hello'], table: [] });

    await expect(read('application/octet-stream', pdf)).resolves.toMatchObject({ text: '--- Page 1 ---\nOnly page' });
    await expect(read('application/octet-stream', docx, DEFAULT_PROCESSOR_SETTINGS, 'letter.docx')).resolves.toEqual({ status: 'processed', text: 'Hello' });
  });

  it('notes a corrupt PDF or DOCX, and one whose bytes contradict its mime type', async () => {
    const unreadable = { status: 'unreadable', reason: 'the document could not be read' };
    const truncatedPdf = (await pdfFixture(['x'])).slice(0, 40);

    await expect(read('application/pdf', truncatedPdf)).resolves.toEqual(unreadable);
    await expect(read(DOCX, new Uint8Array([0x50, 0x4b, 0x03, 0x04, 9, 9, 9, 9]))).resolves.toEqual(unreadable);
    await expect(read('application/pdf', utf8('just some text'))).resolves.toEqual(unreadable);
  });

  it('decodes plain text, CSV and Markdown as they are', async () => {
    await expect(read('text/plain; charset=utf-8', utf8('héllo\nwörld'))).resolves.toEqual({ status: 'processed', text: 'héllo\nwörld' });
    await expect(read('text/csv', utf8('a,b\n1,2'))).resolves.toEqual({ status: 'processed', text: 'a,b\n1,2' });
    await expect(read('text/markdown', utf8('# Title\n- item'))).resolves.toEqual({ status: 'processed', text: '# Title\n- item' });
  });

  it('pretty-prints valid JSON without rounding its numbers, and keeps invalid JSON as sent', async () => {
    await expect(read('application/json', utf8('{"id":12345678901234567890,"tags":["a"]}'))).resolves.toEqual({
      status: 'processed',
      text: '{\n  "id": 12345678901234567890,\n  "tags": [\n    "a"\n  ]\n}',
    });
    await expect(read('application/json', utf8('{"broken":'))).resolves.toEqual({ status: 'processed', text: '{"broken":' });
  });

  it('notes text that is not valid UTF-8', async () => {
    await expect(read('text/plain', new Uint8Array([0x68, 0xff, 0xfe, 0x69]))).resolves.toEqual({
      status: 'unreadable',
      reason: 'the document is not valid UTF-8 text',
    });
  });

  it('cuts long text with a marker saying how much is missing', async () => {
    const settings = { ...DEFAULT_PROCESSOR_SETTINGS, documentMaxChars: 100 };

    const outcome = await read('text/plain', utf8('x'.repeat(250)), settings);

    expect(outcome).toEqual({ status: 'processed', text: `${'x'.repeat(100)}\n… [truncated: 150 more characters]` });
  });

  it('names an unsupported document type', async () => {
    await expect(read('application/msword', new Uint8Array([0xd0, 0xcf, 0x11, 0xe0]))).resolves.toEqual({
      status: 'unreadable',
      reason: 'unsupported document type application/msword',
    });
  });

  it('refuses a document above the cap before reading it', async () => {
    const settings = { ...DEFAULT_PROCESSOR_SETTINGS, caps: { ...DEFAULT_PROCESSOR_SETTINGS.caps, documentBytes: 10 } };

    await expect(read('text/plain', utf8('more than ten bytes'), settings)).resolves.toEqual({ status: 'unreadable', reason: 'document larger than 10 bytes' });
  });
});

describe('detectFormat', () => {
  it('trusts PDF bytes over a wrong mime type, and a text mime type only for text', () => {
    expect(detectFormat('text/plain', null, utf8('%PDF-1.7'))).toBe('pdf');
    expect(detectFormat('application/octet-stream', 'md', utf8('# hi'))).toBe('text');
    expect(detectFormat('application/octet-stream', 'bin', utf8('# hi'))).toBeNull();
    expect(detectFormat(DOCX, 'docx', utf8('not a zip'))).toBe('mismatch');
  });
});

describe('truncateText', () => {
  it('never splits a surrogate pair', () => {
    expect(truncateText('ab😀cd', 3)).toBe('ab\n… [truncated: 4 more characters]');
  });
});

describe('htmlToText', () => {
  it('puts list items on dashed lines, decodes entities and flattens a table nested in a cell', () => {
    const html =
      '<h1>Title</h1><ul><li>one</li><li>two &amp; three</li></ul><p>a<br />b</p>' +
      '<table><tr><td><p>x</p><p>y</p></td><td><table><tr><td>in</td><td>ner</td></tr></table></td></tr></table>';

    expect(htmlToText(html)).toBe('Title\n- one\n- two & three\na\nb\nx y | in | ner');
  });
});
