/**
 * What the benchmark feeds the real core: valid group events with unique artifact ids, the Tower
 * team's rule, the config a daemon with the product's own adapters is built from, and executors
 * and peers that answer in-process (for the builds-in-flight phase and the labelled
 * "instant peers" variant only).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { ThreadedSqliteJournal } from '../src/adapters/store/sqlite/threaded-sqlite-journal';
import { durationMs } from '../src/config/config';
import { compileRules } from '../src/listener/intake/rules';
import { createLogger } from '../src/cli/logger';
import type { CvpConfig, RuleConfig } from '../src/config/config';
import type { Redactor } from '../src/config/redactor';
import { createCore, type Core } from '../src/listener/core';
import { defaultOutcomes } from '../src/listener/domain/outcome';
import type { BuildRef, BuildStatus, Bus, Executor, Logger, Metrics, Notifier, ResultSink } from '../src/listener/ports';
import { Router } from '../src/listener/intake/router';
import { packageRoot, schemasDir } from '../src/paths';
import { EventValidator } from '../src/validator/event-validator';
import { defaultParseLimits } from '../src/validator/safe-parse';

export const TOPIC = 'VirtualTopic.eng.ci.redhat-container-group.test.queued';

/**
 * The virtual-topic consumer queue a consumer prefix (`Consumer.<client>.<subscription>`) reads
 * TOPIC from. The benchmark publishes to it directly; each measurement gets a queue of its own.
 */
export function queueOf(consumer: string): string {
  return `/queue/${consumer}.${TOPIC}`;
}

const template = (() => {
  const e = JSON.parse(readFileSync(join(packageRoot, 'examples/messages/redhat-container-group.test.queued.json'), 'utf8'));
  e.artifact.id = '@ARTIFACT_ID@';
  return JSON.stringify(e);
})();

/** A valid redhat-container-group.test.queued body whose artifact.id is `artifactId`. */
export function groupEvent(artifactId: string): string {
  return template.replace('@ARTIFACT_ID@', artifactId);
}

/** Unique per run and message, so no two events share a content hash. */
export function artifactId(run: string, i: number): string {
  return `bench-${run}-${i}`;
}

/** artifact.id carrying the publisher's send time (CLOCK_MONOTONIC, shared by every process here). */
export function stampedId(i: number, sentAtNs: bigint): string {
  return `lat-${i}-${sentAtNs}`;
}

export function sentAtOf(artifact: string): bigint | null {
  const m = /^lat-\d+-(\d+)$/.exec(artifact);
  return m ? BigInt(m[1]) : null;
}

export const BENCH_JOB = 'Pipelines/openshift-integration-pipeline';

/** What the Jenkins job declares (Jenkins drops anything else): the rule's parameters and CVP_RUN_ID. */
export const BENCH_JOB_PARAMETERS = ['TESTEXPR', 'TOWER_CONTAINER_IMAGE', 'MEMCACHED_CONTAINER_IMAGE', 'MESSAGING_CONTAINER_IMAGE', 'BENCH_ARTIFACT', 'CVP_RUN_ID'];

/** The stand-ins' credentials; the config names the secrets as ${VAR}, as a real one does. */
export const PEER_CREDENTIALS = { jenkinsUser: 'cvp-bot', jenkinsToken: 'bench-jenkins-token', slackToken: 'xoxb-bench-slack-token' };
export const PEER_ENV = { JENKINS_TOKEN: PEER_CREDENTIALS.jenkinsToken, SLACK_TOKEN: PEER_CREDENTIALS.slackToken };

