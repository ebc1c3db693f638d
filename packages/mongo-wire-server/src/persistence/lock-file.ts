import { existsSync, linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Raised when another live process holds the data directory. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

function errCode(err: unknown): unknown {
  return (err as { code?: unknown }).code;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return errCode(err) === 'EPERM';
  }
}

/** Links `source` to `target`; false when `target` already exists. Linking never replaces a file. */
function linkExclusive(source: string, target: string): boolean {
  try {
    linkSync(source, target);
    return true;
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    if (errCode(err) !== 'EPERM' && errCode(err) !== 'ENOTSUP') throw err;
  }
  // A file system without hard links: an exclusive create, briefly empty, is the next best thing.
  try {
    writeFileSync(target, readFileSync(source), { flag: 'wx' });
    return true;
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Moves a dead holder's lock out of the way. A rename is atomic, so of several processes taking
 * over at once exactly one moves each file; one that finds it moved a live lock instead (somebody
 * else won the race) puts it back.
 */
function removeStale(file: string, deadPid: number): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return;
    throw err;
  }
  if (readPid(aside) !== deadPid) linkExclusive(aside, file);
  rmSync(aside, { force: true });
}

/**
 * Takes `dir/LOCK` for this process, so two servers never journal into one directory. The lock
 * file appears already holding the pid (written aside, then hard-linked into place), so no other
 * process ever reads an empty lock. A lock whose process is gone (a `kill -9`, a crash) is taken
 * over. Returns the function that releases it.
 */
export function acquireLock(dir: string): () => void {
  const file = path.join(dir, 'LOCK');
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (linkExclusive(mine, file)) {
        return () => {
          if (readPid(file) === process.pid) rmSync(file, { force: true });
        };
      }
      const holder = readPid(file);
      if (holder !== undefined && isAlive(holder)) {
        throw new DataDirLockedError(
          `data directory ${dir} is in use by process ${holder} (lock file ${file}); stop that server first, or delete the lock file if process ${holder} is not a wire server`,
        );
      }
      if (holder !== undefined) removeStale(file, holder);
      else if (existsSync(file)) throw new DataDirLockedError(`lock file ${file} does not name a process; delete it if no server uses ${dir}`);
      // Otherwise the holder released it in between: try again.
    }
    throw new DataDirLockedError(`could not take the lock file ${file}: other processes keep replacing it`);
  } finally {
    rmSync(mine, { force: true });
  }
}
