/**
 * How long a `Retry-After` header asks to wait, in ms: delay-seconds or an HTTP-date
 * (RFC 9110 §10.2.3). `null` when absent or unreadable; a date in the past means now.
 */
export function retryAfterMs(header: string | readonly string[] | undefined, now: number): number | null {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (value === undefined || value === '') return null;
  if (/^\d+$/.test(value)) {
    const seconds = Number(value);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : null;
  }
  // An HTTP-date names its weekday and zone (`Sun, 06 Nov 1994 08:49:37 GMT`); Date.parse reads it.
  if (!/^[A-Za-z]{3,9},? /.test(value)) return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
