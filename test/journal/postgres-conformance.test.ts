import { PgJournal } from '../../src/adapters/store/postgres/pg-journal';
import { describeJournalConformance, type JournalPair } from '../support/journal-conformance';
import { testPostgres } from '../support/postgres';

const server = testPostgres();

async function fresh(): Promise<{ url: string; drop: () => Promise<void> }> {
  const db = await server.createDatabase('conformance');
  return { url: server.url(db), drop: () => server.dropDatabase(db) };
}

describeJournalConformance('PostgreSQL, one journal (one pool) twice', async (): Promise<JournalPair> => {
  const { url, drop } = await fresh();
  const j = await PgJournal.open({ url, poolSize: 4 });
  return { a: j, b: j, close: async () => { await j.close(); await drop(); } };
});

describeJournalConformance('two PostgreSQL journals (two pools) on one database', async (): Promise<JournalPair> => {
  const { url, drop } = await fresh();
  const a = await PgJournal.open({ url, poolSize: 4 });
  const b = await PgJournal.open({ url, poolSize: 4 });
  return { a, b, close: async () => { await a.close(); await b.close(); await drop(); } };
});
