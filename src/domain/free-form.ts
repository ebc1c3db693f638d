/** Nesting a stored document may reach through free-form settings; MongoDB refuses 100 levels. */
export const MAX_SETTINGS_DEPTH = 16;

/**
 * Problems that would make free-form JSON (a bot's `media` or `ai` settings) unstorable as a
 * MongoDB document: keys that are empty, start with `$`, contain `.` or a NUL byte, and nesting
 * deeper than `maxDepth`. Each problem names its path, e.g. `media.pools[0].$where`.
 */
export function storableProblems(value: unknown, path: string, maxDepth = MAX_SETTINGS_DEPTH): { field: string; problem: string }[] {
  const problems: { field: string; problem: string }[] = [];
  const walk = (v: unknown, at: string, depth: number): void => {
    if (typeof v !== 'object' || v === null) return;
    if (depth > maxDepth) {
      problems.push({ field: at, problem: `nested deeper than ${maxDepth} levels` });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${at}[${i}]`, depth + 1));
      return;
    }
    for (const [key, child] of Object.entries(v)) {
      const where = `${at}.${key.replace(/\0/g, '\\0')}`;
      if (key === '' || key.startsWith('$') || key.includes('.') || key.includes('\0')) {
        problems.push({ field: where, problem: 'keys must not be empty, start with "$" or contain "." or NUL' });
      }
      walk(child, where, depth + 1);
    }
  };
  walk(value, path, 1);
  return problems;
}
