/**
 * The journal's writer thread: owns the SQLite connection, so no statement runs on the daemon's
 * event loop. Requests that arrive together are run in one transaction, each in a savepoint of its
 * own (one failing request is rolled back alone), and committed with one fsync: group commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from './sqlite-store';
import { toWire } from './sqlite-errors';

interface Request { id: number; op: string; args: unknown[] }
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ReturnType<typeof toWire> };

const port = parentPort!;
let store: SqliteStore;
try {
  store = new SqliteStore((workerData as { path: string }).path);
  port.postMessage({ type: 'ready' });
} catch (err) {
  port.postMessage({ type: 'failed', error: toWire(err) });
  process.exit(0);
}

let queue: Request[] = [];
let scheduled = false;

function runGroup(group: Request[]): Reply[] {
  const replies: Reply[] = [];
  const runAll = () => {
    for (const r of group) {
      try {
        const fn = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[r.op];
        if (typeof fn !== 'function') throw new Error(`no journal operation ${r.op}`);
        // Each operation opens its own (nested) transaction: a savepoint inside this one.
        replies.push({ id: r.id, ok: true, value: fn.apply(store, r.args) });
      } catch (err) {
        replies.push({ id: r.id, ok: false, error: toWire(err) });
      }
    }
  };
  try {
    store.db.transaction(runAll).immediate();
    return replies;
  } catch (err) {
    // The commit itself failed (a full disk, say): none of the group happened.
    const error = toWire(err);
    return group.map((r) => ({ id: r.id, ok: false, error }));
  }
}

function flush(): void {
  scheduled = false;
  const group = queue;
  queue = [];
  if (!group.length) return;
  const closing = group.findIndex((r) => r.op === '__close');
  const work = closing < 0 ? group : group.slice(0, closing);
  const replies = work.length ? runGroup(work) : [];
  for (const reply of replies) port.postMessage(reply);
  if (closing >= 0) {
    store.close();
    port.postMessage({ id: group[closing].id, ok: true, value: null });
    port.close();
  }
}

port.on('message', (r: Request) => {
  queue.push(r);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
