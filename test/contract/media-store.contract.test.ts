import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalMediaStore } from '../../src/adapters/media-store/local-media-store.ts';
import { createS3MediaStore } from '../../src/adapters/media-store/s3-media-store.ts';
import { MediaKeyError, MediaTooLargeError } from '../../src/ports/media-store.port.ts';
import type { MediaStore, StagedFile } from '../../src/ports/media-store.port.ts';

/** One fresh, empty store, and a way to plant an entry the store did not write. */
interface Harness {
  readonly store: MediaStore;
  plantForeign(name: string, bytes: Uint8Array): Promise<void>;
  dispose(): Promise<void>;
}

interface Backend {
  readonly name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  open(): Promise<Harness>;
}

const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (err: unknown) => err);
const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
const textOf = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const listAll = async (store: MediaStore): Promise<StagedFile[]> => {
  const files: StagedFile[] = [];
  for await (const file of store.list()) files.push(file);
  return files;
};

async function* chunked(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    await new Promise((resolve) => setImmediate(resolve));
    yield part;
  }
}

// --- local directory ---------------------------------------------------------------------------

let localRoot = '';
const local: Backend = {
  name: 'local directory',
  async setup() {
    localRoot = await mkdtemp(join(tmpdir(), 'parley-media-'));
  },
  async teardown() {
    await rm(localRoot, { recursive: true, force: true });
  },
  async open() {
    const dir = join(localRoot, randomUUID(), 'media');
    return {
      store: await createLocalMediaStore(dir),
      plantForeign: (name, bytes) => writeFile(join(dir, name), bytes),
      dispose: async () => undefined,
    };
  },
};

// --- S3 (in-process s3rver) --------------------------------------------------------------------

