/**
 * One measurement in a process of its own (forked by bench/run.ts), so that each starts from a
 * clean heap and its memory and CPU figures are its own. Talks to the parent over IPC:
 * parent → { task }, later { finish } for the latency phase; worker → ready | result | error.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StompBus } from '../src/adapters/bus/stomp-bus';
import type { IntakeRecord } from '../src/listener/domain';
import type { Bus, Delivery, Logger } from '../src/listener/ports';
import { HOST } from './broker';
import { artifactId, benchLogger, benchRouter, groupEvent, InstantExecutor, queueOf, sentAtOf, TOPIC, wireCore, type Wired } from './fixtures';
import { bareConsume } from './stomp';

export type Task =
  | { phase: 'bare'; port: number; consumer: string; count: number; prefetch: number; heartbeatMs: number; maxSeconds: number }
  | { phase: 'intake'; port: number; consumer: string; count: number; prefetch: number; heartbeatMs: number; maxSeconds: number;
      mode: 'intake' | 'daemon'; journalPath: string }
  | { phase: 'latency'; port: number; consumer: string; prefetch: number; heartbeatMs: number; peers: boolean; journalPath: string }
  | { phase: 'seed'; builds: number; pollIntervalMs: number; journalPath: string }
  | { phase: 'inflight'; maxPollsPerSecond: number; pollIntervalMs: number; seconds: number; journalPath: string };

export type ToWorker = { type: 'task'; task: Task; label: string } | { type: 'finish'; expected: number; graceMs: number };
export type FromWorker = { type: 'ready' } | { type: 'result'; result: unknown } | { type: 'error'; error: string };

const send = (m: FromWorker): void => { process.send?.(m); };
const now = (): bigint => process.hrtime.bigint();
const seconds = (ns: bigint): number => Number(ns) / 1e9;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number): number => Math.round(bytes / 1048576 * 10) / 10;

/** CPU and event-loop use over a window: how busy this process was while it was measured. */
function usageMeter(): () => { cpuPercent: number; eventLoopUtilization: number } {
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = now();
  return () => {
    const cpu = process.cpuUsage(cpu0);
    const wallUs = Number(now() - t0) / 1000;
    return {
      cpuPercent: Math.round((cpu.user + cpu.system) / wallUs * 1000) / 10,
      eventLoopUtilization: Math.round(performance.eventLoopUtilization(elu0).utilization * 1000) / 1000,
    };
  };
}

let label = 'worker';

/**
 * With BENCH_CPU_PROF=<dir>: a V8 CPU profile of the measured window only (not of start-up),
 * written to <dir>/<label>.cpuprofile (open it in Chrome DevTools or VS Code).
 */
