import type { EventValidator } from '../validator/event-validator';
import type { ParseLimits } from '../validator/safe-parse';
import { Daemon, type Source } from './daemon';
import { Dispatcher, type DispatcherDeps } from './dispatch/dispatcher';
import type { BucketPolicy, OutcomeTable } from './domain';
import { CiMessages } from './effects/ci-messages';
import { Outbox } from './effects/outbox';
import { Reporter, type ReporterOptions } from './effects/reporter';
import { GateKeeper, type ProductPolicy } from './gate/gate-keeper';
import { Intake } from './intake/intake';
import type { Router } from './intake/router';
import { JournalHealth } from './journal-health';
import { ownerId } from './owner';
import type { Bus, Clock, Executor, Logger, Metrics, Notifier, ReleaseHook, ResultSink } from './ports';
import type { Journal, RetentionPolicy } from './ports/journal';
import type { Lookup } from './ports/lookup';
import { Tracker } from './tracking/tracker';
import { Actions, type ActionsDeps } from './people/actions';
import { Watchdog, type WatchdogOptions } from './watchdog';

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
  notices: Pick<ReporterOptions, 'advisoryUrl' | 'channel' | 'interactive'>;
  writeQueued: boolean;
  /** Backoff bounds of effect deliveries and trigger retries. */
  retry?: { baseMs: number; maxMs: number };
  products?: Map<string, ProductPolicy>;
  release?: ReleaseHook;
  ciMessages?: { contact: Record<string, string>; topicPrefix: string; runUrl: string };
  pipelineTopics?: string[];
  metrics?: Metrics;
  /** This process's claim owner (default: host/pid/nonce) and how long a claim holds (default 2 min). */
  owner?: string;
  leaseMs?: number;
  /** Triggers per second per executor, shared by every daemon of the journal. */
  triggerRate?: Map<string, BucketPolicy>;
  checkJob?: DispatcherDeps['checkJob'];
  /** Makes the HTTP GETs of rules' lookups. */
  lookup?: Lookup;
  maxParameterLength?: number;
  startupChecks?: () => Promise<void>;
  retention?: RetentionPolicy & { intervalMs: number };
  /** A notice's key (Slack metadata); random by default. */
  newKey?: () => string;
  /** Who may act on a product from Slack (its approvers); the CLI is trusted. */
  allowed?: ActionsDeps['allowed'];
  /** Topics' longest silences and rules' timeouts the watchdog holds them to. */
  watchdog?: WatchdogOptions;
}

export interface Core {
  intake: Intake;
  dispatcher: Dispatcher;
  tracker: Tracker;
  outbox: Outbox;
  gate?: GateKeeper;
  daemon: Daemon;
  health: JournalHealth;
  owner: string;
  /** People's actions: release, hold, rerun, waive, revoke. */
  actions: Actions;
  watchdog?: Watchdog;
}

/** Wires the core from its ports. Adapters come from the caller: the CLI, or a test's fakes. */
export function createCore(d: CoreDeps): Core {
  const owner = d.owner ?? ownerId();
  const leaseMs = d.leaseMs ?? 120_000;
  const health = new JournalHealth(d.log);
  const ciMessages = d.ciMessages && d.bus ? new CiMessages({ ...d.ciMessages, validator: d.validator, clock: d.clock, log: d.log }) : undefined;
  const reporter = new Reporter({ ...d.notices, writeQueued: d.writeQueued, hasResults: !!d.results, hasNotifier: !!d.notifier, ciMessages, newKey: d.newKey });
  const gate = d.products?.size ? new GateKeeper({
    journal: d.journal, policies: d.products, clock: d.clock, log: d.log, validator: d.validator, notices: d.notices,
    hasNotifier: !!d.notifier, contact: d.ciMessages?.contact, owner, leaseMs,
  }) : undefined;
  // The daemon is made last but the parts call it back; they only do so once it has started.
  const late: { daemon?: Daemon } = {};
  const intake = new Intake({
    journal: d.journal, validator: d.validator, router: d.router, clock: d.clock, log: d.log, limits: d.limits, health,
    ackVia: d.bus, deadLetter: d.bus ? d.deadLetter : undefined,
    onRuns: () => late.daemon?.runsCreated(),
    onEffects: () => late.daemon?.effectsRecorded(),
    gate,
    metrics: d.metrics,
    pipelineTopics: new Set(d.pipelineTopics ?? []),
  });
  const common = { journal: d.journal, executors: d.executors, reporter, outcomes: d.outcomes, clock: d.clock, log: d.log, metrics: d.metrics, owner, leaseMs };
  const dispatcher = new Dispatcher({
    ...common, random: d.random, retry: d.retry, triggerRate: d.triggerRate, maxInFlight: d.router.inFlightLimits(), checkJob: d.checkJob,
    rules: (name) => d.router.rule(name), lookup: d.lookup, maxParameterLength: d.maxParameterLength,
  });
  const tracker = new Tracker({ ...common, pollIntervalMs: d.pollIntervalMs, maxPollsPerSecond: d.maxPollsPerSecond });
  const outbox = new Outbox({
    journal: d.journal, clock: d.clock, log: d.log, owner, leaseMs, results: d.results, notifier: d.notifier, bus: d.bus, release: d.release,
    random: d.random, metrics: d.metrics, baseDelayMs: d.retry?.baseMs, maxDelayMs: d.retry?.maxMs,
  });
  const actions = new Actions({
    journal: d.journal, policies: d.products ?? new Map(), gate, clock: d.clock, log: d.log, notices: d.notices, hasNotifier: !!d.notifier,
    allowed: d.allowed, onRecorded: () => { late.daemon?.runsCreated(); late.daemon?.effectsRecorded(); },
  });
  const watchdog = d.watchdog && (d.watchdog.silence.size || d.watchdog.runTimeouts.size)
    ? new Watchdog({ ...d.watchdog, journal: d.journal, clock: d.clock, log: d.log, hasNotifier: !!d.notifier, newKey: d.newKey })
    : undefined;
  const daemon = new Daemon({
    journal: d.journal, intake, dispatcher, tracker, outbox, gate, bus: d.bus, health, owner,
    topics: [...new Set([...d.router.topics(), ...(d.pipelineTopics ?? [])])], sources: d.sources ?? [], clock: d.clock, log: d.log,
    startupChecks: d.startupChecks, retention: d.retention, watchdog,
  });
  late.daemon = daemon;
  return { intake, dispatcher, tracker, outbox, gate, daemon, health, owner, actions, watchdog };
}
