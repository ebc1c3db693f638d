/** Below this many estimated bits a key is called weak; 80 bits stay out of reach of online guessing and of most offline budgets. */
export const WEAK_KEY_BITS = 80;

export interface KeyAssessment {
  /** A rough upper bound: the key is assumed random over its alphabet, less what is plainly predictable. */
  readonly estimatedBits: number;
  /** Why the key looks weak; empty when it does not. */
  readonly problems: readonly string[];
}

const CLASSES = [
  { name: 'lower', size: 26, test: (c: number) => c >= 97 && c <= 122 },
  { name: 'upper', size: 26, test: (c: number) => c >= 65 && c <= 90 },
  { name: 'digit', size: 10, test: (c: number) => c >= 48 && c <= 57 },
] as const;
const SYMBOLS = 33;

/**
 * Estimates a key's strength the way a guesser would attack it: the alphabet its characters come
 * from (hex counts as 16), the shortest unit it repeats, and runs (`aaaa`) and sequences (`1234`)
 * counted as the one character that starts them. Linear in the key's length. It cannot see
 * dictionary words, so a passphrase can look stronger than it is; it never looks weaker.
 */
export function assessKey(key: string): KeyAssessment {
  const codes = [...key].map((ch) => ch.codePointAt(0) as number);
  const present = CLASSES.filter((cls) => codes.some(cls.test));
  const symbols = codes.some((c) => !CLASSES.some((cls) => cls.test(c)));
  const hex = /^(?:[0-9a-f]+|[0-9A-F]+)$/.test(key);
  const byClass = present.reduce((sum, cls) => sum + cls.size, 0) + (symbols ? SYMBOLS : 0);
  const alphabet = hex ? Math.min(16, byClass) : byClass;
  const period = shortestPeriod(codes);
  const repeats = period <= codes.length / 2;
  const unit = codes.slice(0, period);
  const predictable = predictableCount(unit);
  const estimatedBits = Math.max(0, unit.length - predictable) * Math.log2(Math.max(alphabet, 2));
  const problems: string[] = [];
  if (estimatedBits < WEAK_KEY_BITS) problems.push(`about ${Math.floor(estimatedBits)} bits estimated, fewer than ${WEAK_KEY_BITS}`);
  if (present.length + (symbols ? 1 : 0) <= 1) problems.push('one character class only');
  if (repeats) problems.push('repeats a pattern');
  else if (predictable * 4 >= unit.length) problems.push('made largely of runs or sequences');
  return { estimatedBits, problems };
}

/** Length of the shortest prefix the whole key repeats (possibly cut short at its end); KMP's failure function. */
function shortestPeriod(codes: readonly number[]): number {
  if (codes.length === 0) return 0;
  const failure = new Array<number>(codes.length).fill(0);
  for (let i = 1, k = 0; i < codes.length; i++) {
    while (k > 0 && codes[i] !== codes[k]) k = failure[k - 1] as number;
    if (codes[i] === codes[k]) k += 1;
    failure[i] = k;
  }
  return codes.length - (failure[codes.length - 1] as number);
}

/** Characters a guesser gets for free: a repeat of the one before, or a step that continues a sequence. */
function predictableCount(codes: readonly number[]): number {
  let count = 0;
  for (let i = 1; i < codes.length; i++) {
    const step = (codes[i] as number) - (codes[i - 1] as number);
    const previous = i >= 2 ? (codes[i - 1] as number) - (codes[i - 2] as number) : null;
    if (step === 0 || (Math.abs(step) === 1 && step === previous)) count += 1;
  }
  return count;
}

interface WarnLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * Warns once at start-up about every configured key that looks weak. The key is still accepted
 * (an operator may have reasons), and the warning names the setting, never the key.
 */
export function warnAboutWeakKeys(keys: Readonly<Record<string, string | undefined>>, logger: WarnLogger): void {
  for (const [setting, key] of Object.entries(keys)) {
    if (key === undefined) continue;
    const { estimatedBits, problems } = assessKey(key);
    if (problems.length === 0) continue;
    logger.warn(
      { setting, estimatedBits: Math.floor(estimatedBits), problems },
      `${setting} looks weak (${problems.join('; ')}); it is accepted, but anyone who guesses it gets its access. Use a random key, e.g. \`openssl rand -base64 32\`.`,
    );
  }
}
