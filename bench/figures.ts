/**
 * The bench's figures: their shapes, the tables they are printed as, which targets they meet,
 * and the JSON written to bench/results/latest.json.
 */
import { fmt, meets, percentile, round, table } from './report';
import { measuredNodeFlags } from './child';
import { PLAN, QUICK, TARGETS } from './plan';

export interface RawRow { when: 'before' | 'after'; messages: number; seconds: number; rate: number; capped: boolean; cpuPercent: number; publishRate: number }

export interface PeerFigures {
  cpuPercent: number;
  triggers: number;
  distinctRuns: number;
  jenkinsRequests: number;
  results: number;
  slackMessages: number;
  unexpected: string[];
}

/** A backlog drained by one daemon or several: the busy daemon, its instant-peers variant, the 20,000 backlog, PostgreSQL. */
export interface DrainRow {
  label: string;
  title: string;
  daemons: number;
  journal: string;
  events: number;
  /** The phase hit its time cap before the backlog was drained: the rates are over what was done. */
  capped: boolean;
  acks: number;
  intakeSeconds: number;
  intakeRate: number;
  triggers: number;
  triggerSeconds: number;
  triggerRate: number;
  /** First delivery until every run was triggered (or finished) and every effect delivered. */
  drainSeconds: number;
  finished: number;
  delivered: number;
  failedDeliveries: number;
  cpuMsPerEvent: number;
  /** Of one core, all daemons together (all threads of each process). */
  daemonCpuPercent: number;
  eventLoopUtilization: number;
  rssPeakMB: number;
  rssSettledMB: number | null;
  brokerCpuPercent: number | null;
  peers?: PeerFigures;
  journalBytesPerEvent?: number;
  publishRate: number;
}

export interface LatencyRow {
  rate: number;
  sent: number;
  sentPerSecond: number;
  publisherMaxLagMs: number;
  triggered: number;
  /** Publish → trigger arrival at the Jenkins stand-in, in publish order. */
  latenciesMs: number[];
  cpuMsPerEvent: number;
  daemonCpuPercent: number;
  eventLoopUtilization: number;
  peersCpuPercent: number;
  rssPeakMB: number;
  unexpected: string[];
}

export interface RetentionFigures {
  rate: number;
  seconds: number;
  retention: string;
  events: number;
  /** [seconds since the stream began, bytes of the journal's files (database + WAL)]. */
  samples: Array<[number, number]>;
  secondHalfBytesPerSecond: number;
  /** What the journal would grow by without retention: bytes per event (measured on the busy daemon's journal) × the rate. */
  withoutRetentionBytesPerSecond: number | null;
  runsAtEnd: number | null;
  /** Runs finished during the stream: a daemon that fell behind leaves nothing to prune, and flatness is not judged. */
  finished: number;
  /** Effects not yet delivered when the stream ended (their runs cannot be pruned). */
  effectsPending: number;
  flat: boolean | null;
}

export interface InflightFigures {
  builds: number; seconds: number; seedSeconds?: number; maxPollsPerSecond: number; pollIntervalMs: number; polls: number;
  pollsPerSecond: number; steadyPollsPerSecond: number; maxPollsInAnySecond: number; trackerPasses: number;
  passesPerSecond: number; rowsReadPerSecond: number; activeTimers: number; cpuMsPerPoll: number | null;
  memoryMB: Record<string, number>;
}

export interface PostgresFigures { skipped?: string; server?: string; rows: DrainRow[] }

export interface Figures {
  bodyBytes: number;
  raw: RawRow[];
  drains: DrainRow[];
  latency: LatencyRow[];
  inflight?: InflightFigures;
  retention?: RetentionFigures;
  postgres?: PostgresFigures;
  totalSeconds: number;
  load: [number, number];
}

/** The raw consume rate every ratio is taken against: the mean of the rounds before and after the daemons. */
export function rawRate(raw: RawRow[]): number {
  return raw.length ? raw.reduce((a, r) => a + r.rate, 0) / raw.length : NaN;
}

