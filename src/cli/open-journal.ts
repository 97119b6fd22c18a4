import { resolve } from 'node:path';
import { SqliteJournal } from '../adapters/store/sqlite/sqlite-journal';
import { ThreadedSqliteJournal } from '../adapters/store/sqlite/threaded-sqlite-journal';
import type { StoreJournal } from '../adapters/store/store-journal';
import type { LoadedConfig } from '../config/config';

export function journalPathOf(loaded: LoadedConfig): string {
  return resolve(loaded.dir, loaded.config.journal?.path ?? 'var/cvp.db');
}

/**
 * The journal the config names. The daemon keeps its statements off the event loop (a worker
 * thread); a short CLI command reads in-process.
 */
export async function openJournal(loaded: LoadedConfig, opts: { forDaemon: boolean }): Promise<StoreJournal> {
  const path = journalPathOf(loaded);
  return opts.forDaemon ? ThreadedSqliteJournal.open(path) : new SqliteJournal(path);
}
