import { resolve } from 'node:path';
import { CommandExecutor } from '../adapters/command/command-executor';
import { HttpIntake } from '../adapters/bus/http-intake';
import { defaultConnectionLimits } from '../adapters/bus/connection-guard';
import { StompBus } from '../adapters/bus/stomp-bus';
import { PrintedResults } from '../adapters/resultsdb/printed-results';
import { ResultsDbSink } from '../adapters/resultsdb/resultsdb-sink';
import { ConsoleNotifier } from '../adapters/slack/console-notifier';
import { HttpReleaseHook } from '../adapters/release/http-release-hook';
import { HttpLookup } from '../adapters/lookup/http-lookup';
import { PrometheusMetrics } from '../adapters/metrics/prometheus-metrics';
import { Redactor } from '../config/redactor';
import { tlsOptions } from './tls-files';
import { formatOnlineCheck, jenkinsExecutorOf, onlineCheck } from './online-check';
import { CheckedJobs } from '../listener/dispatch/job-check';
import { permanentError } from '../errors';
import { redactingBus, redactingNotifier, redactingRelease, redactingResults } from './redacting-adapters';
import { SlackNotifier } from '../adapters/slack/slack-notifier';
import { peopleWiring } from './people-wiring';
import type { SlackInteractivity } from '../adapters/slack/slack-interactivity';
import { durationMs, type LoadedConfig } from '../config/config';
import { journalPathOf, openJournal } from './open-journal';
import { createCore, type Core } from '../listener/core';
import type { Daemon } from '../listener/daemon';
import { eventView } from '../listener/views/event-view';
import { defaultOutcomes, type OutcomeTable } from '../listener/domain/outcome';
import type { Clock, Executor, Logger, Notifier, ResultSink } from '../listener/ports';
import { Router } from '../listener/intake/router';
import { compileRules } from '../listener/intake/rules';
import { defaultBurst } from '../listener/domain';
import { schemasDir } from '../paths';
import { EventValidator } from '../validator/event-validator';
import { defaultParseLimits } from '../validator/safe-parse';

export interface Runtime {
  env: Record<string, string | undefined>;
  clock: Clock;
  log: Logger;
  /** Where the sandbox prints results and notices for a person to read. */
  print: (line: string) => void;
  fetch?: typeof fetch;
}

export interface Built {
  daemon: Daemon;
  metrics: PrometheusMetrics;
  intake?: HttpIntake;
  bus?: StompBus;
  journalPath: string;
  /** Slack's interactivity endpoint, when slack.signing_secret is set. */
  interactivity?: SlackInteractivity;
}