/** The daemon triggered (nearly) every event of the stream: its CPU per event then means something. */
export function keptUp(r: LatencyRow): boolean {
  return r.triggered >= 0.95 * r.sent;
}

/** Events never triggered count as infinitely late, so a backlog shows in the percentiles. */
export function padMissing(r: LatencyRow): number[] {
  return [...r.latenciesMs, ...Array<number>(Math.max(0, r.sent - r.triggered)).fill(Infinity)];
}

function rawTable(f: Figures): string {
  const rows = f.raw.map((r) => [`bare stompit consumer, ${r.when} the daemons`, `${fmt(r.rate)}${r.capped ? '*' : ''}`, fmt(r.cpuPercent), fmt(r.publishRate)]);
  rows.push(['raw consume rate (mean)', fmt(rawRate(f.raw)), '', '']);
  return table(`1. Raw consume: ${fmt(PLAN.consumeMessages)} messages of ${f.bodyBytes} bytes (redhat-container-group.test.queued), ` +
    `client-individual ack per message, prefetch ${PLAN.prefetch}, heart-beats ${PLAN.heartbeatMs / 1000} s`,
  ['consumer', 'msg/s', 'CPU %', 'published msg/s'], rows) +
    (f.raw.some((r) => r.capped) ? `\n* not every message was acked within ${PLAN.consumeCapSeconds} s: the rate is over what was.` : '');
}

function drainTable(title: string, rows: DrainRow[], raw: number, withTargets: boolean): string {
  const ratio = (r: number): string => (Number.isFinite(raw) ? (r / raw).toFixed(2) : '-');
  const body = rows.map((r) => [
    r.title, `${fmt(r.events)}${r.capped ? '*' : ''}`,
    `${fmt(r.intakeRate)} (${ratio(r.intakeRate)})${withTargets ? ` ${meets(r.intakeRate >= TARGETS.intakeRatio * raw)}` : ''}`,
    `${fmt(r.triggerRate)} (${ratio(r.triggerRate)})${withTargets ? ` ${meets(r.triggerRate >= TARGETS.triggerRatio * raw)}` : ''}`,
    fmt(r.drainSeconds, 1), r.capped ? 'capped' : fmt(r.cpuMsPerEvent, 2), `${fmt(r.daemonCpuPercent)} / ${fmt(r.eventLoopUtilization, 2)}`,
    r.peers ? fmt(r.peers.cpuPercent) : '-', r.brokerCpuPercent === null ? '-' : fmt(r.brokerCpuPercent),
    `${fmt(r.rssPeakMB)}${r.rssSettledMB === null ? '' : ` / ${fmt(r.rssSettledMB)}`}`,
  ]);
  return table(title, ['daemon', 'events', 'intake msg/s (x raw)', 'triggers/s (x raw)', 'drained s', 'CPU ms/event', 'CPU % / ELU', 'stand-ins CPU %', 'broker CPU %', 'RSS peak / settled MB'], body) +
    (rows.some((r) => r.capped) ? '\n* not drained within the phase\'s time cap: the rates are over what was done, CPU per event is not given.' : '');
}

function drainNotes(rows: DrainRow[]): string {
  const notes: string[] = [];
  for (const r of rows) {
    const p = r.peers;
    const checks = p ? `; the stand-ins saw ${fmt(p.triggers)} triggers (${fmt(p.distinctRuns)} runs) in ${fmt(p.jenkinsRequests)} Jenkins requests, ` +
      `${fmt(p.results)} results, ${fmt(p.slackMessages)} Slack messages` : '';
    notes.push(`  ${r.title}: ${fmt(r.acks)} acked, ${fmt(r.triggers)} triggered, ${fmt(r.finished)} finished, ${fmt(r.delivered)} effects delivered` +
      `${r.failedDeliveries ? ` (${fmt(r.failedDeliveries)} failed attempts)` : ''}${checks}` +
      `${r.journalBytesPerEvent ? `; journal ${fmt(r.journalBytesPerEvent / 1024, 1)} KiB per event` : ''}.`);
    if (p?.unexpected.length) notes.push(`    requests the stand-ins did not expect: ${p.unexpected.join('; ')}`);
  }
  return notes.join('\n');
}

