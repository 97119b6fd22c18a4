/**
 * What the benchmark feeds the real core: valid group events with unique artifact ids, the Tower
 * team's rule, executors and peers that answer at once, and the production logger.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteJournal } from '../src/adapters/store/sqlite-journal';
import { createLogger } from '../src/cli/logger';
import type { RuleConfig } from '../src/config/config';
import { createCore, type Core } from '../src/listener/core';
import { defaultOutcomes } from '../src/listener/domain/outcome';
import type { BuildRef, BuildStatus, Bus, Executor, Logger, Notifier, ResultSink } from '../src/listener/ports';
import { compileCheck } from '../src/listener/intake/checks/jms-check';
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

/** The Tower QE team's rule (as in README), plus a parameter that hands artifact.id to the executor. */
export const benchRule: RuleConfig = {
  name: 'tower-group-testing',
  topic: TOPIC,
  checks: [
    { field: '$.artifact.component', expected: 'Ansible Tower' },
    { field: '$.artifact.type', expected: 'redhat-container-group' },
    { field: '$.artifact.images[0].issuer', expected: 'freshmaker' },
  ],
  job: 'Pipelines/openshift-integration-pipeline',
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
  return new Router([{
    config: benchRule, executor: 'jenkins', timeoutMs: 3 * 3_600_000,
    checks: (benchRule.checks ?? []).map(compileCheck),
    channel: '#bench',
  }], { maxParameterLength: 4096 });
}

/**
 * A Jenkins that answers at once: every trigger is accepted (queued), every build runs for ever.
 * `onTrigger` sees each trigger as it is called; `polls` counts status() calls.
 */
export class InstantExecutor implements Executor {
  readonly name = 'jenkins';
  triggers = 0;
  polls = 0;
  constructor(private readonly onTrigger?: (parameters: Record<string, string>) => void) {}

  async trigger(_job: string, parameters: Record<string, string>): Promise<BuildRef> {
    this.onTrigger?.(parameters);
    this.triggers += 1;
    return { queueId: String(this.triggers) };
  }
  async locate(): Promise<BuildRef | null> { return null; }
  async status(job: string, ref: BuildRef): Promise<BuildStatus> {
    this.polls += 1;
    const number = ref.number ?? Number(ref.queueId ?? 1);
    return { state: 'running', ref: { queueId: ref.queueId, number, url: `https://jenkins.example.com/job/${job}/${number}/` } };
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
export function benchLogger(): Logger {
  return process.env.BENCH_LOG === 'off' ? silent : createLogger({ format: 'json' });
}

export interface Wired {
  core: Core;
  journal: SqliteJournal;
  executor: InstantExecutor;
  results?: InstantResults;
  notifier?: InstantNotifier;
}

/**
 * The real core as buildDaemon wires it (journal, validator, router, reporter, loops), with
 * instant peers. `peers`: also a ResultsDB (QUEUED results written) and Slack, as in production.
 */
export function wireCore(opts: {
  journalPath: string; bus?: Bus; consumer?: string; executor: InstantExecutor; peers: boolean; log: Logger;
  pollIntervalMs?: number; maxPollsPerSecond?: number;
}): Wired {
  const journal = new SqliteJournal(opts.journalPath);
  const results = opts.peers ? new InstantResults() : undefined;
  const notifier = opts.peers ? new InstantNotifier() : undefined;
  const core = createCore({
    journal, validator: new EventValidator(schemasDir), router: benchRouter(),
    executors: new Map([['jenkins', opts.executor]]), results, notifier,
    bus: opts.bus, deadLetter: opts.bus ? `/queue/${opts.consumer ?? 'Consumer.bench.cvp'}.dead-letter` : undefined,
    clock: { now: () => Date.now() }, log: opts.log, outcomes: defaultOutcomes, limits: defaultParseLimits,
    pollIntervalMs: new Map([['jenkins', opts.pollIntervalMs ?? 15_000]]),
    maxPollsPerSecond: new Map([['jenkins', opts.maxPollsPerSecond ?? 10]]),
    notices: { advisoryUrl: 'https://errata.example.com/advisory/{id}', channel: '#bench' },
    writeQueued: true,
  });
  return { core, journal, executor: opts.executor, results, notifier };
}
