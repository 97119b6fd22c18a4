/**
 * `npm run bench`: the figures of DESIGN.md's "What the design must allow", measured on a real
 * ActiveMQ. It prints them and writes bench/results/latest.json; it never fails on a figure.
 *
 *   1. a bare stompit consumer (client-individual ack per message, heart-beats, prefetch 200/500);
 *   2. CVP's intake on the same queue and messages (StompBus → Intake → SQLite journal → ack),
 *      alone and inside the running daemon, and its ratio to (1);
 *   3. publish → Jenkins trigger latency at 200 events/s;
 *   4. 10,000 builds in flight: polls/s against the configured rate, memory.
 *
 * BENCH_QUICK=1: a smaller run (about 30 s). BENCH_PHASES=consume,latency,inflight: only those.
 * BENCH_LATENCY_RATE=<events/s>: another rate for (3).
 * BENCH_LOG=off: no log lines (default: the daemon's pino JSON lines, written to a file).
 * BENCH_CPU_PROF=<dir>: a V8 CPU profile of each measured window, <dir>/<label>.cpuprofile.
 * Each measurement runs in a process of its own (bench/worker.ts); this one owns the broker,
 * publishes, and cleans up (broker, processes, temporary files) however it ends.
 */
import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../src/paths';
import { type BenchBroker, startBenchBroker } from './broker';
import { artifactId, groupEvent, queueOf, stampedId } from './fixtures';
import { fmt, percentile, round, table } from './report';
import { publishMany, publishPaced } from './stomp';
import type { FromWorker, Task, ToWorker } from './worker';

const QUICK = process.env.BENCH_QUICK === '1';
const PHASES = new Set((process.env.BENCH_PHASES ?? 'consume,latency,inflight').split(',').map((p) => p.trim()));
const PLAN = {
  messages: QUICK ? 2_000 : 20_000,
  warmupMessages: QUICK ? 0 : 5_000,
  /** A consumer that has not acked every message by then is timed over what it acked. */
  consumeCapSeconds: QUICK ? 2 : 10,
  prefetches: QUICK ? [200] : [200, 500],
  heartbeatMs: 10_000,
  latencyRate: Number(process.env.BENCH_LATENCY_RATE) || 200,
  latencySeconds: QUICK ? 2 : 15,
  latencyGraceMs: QUICK ? 2_000 : 10_000,
  builds: 10_000,
  maxPollsPerSecond: 100,
  pollIntervalMs: 15_000,
  inflightSeconds: QUICK ? 3 : 20,
};
const TARGETS = { intakeRatio: 0.8, p99Ms: 20, memoryMB: 150 };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cvp-bench-'));
const children = new Set<ChildProcess>();
let broker: BenchBroker | undefined;

function cleanup(): void {
  for (const c of children) c.kill('SIGKILL');
  broker?.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => { console.error(`\n${signal}: stopping the broker and removing ${tmp}`); process.exit(130); });
}