function latencyTable(rows: LatencyRow[]): string {
  const body = rows.map((r) => {
    const all = padMissing(r);
    const p99 = percentile(all, 99);
    return [
      fmt(r.rate), fmt(r.sentPerSecond, 1), `${fmt(r.triggered)}/${fmt(r.sent)}`, fmt(percentile(all, 50), 1), fmt(percentile(all, 95), 1), fmt(p99, 1),
      fmt(percentile(all, 100), 1), r.rate >= TARGETS.p99AtRate ? meets(p99 <= TARGETS.p99Ms) : '', keptUp(r) ? fmt(r.cpuMsPerEvent, 2) : 'behind',
      `${fmt(r.daemonCpuPercent)} / ${fmt(r.eventLoopUtilization, 2)}`, fmt(r.peersCpuPercent), fmt(r.rssPeakMB),
    ];
  });
  return table(`3. Publish -> trigger (its arrival at the Jenkins stand-in), ms, for ${PLAN.latencySeconds} s at each rate; the product's adapters, ` +
    `ResultsDB and Slack on; "never": not triggered within ${PLAN.latencyGraceMs / 1000} s of the last publish; target p99 <= ${TARGETS.p99Ms} ms at ${fmt(TARGETS.p99AtRate)}/s`,
  ['events/s', 'sent/s', 'triggered', 'p50', 'p95', 'p99', 'max', 'target', 'CPU ms/event', 'CPU % / ELU', 'stand-ins CPU %', 'RSS peak MB'], body);
}

function inflightTable(f: InflightFigures): string {
  const m = f.memoryMB;
  const every = f.steadyPollsPerSecond > 0 ? f.builds / f.steadyPollsPerSecond : NaN;
  return table(`4. ${fmt(f.builds)} builds in flight for ${fmt(f.seconds, 0)} s: poll interval ${f.pollIntervalMs / 1000} s, ` +
    `max_polls_per_second ${f.maxPollsPerSecond}, one scheduler; executor answering in-process (the scheduler and memory, not the HTTP client); target RSS <= ${TARGETS.memoryMB} MB`,
  ['figure', 'value'], [
    ['polls/s after the first second (each build polled every)', `${fmt(f.steadyPollsPerSecond, 1)} (${fmt(every, 0)} s)  ${meets(f.steadyPollsPerSecond <= f.maxPollsPerSecond * 1.05)}`],
    ['most polls in any 1 s window', `${fmt(f.maxPollsInAnySecond)}${f.maxPollsInAnySecond > f.maxPollsPerSecond ? ' (the first second\'s burst)' : ''}`],
    ['tracker passes/s; journal rows read/s', `${fmt(f.passesPerSecond)}; ${fmt(f.rowsReadPerSecond)}`],
    ['CPU ms per poll (journal claim + settle included)', fmt(f.cpuMsPerPoll ?? NaN, 2)],
    ['timers active in the process', fmt(f.activeTimers)],
    ['RSS at start / journal opened / peak, MB', `${m.rssAtStart} / ${m.rssAfterOpen} / ${m.peakRss}  ${meets(m.peakRss <= TARGETS.memoryMB)}`],
    ['seeding the journal (another process)', `${fmt(f.seedSeconds ?? NaN, 1)} s`],
  ], 'll');
}