/** s3rver ships no types; this is the part of its API the suite uses. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;
const S3rver: S3rverClass = createRequire(import.meta.url)('s3rver');

const BUCKET = 'parley-media';
const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
let s3rver: S3rverInstance | undefined;
let s3Dir = '';
let s3Endpoint = '';
const s3Options = (prefix: string) => ({
  bucket: BUCKET,
  prefix,
  endpoint: s3Endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: S3_CREDENTIALS,
});

const s3: Backend = {
  name: 'S3 (s3rver)',
  async setup() {
    s3Dir = await mkdtemp(join(tmpdir(), 'parley-s3rver-'));
    s3rver = new S3rver({ address: '127.0.0.1', port: 0, directory: s3Dir, silent: true, configureBuckets: [{ name: BUCKET }] });
    const { port } = await s3rver.run();
    s3Endpoint = `http://127.0.0.1:${port}`;
  },
  async teardown() {
    await s3rver?.close();
    await rm(s3Dir, { recursive: true, force: true });
  },
  async open() {
    // A prefix per test keeps every store empty without wiping the bucket.
    const prefix = `t-${randomUUID()}`;
    const raw = new S3Client(s3Options(prefix));
    return {
      store: createS3MediaStore(s3Options(prefix)),
      plantForeign: async (name, bytes) => {
        await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${name}`, Body: bytes }));
      },
      dispose: async () => raw.destroy(),
    };
  },
};

// --- the contract ------------------------------------------------------------------------------

describe.each([local, s3])('media store contract: $name', (backend) => {
  const open: Harness[] = [];
  const fresh = async (): Promise<Harness> => {
    const harness = await backend.open();
    open.push(harness);
    return harness;
  };

  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  afterEach(async () => {
    for (const harness of open.splice(0)) {
      await harness.store.close();
      await harness.dispose();
    }
  });

  it('round-trips whole bytes and reports their size', async () => {
    const { store } = await fresh();
    const key = randomUUID();
    const bytes = new Uint8Array([0, 1, 2, 250, 255, 10, 13]);
    expect(await store.put(key, bytes, { maxBytes: 1024 })).toEqual({ sizeBytes: 7 });
    expect(await store.get(key)).toEqual(bytes);
  });

  it('round-trips a chunked async iterable and reports the summed size', async () => {
    const { store } = await fresh();
    const key = randomUUID();
    const result = await store.put(key, chunked(bytesOf('hello, '), bytesOf(''), bytesOf('chunked '), bytesOf('world')), { maxBytes: 1024 });
    expect(result).toEqual({ sizeBytes: 20 });
    expect(textOf(await store.get(key))).toBe('hello, chunked world');
  });

  it.each(['../etc/passwd', 'ABC', '', `${randomUUID()}/../x`, randomUUID().toUpperCase(), `../${randomUUID()}`])(
    'refuses the non-GUID key %j on put, get and delete',
    async (key) => {
      const { store } = await fresh();
      expect(await rejection(store.put(key, bytesOf('x'), { maxBytes: 10 }))).toBeInstanceOf(MediaKeyError);
      expect(await rejection(store.get(key))).toBeInstanceOf(MediaKeyError);
      expect(await rejection(store.delete(key))).toBeInstanceOf(MediaKeyError);
      expect(await listAll(store)).toEqual([]);
    },
  );

  it('rejects an oversized stream with MediaTooLargeError and keeps nothing of it', async () => {
    const { store } = await fresh();
    const key = randomUUID();
    let pulled = 0;
    // Finite, so a store that ignores the cap fails this test instead of filling the disk.
    async function* long(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 50; i++) {
        pulled += 1;
        yield new Uint8Array(64).fill(7);
      }
    }
    const err = await rejection(store.put(key, long(), { maxBytes: 100 }));
    expect(err).toBeInstanceOf(MediaTooLargeError);
    expect(err).toMatchObject({ maxBytes: 100 });
    expect(pulled).toBe(2); // stopped at the chunk that crossed the cap
    expect(await listAll(store)).toEqual([]);
    expect(await rejection(store.get(key))).toBeInstanceOf(MediaKeyError);
  });

  it('rejects oversized whole bytes too', async () => {
    const { store } = await fresh();
    const key = randomUUID();
    expect(await rejection(store.put(key, new Uint8Array(11), { maxBytes: 10 }))).toBeInstanceOf(MediaTooLargeError);
    expect(await listAll(store)).toEqual([]);
  });

  it('accepts a stream of exactly the cap', async () => {
    const { store } = await fresh();
    const key = randomUUID();
    expect(await store.put(key, chunked(new Uint8Array(60).fill(1), new Uint8Array(40).fill(2)), { maxBytes: 100 })).toEqual({ sizeBytes: 100 });
    expect((await store.get(key)).byteLength).toBe(100);
    expect(await store.put(randomUUID(), new Uint8Array(0), { maxBytes: 0 })).toEqual({ sizeBytes: 0 });
  });

  it('rejects get of a missing key with MediaKeyError', async () => {
    const { store } = await fresh();
    expect(await rejection(store.get(randomUUID()))).toBeInstanceOf(MediaKeyError);
  });

  it('deletes once: true, then false', async () => {
    const { store } = await fresh();
    const key = randomUUID();
    await store.put(key, bytesOf('bye'), { maxBytes: 10 });
    expect(await store.delete(key)).toBe(true);
    expect(await store.delete(key)).toBe(false);
    expect(await rejection(store.get(key))).toBeInstanceOf(MediaKeyError);
    expect(await store.delete(randomUUID())).toBe(false);
  });

  it('lists every stored file with its size, and nothing else', async () => {
    const { store, plantForeign } = await fresh();
    const sizes = new Map([randomUUID(), randomUUID(), randomUUID()].map((key, i) => [key, (i + 1) * 10]));
    for (const [key, size] of sizes) await store.put(key, new Uint8Array(size), { maxBytes: 1000 });
    await plantForeign('notes.txt', bytesOf('not media'));
    await plantForeign(randomUUID().toUpperCase(), bytesOf('not canonical'));
    await plantForeign(`.tmp-${randomUUID()}`, bytesOf('a write in flight'));
    const before = Date.now();
    const listed = await listAll(store);
    expect(listed.map(({ key, sizeBytes }) => [key, sizeBytes]).sort()).toEqual([...sizes].sort());
    for (const file of listed) {
      expect(file.modifiedAt).toBeInstanceOf(Date);
      expect(Math.abs(file.modifiedAt.getTime() - before)).toBeLessThan(60_000);
    }
  });

  it('leaves nothing behind when the put is aborted mid-stream', async () => {
    const { store } = await fresh();
    const key = randomUUID();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield bytesOf('first part');
      controller.abort(reason);
      await new Promise(() => undefined); // a provider that never sends the rest
    }
    expect(await rejection(store.put(key, stalls(), { maxBytes: 1000, signal: controller.signal }))).toBe(reason);
    expect(await listAll(store)).toEqual([]);
    expect(await rejection(store.get(key))).toBeInstanceOf(MediaKeyError);
  });

  it('refuses a put whose signal is already aborted', async () => {
    const { store } = await fresh();
    const key = randomUUID();
    const reason = new Error('already gone');
    expect(await rejection(store.put(key, bytesOf('x'), { maxBytes: 10, signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(await listAll(store)).toEqual([]);
  });

  it('replaces the content on overwrite, and keeps the old content when the new write fails', async () => {
    const { store } = await fresh();
    const key = randomUUID();
    await store.put(key, bytesOf('old content'), { maxBytes: 100 });
    await store.put(key, chunked(bytesOf('new '), bytesOf('content, longer')), { maxBytes: 100 });
    expect(textOf(await store.get(key))).toBe('new content, longer');
    expect(await rejection(store.put(key, new Uint8Array(101), { maxBytes: 100 }))).toBeInstanceOf(MediaTooLargeError);
    expect(textOf(await store.get(key))).toBe('new content, longer');
    expect((await listAll(store)).map((f) => [f.key, f.sizeBytes])).toEqual([[key, 19]]);
  });
});

// --- backend-specific guarantees ---------------------------------------------------------------

describe('local media store', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'parley-media-local-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('creates its directory 0700 and its files 0600', async () => {
    const dir = join(root, 'perm', 'media');
    const store = await createLocalMediaStore(dir);
    const key = randomUUID();
    await store.put(key, bytesOf('private'), { maxBytes: 100 });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([key]);
  });

  it('serves a reader racing an overwrite either the old or the new file, never a mix', async () => {
    const store = await createLocalMediaStore(join(root, 'race'));
    const key = randomUUID();
    const old = new Uint8Array(256 * 1024).fill(1);
    const replacement = new Uint8Array(512 * 1024).fill(2);
    await store.put(key, old, { maxBytes: replacement.byteLength });
    const reads: Promise<Uint8Array>[] = [];
    const writing = store.put(key, chunked(...Array.from({ length: 8 }, (_, i) => replacement.subarray(i * 65_536, (i + 1) * 65_536))), { maxBytes: replacement.byteLength });
    for (let i = 0; i < 20; i++) {
      reads.push(store.get(key));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writing;
    const whole = (bytes: Uint8Array): string =>
      Buffer.from(bytes).equals(old) ? 'old' : Buffer.from(bytes).equals(replacement) ? 'new' : `torn (${bytes.byteLength} bytes)`;
    for (const read of await Promise.all(reads)) expect(['old', 'new']).toContain(whole(read));
    expect(whole(await store.get(key))).toBe('new');
  });

  it('removes a stale .tmp- file when opened, keeps a fresh one, and lists neither', async () => {
    const dir = join(root, 'stale');
    await mkdir(dir, { recursive: true });
    const stale = `.tmp-${randomUUID()}`;
    const fresh = `.tmp-${randomUUID()}`;
    await writeFile(join(dir, stale), 'crashed mid-write');
    await writeFile(join(dir, fresh), 'being written right now');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(join(dir, stale), twoMinutesAgo, twoMinutesAgo);
    const store = await createLocalMediaStore(dir);
    expect((await readdir(dir)).sort()).toEqual([fresh]);
    expect(await listAll(store)).toEqual([]);
  });
});

describe('S3 media store', () => {
  beforeAll(() => s3.setup());
  afterAll(() => s3.teardown());

  // s3rver checks only that the access key id exists (it never verifies a SigV4 signature), and its
  // refusal echoes that id back, which the SDK copies onto the exception as `AWSAccessKeyId`.
  it('keeps credentials out of its errors', async () => {
    const credentials = { accessKeyId: `AKIA${randomUUID()}`, secretAccessKey: `secret-${randomUUID()}` };
    const store = createS3MediaStore({ ...s3Options('leak'), credentials });
    try {
      const failures = [
        await rejection(store.put(randomUUID(), bytesOf('x'), { maxBytes: 10 })),
        await rejection(store.get(randomUUID())),
        await rejection(store.delete(randomUUID())),
        await rejection(listAll(store)),
      ];
      for (const err of failures) {
        expect(err).toBeInstanceOf(Error);
        const seen = err instanceof Error ? `${err.message} ${err.stack ?? ''} ${JSON.stringify(err)} ${String(err.cause)}` : '';
        expect(seen).toMatch(/InvalidAccessKeyId|HTTP 403/);
        expect(seen).not.toContain(credentials.accessKeyId);
        expect(seen).not.toContain(credentials.secretAccessKey);
      }
    } finally {
      await store.close();
    }
  });
});
