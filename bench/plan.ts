/**
 * What `npm run bench` runs, in a full run and in a quick one (BENCH_QUICK=1), and the targets of
 * issue 11 it compares the figures with. Nothing here fails: the figures are printed and saved.
 */
export const QUICK = process.env.BENCH_QUICK === '1';

/** A positive number from the environment, or the default; anything else stops the bench, naming the variable. */
function positive(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number, found ${JSON.stringify(text)}`);
  return n;
}

export const ALL_PHASES = ['consume', 'busy', 'instant', 'latency', 'backlog', 'inflight', 'retention', 'postgres'] as const;
export type Phase = (typeof ALL_PHASES)[number] | 'shared';

/** BENCH_PHASES=busy,latency: only those (and the raw consume rate, which every ratio needs). */
export function phasesToRun(): Set<Phase> {
  const asked = process.env.BENCH_PHASES;
  const phases = new Set<Phase>(asked ? asked.split(',').map((p) => p.trim() as Phase) : ALL_PHASES);
  for (const p of phases) {
    if (![...ALL_PHASES, 'shared'].includes(p)) throw new Error(`BENCH_PHASES: no phase ${p} (phases: ${ALL_PHASES.join(', ')}, shared)`);
  }
  phases.add('consume');
  return phases;
}

export const PLAN = {
  /** The broker's JIT and KahaDB warm up on a round nobody times. */
  warmupMessages: QUICK ? 0 : 5_000,
  /** Messages of the raw consume rate, timed before and after the daemon phases. */
  consumeMessages: QUICK ? 2_000 : 20_000,
  consumeCapSeconds: QUICK ? 5 : 15,
  prefetch: 200,
  heartbeatMs: 10_000,
  /** The busy daemon: a backlog taken in, triggered, polled once, finished and reported. */
  busyEvents: positive('BENCH_BUSY_EVENTS', QUICK ? 300 : 2_000),
  busyCapSeconds: QUICK ? 20 : 180,
  /** The busy daemon's tracker: every build is finished at its first poll, so the whole path runs. */
  busyPollInterval: '1s',
  busyMaxPollsPerSecond: 1_000,
  /** Publish → trigger, at each rate, with ResultsDB and Slack on. */
  latencyRates: (process.env.BENCH_LATENCY_RATES ?? '200,1000').split(',').map(Number).filter((n) => n > 0),
  latencySeconds: QUICK ? 2 : 15,
  latencyGraceMs: QUICK ? 2_000 : 10_000,
  /** A backlog drained by the daemon (builds then run for hours): memory while it drains. */
  backlogEvents: QUICK ? 1_000 : 20_000,
  backlogCapSeconds: QUICK ? 12 : 240,
  /** After the drain, how long the daemon idles before its settled memory is read. */
  settleMs: QUICK ? 2_000 : 10_000,
  /** Builds in flight, polled at the configured rate by one scheduler. */
  builds: QUICK ? 3_000 : 50_000,
  maxPollsPerSecond: 100,
  pollIntervalMs: 15_000,
  inflightSeconds: QUICK ? 3 : 20,
  /**
   * A steady stream with retention on: the journal's size over time. The rate is one the daemon
   * sustains end to end here (10 effects per event, each an HTTP call), so finished runs can be pruned.
   */
  retentionRate: 10,
  retentionSeconds: positive('BENCH_RETENTION_SECONDS', QUICK ? 12 : 120),
  retention: QUICK ? '2s' : '4s',
  /** PostgreSQL (issue 12): daemons sharing one journal, each run on the same backlog. */
  postgresDaemons: [1, 3],
  postgresEvents: QUICK ? 1_000 : 5_000,
};

/** The default production settings the latency and backlog daemons run with (config.schema.json). */
export const DEFAULTS = { pollInterval: '15s', maxPollsPerSecond: 10 };

export const TARGETS = {
  intakeRatio: 0.8,
  triggerRatio: 0.4,
  p99Ms: 20,
  p99AtRate: 1_000,
  memoryMB: 150,
  inflightBuilds: 50_000,
  backlogEvents: 20_000,
  /** "Flat": the journal grows, over the second half of the stream, by less than this share of what it would without retention. */
  flatShare: 0.1,
};
