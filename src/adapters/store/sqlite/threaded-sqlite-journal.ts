import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { transientError } from '../../../errors';
import { packageRoot } from '../../../paths';
import { StoreJournal, type StoreOp } from '../store-journal';
import { fromWire, type WireError } from './sqlite-errors';

/** The worker's compiled file: beside this one when running from dist/, else from dist/ (tests run the sources). */
function workerFile(): string {
  const sibling = join(__dirname, 'sqlite-worker.js');
  if (existsSync(sibling)) return sibling;
  const built = resolve(packageRoot, 'dist/src/adapters/store/sqlite/sqlite-worker.js');
  if (existsSync(built)) return built;
  throw new Error(`the journal worker ${built} is not built: run npm run build`);
}

/**
 * The SQLite journal with its statements on a worker thread (group commit there): the daemon's
 * event loop only posts requests and reads answers. Requests are answered in order of arrival.
 */
export class ThreadedSqliteJournal extends StoreJournal {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private closed = false;

  private constructor(private readonly worker: Worker) {
    super();
    worker.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: WireError }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(fromWire(m.error!));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => this.failAll(new Error('the journal worker stopped')));
  }

  /** Opens the file in a new worker; rejects as the store would (a schema version refused, a file that cannot be opened). */
  static open(path: string): Promise<ThreadedSqliteJournal> {
    // Its heap holds statements and the rows of one group: bounded, so its garbage stays small too.
    const worker = new Worker(workerFile(), { workerData: { path }, resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 } });
    return new Promise((resolve, reject) => {
      const onMessage = (m: { type?: string; error?: WireError }) => {
        if (m.type === 'ready') { worker.off('message', onMessage); resolve(new ThreadedSqliteJournal(worker)); }
        if (m.type === 'failed') { worker.off('message', onMessage); reject(fromWire(m.error!)); }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  private failAll(err: unknown): void {
    for (const p of this.pending.values()) p.reject(transientError('JOURNAL_FAILED', `journal worker failed: ${(err as Error).message}`));
    this.pending.clear();
  }

  protected call<T>(op: StoreOp | '__close', args: unknown[]): Promise<T> {
    if (this.closed && op !== '__close') return Promise.reject(transientError('JOURNAL_FAILED', 'the journal is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, args });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.call('__close', []).catch(() => undefined);
    await this.worker.terminate().catch(() => undefined);
  }
}