const log = (line: string): void => { process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`); };

interface Worker {
  send(m: ToWorker): void;
  next(type: 'ready' | 'result'): Promise<unknown>;
}

/** Forks bench/worker.js for one task; its stderr (the daemon's log) goes to a file in tmp. */
function startWorker(label: string, task: Task): Worker {
  const logFile = path.join(tmp, `${label}.log`);
  const fd = fs.openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = fork(path.join(__dirname, 'worker.js'), [], { stdio: ['ignore', 'inherit', fd, 'ipc'] });
  } finally {
    fs.closeSync(fd);
  }
  children.add(child);
  const inbox: FromWorker[] = [];
  let wake: () => void = () => undefined;
  let exited: string | undefined;
  child.on('message', (m: FromWorker) => { inbox.push(m); wake(); });
  child.on('exit', (code, signal) => { children.delete(child); exited = `exited (code ${code}, signal ${signal})`; wake(); });
  child.send({ type: 'task', task, label } satisfies ToWorker);
  const tail = (): string => fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  return {
    send: (m) => { child.send(m); },
    next: async (type) => {
      for (;;) {
        const i = inbox.findIndex((m) => m.type === type || m.type === 'error');
        if (i >= 0) {
          const m = inbox.splice(i, 1)[0];
          if (m.type === 'error') throw new Error(`${label}: ${m.error}\n--- ${logFile} ---\n${tail()}`);
          return m.type === 'result' ? m.result : undefined;
        }
        if (exited) throw new Error(`${label}: worker ${exited} before '${type}'\n--- ${logFile} ---\n${tail()}`);
        await new Promise<void>((resolve) => { wake = resolve; });
      }
    },
  };
}

interface ConsumeResult { messages: number; seconds: number; rate: number; capped: boolean; cpuPercent: number; eventLoopUtilization: number }
interface IntakeResult extends ConsumeResult {
  mode: 'intake' | 'daemon'; commits: number; meanBatch: number; commitShare: number; triggeredDuringIntake: number;
  journal: Record<string, number>;
}
interface LatencyResult { peers: boolean; expected: number; triggered: number; latenciesMs: number[] }
interface InflightResult {
  builds: number; seconds: number; seedSeconds?: number; maxPollsPerSecond: number; pollIntervalMs: number; polls: number;
  pollsPerSecond: number; steadyPollsPerSecond: number; maxPollsInAnySecond: number; trackerPasses: number;
  passesPerSecond: number; rowsReadPerSecond: number; activeTimers: number; cpuPercent: number; eventLoopUtilization: number;
  memoryMB: Record<string, number>;
}

async function main(): Promise<void> {
  const started = Date.now();
  loadAtStart = os.loadavg()[0];
  log(`${QUICK ? 'quick' : 'full'} run; temporary files in ${tmp}`);
  if (process.env.BENCH_CPU_PROF) {
    process.env.BENCH_CPU_PROF = path.resolve(process.env.BENCH_CPU_PROF);
    fs.mkdirSync(process.env.BENCH_CPU_PROF, { recursive: true });
  }
  broker = await startBenchBroker(path.join(tmp, 'broker'));
  const port = broker.stompPort;
  log(`ActiveMQ up on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const bodyBytes = Buffer.byteLength(groupEvent(artifactId('size', 0)));

  // 1 and 2, per prefetch: bare consumer, intake alone, intake inside the daemon, each on a queue
  // of its own (Consumer.bench.<n>.VirtualTopic...), filled before its consumer starts.
  const bare: BareRow[] = [];
  const cvp: CvpRow[] = [];
  let seq = 0;
  const fill = async (count: number): Promise<{ consumer: string; publishRate: number }> => {
    const consumer = `Consumer.bench.r${seq++}`;
    const publishRate = await publishMany(port, queueOf(consumer), count, (i) => groupEvent(artifactId(consumer, i)));
    return { consumer, publishRate };
  };
  const common = { port, heartbeatMs: PLAN.heartbeatMs, maxSeconds: PLAN.consumeCapSeconds };
  if (PHASES.has('consume')) {
    // The broker's JIT and KahaDB warm up on a round nobody times.
    if (PLAN.warmupMessages) {
      const warm = await fill(PLAN.warmupMessages);
      await startWorker('warmup', { phase: 'bare', ...common, consumer: warm.consumer, count: PLAN.warmupMessages, prefetch: 200 }).next('result');
    }
    for (const prefetch of PLAN.prefetches) {
      const q = await fill(PLAN.messages);
      const b = await startWorker(`bare-p${prefetch}`, { phase: 'bare', ...common, consumer: q.consumer, count: PLAN.messages, prefetch })
        .next('result') as ConsumeResult;
      bare.push({ ...b, prefetch, publishRate: q.publishRate });
      log(`bare consumer, prefetch ${prefetch}: ${fmt(b.rate)} msg/s (broker took ${fmt(q.publishRate)} msg/s)`);
      for (const mode of ['intake', 'daemon'] as const) {
        const m = await fill(PLAN.messages);
        const r = await startWorker(`${mode}-p${prefetch}`, {
          phase: 'intake', ...common, consumer: m.consumer, count: PLAN.messages, prefetch, mode, journalPath: path.join(tmp, `${mode}-p${prefetch}.db`),
        }).next('result') as IntakeResult;
        cvp.push({ ...r, prefetch, publishRate: m.publishRate, ratio: r.rate / b.rate });
        log(`CVP ${mode}, prefetch ${prefetch}: ${fmt(r.rate)} msg/s (${(r.rate / b.rate).toFixed(2)} x bare)${r.capped ? `, ${fmt(r.messages)} acked in ${PLAN.consumeCapSeconds} s` : ''}`);
      }
    }
  }

  // 3: publish → trigger at 200 events/s, the publisher in this process, the daemon in a worker.
  const latency: LatencyRow[] = [];
  for (const peers of PHASES.has('latency') ? [false, true] : []) {
    const label = `latency-${peers ? 'peers' : 'jenkins'}`;
    const consumer = `Consumer.bench.r${seq++}`;
    const w = startWorker(label, { phase: 'latency', port, consumer, prefetch: 200, heartbeatMs: PLAN.heartbeatMs, peers, journalPath: path.join(tmp, `${label}.db`) });
    await w.next('ready');
    const publish = await publishPaced(port, queueOf(consumer), PLAN.latencyRate, PLAN.latencySeconds, (i, at) => groupEvent(stampedId(i, at)));
    w.send({ type: 'finish', expected: publish.sent, graceMs: PLAN.latencyGraceMs });
    const r = await w.next('result') as LatencyResult;
    latency.push({ ...r, publish });
    log(`latency (${peers ? 'with ResultsDB and Slack' : 'Jenkins only'}): p99 ${fmt(percentile(padMissing(r), 99), 1)} ms, ${r.triggered}/${publish.sent} triggered`);
  }

  // 4: builds in flight, seeded by one process, polled by the daemon in a fresh one (its memory alone).
  let inflight: InflightResult | undefined;
  if (PHASES.has('inflight')) {
    const journalPath = path.join(tmp, 'inflight.db');
    const seeded = await startWorker('seed', { phase: 'seed', builds: PLAN.builds, pollIntervalMs: PLAN.pollIntervalMs, journalPath })
      .next('result') as { running: number; seconds: number };
    log(`seeded ${fmt(seeded.running)} running builds in ${seeded.seconds.toFixed(1)} s`);
    inflight = await startWorker('inflight', {
      phase: 'inflight', maxPollsPerSecond: PLAN.maxPollsPerSecond, pollIntervalMs: PLAN.pollIntervalMs, seconds: PLAN.inflightSeconds, journalPath,
    }).next('result') as InflightResult;
    inflight.seedSeconds = seeded.seconds;
    log(`in flight: ${fmt(inflight.steadyPollsPerSecond, 1)} polls/s, peak RSS ${inflight.memoryMB.peakRss} MB`);
  }

  await broker.stop();
  const totalSeconds = (Date.now() - started) / 1000;
  report({ bodyBytes, bare, cvp, latency, inflight, totalSeconds });
}

