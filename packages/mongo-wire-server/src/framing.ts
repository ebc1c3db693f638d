/** Largest message accepted, matching the advertised maxMessageSizeBytes. */
export const MAX_MESSAGE_BYTES = 48_000_000;

/** Raised when a message header announces an impossible length; the connection cannot be resynchronised. */
export class FramingError extends Error {
  override name = 'FramingError';
}

/**
 * Reassembles length-prefixed wire messages from TCP chunks, which may split one message or carry
 * several at once.
 */
export class MessageReader {
  private chunks: Buffer[] = [];
  private total = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** Bytes received but not yet returned as messages. */
  get buffered(): number {
    return this.total;
  }

  /** The next complete message, or undefined until enough bytes have arrived. */
  next(): Buffer | undefined {
    if (this.total < 4) return undefined;
    let first = this.chunks[0] as Buffer;
    if (first.length < 4) {
      first = this.merge();
    }
    const length = first.readInt32LE(0);
    if (length < 16 || length > MAX_MESSAGE_BYTES) {
      throw new FramingError(`message length ${length} is outside the accepted range 16..${MAX_MESSAGE_BYTES}`);
    }
    if (this.total < length) return undefined;
    if (first.length < length) first = this.merge();
    const message = first.subarray(0, length);
    const rest = first.subarray(length);
    if (rest.length > 0) this.chunks[0] = rest;
    else this.chunks.shift();
    this.total -= length;
    return message;
  }

  private merge(): Buffer {
    const merged = Buffer.concat(this.chunks, this.total);
    this.chunks = [merged];
    return merged;
  }
}
