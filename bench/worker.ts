/**
 * One measurement in a process of its own (forked by bench/run.ts), so that each starts from a
 * clean heap and its memory and CPU figures are its own. Talks to the parent over IPC:
 *   parent → task; for a daemon also mark (a point in time to diff), finish (stop, report);
 *   worker → ready, progress (every 250 ms), marked, result, error.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { IntakeRecord } from '../src/listener/domain';
import { type BenchDaemon, type DaemonCounts, type DaemonSpec, type JournalCounts, startBenchDaemon } from './bench-daemon';
import { artifactId, benchLogger, benchRouter, groupEvent, InstantExecutor, queueOf, TOPIC, wireCore } from './fixtures';
import { journalTimes, timeJournalCalls } from './journal-timing';
import { type Mark, mb, MemorySampler } from './meters';
import { bareConsume, type ConsumeStats } from './stomp';

export type Task =
  | { phase: 'bare'; port: number; consumer: string; count: number; prefetch: number; heartbeatMs: number; maxSeconds: number }
  | ({ phase: 'daemon' } & DaemonSpec)
  | { phase: 'seed'; builds: number; pollIntervalMs: number; journalPath: string }
  | { phase: 'inflight'; maxPollsPerSecond: number; pollIntervalMs: number; seconds: number; journalPath: string };

export interface DaemonProgress extends DaemonCounts {
  /** The process's state when the first message arrived (the start of every backlog window). */
  atFirstDelivery: Mark | null;
  /** Filled once the parent asked to watch the journal (it costs a query per report). */
  journal?: JournalCounts;
  now: Mark;
}

export type ToWorker =
  | { type: 'task'; task: Task; label: string }
  | { type: 'watch' }
  | { type: 'mark'; name: string }
  | { type: 'finish' };

export type FromWorker =
  | { type: 'ready'; mark: Mark }
  | { type: 'progress'; progress: DaemonProgress }
  | { type: 'marked'; name: string; mark: Mark; counts: DaemonCounts }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: string };