function retentionTable(r: RetentionFigures): string {
  const samples = r.samples.map(([t, b]) => `${fmt(t, 0)}s ${fmt(b / 1048576, 2)}`).join(', ');
  const kbs = (b: number | null): string => (b === null ? '-' : `${fmt(b / 1024, 1)} KiB/s`);
  return table(`7. Journal size under a steady stream: ${fmt(r.rate)} events/s for ${fmt(r.seconds, 0)} s, journal.retention ${r.retention} ` +
    `(pruned every ${r.retention}), builds finishing at once, ResultsDB and Slack on`, ['figure', 'value'], [
    ['events', fmt(r.events)],
    ['growth over the second half of the stream', `${kbs(r.secondHalfBytesPerSecond)}  ${r.flat === null ? 'not judged: the daemon fell behind the stream' : r.flat ? 'flat: meets' : 'NOT FLAT: MISSES'}`],
    ['runs finished during the stream; effects still to deliver at its end', `${fmt(r.finished)} of ${fmt(r.events)}; ${fmt(r.effectsPending)}`],
    ['growth without retention (bytes/event x rate)', kbs(r.withoutRetentionBytesPerSecond)],
    ['runs left in the journal at the end', r.runsAtEnd === null ? '-' : fmt(r.runsAtEnd)],
  ], 'll') + `\n   size (database + WAL, MB) over time: ${samples}`;
}

function postgresTable(p: PostgresFigures, raw: number): string {
  if (p.skipped) return `8. PostgreSQL journal, one daemon and three (issue 12): not run: ${p.skipped}.`;
  return `${drainTable(`8. PostgreSQL journal (${p.server}), one daemon and three on one consumer queue, the product's adapters`, p.rows, raw, false)}\n${drainNotes(p.rows)}`;
}

interface Verdict { target: string; measured: string; met: boolean | null; why?: string }

export function verdicts(f: Figures): Verdict[] {
  const raw = rawRate(f.raw);
  const out: Verdict[] = [];
  const busy = f.drains.find((d) => d.label === 'busy');
  if (busy) {
    out.push({ target: `busy daemon's intake >= ${TARGETS.intakeRatio} x raw consume`, measured: `${(busy.intakeRate / raw).toFixed(2)} x`, met: busy.intakeRate >= TARGETS.intakeRatio * raw });
    out.push({ target: `busy daemon's triggers >= ${TARGETS.triggerRatio} x raw consume`, measured: `${(busy.triggerRate / raw).toFixed(2)} x`, met: busy.triggerRate >= TARGETS.triggerRatio * raw });
  }
  const at = f.latency.find((l) => l.rate >= TARGETS.p99AtRate);
  if (at) {
    const p99 = percentile(padMissing(at), 99);
    out.push({ target: `p99 publish -> trigger <= ${TARGETS.p99Ms} ms at ${fmt(TARGETS.p99AtRate)} events/s, ResultsDB and Slack on`, measured: `${fmt(p99, 1)} ms`, met: p99 <= TARGETS.p99Ms });
  }
  if (f.inflight) {
    const i = f.inflight;
    const full = i.builds >= TARGETS.inflightBuilds;
    out.push({
      target: `${fmt(TARGETS.inflightBuilds)} builds in flight at the configured poll rate, RSS <= ${TARGETS.memoryMB} MB`,
      measured: `${fmt(i.builds)} builds, ${fmt(i.steadyPollsPerSecond, 1)} polls/s of ${i.maxPollsPerSecond}, ${fmt(i.memoryMB.peakRss)} MB`,
      met: full ? i.steadyPollsPerSecond <= i.maxPollsPerSecond * 1.05 && i.memoryMB.peakRss <= TARGETS.memoryMB : null,
    });
  }
  const backlog = f.drains.find((d) => d.label === 'backlog');
  if (backlog) {
    out.push({
      target: `RSS <= ${TARGETS.memoryMB} MB while draining a backlog of ${fmt(TARGETS.backlogEvents)} events`,
      measured: `${fmt(backlog.events)} events: peak ${fmt(backlog.rssPeakMB)} MB, settled ${fmt(backlog.rssSettledMB ?? NaN)} MB`,
      // A peak over the target is a miss however far the drain got; under it, only a whole drain counts.
      met: backlog.rssPeakMB > TARGETS.memoryMB ? false : backlog.events >= TARGETS.backlogEvents && !backlog.capped ? true : null,
      why: backlog.capped ? `not drained within ${PLAN.backlogCapSeconds} s` : undefined,
    });
  }
  if (f.retention) {
    out.push({ target: 'journal size flat under a steady stream with retention on', measured: `${fmt(f.retention.secondHalfBytesPerSecond / 1024, 1)} KiB/s over the second half`,
      met: f.retention.flat, why: f.retention.flat === null ? 'the daemon fell behind the stream' : undefined });
  }
  return out;
}

