import type { ClientBase } from 'pg';
import { permanentError } from '../../../errors';
import { MIGRATIONS, type Migration } from './pg-schema';

/**
 * Brings a database to the newest schema: under an advisory lock (daemons starting together
 * migrate once), in one transaction (a migration that fails leaves nothing half done), older
 * migrations first. A database a newer CVP wrote is refused, never misread. Returns the version
 * found before.
 */
export async function migrate(client: ClientBase, where: string, now: number, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  const newest = migrations[migrations.length - 1].version;
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('cvp:migrate', 0))`);
    await client.query(`CREATE TABLE IF NOT EXISTS cvp_schema (
      version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const { rows } = await client.query<{ v: number }>('SELECT COALESCE(MAX(version), 0)::int AS v FROM cvp_schema');
    const found = rows[0].v;
    if (found > newest) {
      throw permanentError('JOURNAL_FAILED', `the PostgreSQL journal at ${where} has schema version ${found}, this CVP knows versions up to ${newest}: `
        + 'a newer CVP wrote it; run that version (or a newer one) against it, or point journal.url at another database');
    }
    for (const m of migrations) {
      if (m.version <= found) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO cvp_schema (version, description, applied_at) VALUES ($1, $2, $3)', [m.version, m.description, now]);
    }
    await client.query('COMMIT');
    return found;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
