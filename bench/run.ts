/**
 * `npm run bench`: the figures of issue 11 (item 5 and its targets), measured in one run on one
 * real ActiveMQ with the same events. It prints them and writes bench/results/latest.json; it never
 * fails on a figure.
 *
 *   1. the raw consume rate: a bare stompit consumer (before and after the daemons);
 *   2. the busy daemon (the product as `cvp listen` builds it, its Jenkins, ResultsDB and Slack
 *      adapters talking HTTP to the project's stand-ins in another process): its intake and trigger
 *      rates as ratios to (1); and, labelled, the same core with peers answering in-process;
 *   3. publish → trigger, p50/p99, at 200 and 1,000 events/s, ResultsDB and Slack on;
 *   4. 50,000 builds in flight: polls/s against the configured rate, one scheduler, memory;
 *   5. CPU milliseconds per event (process CPU time / events handled end to end);
 *   6. memory, peak and settled, while draining a backlog of 20,000 events;
 *   7. the journal's size under a steady stream with retention on;
 *   8. PostgreSQL with one daemon and with three (issue 12), when the build has that journal.
 *
 * BENCH_QUICK=1: a smaller run (under 2 minutes). BENCH_PHASES=busy,latency,...: only those (see
 * bench/plan.ts; `shared` runs three daemons on one SQLite file). BENCH_LATENCY_RATES=200,1000.
 * BENCH_BUSY_EVENTS=<n>: the busy daemon's backlog. BENCH_RETENTION_SECONDS: the retention stream's length. BENCH_NODE_OPTIONS: flags for the measured
 * processes (default: the heap flags `cvp` ships with in bin/cvp; "" for none; the stand-ins never
 * take them).
 * BENCH_LOG=off: no daemon logs (default: pino JSON lines, as in production, to a file).
 * BENCH_CPU_PROF=<dir>: V8 CPU profiles of each process, each thread (<dir>/<label>/*.cpuprofile).
 * BENCH_PG_URL=postgres://…: the PostgreSQL server for phase 8 (default: a throwaway one).
 * BENCH_KEEP=1: leave the temporary directory (each process's log, the journals) for a look.
 * Each measurement runs in a process of its own (bench/worker.ts), the stand-ins in another
 * (bench/peers.ts); this one owns the broker, publishes, and cleans up however it ends.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../src/paths';
import { type BenchBroker, startBenchBroker } from './broker';
import { type Child, forkChild, killChildren, measuredNodeFlags, processCpuMs } from './child';
import { type DrainRow, type Figures, figuresJson, type InflightFigures, type LatencyRow, type PostgresFigures, printFigures, type RawRow, type RetentionFigures } from './figures';
import { artifactId, groupEvent, type JournalSpec, queueOf, stampedId } from './fixtures';
import { type Mark, windowBetween } from './meters';
import type { FromPeers, PeerStats, PeerUrls, ToPeers } from './peers';
import { DEFAULTS, type Phase, phasesToRun, PLAN, QUICK, TARGETS } from './plan';
import { type BenchPostgres, postgresUnsupported, startBenchPostgres } from './postgres';
import type { OpTimes } from './journal-timing';
import { fmt, slope, table } from './report';
import { publishMany, publishPaced } from './stomp';
import type { DaemonCounts } from './bench-daemon';
import type { DaemonProgress, FromWorker, Task, ToWorker } from './worker';

const PHASES = phasesToRun();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvp-bench-'));
let broker: BenchBroker | undefined;
let postgres: BenchPostgres | undefined;

function cleanup(): void {
  killChildren();
  broker?.kill();
  postgres?.stop();
  if (process.env.BENCH_KEEP === '1') console.error(`BENCH_KEEP: logs and journals left in ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => { console.error(`\n${signal}: stopping the broker and removing ${tmp}`); process.exit(130); });
}

const log = (line: string): void => { process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`); };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const secondsBetween = (a: string | bigint, b: string | bigint): number => Number(BigInt(b) - BigInt(a)) / 1e9;

type Worker = Child<ToWorker, FromWorker>;

function startWorker(label: string, task: Task): Worker {
  const w = forkChild<ToWorker, FromWorker>('worker.js', label, tmp, measuredNodeFlags());
  w.send({ type: 'task', task, label });
  return w;
}

async function mark(w: Worker, name: string): Promise<Mark> {
  w.send({ type: 'mark', name });
  return (await w.next('marked', 30_000)).mark;
}

let peers: Child<ToPeers, FromPeers> | undefined;

async function startPeers(builds: 'finish-at-once' | 'run-for-ever'): Promise<PeerUrls> {
  peers ??= forkChild<ToPeers, FromPeers>('peers.js', 'stand-ins', tmp);
  peers.send({ type: 'start', builds });
  return (await peers.next('started', 30_000)).urls;
}

async function peerStats(latencies = false): Promise<PeerStats> {
  peers!.send({ type: 'stats', latencies });
  return (await peers!.next('stats', 30_000)).stats;
}

function journalBytes(file: string): number {
  let total = 0;
  for (const f of [file, `${file}-wal`]) { try { total += fs.statSync(f).size; } catch { /* not there */ } }
  return total;
}

