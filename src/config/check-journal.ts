import type { CvpConfig } from './config';

type Where = (path: Array<string | number>, key?: string) => string;

/** The password part of a URL's user info, as written (postgres://user:PASSWORD@host/db). */
function urlPassword(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]*)@/i.exec(url);
  if (!m) return null;
  const colon = m[1].indexOf(':');
  return colon < 0 ? null : m[1].slice(colon + 1);
}

const VARIABLE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/**
 * What the schema cannot say about the journal: SQLite (path) or PostgreSQL (url), not both; a URL
 * that parses; a password in the URL only from the environment (`raw` is the file as written,
 * before ${VAR} is replaced); PostgreSQL settings only with a URL.
 */
export function checkJournal(raw: unknown, config: CvpConfig, at: Where, allowInlineSecrets: boolean): string[] {
  const j = config.journal;
  if (!j) return [];
  const problems: string[] = [];
  if (j.url !== undefined && j.path !== undefined) {
    problems.push(`${at(['journal'], 'path')}: journal.path (a SQLite file) and journal.url (PostgreSQL) name two journals; keep one`);
  }
  if (j.url !== undefined) {
    let host = '';
    try {
      host = new URL(j.url).hostname || (new URL(j.url).searchParams.get('host') ?? '');
    } catch {
      // reported below
    }
    if (!host) problems.push(`${at(['journal', 'url'])}: not a URL with a host, such as postgres://cvp@db.example.com:5432/cvp`);
    const written = (raw as { journal?: { url?: unknown } } | null)?.journal?.url;
    const password = typeof written === 'string' ? urlPassword(written) : null;
    if (password && !VARIABLE.test(password) && !allowInlineSecrets) {
      problems.push(`${at(['journal', 'url'])}: a password written in the URL; write postgres://user:\${CVP_JOURNAL_PASSWORD}@host/database `
        + '(or journal.password: ${CVP_JOURNAL_PASSWORD}) and set CVP_JOURNAL_PASSWORD (or CVP_JOURNAL_PASSWORD_FILE) in the environment');
    }
  } else {
    for (const key of ['password', 'pool_size', 'connect_timeout', 'statement_timeout'] as const) {
      if (j[key] !== undefined) problems.push(`${at(['journal'], key)}: a PostgreSQL setting, but there is no journal.url (the journal is a SQLite file)`);
    }
  }
  return problems;
}

/** The password inside journal.url once ${VAR} is replaced, as written and decoded: secrets, redacted like the others. */
export function journalUrlSecrets(config: CvpConfig): string[] {
  const url = config.journal?.url;
  const p = url ? urlPassword(url) : null;
  if (!p) return [];
  let decoded = p;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    // not percent-encoded: kept as written
  }
  return [...new Set([p, decoded])];
}
