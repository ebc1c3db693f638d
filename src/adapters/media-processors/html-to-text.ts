/**
 * Plain text from the small, regular HTML mammoth writes for a DOCX: paragraphs, headings and
 * list items on their own lines, table rows as `cell | cell | cell`. Not a general HTML parser:
 * mammoth never emits scripts, comments or unquoted `>` inside attributes, so a tag scanner is
 * enough and avoids a dependency.
 */

const BLOCKS: ReadonlySet<string> = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'li', 'ul', 'ol', 'table', 'blockquote', 'div', 'pre']);
const TOKEN = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>|([^<]+)/g;

interface Row {
  cells: string[];
  cell: string | null;
}

export function htmlToText(html: string): string {
  const lines: string[] = [];
  // One open row per nesting level: a table inside a cell flattens into that cell's text.
  const rows: Row[] = [];
  let line = '';

  const write = (text: string): void => {
    const row = rows.at(-1);
    if (row?.cell != null) row.cell += text;
    else line += text;
  };
  const breakLine = (): void => {
    const row = rows.at(-1);
    if (row?.cell != null) {
      // Paragraphs inside a cell stay in that cell, separated by a space.
      if (row.cell !== '' && !row.cell.endsWith(' ')) row.cell += ' ';
      return;
    }
    if (line.trim() !== '') lines.push(line.trim());
    line = '';
  };

  for (const match of html.matchAll(TOKEN)) {
    const [, slash, rawName, text] = match;
    if (text !== undefined) {
      write(collapse(decodeEntities(text)));
      continue;
    }
    const name = (rawName ?? '').toLowerCase();
    const closing = slash === '/';
    if (name === 'br') breakLine();
    else if (name === 'tr' && closing) closeRow(rows, write, breakLine);
    else if (name === 'tr') rows.push({ cells: [], cell: null });
    else if (name === 'td' || name === 'th') {
      const row = rows.at(-1);
      if (row === undefined) continue;
      if (closing) {
        if (row.cell !== null) row.cells.push(row.cell.trim());
        row.cell = null;
      } else row.cell = '';
    } else if (BLOCKS.has(name)) {
      breakLine();
      if (name === 'li' && !closing) write('- ');
    }
  }
  breakLine();
  return lines.join('\n');
}

function closeRow(rows: Row[], write: (text: string) => void, breakLine: () => void): void {
  const row = rows.pop();
  if (row === undefined) return;
  if (row.cell !== null) row.cells.push(row.cell.trim());
  if (row.cells.every((cell) => cell === '')) return;
  breakLine();
  write(row.cells.join(' | '));
  breakLine();
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ');
}

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED[body.toLowerCase()] ?? entity;
  });
}
