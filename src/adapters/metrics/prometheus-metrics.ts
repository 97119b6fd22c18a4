import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JournalQueries, JournalStats } from '../../listener/ports/journal-queries';
import type { Clock, Metrics } from '../../listener/ports';
import { type Agreement, shadowAgreement } from '../../listener/people/agreement';
import type { WatchdogState } from '../../listener/watchdog';

export interface PrometheusMetricsOptions {
  journal: Pick<JournalQueries, 'stats'>;
  /** The journal gauges are read at most this often (ms), however often /metrics is scraped. */
  statsMaxAgeMs?: number;
  clock: Clock;
  /** Broker reconnects so far, read at each scrape. */
  reconnects?: () => number;
  /** The shadow agreement per product: computed from the journal at most every `maxAgeMs` (default 60 s), over `windowMs` (default 30 days). */
  agreement?: { queries: Pick<JournalQueries, 'decisions' | 'actions'>; windowMs?: number; maxAgeMs?: number };
  /** The watchdog's last look (no query at scrape time). */
  watchdog?: () => WatchdogState | null;
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
    this.peopleGauges(opts);
    const reconnects = opts.reconnects;
    new Gauge({
      name: 'cvp_broker_reconnects', help: 'Times the broker connection was lost and made again since start', registers,
      collect() { this.set(reconnects ? reconnects() : 0); },
    });
  }

  /** Shadow agreement and the watchdog: read from caches, so a scrape costs no more than one query per interval. */
  private peopleGauges(opts: PrometheusMetricsOptions): void {
    const registers = [this.registry];
    const a = opts.agreement;
    if (a) {
      let cached: { at: number; value: Agreement } | null = null;
      let reading: Promise<Agreement> | null = null;
      const current = async (): Promise<Agreement> => {
        const now = opts.clock.now();
        if (cached && now - cached.at < (a.maxAgeMs ?? 60_000)) return cached.value;
        reading ??= Promise.all([a.queries.decisions(undefined, 10_000), a.queries.actions(undefined, 10_000)])
          .then(([decisions, actions]) => { cached = { at: now, value: shadowAgreement(decisions, actions, now - (a.windowMs ?? 30 * 86_400_000)) }; return cached.value; })
          .finally(() => { reading = null; });
        return reading;
      };
      new Gauge({
        name: 'cvp_shadow_agreement_ratio', help: 'Share of gates decided in shadow or off mode (over the window) where people then did what CVP decided, of those they acted on; by product', labelNames: ['product'], registers,
        async collect() { const v = await current(); this.reset(); for (const p of v.products) if (p.ratio !== null) this.set({ product: p.product }, p.ratio); },
      });
      new Gauge({
        name: 'cvp_shadow_gates', help: 'Gates decided in shadow or off mode over the window, by product and whether people agreed, disagreed or have not acted yet', labelNames: ['product', 'verdict'], registers,
        async collect() {
          const v = await current();
          this.reset();
          for (const p of v.products) {
            this.set({ product: p.product, verdict: 'agreed' }, p.agreed);
            this.set({ product: p.product, verdict: 'disagreed' }, p.disagreed);
            this.set({ product: p.product, verdict: 'not_acted' }, p.notActed);
          }
        },
      });
    }
    const watchdog = opts.watchdog;
    if (watchdog) {
      new Gauge({
        name: 'cvp_topic_silence_seconds', help: 'Seconds since a watched topic last delivered a message (or since the daemon started watching)', labelNames: ['topic'], registers,
        collect() { this.reset(); for (const t of watchdog()?.topics ?? []) this.set({ topic: t.topic }, t.silenceMs / 1000); },
      });
      new Gauge({
        name: 'cvp_watchdog_alarm', help: 'The watchdog\'s alarms: 1 while raised, 0 once cleared (silence:<topic>, run:<rule>)', labelNames: ['key'], registers,
        collect() { this.reset(); for (const al of watchdog()?.alarms ?? []) this.set({ key: al.key }, al.raised ? 1 : 0); },
      });
    }
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
