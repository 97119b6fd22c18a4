import { Pool, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import { permanentError, transientError } from '../../../errors';
import { connectionLost, isRetryable, pgJournalError } from './pg-errors';
import { migrate } from './pg-migrations';
import { CHANGE_CHANNEL, type ChangeKind } from './pg-notifications';

export interface PgJournalOptions {
  /** postgres://user@host:port/database, query parameters (sslmode, ...) included. */
  url: string;
  /** Overrides a password in the URL. Never logged. */
  password?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long making a connection may take (default 10 s). */
  connectTimeoutMs?: number;
  /** How long one statement may run before PostgreSQL cancels it (default 30 s). */
  statementTimeoutMs?: number;
  /** The LISTEN connection dropped or could not be made (it is made again by itself). */
  onListenTrouble?: (err: Error) => void;
  /** For the migrations' record. */
  now?: () => number;
}

/** Deadlocks between daemons are broken by PostgreSQL; the loser's transaction is run again this often. */
const MAX_ATTEMPTS = 5;

/** One transaction: its connection, and the kinds of claimable work it adds (announced at its commit). */
export interface Tx {
  c: PoolClient;
  changed: Set<ChangeKind>;
}

/** postgres://user@host:port/database with no password: how errors and logs name the journal. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? u.hostname;
    return `${host}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return '(journal.url that does not parse)';
  }
}

/** The URL with the password put in (node-postgres lets a URL's fields override separate options). */
function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/**
 * The PostgreSQL side of the journal: its pool (with the listeners that keep a server's goodbye
 * from ending the process), its errors said without the password, reads, transactions run again
 * after a deadlock with NOTIFY sent at their COMMIT, and advisory locks taken in one order.
 */
export class PgDatabase {
  readonly where: string;
  private closed = false;

  private constructor(readonly pool: Pool, readonly config: PoolConfig, private readonly password: string | undefined) {
    this.where = describeUrl(String(config.connectionString));
  }

  /** Connects, migrates the schema (refusing a newer one) and returns the journal. */
  static async open(opts: PgJournalOptions): Promise<PgDatabase> {
    const where = describeUrl(opts.url);
    let connectionString: string;
    try {
      connectionString = withPassword(opts.url, opts.password);
    } catch {
      throw permanentError('CONFIG_INVALID', `journal.url is not a URL such as postgres://user@host:5432/database (${where})`);
    }
    const statementTimeout = opts.statementTimeoutMs ?? 30_000;
    const config: PoolConfig = {
      connectionString,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      statement_timeout: statementTimeout,
      // A statement whose answer never comes (the network, not the server, went away).
      query_timeout: statementTimeout + 5_000,
      // A daemon that hangs inside a transaction must not hold its locks for ever.
      idle_in_transaction_session_timeout: Math.max(60_000, statementTimeout * 2),
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'cvp',
    };
    const pool = new Pool(config);
    // An idle connection the server closes (a restart) emits 'error' on the pool: without a
    // listener that would end the process. The next checkout makes a new connection.
    pool.on('error', () => undefined);
    // A client checked out (or just made) has no listener of the pool's: the server ending its
    // session between two statements, or right after the handshake, would then end the process.
    // The statement that follows fails with the error instead (and the client is dropped).
    pool.on('connect', (client) => { client.on('error', () => undefined); });
    let client: PoolClient | undefined;
    const onError = () => undefined;
    try {
      client = await pool.connect();
      client.on('error', onError);
      await migrate(client, where, (opts.now ?? Date.now)());
    } catch (err) {
      client?.removeListener('error', onError);
      client?.release(true);
      await pool.end().catch(() => undefined);
      throw pgJournalError(err, where, opts.password);
    }
    client.removeListener('error', onError);
    client.release();
    return new PgDatabase(pool, config, opts.password);
  }

  error(err: unknown) {
    return pgJournalError(err, this.where, this.password ?? this.urlPassword());
  }

  private urlPassword(): string | undefined {
    try {
      const p = new URL(String(this.config.connectionString)).password;
      return p ? decodeURIComponent(p) : undefined;
    } catch {
      return undefined;
    }
  }

  async read<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    if (this.closed) throw this.error(new Error('the journal is closed'));
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw this.connectError(err);
    }
  }

  /**
   * node-postgres says "timeout exceeded when trying to connect" both when the server does not
   * answer and when every connection of the pool stayed busy: the second is said as such.
   */
  private connectError(err: unknown) {
    const max = this.pool.options.max ?? 10;
    if (/timeout exceeded when trying to connect/.test((err as Error)?.message ?? '') && this.pool.totalCount >= max) {
      return transientError('JOURNAL_UNAVAILABLE', `PostgreSQL journal at ${this.where}: all ${max} connections of this daemon's pool stayed busy `
        + 'for longer than journal.connect_timeout (the database is slow to commit, or journal.pool_size is too small)');
    }
    return this.error(err);
  }

  /**
   * One transaction, tried again when PostgreSQL broke a deadlock by aborting it. NOTIFY is sent
   * with the COMMIT, so other daemons hear of the work only once it is there to claim.
   */
  async tx<T>(fn: (t: Tx) => Promise<T>): Promise<T> {
    if (this.closed) throw this.error(new Error('the journal is closed'));
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw this.connectError(err);
      }
      let failure: unknown;
      // The server may end the session between two statements (a shutdown): the client then emits
      // 'error', which would end the process if no one listened. The next statement fails with it.
      const onError = (err: Error) => { failure ??= err; };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const t: Tx = { c: client, changed: new Set() };
        const value = await fn(t);
        const notify = [...t.changed].map((k) => `NOTIFY ${CHANGE_CHANNEL}, '${k}'; `).join('');
        await client.query(`${notify}COMMIT`);
        return value;
      } catch (err) {
        failure = err;
        if (!connectionLost(err)) await client.query('ROLLBACK').catch((e: unknown) => { failure = e; });
        if (!(isRetryable(err) && attempt < MAX_ATTEMPTS)) throw this.error(err);
      } finally {
        client.removeListener('error', onError);
        client.release(failure !== undefined && connectionLost(failure));
      }
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
    }
  }

  /**
   * Advisory locks for the whole transaction, taken first and in one order (by their hash), so a
   * transaction waiting for one holds no row lock another waits for.
   */
  async lock(t: Tx, names: string[]): Promise<void> {
    if (!names.length) return;
    await t.c.query(`SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s`,
      [[...new Set(names)]]);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }
}
