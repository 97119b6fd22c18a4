import type { EventValidator } from '../validator/event-validator';
import type { ParseLimits } from '../validator/safe-parse';
import { Daemon, type Source } from './daemon';
import { Dispatcher } from './dispatch/dispatcher';
import { Intake } from './intake/intake';
import type { Journal } from './ports/journal';
import type { OutcomeTable } from './domain/outcome';
import { Outbox } from './effects/outbox';
import { CiMessages } from './effects/ci-messages';
import { GateKeeper, type ProductPolicy } from './gate/gate-keeper';
import type { Bus, Clock, Executor, Logger, Metrics, Notifier, ReleaseHook, ResultSink } from './ports';
import { Reporter, type ReporterOptions } from './effects/reporter';
import type { Router } from './intake/router';
import { Tracker } from './tracking/tracker';

export interface CoreDeps {
  journal: Journal;
  validator: EventValidator;
  router: Router;
  executors: Map<string, Executor>;
  results?: ResultSink;
  notifier?: Notifier;
  bus?: Bus;
  deadLetter?: string;
  sources?: Source[];
  clock: Clock;
  log: Logger;
  random?: () => number;
  outcomes: OutcomeTable;
  limits: ParseLimits;
  pollIntervalMs: Map<string, number>;
  maxPollsPerSecond: Map<string, number>;
  notices: Pick<ReporterOptions, 'advisoryUrl' | 'channel'>;
  writeQueued: boolean;
  /** Backoff bounds of effect deliveries and trigger retries. */
  retry?: { baseMs: number; maxMs: number };
  products?: Map<string, ProductPolicy>;
  release?: ReleaseHook;
  ciMessages?: { contact: Record<string, string>; topicPrefix: string; runUrl: string };
  pipelineTopics?: string[];
  metrics?: Metrics;
}

export interface Core {
  intake: Intake;
  dispatcher: Dispatcher;
  tracker: Tracker;
  outbox: Outbox;
  daemon: Daemon;
}

/** Wires the core from its ports. Adapters come from the caller: the CLI, or a test's fakes. */
export function createCore(d: CoreDeps): Core {
  const ciMessages = d.ciMessages && d.bus ? new CiMessages({ ...d.ciMessages, validator: d.validator, clock: d.clock, log: d.log }) : undefined;
  const reporter = new Reporter({ ...d.notices, writeQueued: d.writeQueued, hasResults: !!d.results, hasNotifier: !!d.notifier, ciMessages });
  const gate = d.products?.size ? new GateKeeper({
    journal: d.journal, policies: d.products, clock: d.clock, log: d.log, validator: d.validator, notices: d.notices,
    hasNotifier: !!d.notifier, contact: d.ciMessages?.contact,
  }) : undefined;
  // The daemon is made last but the parts call it back; they only do so once it has started.
  const late: { daemon?: Daemon } = {};
  const intake = new Intake({
    journal: d.journal, validator: d.validator, router: d.router, clock: d.clock, log: d.log, limits: d.limits,
    ackVia: d.bus, deadLetter: d.bus ? d.deadLetter : undefined,
    onRuns: () => late.daemon?.runsCreated(),
    onEffects: () => late.daemon?.runsTracked(),
    gate,
    metrics: d.metrics,
    pipelineTopics: new Set(d.pipelineTopics ?? []),
    onPipelineVerdict: (runId, outcome, url, reason) => {
      if (tracker.finishFromPipeline(runId, outcome, url, reason)) late.daemon?.runsTracked();
    },
  });
  const common = { journal: d.journal, executors: d.executors, reporter, outcomes: d.outcomes, clock: d.clock, log: d.log };
  const dispatcher = new Dispatcher({ ...common, gate, metrics: d.metrics, random: d.random, retry: d.retry, onTracked: () => late.daemon?.runsTracked() });
  const tracker = new Tracker({ ...common, gate, metrics: d.metrics, pollIntervalMs: d.pollIntervalMs, maxPollsPerSecond: d.maxPollsPerSecond });
  const outbox = new Outbox({ journal: d.journal, clock: d.clock, log: d.log, results: d.results, notifier: d.notifier, bus: d.bus, release: d.release, random: d.random, metrics: d.metrics,
    baseDelayMs: d.retry?.baseMs, maxDelayMs: d.retry?.maxMs });
  const daemon = new Daemon({
    journal: d.journal, intake, dispatcher, tracker, outbox, bus: d.bus,
    topics: [...new Set([...d.router.topics(), ...(d.pipelineTopics ?? [])])], sources: d.sources ?? [], clock: d.clock, log: d.log,
    gate,
  });
  late.daemon = daemon;
  return { intake, dispatcher, tracker, outbox, daemon };
}
