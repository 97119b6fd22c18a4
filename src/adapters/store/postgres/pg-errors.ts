import { CvpError, transientError } from '../../../errors';

/** Errors of the socket under a connection: the database is away, not the statement wrong. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);

/** SQLSTATEs that say the database cannot take commits now, in words. */
const UNAVAILABLE: Array<[RegExp, string]> = [
  [/^08/, 'the connection to PostgreSQL failed'],
  [/^57P01$/, 'PostgreSQL is shutting down (administrator command)'],
  [/^57P02$/, 'PostgreSQL crashed'],
  [/^57P03$/, 'PostgreSQL is starting up or in recovery and takes no connections yet'],
  [/^57P05$/, 'PostgreSQL closed an idle session'],
  [/^57014$/, 'a statement took longer than journal.statement_timeout and was cancelled'],
  [/^53300$/, 'PostgreSQL has no connections left (max_connections)'],
  [/^53100$/, 'the disk under PostgreSQL is full'],
  [/^53200$/, 'PostgreSQL is out of memory'],
  [/^53/, 'PostgreSQL is out of resources'],
  [/^25006$/, 'the database is read-only (a standby, or a failover under way)'],
  [/^28/, 'PostgreSQL refused the login (check the user and journal.password)'],
  [/^3D000$/, 'the database named in journal.url does not exist'],
];

/** Messages of node-postgres itself when a connection is lost or never made. */
const LOST = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Client was closed|Connection terminated due to connection timeout|connect ECONNREFUSED|socket hang up/i;

/** Deadlocks and serialisation failures: the transaction is tried again before this error reaches the core. */
export function isRetryable(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return code === '40P01' || code === '40001';
}

/** Whether the connection that saw this error can be used again (if not, the pool drops it). */
export function connectionLost(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return SOCKET_CODES.has(code) || /^(08|57P)/.test(code) || LOST.test((err as Error)?.message ?? '');
}

/**
 * A PostgreSQL failure as the core sees it: transient (nothing committed; nothing acked; tried
 * again later). JOURNAL_UNAVAILABLE when the database cannot be reached or take commits (the
 * daemon is then not ready until a commit works again), naming where it is and the cause;
 * JOURNAL_FAILED for a statement that failed. `where` is host:port/database: never the password,
 * which is also scrubbed from any message that might carry it.
 */
export function pgJournalError(err: unknown, where: string, password?: string): CvpError {
  if (err instanceof CvpError) return err;
  const code = String((err as { code?: unknown })?.code ?? '');
  let message = (err as Error)?.message ?? String(err);
  if (password) message = message.split(password).join('***');
  const known = UNAVAILABLE.find(([re]) => re.test(code))?.[1];
  if (known) return transientError('JOURNAL_UNAVAILABLE', `PostgreSQL journal at ${where}: ${known} (${code}: ${message})`);
  if (SOCKET_CODES.has(code) || LOST.test(message)) {
    return transientError('JOURNAL_UNAVAILABLE', `PostgreSQL journal at ${where} is unreachable (${code ? `${code}: ` : ''}${message})`);
  }
  return transientError('JOURNAL_FAILED', `PostgreSQL journal at ${where}: statement failed: ${message}${code ? ` (${code})` : ''}`);
}