const send = (m: FromWorker): void => { process.send?.(m); };
const now = (): bigint => process.hrtime.bigint();
const seconds = (ns: bigint): number => Number(ns) / 1e9;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function bare(t: Extract<Task, { phase: 'bare' }>): Promise<ConsumeStats & { cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const stats = await bareConsume(t.port, queueOf(t.consumer), t.count, t.prefetch, t.heartbeatMs, t.maxSeconds);
  const cpu = process.cpuUsage(cpu0);
  return { ...stats, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/**
 * A daemon that runs until the parent says finish; meanwhile it reports its counts every 250 ms
 * (with the journal's, once watched) and answers marks, so the parent decides when a phase ends.
 */
async function daemon(t: Extract<Task, { phase: 'daemon' }>): Promise<unknown> {
  if (process.env.BENCH_JOURNAL_TIMES === '1') timeJournalCalls();
  const memory = new MemorySampler();
  let atFirstDelivery: Mark | null = null;
  // The first delivery starts every backlog window: the process's state the moment it happens.
  const d: BenchDaemon = await startBenchDaemon(t, () => { atFirstDelivery = memory.mark(); });
  let watching = false;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  process.on('message', (m: ToWorker) => {
    if (m.type === 'watch') watching = true;
    if (m.type === 'mark') send({ type: 'marked', name: m.name, mark: memory.mark(), counts: d.counts() });
    if (m.type === 'finish') finish();
  });
  let reporting = false;
  const reporter = setInterval(() => {
    if (reporting) return;
    reporting = true;
    void (async () => {
      const journal = watching ? await d.journalCounts().catch(() => undefined) : undefined;
      send({ type: 'progress', progress: { ...d.counts(), atFirstDelivery, journal, now: memory.mark() } });
    })().finally(() => { reporting = false; });
  }, 250);
  send({ type: 'ready', mark: memory.mark() });
  await finished;
  clearInterval(reporter);
  const end = memory.mark();
  await d.stop();
  memory.stop();
  return { counts: d.counts(), end, journalTimes: process.env.BENCH_JOURNAL_TIMES === '1' ? journalTimes() : undefined };
}

/**
 * Builds in flight, seeded as a daemon would leave them: runs committed through the journal's own
 * intake commit (plans from the real router), then set `running` with one UPDATE (what the
 * dispatcher writes once Jenkins answered with a build number), next polls spread over one interval.
 */
async function seed(t: Extract<Task, { phase: 'seed' }>): Promise<unknown> {
  const started = now();
  const w = await wireCore({ journalPath: t.journalPath, executor: new InstantExecutor(), peers: true, log: benchLogger() });
  const router = benchRouter();
  const created = Date.now();
  for (let done = 0; done < t.builds;) {
    const records: IntakeRecord[] = [];
    for (; records.length < 1_000 && done < t.builds; done++) {
      const body = groupEvent(artifactId('inflight', done));
      const id = `ID:bench-inflight-${done}`;
      records.push({
        envelope: { id, topic: TOPIC, headers: { 'message-id': id }, body, source: 'bus' },
        contentHash: createHash('sha256').update(TOPIC).update('\n').update(body).digest('hex'),
        verdict: { kind: 'routed', runs: router.route(TOPIC, JSON.parse(body), id) }, effects: [], results: [], touch: [], gates: [], receivedAt: created,
      });
    }
    await w.journal.commitIntake(records);
  }
  await w.journal.close();
  const db = new Database(t.journalPath);
  db.prepare(`UPDATE runs SET state = 'running', phase = 'track', attempts = 0, triggered_at = created_at, started_at = created_at,
      build_ref = json_object('queueId', CAST(seq AS TEXT), 'number', seq, 'url', 'https://jenkins.example.com/job/x/' || seq || '/'),
      deadline_at = ?, due_at = ? + (seq * ?) / ?`).run(created + 3 * 3_600_000, Date.now(), t.pollIntervalMs, t.builds);
  const running = (db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE state = 'running'`).get() as { n: number }).n;
  db.close();
  return { running, seconds: seconds(now() - started) };
}

/**
 * The daemon's core started on a journal with builds in flight (seeded by another process), with
 * an executor that answers in-process: the scheduler's polls, their CPU, and the memory.
 */
async function inflight(t: Extract<Task, { phase: 'inflight' }>): Promise<unknown> {
  const memory = new MemorySampler();
  const atStart = memory.mark();
  const log = benchLogger();
  const pollTimes = new Float64Array(Math.ceil(t.seconds * t.maxPollsPerSecond * 3) + 1_000);
  let polls = 0;
  const executor = new InstantExecutor();
  const status = executor.status.bind(executor);
  executor.status = (job, ref) => {
    if (polls < pollTimes.length) pollTimes[polls] = performance.now();
    polls += 1;
    return status(job, ref);
  };
  const w = await wireCore({ journalPath: t.journalPath, executor, peers: true, log, pollIntervalMs: t.pollIntervalMs, maxPollsPerSecond: t.maxPollsPerSecond });
  const afterOpen = memory.mark();

  // Tracker passes and the rows each one reads.
  const passes = { calls: 0, rows: 0 };
  const claim = w.journal.claimRuns.bind(w.journal);
  w.journal.claimRuns = async (c) => {
    const rows = await claim(c);
    if (c.phase === 'track') { passes.calls += 1; passes.rows += rows.length; }
    return rows;
  };

  const t0 = performance.now();
  const begin = memory.mark();
  await w.core.daemon.start();
  await sleep(t.seconds * 1000);
  const end = memory.mark();
  const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  await w.core.daemon.stop();
  const elapsed = (performance.now() - t0) / 1000;
  memory.stop();

  // The most polls in any 1 s window (sliding, from each poll's own time).
  const n = Math.min(polls, pollTimes.length);
  let maxWindow = 0;
  for (let i = 0, j = 0; i < n; i++) {
    while (pollTimes[i] - pollTimes[j] >= 1000) j++;
    maxWindow = Math.max(maxWindow, i - j + 1);
  }
  // Steady state: leave out the first second (the token bucket starts with a burst).
  const steady = Array.from(pollTimes.subarray(0, n)).filter((x) => x - t0 >= 1000).length / Math.max(0.001, elapsed - 1);
  const db = new Database(t.journalPath, { readonly: true });
  const inFlight = (db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE state IN ('queued', 'running')`).get() as { n: number }).n;
  db.close();
  return {
    builds: inFlight, seconds: elapsed, maxPollsPerSecond: t.maxPollsPerSecond, pollIntervalMs: t.pollIntervalMs,
    polls, pollsPerSecond: polls / elapsed, steadyPollsPerSecond: steady, maxPollsInAnySecond: maxWindow,
    trackerPasses: passes.calls, passesPerSecond: passes.calls / elapsed, rowsReadPerSecond: passes.rows / elapsed,
    activeTimers: timers, begin, end, cpuMsPerPoll: polls ? (end.cpuMs - begin.cpuMs) / polls : null,
    memoryMB: {
      rssAtStart: atStart.rssMB, rssAfterOpen: afterOpen.rssMB, peakRss: end.peakRssMB, rssAtEnd: end.rssMB,
      heapUsedAfterOpen: afterOpen.heapUsedMB, heapUsedAtEnd: mb(process.memoryUsage().heapUsed),
    },
  };
}

async function run(task: Task): Promise<unknown> {
  switch (task.phase) {
    case 'bare': return bare(task);
    case 'daemon': return daemon(task);
    case 'seed': return seed(task);
    case 'inflight': return inflight(task);
  }
}

process.once('message', (m: ToWorker) => {
  if (m.type !== 'task') return;
  process.title = `cvp-bench ${m.label}`;
  run(m.task).then(
    (result) => send({ type: 'result', result }),
    (err: unknown) => send({ type: 'error', error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  ).finally(() => {
    // Leave with whatever sockets or timers a failed phase left open; --cpu-prof still writes its profile.
    process.disconnect?.();
    setTimeout(() => process.exit(0), 200);
  });
});