/** Wires the adapters the config names to the core. The only place that knows both. */
export async function buildDaemon(loaded: LoadedConfig, rt: Runtime, validator = new EventValidator(schemasDir)): Promise<Built> {
  const { config } = loaded;
  const { clock, log } = rt;
  const journalPath = journalPathOf(loaded);
  const journal = await openJournal(loaded, { forDaemon: true, log });

  const executors = new Map<string, Executor>();
  const pollIntervals = new Map<string, number>();
  const pollRates = new Map<string, number>();
  if (config.jenkins) {
    executors.set('jenkins', jenkinsExecutorOf(config.jenkins, rt.fetch, () => clock.now()));
    pollIntervals.set('jenkins', durationMs(config.jenkins.poll_interval, 15_000));
    pollRates.set('jenkins', config.jenkins.max_polls_per_second ?? 10);
  }
  if (config.command) {
    executors.set('command', new CommandExecutor({
      jobs: config.command.jobs,
      logsDir: resolve(loaded.dir, config.command.logs ?? 'var/jobs'),
      baseDir: loaded.dir,
      env: { PATH: rt.env.PATH, HOME: rt.env.HOME, LANG: rt.env.LANG, TMPDIR: rt.env.TMPDIR },
    }));
    pollIntervals.set('command', durationMs(config.command.poll_interval, 250));
    pollRates.set('command', 100);
  }

  const results: ResultSink = config.resultsdb
    ? new ResultsDbSink({ url: config.resultsdb.url, requestTimeoutMs: durationMs(config.resultsdb.request_timeout, 15_000), fetch: rt.fetch })
    : new PrintedResults(rt.print);
  const notifier: Notifier = config.slack?.token
    ? new SlackNotifier({ token: config.slack.token, channel: config.slack.channel, apiUrl: config.slack.api_url,
      requestTimeoutMs: durationMs(config.slack.request_timeout, 10_000), fetch: rt.fetch })
    : new ConsoleNotifier(rt.print);

  const bus = config.bus ? new StompBus({
    servers: config.bus.brokers.map((b, i) => {
      const tls = b.tls ?? config.bus!.tls;
      if (!tls) return { host: b.host, port: b.port };
      const where = b.tls ? `bus.brokers[${i}].tls` : 'bus.tls';
      // Checked now, so a bad file stops the start; read again at every attempt, so a renewed one is
      // used. An expired certificate does not stop the start: each attempt's error says it expired.
      tlsOptions(tls, where, loaded.dir, b.host, clock.now());
      return { host: b.host, port: b.port, tls: () => tlsOptions(tls, where, loaded.dir, b.host, clock.now()) };
    }),
    login: config.bus.login,
    passcode: config.bus.passcode,
    consumer: config.bus.consumer,
    heartbeatMs: durationMs(config.bus.heartbeat, 10_000),
    connectTimeoutMs: durationMs(config.bus.connect_timeout, 10_000),
    reconnectDelayMs: durationMs(config.bus.reconnect_delay, 1_000),
    maxReconnectDelayMs: durationMs(config.bus.max_reconnect_delay, 30_000),
    prefetch: config.bus.prefetch ?? 200,
    log,
  }) : undefined;

  // The intake, the metrics and the Slack endpoint call the core, which is made below; only once the daemon has started.
  const late: { core?: Core } = {};
  const people = peopleWiring(loaded, rt, journal, () => late.core);
  const metrics = new PrometheusMetrics({ journal, clock, reconnects: () => bus?.reconnects ?? 0, ...people.metrics });
  const outcomes: OutcomeTable = { ...defaultOutcomes, ...(config.outcomes as Partial<OutcomeTable>) };
  const releaseTokens = new Map<string, string>();
  for (const p of config.products ?? []) {
    const h = p.release_action?.http;
    if (h?.token) releaseTokens.set(h.url, h.token);
  }
  const rules = compileRules(config.rules, {
    executor: config.jenkins ? 'jenkins' : 'command',
    timeoutMs: 4 * 3_600_000,
    productChannels: new Map((config.products ?? []).map((p) => [p.name, p.slack_channel])),
    channel: config.slack?.channel,
    durationMs,
  });
  const router = new Router(rules, { maxParameterLength: config.limits?.max_parameter_length ?? 4096 });
  // The reasons for an invalid message of a subscribed kind are then ready before the first one comes.
  validator.warmReasons([...router.topics(), ...(config.pipeline_results?.topics ?? [])]);
  const httpIntake = config.intake?.enabled === false ? undefined : new HttpIntake({
    host: config.intake?.host ?? '127.0.0.1',
    port: config.intake?.port ?? 8080,
    maxBodyBytes: config.intake?.max_body_bytes ?? 1024 * 1024,
    maxDepth: config.limits?.max_depth ?? defaultParseLimits.maxDepth,
    connections: {
      maxConnections: config.intake?.max_connections ?? defaultConnectionLimits.maxConnections,
      headersTimeoutMs: durationMs(config.intake?.headers_timeout, defaultConnectionLimits.headersTimeoutMs),
      bodyTimeoutMs: durationMs(config.intake?.body_timeout, defaultConnectionLimits.bodyTimeoutMs),
      idleTimeoutMs: durationMs(config.intake?.idle_timeout, defaultConnectionLimits.idleTimeoutMs),
    },
    allowedHosts: config.intake?.allowed_hosts,
    admission: {
      backlog: async () => (await journal.stats(clock.now())).backlog,
      maxBacklog: config.intake?.max_backlog ?? 10_000,
    },
    handle: (d) => late.core!.intake.processEvent(d),
    status: async (id) => { const s = await journal.eventStatus(id); return s ? eventView(s) : null; },
    ready: () => {
      const why: string[] = [];
      if (bus && !bus.isSubscribed()) why.push(bus.isConnected() ? 'broker subscriptions not confirmed yet' : 'not connected to the broker');
      const problem = late.core?.health.problem;
      if (problem) why.push(`the journal cannot commit: ${problem}`);
      return { ready: why.length === 0, why, detail: people.readyDetail() };
    },
    metrics: () => metrics.render(),
    auth: { token: config.intake?.token, hmacSecret: config.intake?.hmac_secret },
    onUnauthorized: (path) => metrics.unauthorized.inc({ path }),
    log,
    routes: people.routes((path) => metrics.unauthorized.inc({ path })),
  });

  const redactor = new Redactor(loaded.secrets);
  const checkedJobs = new CheckedJobs((job, warning) => log.warn({ job }, warning));
  const retentionMs = durationMs(config.journal?.retention, 7 * 86_400_000);
  const core = createCore({
    metrics,
    journal, validator, router, executors,
    results: redactingResults(results, redactor),
    notifier: redactingNotifier(notifier, redactor),
    bus: bus ? redactingBus(bus, redactor) : undefined,
    deadLetter: config.bus?.dead_letter,
    sources: httpIntake ? [httpIntake, ...people.sources] : [],
    clock, log, outcomes,
    limits: {
      maxBytes: config.limits?.max_message_bytes ?? defaultParseLimits.maxBytes,
      maxDepth: config.limits?.max_depth ?? defaultParseLimits.maxDepth,
    },
    pollIntervalMs: pollIntervals,
    maxPollsPerSecond: pollRates,
    notices: { advisoryUrl: config.links?.advisory, channel: config.slack?.channel, ...people.notices },
    // Many ResultsDB deployments answer 400 to QUEUED: write it only where the config says it is accepted.
    writeQueued: config.resultsdb ? (config.resultsdb.outcomes ?? []).includes('QUEUED') : true,
    retry: { baseMs: durationMs(config.delivery?.base_delay, 1_000), maxMs: durationMs(config.delivery?.max_delay, 300_000) },
    products: new Map((config.products ?? []).map((p) => [p.name, {
      name: p.name, required: p.required, release: p.release ?? 'off', channel: p.slack_channel,
      releaseAction: p.release_action ? {
        bus: p.release_action.bus,
        http: p.release_action.http ? { url: p.release_action.http.url, method: p.release_action.http.method ?? 'POST', token: p.release_action.http.token } : undefined,
      } : undefined,
    }])),
    release: (config.products ?? []).some((p) => p.release_action?.http)
      ? redactingRelease(new HttpReleaseHook({ tokens: releaseTokens, requestTimeoutMs: 30_000, fetch: rt.fetch }), redactor) : undefined,
    ciMessages: config.ci_messages ? {
      contact: config.ci_messages.contact,
      topicPrefix: config.ci_messages.topic_prefix ?? '/topic/VirtualTopic.eng.ci',
      runUrl: config.ci_messages.run_url ?? 'https://cvp.invalid/runs/{run_id}',
    } : undefined,
    pipelineTopics: config.pipeline_results?.topics,
    ...(config.rules.some((r) => r.lookups?.length) ? { lookup: new HttpLookup({ fetch: rt.fetch }) } : {}),
    maxParameterLength: config.limits?.max_parameter_length ?? 4096,
    leaseMs: durationMs(config.journal?.lease, 120_000),
    retention: retentionMs > 0 ? { maxAgeMs: retentionMs, batch: 2_000, intervalMs: Math.min(retentionMs, 10 * 60_000) } : undefined,
    // Before anything is taken in: a rule whose job cannot take its runs refuses the start (Jenkins
    // away is only a warning: such jobs are checked when first used).
    startupChecks: async () => {
      const check = await onlineCheck(loaded, executors, 'warning');
      for (const l of check.lines.filter((x) => x.level !== 'error')) log.warn({ check: l.level }, l.message);
      if (!check.ok) {
        throw permanentError('CONFIG_INVALID', `refusing to start:\n${formatOnlineCheck(loaded.file, { ...check, lines: check.lines.filter((l) => l.level === 'error') }).join('\n')}`);
      }
    },
    // A job named by an expression is checked when first used, once per job and parameters.
    // A job chosen by an expression must be one of its rule's jobs (else the run fails for good, said in
    // its thread); and a job is read in Jenkins when first used (once per job and parameters).
    checkJob: async (executor, job, run) => router.jobProblem(run.rule, job) ?? checkedJobs.refusal(run.executor, executor, job, Object.keys(run.parameters)),
    triggerRate: config.jenkins?.max_triggers_per_second
      ? new Map([['jenkins', { ratePerSecond: config.jenkins.max_triggers_per_second, burst: defaultBurst(config.jenkins.max_triggers_per_second) }]])
      : undefined,
    allowed: people.allowed,
    watchdog: people.watchdog,
  });
  late.core = core;
  return { daemon: core.daemon, intake: httpIntake, bus, journalPath, metrics, interactivity: people.interactivity };
}