let port = 0;
let seq = 0;
const newConsumer = (): string => `Consumer.bench.r${seq++}`;

/** Fills the consumer's queue before anyone consumes it; returns the rate the broker took them at. */
function fill(consumer: string, count: number): Promise<number> {
  return publishMany(port, queueOf(consumer), count, (i) => groupEvent(artifactId(consumer, i)));
}

async function rawConsume(when: RawRow['when']): Promise<RawRow> {
  const consumer = newConsumer();
  const publishRate = await fill(consumer, PLAN.consumeMessages);
  const r = (await startWorker(`bare-${when}`, {
    phase: 'bare', port, consumer, count: PLAN.consumeMessages, prefetch: PLAN.prefetch, heartbeatMs: PLAN.heartbeatMs, maxSeconds: PLAN.consumeCapSeconds,
  }).next('result')).result as { messages: number; seconds: number; rate: number; capped: boolean; cpuMs: number };
  log(`bare consumer (${when}): ${fmt(r.rate)} msg/s (the broker took ${fmt(publishRate)} msg/s)`);
  return { when, messages: r.messages, seconds: r.seconds, rate: r.rate, capped: r.capped, cpuPercent: r.cpuMs / (r.seconds * 10), publishRate };
}

interface DrainOptions {
  label: string;
  title: string;
  events: number;
  peers: 'stand-ins' | 'instant';
  builds: 'finish-at-once' | 'run-for-ever';
  pollInterval: string;
  maxPollsPerSecond: number;
  capSeconds: number;
  settleMs?: number;
  daemons: number;
  journal: JournalSpec;
}

/**
 * A backlog of `events` put on a fresh queue, then drained by `daemons` daemons sharing its
 * journal: timed from the first delivery to the last ack (intake), the last trigger, and the
 * moment the journal holds no work left (every run triggered — or finished — and every effect
 * delivered), which ends the CPU window.
 */