/** The Tower QE team's rule (as in README), plus a parameter that hands artifact.id to the executor. */
export const benchRule: RuleConfig = {
  name: 'tower-group-testing',
  topic: TOPIC,
  checks: [
    { field: '$.artifact.component', expected: 'Ansible Tower' },
    { field: '$.artifact.type', expected: 'redhat-container-group' },
    { field: '$.artifact.images[0].issuer', expected: 'freshmaker' },
  ],
  job: BENCH_JOB,
  parameters: {
    TESTEXPR: "'yolo or ansible_integration'",
    TOWER_CONTAINER_IMAGE: "artifact.images[?name=='ansible-tower'].full_name | [0]",
    MEMCACHED_CONTAINER_IMAGE: "artifact.images[?name=='ansible-tower-memcached'].full_name | [0]",
    MESSAGING_CONTAINER_IMAGE: "artifact.images[?name=='ansible-tower-messaging'].full_name | [0]",
    BENCH_ARTIFACT: 'artifact.id',
  },
  timeout: '3h',
  report: { testcase: 'ansible-tower-35.default.integration', per: 'image', type: 'brew-build' },
};

export function benchRouter(): Router {
  return new Router(compileRules([benchRule], {
    executor: 'jenkins', timeoutMs: 3 * 3_600_000, productChannels: new Map(), channel: '#bench', durationMs,
  }), { maxParameterLength: 4096 });
}

/**
 * A Jenkins that answers at once, in-process: every trigger is accepted (queued), every build runs
 * for ever (or ends at its first poll with `finishAtOnce`). `polls` counts status() calls.
 */
export class InstantExecutor implements Executor {
  readonly name = 'jenkins';
  triggers = 0;
  polls = 0;
  constructor(private readonly opts: { finishAtOnce?: boolean; onTrigger?: (parameters: Record<string, string>) => void } = {}) {}

  async trigger(_job: string, parameters: Record<string, string>): Promise<BuildRef> {
    this.opts.onTrigger?.(parameters);
    this.triggers += 1;
    return { queueId: String(this.triggers) };
  }
  async locate(): Promise<BuildRef | null> { return null; }
  async status(job: string, ref: BuildRef): Promise<BuildStatus> {
    this.polls += 1;
    const number = ref.number ?? Number(ref.queueId ?? 1);
    const built = { queueId: ref.queueId, number, url: `https://jenkins.example.com/job/${job}/${number}/` };
    return this.opts.finishAtOnce ? { state: 'finished', ref: built, result: 'SUCCESS' } : { state: 'running', ref: built };
  }
  async cancel(): Promise<void> { /* nothing runs */ }
  async declaredParameters(): Promise<string[] | null> { return null; }
}

export class InstantResults implements ResultSink {
  readonly name = 'resultsdb';
  submitted = 0;
  async submit(): Promise<{ id: number }> { return { id: ++this.submitted }; }
  async findByRun(): Promise<Array<{ id: number; outcome: string }>> { return []; }
}

