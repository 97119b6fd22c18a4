/**
 * A daemon under measurement, in this process: either the product as `cvp listen` builds it
 * (buildDaemon from a generated config, so its real Jenkins, ResultsDB and Slack adapters talk
 * HTTP to the stand-ins in another process), or, labelled as such, the same core with peers that
 * answer in-process ("instant"). It is observed, never changed: acks and deliveries are counted on
 * its bus, triggers, finished runs and deliveries through its metrics.
 */
import { join } from 'node:path';
import { StompBus } from '../src/adapters/bus/stomp-bus';
import { keepAliveFetch } from '../src/adapters/http/keep-alive-fetch';
import { SqliteJournal } from '../src/adapters/store/sqlite/sqlite-journal';
import { buildDaemon } from '../src/cli/build-daemon';
import { openJournal } from '../src/cli/open-journal';
import { durationMs } from '../src/config/config';
import { parseConfig } from '../src/config/load-config';
import { Redactor } from '../src/config/redactor';
import type { Daemon } from '../src/listener/daemon';
import { systemClock, type Delivery, type Metrics } from '../src/listener/ports';
import type { JournalQueries } from '../src/listener/ports/journal-queries';
import { schemasDir } from '../src/paths';
import { EventValidator } from '../src/validator/event-validator';
import { HOST } from './broker';
import { benchConfigYaml, benchLogger, CountingMetrics, InstantExecutor, type JournalSpec, PEER_ENV, wireCore } from './fixtures';
import type { PeerUrls } from './peers';

export interface DaemonSpec {
  port: number;
  consumer: string;
  prefetch: number;
  heartbeatMs: number;
  journal: JournalSpec;
  /** The product's adapters against the stand-ins at these URLs, or peers answering in-process. */
  peers: PeerUrls | 'instant';
  /** Instant peers only (the Jenkins stand-in is told by the parent). */
  builds: 'finish-at-once' | 'run-for-ever';
  pollInterval: string;
  maxPollsPerSecond: number;
  retention?: string;
  /** Where the generated config file would live (relative paths in it resolve from there). */
  dir: string;
}

export interface DaemonCounts {
  acks: number;
  firstDeliveryNs: string | null;
  lastAckNs: string | null;
  triggers: number;
  firstTriggerNs: string | null;
  lastTriggerNs: string | null;
  finished: number;
  delivered: number;
  failedDeliveries: number;
}

export interface JournalCounts {
  runs: number;
  /** Runs not yet triggered: pending, or triggering (claimed, or a retry due). */
  untriggered: number;
  unfinished: number;
  effectsPending: number;
}

export interface BenchDaemon {
  counts(): DaemonCounts;
  /** What the journal holds (a second, read-side connection, as `cvp status` would open). */
  journalCounts(): Promise<JournalCounts>;
  stop(): Promise<void>;
}

/** Counts a bus's deliveries and acks, and times the first delivery and each ack. */
function observeBus(bus: StompBus, counts: DaemonCounts, onFirstDelivery: () => void): void {
  const subscribe = bus.subscribe.bind(bus);
  bus.subscribe = (topic, onDelivery) => subscribe(topic, (d: Delivery) => {
    if (counts.firstDeliveryNs === null) {
      counts.firstDeliveryNs = String(process.hrtime.bigint());
      onFirstDelivery();
    }
    onDelivery(d);
  });
  const ack = bus.ack.bind(bus);
  bus.ack = async (d) => {
    await ack(d);
    counts.acks += 1;
    counts.lastAckNs = String(process.hrtime.bigint());
  };
}

/** Wraps the daemon's own metrics (Prometheus) so the bench sees what the core reports. */
function observeMetrics(metrics: Metrics, seen: CountingMetrics): void {
  const wrap = <K extends keyof Metrics>(name: K) => {
    const original = (metrics[name] as (...a: unknown[]) => void).bind(metrics);
    const count = (seen[name] as (...a: unknown[]) => void).bind(seen);
    (metrics as unknown as Record<K, (...a: unknown[]) => void>)[name] = (...a: unknown[]) => { count(...a); original(...a); };
  };
  for (const name of ['messageJudged', 'deadLettered', 'runFinished', 'runTriggered', 'effectDelivered', 'effectFailed'] as const) wrap(name);
}

