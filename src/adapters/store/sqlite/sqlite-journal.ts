import { StoreJournal, type StoreOp } from '../store-journal';
import { journalError } from './sqlite-errors';
import { SqliteStore } from './sqlite-store';

/**
 * The SQLite journal in this thread: each call blocks the event loop for its statement. For tests
 * and short CLI commands; the daemon uses ThreadedSqliteJournal, which keeps writes off its loop.
 */
export class SqliteJournal extends StoreJournal {
  readonly store: SqliteStore;

  constructor(path: string) {
    super();
    this.store = new SqliteStore(path);
  }

  protected async call<T>(op: StoreOp, args: unknown[]): Promise<T> {
    try {
      return (this.store[op as keyof SqliteStore] as (...a: unknown[]) => T)(...args);
    } catch (err) {
      throw journalError(err);
    }
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