/** Events never triggered count as infinitely late, so a backlog shows in the percentiles. */
function padMissing(r: LatencyResult): number[] {
  return [...r.latenciesMs, ...Array<number>(Math.max(0, r.expected - r.triggered)).fill(Infinity)];
}

let loadAtStart = 0;

type BareRow = ConsumeResult & { prefetch: number; publishRate: number };
type CvpRow = IntakeResult & { prefetch: number; publishRate: number; ratio: number };
type LatencyRow = LatencyResult & { publish: Awaited<ReturnType<typeof publishPaced>> };

const meets = (ok: boolean): string => (ok ? 'meets' : 'MISSES');

function consumeTable(bare: BareRow[], cvp: CvpRow[], bodyBytes: number): string {
  const rows: string[][] = [];
  const rate = (r: ConsumeResult): string => `${fmt(r.rate)}${r.capped ? '*' : ''}`;
  for (const prefetch of PLAN.prefetches) {
    const b = bare.find((x) => x.prefetch === prefetch);
    if (!b) continue;
    rows.push(['bare stompit consumer', String(prefetch), rate(b), '1.00', '', fmt(b.cpuPercent), fmt(b.eventLoopUtilization, 2), '', '', '']);
    for (const r of cvp.filter((x) => x.prefetch === prefetch)) {
      rows.push([
        r.mode === 'intake' ? 'CVP intake alone' : 'CVP intake in the daemon', String(prefetch), rate(r), r.ratio.toFixed(2),
        meets(r.ratio >= TARGETS.intakeRatio), fmt(r.cpuPercent), fmt(r.eventLoopUtilization, 2), fmt(r.meanBatch, 1),
        `${fmt(r.commitShare * 100)} %`, r.mode === 'daemon' ? fmt(r.triggeredDuringIntake) : '',
      ]);
    }
  }
  const capped = [...bare, ...cvp].some((r) => r.capped);
  return table(`1-2. Broker -> ack: ${fmt(PLAN.messages)} messages of ${bodyBytes} bytes (redhat-container-group.test.queued) per row, ` +
    `client-individual ack per message, heart-beats ${PLAN.heartbeatMs / 1000} s; target ratio >= ${TARGETS.intakeRatio}`,
  ['consumer', 'prefetch', 'msg/s', 'ratio', 'target', 'CPU %', 'ELU', 'batch', 'in commits', 'triggered meanwhile'], rows) +
    (capped ? `\n* not every message was acked within ${PLAN.consumeCapSeconds} s: the rate is over what was.` : '') +
    '\nCPU %: of one core (GC threads can take it past 100). ELU: event-loop utilization. batch: messages per journal commit. in commits: share of the time inside commitIntake.' +
    '\nintake alone: StompBus -> Intake -> journal -> ack. in the daemon: the same with the dispatcher, tracker and outbox' +
    '\nrunning (Jenkins, ResultsDB and Slack answer at once).';
}

