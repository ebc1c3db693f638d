import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import JSZip from 'jszip';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';

/**
 * Media files generated in the test itself, so no binary fixture lives in the repository and
 * each test shows what its input contains.
 */

const run = promisify(execFile);

/** A PDF with one page per entry, each drawing its text in a standard font (no embedding). */
export async function pdfFixture(pages: readonly string[]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const text of pages) {
    const page = pdf.addPage([595, 842]);
    page.drawText(text, { x: 50, y: 780, size: 12, font });
  }
  return pdf.save();
}

const W_NS = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';

/** The smallest DOCX Word and mammoth accept: the content types, the package relationship and the document. */
export async function docxFixture(content: { readonly paragraphs: readonly string[]; readonly table: readonly (readonly string[])[] }): Promise<Uint8Array> {
  const paragraph = (text: string): string => `<w:p><w:r><w:t xml:space="preserve">${escapeXml(text)}</w:t></w:r></w:p>`;
  const row = (cells: readonly string[]): string => `<w:tr>${cells.map((cell) => `<w:tc>${paragraph(cell)}</w:tc>`).join('')}</w:tr>`;
  const table = content.table.length === 0 ? '' : `<w:tbl>${content.table.map(row).join('')}</w:tbl>`;
  const document =
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
    `<w:document xmlns:w="${W_NS}"><w:body>${content.paragraphs.map(paragraph).join('')}${table}</w:body></w:document>`;
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
      `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
      `<Default Extension="xml" ContentType="application/xml"/>` +
      `<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
      `</Types>`,
  );
  zip.file(
    '_rels/.rels',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
      `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
      `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>` +
      `</Relationships>`,
  );
  zip.file('word/document.xml', document);
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
}

/** An opaque PNG of the given size with a gradient, so it is not trivially compressible. */
export async function pngFixture(width: number, height: number, options: { readonly alpha?: boolean } = {}): Promise<Uint8Array> {
  const channels = options.alpha ? 4 : 3;
  const pixels = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * channels;
      pixels[at] = (x * 255) / width;
      pixels[at + 1] = (y * 255) / height;
      pixels[at + 2] = 128;
      if (channels === 4) pixels[at + 3] = x < width / 2 ? 0 : 255;
    }
  }
  return sharp(pixels, { raw: { width, height, channels } }).png().toBuffer();
}

/** A 2-second 320×240 MP4 (test pattern, H.264) with a 440 Hz tone, or silent without `audio`. */
export async function videoFixture(options: { readonly audio?: boolean; readonly seconds?: number } = {}): Promise<Uint8Array> {
  const seconds = options.seconds ?? 2;
  const inputs = ['-f', 'lavfi', '-i', `testsrc=duration=${seconds}:size=320x240:rate=10`];
  if (options.audio !== false) inputs.push('-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`);
  const codecs = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  if (options.audio !== false) codecs.push('-c:a', 'aac', '-shortest');
  return ffmpegToFile('video.mp4', [...inputs, ...codecs, '-movflags', '+faststart']);
}

/** A 1-second 440 Hz tone as Ogg/Opus, the format of a WhatsApp voice note. */
export async function oggFixture(): Promise<Uint8Array> {
  return ffmpegToFile('voice.ogg', ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ac', '1', '-c:a', 'libopus']);
}

async function ffmpegToFile(name: string, args: readonly string[]): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-fixture-'));
  try {
    const output = join(dir, name);
    await run(ffmpegInstaller.path, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args, output]);
    return new Uint8Array(await readFile(output));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