export class InstantNotifier implements Notifier {
  readonly name = 'slack';
  posted = 0;
  async post(): Promise<{ ts: string }> { return { ts: `1700000000.${String(++this.posted).padStart(6, '0')}` }; }
  async find(): Promise<null> { return null; }
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/** The daemon's own logger (pino JSON lines, synchronous, to stderr), or none with BENCH_LOG=off. */
export function benchLogger(redactor?: Redactor): Logger {
  return process.env.BENCH_LOG === 'off' ? silent : createLogger({ format: 'json', redactor });
}

/** Where the journal lives: the SQLite file (the embedded default), or a PostgreSQL server (issue 12). */
export type JournalSpec = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export interface BenchConfigOptions {
  stompPort: number;
  consumer: string;
  prefetch: number;
  heartbeatMs: number;
  journal: JournalSpec;
  peers: { jenkins: string; resultsdb: string; slackApi: string };
  pollInterval: string;
  maxPollsPerSecond: number;
  /** journal.retention (default: the product's 7 days). */
  retention?: string;
}

/**
 * The configuration a team would write for this traffic, pointed at the bench's broker and the
 * stand-ins; secrets as ${VAR} (PEER_ENV). buildDaemon wires the product's adapters from it.
 */
export function benchConfigYaml(o: BenchConfigOptions): string {
  // journal.url: the PostgreSQL journal's setting (issue 12), unknown to configs without it.
  const journal = (o.journal.kind === 'sqlite' ? { path: o.journal.path } : { url: o.journal.url }) as NonNullable<CvpConfig['journal']>;
  const config: CvpConfig = {
    bus: {
      brokers: [{ host: '127.0.0.1', port: o.stompPort }], consumer: o.consumer, prefetch: o.prefetch,
      heartbeat: `${o.heartbeatMs / 1000}s`, dead_letter: `/queue/${o.consumer}.dead-letter`,
    },
    intake: { enabled: false },
    journal: { ...journal, ...(o.retention ? { retention: o.retention } : {}) },
    jenkins: {
      url: o.peers.jenkins, user: PEER_CREDENTIALS.jenkinsUser, token: '${JENKINS_TOKEN}',
      poll_interval: o.pollInterval, max_polls_per_second: o.maxPollsPerSecond,
    },
    resultsdb: { url: `${o.peers.resultsdb}/api/v2.0`, outcomes: ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'QUEUED', 'RUNNING', 'ERROR'] },
    slack: { token: '${SLACK_TOKEN}', channel: '#bench', api_url: o.peers.slackApi },
    links: { advisory: 'https://errata.example.com/advisory/{id}' },
    rules: [benchRule],
  };
  return YAML.stringify(config);
}

/** Counts what the core reports (triggers, finished runs, deliveries), each with the time it happened. */
export class CountingMetrics implements Metrics {
  judged = 0;
  triggers = 0;
  firstTriggerNs = 0n;
  lastTriggerNs = 0n;
  finished = 0;
  delivered = 0;
  failedDeliveries = 0;
  messageJudged(): void { this.judged += 1; }
  deadLettered(): void { /* counted as judged */ }
  runFinished(): void { this.finished += 1; }
  runTriggered(): void {
    const at = process.hrtime.bigint();
    if (!this.triggers) this.firstTriggerNs = at;
    this.lastTriggerNs = at;
    this.triggers += 1;
  }
  effectDelivered(): void { this.delivered += 1; }
  effectFailed(): void { this.failedDeliveries += 1; }
}

export interface Wired {
  core: Core;
  journal: ThreadedSqliteJournal;
  executor: InstantExecutor;
  results?: InstantResults;
  notifier?: InstantNotifier;
}

/**
 * The real core as buildDaemon wires it (journal, validator, router, reporter, loops), with
 * peers that answer in-process. `peers`: also a ResultsDB (QUEUED results written) and Slack.
 */
export async function wireCore(opts: {
  journalPath: string; bus?: Bus; consumer?: string; executor: InstantExecutor; peers: boolean; log: Logger;
  pollIntervalMs?: number; maxPollsPerSecond?: number; metrics?: Metrics;
}): Promise<Wired> {
  const journal = await ThreadedSqliteJournal.open(opts.journalPath);
  const results = opts.peers ? new InstantResults() : undefined;
  const notifier = opts.peers ? new InstantNotifier() : undefined;
  const core = createCore({
    journal, validator: new EventValidator(schemasDir), router: benchRouter(),
    executors: new Map([['jenkins', opts.executor]]), results, notifier, metrics: opts.metrics,
    bus: opts.bus, deadLetter: opts.bus ? `/queue/${opts.consumer ?? 'Consumer.bench.cvp'}.dead-letter` : undefined,
    clock: { now: () => Date.now() }, log: opts.log, outcomes: defaultOutcomes, limits: defaultParseLimits,
    pollIntervalMs: new Map([['jenkins', opts.pollIntervalMs ?? 15_000]]),
    maxPollsPerSecond: new Map([['jenkins', opts.maxPollsPerSecond ?? 10]]),
    notices: { advisoryUrl: 'https://errata.example.com/advisory/{id}', channel: '#bench' },
    writeQueued: true,
  });
  return { core, journal, executor: opts.executor, results, notifier };
}