function latencyTable(latency: LatencyRow[]): string {
  const rows = latency.map((r) => {
    const all = padMissing(r);
    const p99 = percentile(all, 99);
    return [
      r.peers ? 'Jenkins + ResultsDB + Slack' : 'Jenkins only', fmt(r.publish.rate, 1), `${r.triggered}/${r.expected}`,
      fmt(percentile(all, 50), 1), fmt(percentile(all, 95), 1), fmt(p99, 1), fmt(percentile(all, 100), 1), meets(p99 <= TARGETS.p99Ms),
    ];
  });
  return table(`3. Publish -> Jenkins trigger() at ${PLAN.latencyRate} events/s for ${PLAN.latencySeconds} s, ms (never: not triggered ` +
    `within ${PLAN.latencyGraceMs / 1000} s of the last publish); target p99 <= ${TARGETS.p99Ms} ms`,
  ['daemon with', 'sent/s', 'triggered', 'p50', 'p95', 'p99', 'max', 'target'], rows);
}

function inflightTable(f: InflightResult): string {
  const m = f.memoryMB;
  return table(`4. ${fmt(f.builds)} builds in flight for ${fmt(f.seconds, 0)} s: poll interval ${f.pollIntervalMs / 1000} s, ` +
    `max_polls_per_second ${f.maxPollsPerSecond}; target <= ${TARGETS.memoryMB} MB`,
  ['figure', 'value'], [
    ['polls/s, whole window', fmt(f.pollsPerSecond, 1)],
    ['polls/s, after the first second', fmt(f.steadyPollsPerSecond, 1)],
    ['most polls in any 1 s window', `${fmt(f.maxPollsInAnySecond)}${f.maxPollsInAnySecond > f.maxPollsPerSecond ? ' (over the rate)' : ''}`],
    ['tracker passes/s; journal rows read/s', `${fmt(f.passesPerSecond)}; ${fmt(f.rowsReadPerSecond)}`],
    ['CPU %; event-loop utilization', `${fmt(f.cpuPercent)}; ${fmt(f.eventLoopUtilization, 2)}`],
    ['timers active in the process', fmt(f.activeTimers)],
    ['RSS at start / journal opened / peak, MB', `${m.rssAtStart} / ${m.rssAfterOpen} / ${m.peakRss}  ${meets(m.peakRss <= TARGETS.memoryMB)}`],
    ['heap used: journal opened / peak, MB', `${m.heapUsedAfterOpen} / ${m.peakHeapUsed}`],
  ], 'll');
}