async function drain(o: DrainOptions): Promise<DrainRow> {
  const consumer = newConsumer();
  const publishRate = await fill(consumer, o.events);
  const urls = o.peers === 'stand-ins' ? await startPeers(o.builds) : 'instant';
  const workers = Array.from({ length: o.daemons }, (_, i) => startWorker(o.daemons > 1 ? `${o.label}-${i + 1}` : o.label, {
    phase: 'daemon', port, consumer, prefetch: PLAN.prefetch, heartbeatMs: PLAN.heartbeatMs, journal: o.journal, peers: urls, builds: o.builds,
    pollInterval: o.pollInterval, maxPollsPerSecond: o.maxPollsPerSecond, dir: tmp,
  }));
  const latest: Array<DaemonProgress | undefined> = workers.map(() => undefined);
  workers.forEach((w, i) => w.on('progress', (m) => { latest[i] = m.progress; }));
  const ready = await Promise.all(workers.map((w) => w.next('ready', 60_000)));
  const brokerCpu0 = processCpuMs(broker!.pid);
  const brokerAt0 = Date.now();
  let watching = false;
  let capped = false;
  const t0 = Date.now();
  let lastLog = t0;
  for (;;) {
    await sleep(250);
    const ps = latest.filter((p): p is DaemonProgress => p !== undefined);
    const sum = (f: (p: DaemonProgress) => number): number => ps.reduce((a, p) => a + f(p), 0);
    const acks = sum((p) => p.acks);
    const triggers = sum((p) => p.triggers);
    const finished = sum((p) => p.finished);
    if (Date.now() - lastLog > 5_000) {
      lastLog = Date.now();
      log(`  ${o.label}: ${fmt(acks)} acked, ${fmt(triggers)} triggered, ${fmt(finished)} finished of ${fmt(o.events)}`);
    }
    if (!watching && acks >= o.events && triggers >= o.events && (o.builds === 'run-for-ever' || finished >= o.events)) {
      watching = true;
      workers[0].send({ type: 'watch' });
    }
    const j = latest[0]?.journal;
    // Builds that run for ever keep being polled, and their first polls keep adding RUNNING results:
    // drained means every run triggered and the effects that remain no more than a few passes' worth.
    const settled = o.builds === 'finish-at-once' ? j?.unfinished === 0 && j.effectsPending === 0 : (j?.effectsPending ?? Infinity) <= 100;
    if (watching && j && j.runs >= o.events && j.untriggered === 0 && settled) break;
    if (Date.now() - t0 > o.capSeconds * 1000) { capped = true; break; }
  }
  const drained = await Promise.all(workers.map((w) => mark(w, 'drained')));
  const brokerCpu1 = processCpuMs(broker!.pid);
  const brokerSeconds = (Date.now() - brokerAt0) / 1000;
  const peersAt = urls === 'instant' ? undefined : await peerStats();
  let settled: Mark[] | undefined;
  if (o.settleMs) {
    await sleep(o.settleMs);
    settled = await Promise.all(workers.map((w) => mark(w, 'settled')));
  }
  for (const w of workers) w.send({ type: 'finish' });
  const results = await Promise.all(workers.map(async (w) => (await w.next('result', 60_000)).result as { counts: DaemonCounts; journalTimes?: OpTimes[] }));
  for (const r of results) {
    if (r.journalTimes) {
      log(`  ${o.label}: journal round trips from the event loop (BENCH_JOURNAL_TIMES)\n${table('', ['op', 'calls', 'mean ms', 'p99 ms', 'max ms'],
        r.journalTimes.map((t) => [t.op, fmt(t.calls), fmt(t.meanMs, 2), fmt(t.p99Ms, 1), fmt(t.maxMs, 1)]))}`);
    }
  }
  const counts = results.map((r) => r.counts);
  const starts = workers.map((_, i) => latest[i]?.atFirstDelivery ?? ready[i].mark);
  const firsts = counts.map((c) => c.firstDeliveryNs).filter((x): x is string => x !== null).map(BigInt);
  if (!firsts.length) throw new Error(`${o.label}: no message was delivered within ${o.capSeconds} s (see ${tmp}/${o.label}*.log with BENCH_KEEP=1)`);
  const firstNs = firsts.reduce((a, b) => (b < a ? b : a));
  const last = (xs: Array<string | null>): bigint => xs.filter((x): x is string => x !== null).map(BigInt).reduce((a, b) => (b > a ? b : a), firstNs);
  const acks = counts.reduce((a, c) => a + c.acks, 0);
  const triggers = counts.reduce((a, c) => a + c.triggers, 0);
  const intakeSeconds = secondsBetween(firstNs, last(counts.map((c) => c.lastAckNs)));
  const triggerSeconds = secondsBetween(firstNs, last(counts.map((c) => c.lastTriggerNs)));
  const windows = workers.map((_, i) => windowBetween(starts[i], drained[i]));
  const cpuMs = windows.reduce((a, w) => a + w.cpuMs, 0);
  const drainSeconds = secondsBetween(firstNs, drained[0].ns);
  let journalBytesPerEvent: number | undefined;
  if (o.journal.kind === 'sqlite' && o.daemons === 1) journalBytesPerEvent = journalBytes(o.journal.path) / o.events;
  const row: DrainRow = {
    label: o.label, title: o.title, daemons: o.daemons, journal: o.journal.kind, events: o.events, capped, publishRate,
    acks, intakeSeconds, intakeRate: acks / intakeSeconds, triggers, triggerSeconds, triggerRate: triggers / triggerSeconds, drainSeconds,
    finished: counts.reduce((a, c) => a + c.finished, 0), delivered: counts.reduce((a, c) => a + c.delivered, 0),
    failedDeliveries: counts.reduce((a, c) => a + c.failedDeliveries, 0),
    cpuMsPerEvent: cpuMs / Math.max(1, o.events), daemonCpuPercent: cpuMs / (drainSeconds * 10),
    eventLoopUtilization: windows.reduce((a, w) => a + w.eventLoopUtilization, 0) / windows.length,
    rssPeakMB: Math.max(...drained.map((m) => m.peakRssMB)), rssSettledMB: settled ? Math.max(...settled.map((m) => m.rssMB)) : null,
    brokerCpuPercent: brokerCpu0 === null || brokerCpu1 === null ? null : (brokerCpu1 - brokerCpu0) / (brokerSeconds * 10),
    peers: peersAt ? {
      cpuPercent: peersAt.cpuMs / (drainSeconds * 10), triggers: peersAt.triggers, distinctRuns: peersAt.distinctRuns,
      jenkinsRequests: peersAt.jenkinsRequests, results: peersAt.results,
      slackMessages: peersAt.slackMessages, unexpected: peersAt.unexpected,
    } : undefined,
    journalBytesPerEvent,
  };
  const d0 = drained[0];
  log(`  ${o.label}: at the end of the drain: RSS ${d0.rssMB} MB, main heap ${d0.heapUsedMB} used of ${d0.heapTotalMB} MB, external ${d0.externalMB} MB`);
  log(`${o.label}: intake ${fmt(row.intakeRate)} msg/s, triggers ${fmt(row.triggerRate)}/s, drained in ${fmt(drainSeconds, 1)} s, ` +
    `${fmt(row.cpuMsPerEvent, 2)} CPU ms/event, RSS peak ${fmt(row.rssPeakMB)} MB${capped ? ` (capped at ${o.capSeconds} s)` : ''}`);
  return row;
}