export function printFigures(f: Figures): string {
  const raw = rawRate(f.raw);
  const out: string[] = ['', rawTable(f), ''];
  const busy = f.drains.filter((d) => d.label === 'busy' || d.label === 'instant' || d.label.startsWith('shared'));
  if (busy.length) {
    out.push(drainTable(`2. The busy daemon: a backlog of ${fmt(PLAN.busyEvents)} events taken in, triggered, polled (max_polls_per_second ` +
      `${PLAN.busyMaxPollsPerSecond}), finished at the first poll and reported (ResultsDB, Slack); ratios to the raw rate; target intake >= ` +
      `${TARGETS.intakeRatio} x, triggers >= ${TARGETS.triggerRatio} x`, busy, raw, true), drainNotes(busy),
    '   drained s: from the first delivery until every run finished and every effect was delivered. CPU ms/event: the daemon process\'s CPU time' +
    '\n   (all threads, the SQLite thread included) over that window / events: the whole path of an event with one poll of its build.' +
    '\n   CPU %: of one core; ELU: the event loop\'s utilization. The stand-ins and the broker run in processes of their own on the same 2 cores.', '');
  }
  if (f.latency.length) out.push(latencyTable(f.latency), '');
  if (f.inflight) out.push(inflightTable(f.inflight), '');
  const busyRow = f.drains.find((d) => d.label === 'busy');
  if (busyRow && !busyRow.capped) {
    const perPoll = f.inflight?.cpuMsPerPoll;
    out.push(`5. CPU per event: ${fmt(busyRow.cpuMsPerEvent, 2)} ms for the whole path with one poll (busy daemon)` +
      `${perPoll ? `, plus ${fmt(perPoll, 2)} ms for each further poll of its build (phase 4, executor in-process)` : ''}` +
      `${f.latency.some(keptUp) ? `; at steady rates: ${f.latency.filter(keptUp).map((l) => `${fmt(l.cpuMsPerEvent, 2)} ms at ${fmt(l.rate)}/s`).join(', ')} (trigger and start notices; builds polled at the default rate)` : ''}.` +
      `\n   One daemon process on one core: about ${fmt(1000 / busyRow.cpuMsPerEvent)} events/s at 100 % of a core; size for 50 to 70 %.`, '');
  }
  const backlog = f.drains.filter((d) => d.label === 'backlog');
  if (backlog.length) {
    out.push(drainTable(`6. Memory while draining a backlog of ${fmt(PLAN.backlogEvents)} events (builds run for hours: poll interval and rate at ` +
      `their defaults); the product's adapters; settled: after ${PLAN.settleMs / 1000} s idle; target RSS <= ${TARGETS.memoryMB} MB`, backlog, raw, false), drainNotes(backlog), '');
  }
  if (f.retention) out.push(retentionTable(f.retention), '');
  if (f.postgres) out.push(postgresTable(f.postgres, raw), '');
  const v = verdicts(f);
  if (v.length) out.push(table('Targets (issue 11)', ['target', 'measured', ''], v.map((x) => [x.target, x.measured, x.met === null ? `not judged: ${x.why ?? 'not measured at full size (quick run)'}` : x.met ? 'met' : 'MISSED']), 'lll'), '');
  out.push(`Total ${fmt(f.totalSeconds, 0)} s; ${QUICK ? 'BENCH_QUICK; ' : ''}log: ${process.env.BENCH_LOG === 'off' ? 'off' : 'pino JSON lines to a file'}; ` +
    `measured processes' node flags: ${measuredNodeFlags().join(' ') || 'none'}; ` +
    `1-min load average ${f.load.map((l) => l.toFixed(1)).join(' -> ')}${f.load[0] > 1 ? ' (other work was running: the figures may be pessimistic)' : ''}.`);
  return out.join('\n');
}

