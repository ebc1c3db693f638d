import { TransientMediaError } from './transient-media-error.ts';

/**
 * The signal one processor call runs under, and why it may abort. The two causes mean different
 * things to the job: the caller's signal is the process shutting down, the timeout is a slow
 * service. Both are transient, but only a timeout deserves its own message.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  readonly caller: AbortSignal;
  readonly timeoutMs: number;
}

export function withTimeout(caller: AbortSignal, timeoutMs: number): Deadline {
  return { signal: AbortSignal.any([caller, AbortSignal.timeout(timeoutMs)]), caller, timeoutMs };
}

/** True when the deadline, not the caller, ended the call. */
export function timedOut(deadline: Deadline): boolean {
  return deadline.signal.aborted && !deadline.caller.aborted;
}

/** What to throw once the deadline has aborted: the caller's own reason, or a transient timeout. */
export function abortError(deadline: Deadline, what: string): unknown {
  return timedOut(deadline) ? new TransientMediaError(`${what} timed out after ${deadline.timeoutMs} ms`) : deadline.caller.reason;
}

/**
 * Settles with `work` or rejects when the deadline aborts, for local work (PDF parsing, image
 * decoding) that takes no signal. The work itself runs on; its result is dropped.
 */
export function raceDeadline<T>(work: Promise<T>, deadline: Deadline, what: string): Promise<T> {
  const { signal } = deadline;
  if (signal.aborted) return Promise.reject(abortError(deadline, what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(deadline, what));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
