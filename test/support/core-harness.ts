import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteJournal } from '../../src/adapters/store/sqlite/sqlite-journal';
import { durationMs } from '../../src/config/config';
import { compileRules } from '../../src/listener/intake/rules';
import type { ProductPolicy } from '../../src/listener/gate/gate-keeper';
import type { Lookup, ReleaseHook } from '../../src/listener/ports';
import type { RuleConfig } from '../../src/config/config';
import { createCore, type Core, type CoreDeps } from '../../src/listener/core';
import type { WatchdogOptions } from '../../src/listener/watchdog';
import { defaultOutcomes } from '../../src/listener/domain/outcome';
import { Router } from '../../src/listener/intake/router';
import { schemasDir, packageRoot } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';
import { FakeBus, FakeClock, FakeExecutor, MemoryLogger, MemoryNotifier, MemoryResults } from './fakes';

export const GROUP_TOPIC = 'VirtualTopic.eng.ci.redhat-container-group.test.queued';

/** The Tower QE team's listener rule, checks copied from its Jenkins trigger. */
export const towerRule: RuleConfig = {
  name: 'tower-group-testing',
  topic: GROUP_TOPIC,
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
    WEB_CONTAINER_IMAGE: "artifact.images[?name=='ansible-tower-web'].full_name | [0]",
  },
  report: { testcase: 'ansible-tower-35.default.integration', per: 'image', type: 'brew-build' },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test events are edited freely
export function groupEvent(overrides: (e: any) => void = () => undefined): any {
  const e = JSON.parse(readFileSync(join(packageRoot, 'examples/messages/redhat-container-group.test.queued.json'), 'utf8'));
  overrides(e);
  return e;
}

export interface Harness extends Core {
  clock: FakeClock;
  bus: FakeBus;
  executor: FakeExecutor;
  results: MemoryResults;
  notifier: MemoryNotifier;
  journal: SqliteJournal;
  log: MemoryLogger;
  /** Runs every loop's pass until nothing is left to do now. */
  settle(): Promise<void>;
}

export function coreHarness(opts: {
  rules?: RuleConfig[]; journalPath?: string; timeoutMs?: number; products?: ProductPolicy[]; owner?: string; lookup?: Lookup; release?: ReleaseHook;
  /** Optional parts: the watchdog, buttons on notices, who may act from Slack, a clock shared with another harness. */
  watchdog?: WatchdogOptions; interactive?: boolean; allowed?: CoreDeps['allowed']; clock?: FakeClock;
} = {}): Harness {
  const clock = opts.clock ?? new FakeClock();
  const bus = new FakeBus();
  const executor = new FakeExecutor();
  const results = new MemoryResults();
  const notifier = new MemoryNotifier();
  const log = new MemoryLogger();
  const journal = new SqliteJournal(opts.journalPath ?? ':memory:');
  const rules = compileRules(opts.rules ?? [towerRule], {
    executor: 'jenkins', timeoutMs: opts.timeoutMs ?? 3_600_000, productChannels: new Map(), durationMs,
  });
  const core = createCore({
    journal, validator: new EventValidator(schemasDir), router: new Router(rules, { maxParameterLength: 256 }),
    executors: new Map([['jenkins', executor]]), results, notifier, bus, deadLetter: '/queue/cvp.dead-letter',
    clock, log, random: () => 0.5, outcomes: defaultOutcomes, limits: { maxBytes: 64 * 1024, maxDepth: 20 },
    pollIntervalMs: new Map([['jenkins', 10_000]]), maxPollsPerSecond: new Map([['jenkins', 1_000]]),
    notices: { advisoryUrl: 'https://errata.example.com/advisory/{id}', channel: '#cvp', ...(opts.interactive ? { interactive: true } : {}) }, writeQueued: true,
    products: new Map((opts.products ?? []).map((p) => [p.name, p])), owner: opts.owner, lookup: opts.lookup, release: opts.release,
    watchdog: opts.watchdog, allowed: opts.allowed,
  });
  const settle = async () => {
    for (let i = 0; i < 50; i++) {
      let n = (await core.dispatcher.runOnce()) + (await core.tracker.runOnce()) + (core.gate ? await core.gate.runOnce() : 0);
      for (const peer of core.outbox.peers()) n += await core.outbox.runOnce(peer);
      if (n === 0) return;
    }
    throw new Error('the core did not settle in 50 passes');
  };
  return { ...core, clock, bus, executor, results, notifier, journal, log, settle };
}
