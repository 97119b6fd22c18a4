import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JournalQueries, JournalStats } from '../../listener/ports/journal-queries';
import type { Clock, Metrics } from '../../listener/ports';

export interface PrometheusMetricsOptions {
  journal: Pick<JournalQueries, 'stats'>;
  /** The journal gauges are read at most this often (ms), however often /metrics is scraped. */
  statsMaxAgeMs?: number;
  clock: Clock;
  /** Broker reconnects so far, read at each scrape. */
  reconnects?: () => number;
}

/** The daemon's metrics, in a registry of its own (prom-client), served on GET /metrics. */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly received: Counter<'topic'>;
  private readonly valid: Counter<'topic'>;
  private readonly rejected: Counter<'topic' | 'code'>;
  private readonly duplicates: Counter<'topic'>;
  private readonly deadLetters: Counter<'topic'>;
  private readonly runsFinished: Counter<'outcome'>;
  private readonly runsTriggered: Counter;
  private readonly delivery: Histogram<'peer'>;
  private readonly effectFailures: Counter<'peer' | 'permanent'>;
  readonly unauthorized: Counter<'path'>;
  private stats: { at: number; value: JournalStats } | null = null;
  private reading: Promise<JournalStats> | null = null;

  constructor(opts: PrometheusMetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.received = new Counter({ name: 'cvp_messages_received_total', help: 'Messages received, by topic', labelNames: ['topic'], registers });
    this.valid = new Counter({ name: 'cvp_messages_valid_total', help: 'Messages that passed validation, by topic', labelNames: ['topic'], registers });
    this.rejected = new Counter({ name: 'cvp_messages_rejected_total', help: 'Messages rejected, by topic and reason code', labelNames: ['topic', 'code'], registers });
    this.duplicates = new Counter({ name: 'cvp_messages_duplicate_total', help: 'Messages seen before (redeliveries), by topic', labelNames: ['topic'], registers });
    this.deadLetters = new Counter({ name: 'cvp_messages_dead_lettered_total', help: 'Rejected messages queued for the dead-letter destination, by topic', labelNames: ['topic'], registers });
    this.runsTriggered = new Counter({ name: 'cvp_runs_triggered_total', help: 'Builds triggered', registers });
    this.runsFinished = new Counter({ name: 'cvp_runs_finished_total', help: 'Runs finished, by outcome', labelNames: ['outcome'], registers });
    this.delivery = new Histogram({
      name: 'cvp_effect_delivery_seconds', help: 'From an effect being recorded to its delivery, by peer', labelNames: ['peer'], registers,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
    });
    this.effectFailures = new Counter({ name: 'cvp_effect_failures_total', help: 'Failed delivery attempts, by peer; permanent ones are not retried', labelNames: ['peer', 'permanent'], registers });
    this.unauthorized = new Counter({ name: 'cvp_intake_unauthorized_total', help: 'Intake requests refused for want of a valid token or signature', labelNames: ['path'], registers });
    const { journal, clock } = opts;
    // The journal's gauges are cached: a scrape (or many) costs one journal query per interval at most.
    const maxAge = opts.statsMaxAgeMs ?? 5_000;
    const current = async (): Promise<JournalStats> => {
      const now = clock.now();
      if (this.stats && now - this.stats.at < maxAge) return this.stats.value;
      this.reading ??= journal.stats(now).then((value) => { this.stats = { at: now, value }; return value; }).finally(() => { this.reading = null; });
      return this.reading;
    };
    new Gauge({
      name: 'cvp_runs', help: 'Runs in the journal, by state', labelNames: ['state'], registers,
      async collect() { const s = await current(); this.reset(); for (const [state, n] of Object.entries(s.runsByState)) this.set({ state }, n); },
    });
    new Gauge({
      name: 'cvp_effects_pending', help: 'Effects not yet delivered, by peer', labelNames: ['peer'], registers,
      async collect() {
        const pending = (await current()).effectsPending;
        this.reset();
        for (const peer of ['resultsdb', 'slack', 'bus', 'release']) this.set({ peer }, pending[peer] ?? 0);
      },
    });
    new Gauge({
      name: 'cvp_oldest_unfinished_run_age_seconds', help: 'Age of the oldest run that has not finished', registers,
      async collect() { this.set((await current()).oldestUnfinishedRunAgeSeconds); },
    });
    const reconnects = opts.reconnects;
    new Gauge({
      name: 'cvp_broker_reconnects', help: 'Times the broker connection was lost and made again since start', registers,
      collect() { this.set(reconnects ? reconnects() : 0); },
    });
  }

  messageJudged(topic: string, verdict: 'valid' | 'rejected' | 'duplicate', code?: string): void {
    this.received.inc({ topic });
    if (verdict === 'valid') this.valid.inc({ topic });
    else if (verdict === 'rejected') this.rejected.inc({ topic, code: code ?? 'unknown' });
    else this.duplicates.inc({ topic });
  }

  deadLettered(topic: string): void { this.deadLetters.inc({ topic }); }
  runTriggered(): void { this.runsTriggered.inc(); }
  runFinished(outcome: string): void { this.runsFinished.inc({ outcome }); }
  effectDelivered(peer: string, latencySeconds: number): void { this.delivery.observe({ peer }, latencySeconds); }
  effectFailed(peer: string, permanent: boolean): void { this.effectFailures.inc({ peer, permanent: String(permanent) }); }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
