/**
 * `cvp journal migrate`: copies a SQLite journal into an empty PostgreSQL journal, row for row
 * (runs and effects keep their states, ids and attempts, so nothing is done again and nothing is
 * lost), in one transaction with the target's tables locked. Every daemon must be stopped first:
 * a claim that is still leased in the file is refused.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PoolClient } from 'pg';
import { PgJournal, type PgJournalOptions } from '../adapters/store/postgres/pg-journal';
import { pgJournalError } from '../adapters/store/postgres/pg-errors';
import { DATA_TABLES } from '../adapters/store/postgres/pg-schema';
import { SCHEMA_VERSION as SQLITE_VERSION } from '../adapters/store/sqlite/sqlite-schema';
import { durationMs, type LoadedConfig } from '../config/config';
import { permanentError } from '../errors';
import { journalPathOf } from './open-journal';

export type MigrateReport = Record<(typeof DATA_TABLES)[number], number>;

/** Identity columns whose sequences must go on after the copied ids. */
const SEQUENCES: Array<[string, string]> = [['messages', 'pk'], ['runs', 'seq'], ['results', 'seq'], ['decisions', 'id'], ['effects', 'id']];

/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters per statement. */
function batchFor(columns: number): number {
  return Math.max(1, Math.floor(60_000 / columns));
}

function openSource(path: string, now: number): Database.Database {
  if (!existsSync(path)) throw permanentError('JOURNAL_FAILED', `${path}: no such SQLite journal`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== SQLITE_VERSION) {
      throw permanentError('JOURNAL_FAILED', `${path} has SQLite journal schema version ${version}, this CVP copies version ${SQLITE_VERSION}: `
        + 'open it once with the CVP that matches this one (or let the old version finish its runs) before migrating');
    }
    const held = db.prepare(`SELECT owner FROM runs WHERE owner IS NOT NULL AND lease_until >= ? UNION SELECT owner FROM effects WHERE owner IS NOT NULL AND lease_until >= ?
      UNION SELECT owner FROM gates WHERE owner IS NOT NULL AND lease_until >= ?`).all(now, now, now) as Array<{ owner: string }>;
    if (held.length) {
      throw permanentError('JOURNAL_FAILED', `${path} is in use: ${held.map((h) => h.owner).join(', ')} still hold${held.length === 1 ? 's' : ''} claims; `
        + 'stop every daemon using it first (claims of a daemon that died end with their lease, journal.lease)');
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

async function columnsOf(c: PoolClient, table: string): Promise<Map<string, string>> {
  const { rows } = await c.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`, [table]);
  return new Map(rows.map((r) => [r.column_name, r.data_type]));
}

async function copyTable(src: Database.Database, c: PoolClient, table: string): Promise<number> {
  const target = await columnsOf(c, table);
  const source = (src.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((col) => col.name);
  const missing = source.filter((col) => !target.has(col));
  if (missing.length || source.length !== target.size) {
    throw permanentError('JOURNAL_FAILED', `table ${table}: the SQLite columns (${source.join(', ')}) do not match PostgreSQL's (${[...target.keys()].join(', ')})`);
  }
  const booleans = new Set(source.filter((col) => target.get(col) === 'boolean'));
  // A claim is not carried over: the daemons on PostgreSQL take the work up at once. An effect
  // that was in flight stays so, and is looked up at its peer before it is carried out again.
  const cleared = new Set(['owner', 'lease_until']);
  const per = batchFor(source.length);
  let copied = 0;
  let batch: unknown[][] = [];
  const flush = async () => {
    if (!batch.length) return;
    const values = batch.map((_, r) => `(${source.map((__, k) => `$${r * source.length + k + 1}`).join(', ')})`).join(', ');
    await c.query(`INSERT INTO ${table} (${source.join(', ')}) VALUES ${values}`, batch.flat());
    copied += batch.length;
    batch = [];
  };
  for (const row of src.prepare(`SELECT ${source.join(', ')} FROM ${table}`).raw().iterate() as Iterable<unknown[]>) {
    batch.push(row.map((v, k) => (cleared.has(source[k]) ? null : booleans.has(source[k]) ? v === 1 : v)));
    if (batch.length >= per) await flush();
  }
  await flush();
  return copied;
}

/** Copies the SQLite journal at `sqlitePath` into the (empty) PostgreSQL journal `target` names. */
export async function migrateJournal(sqlitePath: string, target: PgJournalOptions, now = Date.now()): Promise<{ where: string; copied: MigrateReport }> {
  const src = openSource(sqlitePath, now);
  let journal: PgJournal | undefined;
  try {
    journal = await PgJournal.open({ ...target, poolSize: 1 });
    const where = journal.where;
    const c = await journal.pool.connect().catch((err: unknown) => { throw pgJournalError(err, where, target.password); });
    // A session ended by the server between statements must fail the copy, not the process.
    const onError = () => undefined;
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      // No daemon on the new journal writes while the copy is under way.
      await c.query(`LOCK TABLE ${DATA_TABLES.join(', ')} IN EXCLUSIVE MODE`);
      const present: string[] = [];
      for (const table of DATA_TABLES) {
        if ((await c.query(`SELECT 1 FROM ${table} LIMIT 1`)).rowCount) present.push(table);
      }
      if (present.length) {
        throw permanentError('JOURNAL_FAILED', `the PostgreSQL journal at ${where} is not empty (rows in ${present.join(', ')}): `
          + 'cvp journal migrate copies into an empty database only; create a new one, or drain and switch (see deploy/README.md)');
      }
      const copied = {} as MigrateReport;
      for (const table of DATA_TABLES) copied[table] = await copyTable(src, c, table);
      for (const [table, column] of SEQUENCES) {
        await c.query(`SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(COALESCE((SELECT MAX(${column}) FROM ${table}), 0), 1),
          (SELECT MAX(${column}) FROM ${table}) IS NOT NULL)`, [table, column]);
      }
      await c.query('COMMIT');
      return { where, copied };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw pgJournalError(err, where, target.password);
    } finally {
      c.removeListener('error', onError);
      c.release(true);
    }
  } finally {
    src.close();
    await journal?.close();
  }
}

export interface MigrateIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** The command: from `--from` (default: var/cvp.db beside the config) into the config's journal.url. */
export async function runJournalMigrate(loaded: LoadedConfig, args: { from?: string }, io: MigrateIo): Promise<number> {
  const j = loaded.config.journal;
  if (!j?.url) {
    io.err(`cvp: ${loaded.file}: journal.url is not set: name the PostgreSQL journal to copy into there (and the SQLite file with --from)`);
    return 1;
  }
  const from = args.from ? resolve(args.from) : journalPathOf(loaded);
  const { where, copied } = await migrateJournal(from, {
    url: j.url, password: j.password,
    connectTimeoutMs: durationMs(j.connect_timeout, 10_000),
    // A large journal is copied in one transaction: give its statements room.
    statementTimeoutMs: Math.max(durationMs(j.statement_timeout, 30_000), 600_000),
  });
  io.out(`copied ${from} into the PostgreSQL journal at ${where}: ${Object.entries(copied).map(([t, n]) => `${n} ${t}`).join(', ')}`);
  return 0;
}