function toCounts(c: DaemonCounts, m: CountingMetrics): DaemonCounts {
  return {
    ...c, triggers: m.triggers, firstTriggerNs: m.triggers ? String(m.firstTriggerNs) : null, lastTriggerNs: m.triggers ? String(m.lastTriggerNs) : null,
    finished: m.finished, delivered: m.delivered, failedDeliveries: m.failedDeliveries,
  };
}

async function readJournal(q: JournalQueries): Promise<JournalCounts> {
  const s = await q.stats(Date.now());
  const n = (state: string): number => s.runsByState[state] ?? 0;
  const runs = Object.values(s.runsByState).reduce((a, b) => a + b, 0);
  return {
    runs, untriggered: n('pending') + n('triggering'), unfinished: runs - n('finished'),
    effectsPending: Object.values(s.effectsPending).reduce((a, b) => a + b, 0),
  };
}

/** Starts the daemon and resolves once its subscription is confirmed (messages may already flow). */
export async function startBenchDaemon(spec: DaemonSpec, onFirstDelivery: () => void = () => undefined): Promise<BenchDaemon> {
  const counts: DaemonCounts = {
    acks: 0, firstDeliveryNs: null, lastAckNs: null, triggers: 0, firstTriggerNs: null, lastTriggerNs: null, finished: 0, delivered: 0, failedDeliveries: 0,
  };
  const seen = new CountingMetrics();
  let queries: JournalQueries | undefined;
  let daemon: Daemon;
  let openQueries: () => Promise<JournalQueries>;
  let bus: StompBus;

  if (spec.peers === 'instant') {
    const log = benchLogger();
    if (spec.journal.kind !== 'sqlite') throw new Error('instant peers: SQLite journals only');
    const journalPath = spec.journal.path;
    bus = new StompBus({
      servers: [{ host: HOST, port: spec.port }], consumer: spec.consumer, heartbeatMs: spec.heartbeatMs, connectTimeoutMs: 10_000,
      reconnectDelayMs: 1_000, maxReconnectDelayMs: 30_000, prefetch: spec.prefetch, log,
    });
    const w = await wireCore({
      journalPath, bus, consumer: spec.consumer, executor: new InstantExecutor({ finishAtOnce: spec.builds === 'finish-at-once' }), peers: true, log,
      pollIntervalMs: durationMs(spec.pollInterval, 15_000), maxPollsPerSecond: spec.maxPollsPerSecond, metrics: seen,
    });
    daemon = w.core.daemon;
    openQueries = async () => new SqliteJournal(journalPath);
  } else {
    const validator = new EventValidator(schemasDir);
    const yaml = benchConfigYaml({
      stompPort: spec.port, consumer: spec.consumer, prefetch: spec.prefetch, heartbeatMs: spec.heartbeatMs, journal: spec.journal,
      peers: spec.peers, pollInterval: spec.pollInterval, maxPollsPerSecond: spec.maxPollsPerSecond, retention: spec.retention,
    });
    const loaded = parseConfig(yaml, join(spec.dir, 'cvp.yaml'), PEER_ENV, (t) => validator.knows(t));
    // As `cvp listen` does: JSON lines, secrets blanked out of every line.
    const log = benchLogger(new Redactor(loaded.secrets));
    // The fetch `cvp listen` passes (src/cli/main.ts): without it the adapters fall back to the built-in one.
    const built = await buildDaemon(loaded, { env: PEER_ENV, clock: systemClock, log, print: () => undefined, fetch: keepAliveFetch() }, validator);
    if (!built.bus) throw new Error('the generated config has no bus');
    bus = built.bus;
    observeMetrics(built.metrics, seen);
    daemon = built.daemon;
    openQueries = () => openJournal(loaded, { forDaemon: false });
  }
  observeBus(bus, counts, onFirstDelivery);
  await daemon.start();
  await bus.whenSubscribed();
  return {
    counts: () => toCounts(counts, seen),
    journalCounts: async () => readJournal(queries ??= await openQueries()),
    stop: async () => {
      await daemon.stop();
      await queries?.close();
    },
  };
}