export function figuresJson(f: Figures): unknown {
  const raw = rawRate(f.raw);
  const r = (n: number | null | undefined, d = 1): number | null => (n === null || n === undefined || !Number.isFinite(n) ? null : round(n, d));
  const drain = (d: DrainRow) => ({
    ...d, intakeRate: r(d.intakeRate), intakeRatio: r(d.intakeRate / raw, 3), triggerRate: r(d.triggerRate), triggerRatio: r(d.triggerRate / raw, 3),
    intakeSeconds: r(d.intakeSeconds, 3), triggerSeconds: r(d.triggerSeconds, 3), drainSeconds: r(d.drainSeconds, 2), cpuMsPerEvent: r(d.cpuMsPerEvent, 3),
    daemonCpuPercent: r(d.daemonCpuPercent), eventLoopUtilization: r(d.eventLoopUtilization, 3), brokerCpuPercent: r(d.brokerCpuPercent),
    journalBytesPerEvent: r(d.journalBytesPerEvent, 0), publishRate: r(d.publishRate),
    peers: d.peers ? { ...d.peers, cpuPercent: r(d.peers.cpuPercent) } : undefined,
  });
  return {
    date: new Date().toISOString(), quick: QUICK, node: process.version, nodeFlags: measuredNodeFlags(), plan: PLAN, targets: TARGETS, bodyBytes: f.bodyBytes,
    totalSeconds: r(f.totalSeconds), loadAverage: { start: r(f.load[0], 2), end: r(f.load[1], 2) },
    rawConsume: { rate: r(raw), rounds: f.raw.map((x) => ({ ...x, rate: r(x.rate), seconds: r(x.seconds, 3), cpuPercent: r(x.cpuPercent), publishRate: r(x.publishRate) })) },
    drains: f.drains.map(drain),
    latency: f.latency.map((l) => {
      const all = padMissing(l);
      const pct = (p: number): number | null => r(percentile(all, p), 2);
      const { latenciesMs: _samples, ...rest } = l;
      return { ...rest, sentPerSecond: r(l.sentPerSecond), cpuMsPerEvent: r(l.cpuMsPerEvent, 3), daemonCpuPercent: r(l.daemonCpuPercent),
        eventLoopUtilization: r(l.eventLoopUtilization, 3), peersCpuPercent: r(l.peersCpuPercent), p50Ms: pct(50), p95Ms: pct(95), p99Ms: pct(99), maxMs: pct(100) };
    }),
    inflight: f.inflight ? { ...f.inflight, pollsPerSecond: r(f.inflight.pollsPerSecond), steadyPollsPerSecond: r(f.inflight.steadyPollsPerSecond),
      passesPerSecond: r(f.inflight.passesPerSecond), rowsReadPerSecond: r(f.inflight.rowsReadPerSecond), seconds: r(f.inflight.seconds),
      seedSeconds: r(f.inflight.seedSeconds), cpuMsPerPoll: r(f.inflight.cpuMsPerPoll, 3) } : null,
    retention: f.retention ?? null,
    postgres: f.postgres ? { ...f.postgres, rows: f.postgres.rows.map(drain) } : null,
    verdicts: verdicts(f),
  };
}
