import { resolve } from 'node:path';
import { PgJournal } from '../adapters/store/postgres/pg-journal';
import { SqliteJournal } from '../adapters/store/sqlite/sqlite-journal';
import { ThreadedSqliteJournal } from '../adapters/store/sqlite/threaded-sqlite-journal';
import { durationMs, type LoadedConfig } from '../config/config';
import { describeError } from '../errors';
import type { Logger } from '../listener/ports';
import type { Journal } from '../listener/ports/journal';
import type { JournalQueries } from '../listener/ports/journal-queries';

/** A journal as the daemon and the CLI open it: the core's port and the queries. */
export type JournalStore = Journal & JournalQueries;

/** The SQLite file the config names (the embedded default), whether or not it is the journal in use. */
export function journalPathOf(loaded: LoadedConfig): string {
  return resolve(loaded.dir, loaded.config.journal?.path ?? 'var/cvp.db');
}

/**
 * The journal the config names: PostgreSQL when `journal.url` is set (several daemons share it),
 * else the SQLite file. The daemon keeps SQLite's statements off the event loop (a worker
 * thread); a short CLI command reads in-process, and takes two PostgreSQL connections at most.
 */
export async function openJournal(loaded: LoadedConfig, opts: { forDaemon: boolean; log?: Logger }): Promise<JournalStore> {
  const j = loaded.config.journal;
  if (j?.url) {
    let troubled = false;
    return PgJournal.open({
      url: j.url,
      password: j.password,
      poolSize: opts.forDaemon ? j.pool_size ?? 10 : Math.min(2, j.pool_size ?? 2),
      connectTimeoutMs: durationMs(j.connect_timeout, 10_000),
      statementTimeoutMs: durationMs(j.statement_timeout, 30_000),
      // The wake-up connection retries by itself; once per outage is enough to say so.
      onListenTrouble: (err) => {
        if (troubled) return;
        troubled = true;
        opts.log?.warn({ err: describeError(err) }, 'journal wake-ups (LISTEN) lost; reconnecting, other daemons\' work is picked up by timer meanwhile');
        setTimeout(() => { troubled = false; }, 60_000).unref();
      },
    });
  }
  const path = journalPathOf(loaded);
  return opts.forDaemon ? ThreadedSqliteJournal.open(path) : new SqliteJournal(path);
}