/** Publish → trigger at a steady rate: the publisher here, the daemon in a worker, the trigger timed at the Jenkins stand-in. */
async function latency(rate: number): Promise<LatencyRow> {
  const consumer = newConsumer();
  const urls = await startPeers('run-for-ever');
  const label = `latency-${rate}`;
  const w = startWorker(label, {
    phase: 'daemon', port, consumer, prefetch: PLAN.prefetch, heartbeatMs: PLAN.heartbeatMs, journal: { kind: 'sqlite', path: path.join(tmp, `${label}.db`) },
    peers: urls, builds: 'run-for-ever', pollInterval: DEFAULTS.pollInterval, maxPollsPerSecond: DEFAULTS.maxPollsPerSecond, dir: tmp,
  });
  await w.next('ready', 60_000);
  const begin = await mark(w, 'begin');
  const peers0 = await peerStats();
  const publish = await publishPaced(port, queueOf(consumer), rate, PLAN.latencySeconds, (i, at) => groupEvent(stampedId(i, at)));
  const deadline = Date.now() + PLAN.latencyGraceMs;
  let s = await peerStats();
  while (s.triggers < publish.sent && Date.now() < deadline) { await sleep(100); s = await peerStats(); }
  const end = await mark(w, 'end');
  s = await peerStats(true);
  w.send({ type: 'finish' });
  await w.next('result', 60_000);
  const window = windowBetween(begin, end);
  const samples = (s.latencies ?? []).sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : 1));
  const row: LatencyRow = {
    rate, sent: publish.sent, sentPerSecond: publish.rate, publisherMaxLagMs: publish.maxLagMs, triggered: s.triggers, latenciesMs: samples.map((x) => x[1]),
    cpuMsPerEvent: window.cpuMs / publish.sent, daemonCpuPercent: window.cpuPercent, eventLoopUtilization: window.eventLoopUtilization,
    peersCpuPercent: (s.cpuMs - peers0.cpuMs) / (window.seconds * 10), rssPeakMB: end.peakRssMB, unexpected: s.unexpected,
  };
  const sorted = [...row.latenciesMs].sort((a, b) => a - b);
  log(`latency at ${rate}/s: ${s.triggers}/${publish.sent} triggered, p99 ${fmt(sorted[Math.ceil(sorted.length * 0.99) - 1], 1)} ms`);
  return row;
}

