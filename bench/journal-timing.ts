/**
 * BENCH_JOURNAL_TIMES=1: how long each journal operation takes, seen from the daemon's event loop
 * (post to the SQLite thread, its group commit, the answer back). A diagnostic: it wraps the
 * threaded journal's one entry point, so it costs a little CPU of its own.
 */
import { ThreadedSqliteJournal } from '../src/adapters/store/sqlite/threaded-sqlite-journal';

export interface OpTimes { op: string; calls: number; meanMs: number; p99Ms: number; maxMs: number }

const samples = new Map<string, number[]>();

export function timeJournalCalls(): void {
  const proto = ThreadedSqliteJournal.prototype as unknown as { call: (op: string, args: unknown[]) => Promise<unknown> };
  const call = proto.call;
  proto.call = function timed(this: unknown, op: string, args: unknown[]) {
    const t = process.hrtime.bigint();
    const done = (): void => {
      const list = samples.get(op) ?? [];
      list.push(Number(process.hrtime.bigint() - t) / 1e6);
      samples.set(op, list);
    };
    const p = call.call(this, op, args);
    p.then(done, done);
    return p;
  };
}

export function journalTimes(): OpTimes[] {
  return [...samples.entries()].map(([op, ms]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    return {
      op, calls: ms.length, meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
      p99Ms: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)], maxMs: sorted[sorted.length - 1],
    };
  }).sort((a, b) => b.calls * b.meanMs - a.calls * a.meanMs);
}
