import type { TestProject } from 'vitest/node';
import { selectMongo } from '../../src/adapters/mongodb/store-selection.ts';
import type { SelectedMongo } from '../../src/adapters/mongodb/store-selection.ts';
import { createLogger } from '../../src/logging/logger.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    mongoKind: string;
  }
}

let selected: SelectedMongo | undefined;

/** One store for the whole run, chosen exactly as `npm start` chooses it. */
export async function setup(project: TestProject): Promise<void> {
  selected = await selectMongo({
    uri: process.env['MONGODB_URI'] || undefined,
    memoryServer: process.env['MONGODB_MEMORY_SERVER'] === 'off' ? 'off' : 'auto',
    logger: createLogger('silent'),
  });
  process.stdout.write(`[parley tests] store: ${selected.description}\n`);
  project.provide('mongoUri', selected.uri);
  project.provide('mongoKind', selected.kind);
}

export async function teardown(): Promise<void> {
  await selected?.close();
}