/** A steady stream with retention on: the journal files' size, sampled every second. */
async function retention(bytesPerEvent: number | undefined): Promise<RetentionFigures> {
  const consumer = newConsumer();
  const urls = await startPeers('finish-at-once');
  const file = path.join(tmp, 'retention.db');
  const w = startWorker('retention', {
    phase: 'daemon', port, consumer, prefetch: PLAN.prefetch, heartbeatMs: PLAN.heartbeatMs, journal: { kind: 'sqlite', path: file },
    peers: urls, builds: 'finish-at-once', pollInterval: '500ms', maxPollsPerSecond: 1_000, retention: PLAN.retention, dir: tmp,
  });
  let latest: DaemonProgress | undefined;
  w.on('progress', (m) => { latest = m.progress; });
  await w.next('ready', 60_000);
  const samples: Array<[number, number]> = [];
  const t0 = Date.now();
  const sampler = setInterval(() => samples.push([(Date.now() - t0) / 1000, journalBytes(file)]), 1_000);
  const publish = await publishPaced(port, queueOf(consumer), PLAN.retentionRate, PLAN.retentionSeconds, (i) => groupEvent(artifactId(consumer, i)));
  clearInterval(sampler);
  samples.push([(Date.now() - t0) / 1000, journalBytes(file)]);
  w.send({ type: 'watch' });
  const until = Date.now() + 3_000;
  while (!latest?.journal && Date.now() < until) await sleep(100);
  const runsAtEnd = latest?.journal?.runs ?? null;
  const finished = latest?.finished ?? 0;
  w.send({ type: 'finish' });
  await w.next('result', 60_000);
  const half = PLAN.retentionSeconds / 2;
  const secondHalf = slope(samples.filter(([t]) => t >= half));
  const without = bytesPerEvent ? bytesPerEvent * publish.rate : null;
  // Without a reference, growth under 1 % of the final size per second counts as flat.
  const flatEnough = without !== null ? secondHalf <= TARGETS.flatShare * without : secondHalf <= 0.01 * samples[samples.length - 1][1];
  // Runs with effects still to deliver are kept: the daemon must keep up end to end for retention to bite.
  const effectsPending = latest?.journal?.effectsPending ?? Infinity;
  const keptUp = finished >= 0.9 * publish.sent && effectsPending <= PLAN.retentionRate * 10 * 2;
  log(`retention: ${fmt(secondHalf / 1024, 1)} KiB/s over the second half (without retention about ${without === null ? '?' : fmt(without / 1024, 1)} KiB/s)`);
  return {
    rate: PLAN.retentionRate, seconds: PLAN.retentionSeconds, retention: PLAN.retention, events: publish.sent, samples,
    secondHalfBytesPerSecond: secondHalf, withoutRetentionBytesPerSecond: without, runsAtEnd, finished, effectsPending,
    flat: keptUp ? flatEnough : null,
  };
}

/** Builds in flight: seeded by one process, polled by the daemon's core in a fresh one (its memory alone). */
async function inflight(): Promise<InflightFigures> {
  const journalPath = path.join(tmp, 'inflight.db');
  const seeded = (await startWorker('seed', { phase: 'seed', builds: PLAN.builds, pollIntervalMs: PLAN.pollIntervalMs, journalPath }).next('result'))
    .result as { running: number; seconds: number };
  log(`seeded ${fmt(seeded.running)} running builds in ${seeded.seconds.toFixed(1)} s`);
  const f = (await startWorker('inflight', {
    phase: 'inflight', maxPollsPerSecond: PLAN.maxPollsPerSecond, pollIntervalMs: PLAN.pollIntervalMs, seconds: PLAN.inflightSeconds, journalPath,
  }).next('result')).result as InflightFigures;
  f.seedSeconds = seeded.seconds;
  log(`in flight: ${fmt(f.steadyPollsPerSecond, 1)} polls/s, peak RSS ${f.memoryMB.peakRss} MB`);
  return f;
}

