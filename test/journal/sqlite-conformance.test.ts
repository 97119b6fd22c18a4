import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteJournal } from '../../src/adapters/store/sqlite/sqlite-journal';
import { ThreadedSqliteJournal } from '../../src/adapters/store/sqlite/threaded-sqlite-journal';
import { describeJournalConformance, type JournalPair } from '../support/journal-conformance';

function tempFile(): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cvp-journal-'));
  return { dir, path: join(dir, 'journal.db') };
}

describeJournalConformance('SQLite in this thread, on a file', async (): Promise<JournalPair> => {
  const { dir, path } = tempFile();
  const j = new SqliteJournal(path);
  return { a: j, b: j, close: async () => { await j.close(); rmSync(dir, { recursive: true, force: true }); } };
});

describeJournalConformance('SQLite on its worker thread, on a file', async (): Promise<JournalPair> => {
  const { dir, path } = tempFile();
  const j = await ThreadedSqliteJournal.open(path);
  return { a: j, b: j, close: async () => { await j.close(); rmSync(dir, { recursive: true, force: true }); } };
});

describeJournalConformance('two SQLite instances sharing one file', async (): Promise<JournalPair> => {
  const { dir, path } = tempFile();
  const a = await ThreadedSqliteJournal.open(path);
  const b = await ThreadedSqliteJournal.open(path);
  return { a, b, close: async () => { await a.close(); await b.close(); rmSync(dir, { recursive: true, force: true }); } };
});
