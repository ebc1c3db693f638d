import { MongoClient, type Document } from 'mongodb';
import type { CommandEvent } from './unified-assert.ts';

type Sink = (event: CommandEvent) => void;

interface Pooled {
  readonly client: MongoClient;
  sink: Sink | undefined;
}

/**
 * Driver clients shared by the tests of a run, one set per distinct `uriOptions`: connecting a
 * client costs more than most tests. A client serves one entity at a time, and its command events
 * go to that entity's sink only while the entity holds it.
 */
export class ClientPool {
  private readonly uri: string;
  private readonly pooled = new Map<string, Pooled[]>();

  constructor(uri: string) {
    this.uri = uri;
  }

  async acquire(uriOptions: Document | undefined, sink: Sink): Promise<MongoClient> {
    const key = JSON.stringify(uriOptions ?? {});
    const list = this.pooled.get(key) ?? [];
    this.pooled.set(key, list);
    let free = list.find((p) => p.sink === undefined);
    if (!free) {
      const client = new MongoClient(this.uri, { monitorCommands: true, serverSelectionTimeoutMS: 3000, ...uriOptions });
      const entry: Pooled = { client, sink: undefined };
      const forward = (type: CommandEvent['type']) => (event: CommandEvent['event']) => entry.sink?.({ type, event } as CommandEvent);
      client.on('commandStarted', forward('commandStartedEvent'));
      client.on('commandSucceeded', forward('commandSucceededEvent'));
      client.on('commandFailed', forward('commandFailedEvent'));
      await client.connect();
      list.push(entry);
      free = entry;
    }
    free.sink = sink;
    return free.client;
  }

  /** Hands `client` back; events it reports from now on are dropped. */
  release(client: MongoClient): void {
    for (const list of this.pooled.values()) for (const p of list) if (p.client === client) p.sink = undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pooled.values()].flat().map((p) => p.client.close()));
    this.pooled.clear();
  }
}