/** PostgreSQL (issue 12, item 6): one daemon, then three on one consumer queue, each run on a fresh database. */
async function postgresPhase(): Promise<PostgresFigures> {
  const why = postgresUnsupported();
  if (why) { log(`PostgreSQL: not run: ${why}`); return { skipped: why, rows: [] }; }
  postgres = await startBenchPostgres();
  log(`PostgreSQL: ${postgres.origin}`);
  const rows: DrainRow[] = [];
  for (const daemons of PLAN.postgresDaemons) {
    const url = postgres.newDatabase(`cvp_bench_${daemons}`);
    rows.push(await drain({
      label: `pg-${daemons}`, title: `PostgreSQL, ${daemons} daemon${daemons > 1 ? 's' : ''}`, events: PLAN.postgresEvents, peers: 'stand-ins',
      builds: 'finish-at-once', pollInterval: PLAN.busyPollInterval, maxPollsPerSecond: PLAN.busyMaxPollsPerSecond, capSeconds: PLAN.busyCapSeconds,
      daemons, journal: { kind: 'postgres', url },
    }));
  }
  return { server: postgres.origin, rows };
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = os.loadavg()[0];
  log(`${QUICK ? 'quick' : 'full'} run (phases: ${[...PHASES].join(', ')}); temporary files in ${tmp}; 1-min load ${loadAtStart.toFixed(1)} on ${os.cpus().length} CPUs`);
  if (process.env.BENCH_CPU_PROF) {
    process.env.BENCH_CPU_PROF = path.resolve(process.env.BENCH_CPU_PROF);
    fs.mkdirSync(process.env.BENCH_CPU_PROF, { recursive: true });
  }
  broker = await startBenchBroker(path.join(tmp, 'broker'));
  port = broker.stompPort;
  log(`ActiveMQ up on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const has = (p: Phase): boolean => PHASES.has(p);

  if (PLAN.warmupMessages) {
    const consumer = newConsumer();
    await fill(consumer, PLAN.warmupMessages);
    await startWorker('warmup', {
      phase: 'bare', port, consumer, count: PLAN.warmupMessages, prefetch: PLAN.prefetch, heartbeatMs: PLAN.heartbeatMs, maxSeconds: PLAN.consumeCapSeconds,
    }).next('result');
  }
  const raw: RawRow[] = [await rawConsume('before')];
  const drains: DrainRow[] = [];
  const busyOptions = (label: string, title: string, peersKind: DrainOptions['peers']): DrainOptions => ({
    label, title, events: PLAN.busyEvents, peers: peersKind, builds: 'finish-at-once', pollInterval: PLAN.busyPollInterval,
    maxPollsPerSecond: PLAN.busyMaxPollsPerSecond, capSeconds: PLAN.busyCapSeconds, daemons: 1, journal: { kind: 'sqlite', path: path.join(tmp, `${label}.db`) },
  });
  if (has('busy')) drains.push(await drain(busyOptions('busy', 'the product (HTTP to the stand-ins)', 'stand-ins')));
  if (has('instant')) drains.push(await drain(busyOptions('instant', 'instant in-process peers (not the product\'s adapters)', 'instant')));
  if (has('shared')) {
    drains.push(await drain({ ...busyOptions('shared', 'three daemons, one SQLite file', 'stand-ins'), daemons: 3 }));
  }
  if (drains.length) raw.push(await rawConsume('after'));

  const latencyRows: LatencyRow[] = [];
  if (has('latency')) for (const rate of PLAN.latencyRates) latencyRows.push(await latency(rate));

  if (has('backlog')) {
    drains.push(await drain({
      label: 'backlog', title: 'the product, a backlog drained', events: PLAN.backlogEvents, peers: 'stand-ins', builds: 'run-for-ever',
      pollInterval: DEFAULTS.pollInterval, maxPollsPerSecond: DEFAULTS.maxPollsPerSecond, capSeconds: PLAN.backlogCapSeconds, settleMs: PLAN.settleMs,
      daemons: 1, journal: { kind: 'sqlite', path: path.join(tmp, 'backlog.db') },
    }));
  }
  const bytesPerEvent = drains.find((d) => d.label === 'busy')?.journalBytesPerEvent;
  const retentionFigures = has('retention') ? await retention(bytesPerEvent) : undefined;
  const inflightFigures = has('inflight') ? await inflight() : undefined;
  const postgresFigures = has('postgres') ? await postgresPhase() : undefined;
  if (peers) { peers.send({ type: 'stop' }); await peers.next('stopped', 30_000).catch(() => undefined); peers.kill(); }

  await broker.stop();
  const figures: Figures = {
    bodyBytes: Buffer.byteLength(groupEvent(artifactId('size', 0))), raw, drains, latency: latencyRows, inflight: inflightFigures,
    retention: retentionFigures, postgres: postgresFigures, totalSeconds: (Date.now() - started) / 1000, load: [loadAtStart, os.loadavg()[0]],
  };
  console.log(printFigures(figures));
  const file = path.join(packageRoot, 'bench', 'results', 'latest.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify({ cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, ...figuresJson(figures) as object }, null, 2)}\n`);
  console.log(`Figures written to ${path.relative(process.cwd(), file) || file}.`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
