/**
 * A secret sealed for storage: AES-256-GCM ciphertext with its IV and tag (base64), and the id of
 * the key that sealed it. `v` versions the format so another algorithm can follow.
 */
export interface SecretEnvelope {
  readonly v: 1;
  readonly kid: string;
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

/**
 * The one way Parley keeps secrets at rest (provider credentials, API tokens, webhook secrets).
 * `context` names the record and purpose a secret belongs to, e.g. `auth-state:bot-a|creds|me`;
 * a secret opens only under the context it was sealed with, so a ciphertext copied onto another
 * record is refused instead of read.
 */
export interface SecretBox {
  /** Id of the key that seals; envelopes of other keys want sealing again. */
  readonly currentKid: string;
  seal(plaintext: Uint8Array, context: string): SecretEnvelope;
  /** Throws SECRET_UNREADABLE for an unknown key, a changed envelope or another context. */
  open(envelope: SecretEnvelope, context: string): Uint8Array;
}
