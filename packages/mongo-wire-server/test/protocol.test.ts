import { describe, expect, it } from 'vitest';
import { opCompressed, opMsg, opQuery, RawClient } from './raw-wire.ts';
import { useWireServer } from './harness.ts';

const h = useWireServer();

async function raw(): Promise<RawClient> {
  return RawClient.connect(h.server.port);
}

describe('wire protocol framing and opcodes', () => {
  it('answers a legacy OP_QUERY isMaster on admin.$cmd with a single-document OP_REPLY', async () => {
    const c = await raw();
    c.write(opQuery(7, 'admin.$cmd', { isMaster: 1, helloOk: true }));
    const reply = await c.next();
    expect(reply.opCode).toBe(1);
    expect(reply.responseTo).toBe(7);
    expect(reply.flags).toBe(0);
    expect(reply.cursorId).toBe(0n);
    expect(reply.numberReturned).toBe(1);
    expect(reply.doc).toMatchObject({ ismaster: true, helloOk: true, maxWireVersion: 21, minWireVersion: 0, ok: 1 });
    expect(reply.doc).not.toHaveProperty('setName');
    expect(reply.doc).not.toHaveProperty('topologyVersion');
    expect(reply.doc).not.toHaveProperty('compression');
    c.close();
  });

  it('unwraps an OP_QUERY command sent as {$query: {...}}', async () => {
    const c = await raw();
    c.write(opQuery(8, 'admin.$cmd', { $query: { hello: 1 }, $readPreference: { mode: 'primaryPreferred' } }));
    const reply = await c.next();
    expect(reply.doc).toMatchObject({ isWritablePrimary: true, ok: 1 });
    c.close();
  });

  it('fails an OP_QUERY that is not a command with the QueryFailure flag', async () => {
    const c = await raw();
    c.write(opQuery(9, 'test.users', { name: 'x' }));
    const reply = await c.next();
    expect(reply.opCode).toBe(1);
    expect(reply.flags & 2).toBe(2);
    expect(reply.doc).toMatchObject({ ok: 0, code: 352 });
    expect(String(reply.doc.$err)).toContain('Unsupported OP_QUERY');
    c.close();
  });

  it('refuses non-handshake commands over OP_QUERY like mongod 6+', async () => {
    const c = await raw();
    c.write(opQuery(10, 'test.$cmd', { find: 'users' }));
    expect((await c.next()).doc).toMatchObject({ ok: 0, code: 352, codeName: 'UnsupportedOpQueryCommand' });
    c.close();
  });

  it('merges an OP_MSG kind-1 document sequence into the command as an array', async () => {
    const c = await raw();
    const docs = [{ _id: 1, a: 'x' }, { _id: 2, a: 'y' }, { _id: 3, a: 'z' }];
    c.write(opMsg(11, { insert: 'seq', $db: 'proto' }, { sequences: { documents: docs } }));
    const insert = await c.next();
    expect(insert.opCode).toBe(2013);
    expect(insert.responseTo).toBe(11);
    expect(insert.doc).toEqual({ n: 3, ok: 1 });
    c.write(opMsg(12, { find: 'seq', filter: {}, sort: { _id: 1 }, $db: 'proto' }));
    const found = await c.next();
    expect(found.doc.cursor.firstBatch).toEqual(docs);
    c.close();
  });

  it('accepts update and delete statements as document sequences', async () => {
    const c = await raw();
    c.write(opMsg(13, { insert: 'seq2', $db: 'proto' }, { sequences: { documents: [{ _id: 1, n: 0 }, { _id: 2, n: 0 }] } }));
    await c.next();
    c.write(opMsg(14, { update: 'seq2', $db: 'proto' }, { sequences: { updates: [{ q: { _id: 1 }, u: { $inc: { n: 5 } } }] } }));
    expect((await c.next()).doc).toEqual({ n: 1, nModified: 1, ok: 1 });
    c.write(opMsg(15, { delete: 'seq2', $db: 'proto' }, { sequences: { deletes: [{ q: { _id: 2 }, limit: 1 }] } }));
    expect((await c.next()).doc).toEqual({ n: 1, ok: 1 });
    c.write(opMsg(16, { find: 'seq2', $db: 'proto' }));
    expect((await c.next()).doc.cursor.firstBatch).toEqual([{ _id: 1, n: 5 }]);
    c.close();
  });

  it('executes a moreToCome request but sends no reply for it', async () => {
    const c = await raw();
    c.write(opMsg(20, { insert: 'fire', documents: [{ _id: 'silent' }], $db: 'proto' }, { flags: 2 }));
    c.write(opMsg(21, { count: 'fire', $db: 'proto' }));
    const reply = await c.next();
    expect(reply.responseTo).toBe(21);
    expect(reply.doc).toEqual({ n: 1, ok: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(c.pending).toBe(0);
    c.close();
  });

  it('reassembles a message delivered one byte at a time', async () => {
    const c = await raw();
    const bytes = opMsg(30, { insert: 'frag', documents: [{ _id: 1, text: 'fragmented message body' }], $db: 'proto' });
    await c.writeInChunks(bytes, 1);
    const reply = await c.next();
    expect(reply.responseTo).toBe(30);
    expect(reply.doc).toEqual({ n: 1, ok: 1 });
    c.close();
  });

  it('answers several messages coalesced into one TCP write, in order', async () => {
    const c = await raw();
    c.write(Buffer.concat([opMsg(40, { ping: 1, $db: 'admin' }), opMsg(41, { ping: 1, $db: 'admin' }), opMsg(42, { ping: 1, $db: 'admin' })]));
    const ids = [(await c.next()).responseTo, (await c.next()).responseTo, (await c.next()).responseTo];
    expect(ids).toEqual([40, 41, 42]);
    c.close();
  });

  it('ignores a CRC-32C trailer when checksumPresent is set', async () => {
    const c = await raw();
    c.write(opMsg(50, { ping: 1, $db: 'admin' }, { checksum: true }));
    expect((await c.next()).doc).toEqual({ ok: 1 });
    c.close();
  });

  it('answers OP_COMPRESSED with an error in the original opcode format', async () => {
    const c = await raw();
    c.write(opCompressed(60, 2013, Buffer.from([0, 0, 0, 0, 0])));
    const reply = await c.next();
    expect(reply.opCode).toBe(2013);
    expect(reply.responseTo).toBe(60);
    expect(reply.doc.ok).toBe(0);
    expect(String(reply.doc.errmsg)).toContain('OP_COMPRESSED');
    c.close();
  });

  it('closes the connection when a message announces more than 48,000,000 bytes', async () => {
    const c = await raw();
    const header = Buffer.alloc(16);
    header.writeInt32LE(48_000_001, 0);
    header.writeInt32LE(2013, 12);
    c.write(header);
    await c.closed;
    await expect(c.next(100)).rejects.toThrow();
  });

  it('replies InvalidBSON to an OP_MSG whose body cannot be decoded, and keeps serving', async () => {
    const c = await raw();
    const bad = opMsg(70, { ping: 1, $db: 'admin' });
    bad.writeInt32LE(9999, 21);
    c.write(bad);
    expect((await c.next()).doc).toMatchObject({ ok: 0, code: 22 });
    c.write(opMsg(71, { ping: 1, $db: 'admin' }));
    expect((await c.next()).doc).toEqual({ ok: 1 });
    c.close();
  });

  it('requires $db on OP_MSG commands', async () => {
    const c = await raw();
    c.write(opMsg(80, { ping: 1 }));
    expect((await c.next()).doc).toMatchObject({ ok: 0, code: 40571 });
    c.close();
  });

  it('reports an unknown command with code 59 CommandNotFound', async () => {
    const c = await raw();
    c.write(opMsg(90, { frobnicate: 1, $db: 'admin' }));
    expect((await c.next()).doc).toEqual({ ok: 0, errmsg: "no such command: 'frobnicate'", code: 59, codeName: 'CommandNotFound' });
    c.close();
  });

  it('gives each connection a larger connectionId than the previous one', async () => {
    const a = await raw();
    const b = await raw();
    a.write(opMsg(1, { hello: 1, $db: 'admin' }));
    b.write(opMsg(1, { hello: 1, $db: 'admin' }));
    const [ida, idb] = [(await a.next()).doc.connectionId as number, (await b.next()).doc.connectionId as number];
    expect(idb).toBeGreaterThan(ida);
    a.close();
    b.close();
  });
});
