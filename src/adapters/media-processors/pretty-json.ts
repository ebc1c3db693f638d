/**
 * Valid JSON re-indented by two spaces, or the text as sent when it does not parse. It re-spaces
 * the source rather than `JSON.stringify(JSON.parse(…))`, which would round large integers (ids
 * beyond 2^53) and drop duplicate keys: the reader must see the values the file holds.
 */
export function prettyJson(text: string): string {
  try {
    JSON.parse(text);
  } catch {
    return text;
  }
  let out = '';
  let depth = 0;
  let inString = false;
  const newline = (): string => `\n${'  '.repeat(depth)}`;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (inString) {
      out += char;
      if (char === '\\') out += text.charAt(++i);
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') {
      inString = true;
      out += char;
    } else if (char === '{' || char === '[') {
      const next = nextSignificant(text, i + 1);
      if (next === '}' || next === ']') {
        // Empty container on one line: `{}` / `[]`.
        out += char + next;
        i = text.indexOf(next, i + 1);
      } else {
        depth++;
        out += char + newline();
      }
    } else if (char === '}' || char === ']') {
      depth--;
      out += newline() + char;
    } else if (char === ',') out += ',' + newline();
    else if (char === ':') out += ': ';
    else if (!/\s/.test(char)) out += char;
  }
  return out;
}

function nextSignificant(text: string, from: number): string {
  for (let i = from; i < text.length; i++) {
    const char = text.charAt(i);
    if (!/\s/.test(char)) return char;
  }
  return '';
}