function report(d: { bodyBytes: number; totalSeconds: number; bare: BareRow[]; cvp: CvpRow[]; latency: LatencyRow[]; inflight?: InflightResult }): void {
  const out: string[] = [''];
  if (d.bare.length) out.push(consumeTable(d.bare, d.cvp, d.bodyBytes), '');
  if (d.latency.length) out.push(latencyTable(d.latency), '');
  if (d.inflight) out.push(inflightTable(d.inflight), '');
  const load = [loadAtStart, os.loadavg()[0]];
  out.push(`Total ${fmt(d.totalSeconds, 0)} s on ${os.cpus().length} CPUs, Node ${process.version}${QUICK ? ' (BENCH_QUICK)' : ''}; ` +
    `log: ${process.env.BENCH_LOG === 'off' ? 'off' : 'pino JSON lines to a file'}; 1-min load average ${load.map((l) => l.toFixed(1)).join(' -> ')}` +
    `${loadAtStart > 1 ? ' (other work was running when the bench started: the figures may be pessimistic)' : ''}.`);
  console.log(out.join('\n'));

  const f = d.inflight;
  const json = {
    date: new Date().toISOString(), quick: QUICK, node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model,
    log: process.env.BENCH_LOG === 'off' ? 'off' : 'pino json to a file', plan: PLAN, targets: TARGETS, bodyBytes: d.bodyBytes,
    totalSeconds: round(d.totalSeconds), loadAverage: { start: round(load[0], 2), end: round(load[1], 2) },
    consume: [
      ...d.bare.map((b) => ({ consumer: 'bare', prefetch: b.prefetch, rate: round(b.rate), messages: b.messages, seconds: round(b.seconds, 3),
        capped: b.capped, cpuPercent: b.cpuPercent, eventLoopUtilization: b.eventLoopUtilization, publishRate: round(b.publishRate) })),
      ...d.cvp.map((r) => ({ consumer: `cvp-${r.mode}`, prefetch: r.prefetch, rate: round(r.rate), ratio: round(r.ratio, 3), messages: r.messages,
        seconds: round(r.seconds, 3), capped: r.capped, cpuPercent: r.cpuPercent, eventLoopUtilization: r.eventLoopUtilization, commits: r.commits,
        meanBatch: round(r.meanBatch, 1), commitShare: r.commitShare, triggeredDuringIntake: r.triggeredDuringIntake, journal: r.journal,
        publishRate: round(r.publishRate) })),
    ],
    latency: d.latency.map((r) => {
      const all = padMissing(r);
      const pct = (p: number): number | null => { const v = percentile(all, p); return Number.isFinite(v) ? round(v, 2) : null; };
      return {
        daemon: r.peers ? 'jenkins+resultsdb+slack' : 'jenkins', sentPerSecond: round(r.publish.rate, 1), publisherMaxLagMs: round(r.publish.maxLagMs, 1),
        sent: r.expected, triggered: r.triggered, p50Ms: pct(50), p95Ms: pct(95), p99Ms: pct(99), maxMs: pct(100),
      };
    }),
    inflight: f ? { ...f, pollsPerSecond: round(f.pollsPerSecond), steadyPollsPerSecond: round(f.steadyPollsPerSecond),
      passesPerSecond: round(f.passesPerSecond), rowsReadPerSecond: round(f.rowsReadPerSecond), seconds: round(f.seconds),
      seedSeconds: f.seedSeconds === undefined ? undefined : round(f.seedSeconds) } : null,
  };
  const file = path.join(packageRoot, 'bench', 'results', 'latest.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`Figures written to ${path.relative(process.cwd(), file) || file}.`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