function profileWindow(): () => Promise<void> {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return async () => undefined;
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  return () => new Promise((resolve) => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${label}.cpuprofile`), JSON.stringify(result.profile));
      session.disconnect();
      resolve();
    });
  });
}

/** Counts the journal's intake commits and the time spent in them (the fsyncs are synchronous). */
function meterCommits(w: Wired): { commits: number; records: number; ns: bigint } {
  const stats = { commits: 0, records: 0, ns: 0n };
  const original = w.journal.commitIntake.bind(w.journal);
  w.journal.commitIntake = async (records: IntakeRecord[]) => {
    const t = now();
    try { return await original(records); } finally { stats.commits += 1; stats.records += records.length; stats.ns += now() - t; }
  };
  return stats;
}

function statusCounts(journalPath: string): Record<string, number> {
  const db = new Database(journalPath, { readonly: true });
  try {
    const counts: Record<string, number> = {};
    for (const r of db.prepare('SELECT status, COUNT(*) AS n FROM messages GROUP BY status').all() as Array<{ status: string; n: number }>) counts[r.status] = r.n;
    counts.runs = (db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n;
    return counts;
  } finally {
    db.close();
  }
}

function stompBus(port: number, consumer: string, prefetch: number, heartbeatMs: number, log: Logger): StompBus {
  return new StompBus({
    servers: [{ host: HOST, port }], consumer, heartbeatMs, connectTimeoutMs: 10_000,
    reconnectDelayMs: 1_000, maxReconnectDelayMs: 30_000, prefetch, log,
  });
}

async function bare(t: Extract<Task, { phase: 'bare' }>): Promise<unknown> {
  const usage = usageMeter();
  const profiled = profileWindow();
  const stats = await bareConsume(t.port, queueOf(t.consumer), t.count, t.prefetch, t.heartbeatMs, t.maxSeconds);
  await profiled();
  return { ...stats, ...usage() };
}

/**
 * The intake fed by the broker, timed from the first delivery to the count-th ack (each ack is
 * sent only after its record is committed). mode intake: StompBus → Intake → journal → ack, as
 * the daemon subscribes it, no loops; mode daemon: daemon.start(), so the dispatcher, tracker
 * and outbox run meanwhile (instant Jenkins, ResultsDB and Slack), as in production.
 */
async function intake(t: Extract<Task, { phase: 'intake' }>): Promise<unknown> {
  const log = benchLogger();
  const sb = stompBus(t.port, t.consumer, t.prefetch, t.heartbeatMs, log);
  let first = 0n;
  let acks = 0;
  let finished: (at: bigint) => void = () => undefined;
  const done = new Promise<bigint>((resolve) => { finished = resolve; });
  let usage: ReturnType<typeof usageMeter> | undefined;
  const bus: Bus = {
    subscribe: (topic, handler) => sb.subscribe(topic, (d: Delivery) => {
      if (first === 0n) {
        first = now();
        usage = usageMeter();
        setTimeout(() => finished(now()), t.maxSeconds * 1000).unref();
      }
      handler(d);
    }),
    publish: (destination, body, headers) => sb.publish(destination, body, headers),
    ack: async (d) => {
      await sb.ack(d);
      acks += 1;
      if (acks === t.count) finished(now());
    },
    nack: (d) => sb.nack(d),
    close: () => sb.close(),
  };
  const w = await wireCore({ journalPath: t.journalPath, bus, consumer: t.consumer, executor: new InstantExecutor(), peers: t.mode === 'daemon', log });
  const commits = meterCommits(w);
  const profiled = profileWindow();
  if (t.mode === 'daemon') await w.core.daemon.start();
  else await bus.subscribe(TOPIC, (d) => { void w.core.intake.processEvent(d).catch(() => undefined); });
  const end = await done;
  const busy = usage?.();
  await profiled();
  const triggeredDuringIntake = w.executor.triggers;
  const acked = acks;
  if (t.mode === 'daemon') await w.core.daemon.stop();
  else { await w.core.intake.drain(); await sb.close(); await w.journal.close(); }
  const secs = seconds(end - first);
  return {
    mode: t.mode, messages: acked, seconds: secs, rate: acked / secs, capped: acked < t.count, ...busy,
    commits: commits.commits, meanBatch: commits.records / Math.max(1, commits.commits),
    commitShare: Math.round(seconds(commits.ns) / secs * 1000) / 1000,
    triggeredDuringIntake, journal: statusCounts(t.journalPath),
  };
}

/** Publish → Jenkins trigger: the parent publishes stamped events; the executor notes when trigger() is called. */
async function latency(t: Extract<Task, { phase: 'latency' }>): Promise<unknown> {
  const log = benchLogger();
  const samples: Array<[number, number]> = [];
  const executor = new InstantExecutor((p) => {
    const at = now();
    const sent = sentAtOf(p.BENCH_ARTIFACT ?? '');
    if (sent !== null) samples.push([Number(sent), Number(at - sent) / 1e6]);
  });
  const sb = stompBus(t.port, t.consumer, t.prefetch, t.heartbeatMs, log);
  const w = await wireCore({ journalPath: t.journalPath, bus: sb, consumer: t.consumer, executor, peers: t.peers, log });
  await w.core.daemon.start();
  await sb.whenSubscribed();
  const profiled = profileWindow();
  const finish = await new Promise<Extract<ToWorker, { type: 'finish' }>>((resolve) => {
    process.on('message', (m: ToWorker) => { if (m.type === 'finish') resolve(m); });
    send({ type: 'ready' });
  });
  const usage = usageMeter();
  const deadline = Date.now() + finish.graceMs;
  while (samples.length < finish.expected && Date.now() < deadline) await sleep(20);
  const busy = usage();
  await profiled();
  await w.core.daemon.stop();
  samples.sort((a, b) => a[0] - b[0]);
  return { peers: t.peers, expected: finish.expected, triggered: samples.length, latenciesMs: samples.map((s) => s[1]), drainUsage: busy };
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

/** The daemon started on a journal with builds in flight (seeded by another process): its polls and memory. */
async function inflight(t: Extract<Task, { phase: 'inflight' }>): Promise<unknown> {
  const atStart = process.memoryUsage();
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
  const afterOpen = process.memoryUsage();

  // Tracker passes and the rows each one reads (every row's plan is parsed).
  const passes = { calls: 0, rows: 0 };
  const claim = w.journal.claimRuns.bind(w.journal);
  w.journal.claimRuns = async (c) => {
    const rows = await claim(c);
    if (c.phase === 'track') { passes.calls += 1; passes.rows += rows.length; }
    return rows;
  };

  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const sampler = setInterval(sample, 250);
  const usage = usageMeter();
  const t0 = performance.now();
  const profiled = profileWindow();
  await w.core.daemon.start();
  await sleep(t.seconds * 1000);
  const busy = usage();
  await profiled();
  const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  await w.core.daemon.stop();
  clearInterval(sampler);
  sample();
  const elapsed = (performance.now() - t0) / 1000;

  // The most polls in any 1 s window (sliding, from each poll's own time).
  const n = Math.min(polls, pollTimes.length);
  let maxWindow = 0;
  for (let i = 0, j = 0; i < n; i++) {
    while (pollTimes[i] - pollTimes[j] >= 1000) j++;
    maxWindow = Math.max(maxWindow, i - j + 1);
  }
  // Steady state: leave out the first second (the token bucket starts with one second of budget).
  const steady = Array.from(pollTimes.subarray(0, n)).filter((x) => x - t0 >= 1000).length / Math.max(0.001, elapsed - 1);
  const end = process.memoryUsage();
  const db = new Database(t.journalPath, { readonly: true });
  const inFlight = (db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE state IN ('queued', 'running')`).get() as { n: number }).n;
  db.close();
  return {
    builds: inFlight, seconds: elapsed, maxPollsPerSecond: t.maxPollsPerSecond, pollIntervalMs: t.pollIntervalMs,
    polls, pollsPerSecond: polls / elapsed, steadyPollsPerSecond: steady, maxPollsInAnySecond: maxWindow,
    trackerPasses: passes.calls, passesPerSecond: passes.calls / elapsed, rowsReadPerSecond: passes.rows / elapsed,
    activeTimers: timers, ...busy,
    memoryMB: {
      rssAtStart: mb(atStart.rss), rssAfterOpen: mb(afterOpen.rss), peakRss: mb(peakRss), rssAtEnd: mb(end.rss),
      heapUsedAfterOpen: mb(afterOpen.heapUsed), peakHeapUsed: mb(peakHeap), heapUsedAtEnd: mb(end.heapUsed),
    },
  };
}

async function run(task: Task): Promise<unknown> {
  switch (task.phase) {
    case 'bare': return bare(task);
    case 'intake': return intake(task);
    case 'latency': return latency(task);
    case 'seed': return seed(task);
    case 'inflight': return inflight(task);
  }
}

process.once('message', (m: ToWorker) => {
  if (m.type !== 'task') return;
  label = m.label;
  run(m.task).then(
    (result) => send({ type: 'result', result }),
    (err: unknown) => send({ type: 'error', error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  ).finally(() => {
    // Leave with whatever sockets or timers a failed phase left open; --cpu-prof still writes its profile.
    process.disconnect?.();
    setTimeout(() => process.exit(0), 50);
  });
});
