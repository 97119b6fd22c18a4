/**
 * Jobs chosen by an expression stay among the rule's jobs, with names a job can have, and a bad
 * one fails its run for good, said in the thread (it was a TypeError retried forever); JMESPath
 * looks up the event's own fields only; a check that throws is a check that fails; and the config
 * says all of it at file:line:col, never printing a secret.
 */
import { durationMs } from '../../src/config/config';
import { parseConfig } from '../../src/config/load-config';
import { createCore } from '../../src/listener/core';
import { defaultOutcomes } from '../../src/listener/domain/outcome';
import { chosenJobProblem, inheritedNames, jobNameProblem } from '../../src/listener/intake/job-names';
import { Router } from '../../src/listener/intake/router';
import { compileRules } from '../../src/listener/intake/rules';
import { SqliteJournal } from '../../src/adapters/store/sqlite/sqlite-journal';
import { schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';
import type { RuleConfig } from '../../src/config/config';
import { groupEvent, GROUP_TOPIC, towerRule } from '../support/core-harness';
import { FakeBus, FakeClock, FakeExecutor, MemoryLogger, MemoryNotifier, MemoryResults } from '../support/fakes';
import { configProblems as problems, knows } from '../support/config-problems';

const validator = new EventValidator(schemasDir);


const config = (rule: string, top = '') => `${top}
jenkins: { url: "https://jenkins.example.com", user: cvp-bot, token: "\${JENKINS_TOKEN}" }
rules:
  - name: chosen
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
${rule}
    report: { testcase: ansible-tower-35.default.integration, per: image }
`;
const ENV = { JENKINS_TOKEN: 'jenkins-SECRET-0123456789' };

describe('job names', () => {
  it.each([
    ['', /no job name/],
    ['a//b', /empty segment/],
    ['/a', /empty segment/],
    ['a/../b', /\. or \.\. segment/],
    ['..', /\. or \.\. segment/],
    ['a/ b', /starts or ends with a space/],
    ['a?b', /character no job name may have/],
    ['a\u202eb', /character no job name may have/],
    ['a\nb', /character no job name may have/],
    ['__proto__', /member of every JavaScript object \(__proto__\)/],
    ['Pipelines/constructor', /member of every JavaScript object \(constructor\)/],
    ['x'.repeat(501), /at most 500/],
  ])('refuses %j', (name, why) => {
    expect(jobNameProblem(name)).toMatch(why);
  });

  it('takes folder paths with spaces inside names, and keeps to the allow-list or the pattern', () => {
    expect(jobNameProblem('QE Pipelines/openshift-integration-pipeline')).toBeNull();
    const choice = { jobs: ['Pipelines/a', 'Pipelines/b'] };
    expect(chosenJobProblem('Pipelines/a', choice)).toBeNull();
    expect(chosenJobProblem('Pipelines/c', choice)).toMatch(/not among the rule's jobs \(Pipelines\/a, Pipelines\/b\)/);
    const pattern = { pattern: /Pipelines\/tower-[0-9]+/ };
    expect(chosenJobProblem('Pipelines/tower-35', pattern)).toBeNull();
    expect(chosenJobProblem('Pipelines/tower-35/../admin', pattern)).toMatch(/\.\. segment/);
    expect(chosenJobProblem('x/Pipelines/tower-35', pattern)).toMatch(/does not match the rule's job_pattern/);
    expect(chosenJobProblem('Pipelines/tower-35x', pattern)).toMatch(/does not match/);
    expect(chosenJobProblem('Pipelines/a', {})).toMatch(/names no jobs/);
  });

  it('finds the names every object has in a JMESPath expression: fields, variables, hash keys', () => {
    expect(inheritedNames('artifact.images[0].name')).toEqual([]);
    expect(inheritedNames('artifact.__proto__')).toEqual(['__proto__']);
    expect(inheritedNames('artifact."constructor"')).toEqual(['constructor']);
    expect(inheritedNames('let $toString = a in $toString')).toEqual(['toString']);
    expect(inheritedNames('{valueOf: a}')).toEqual(['valueOf']);
    expect(inheritedNames("'__proto__'")).toEqual([]);
    expect(inheritedNames('not ( valid')).toEqual([]);
  });
});

describe('a job chosen by an expression, in the core', () => {
  const rule: RuleConfig = { ...towerRule, name: 'chosen', checks: [], job: '=artifact.job', jobs: ['Pipelines/openshift-integration-pipeline'] };

  function core() {
    const journal = new SqliteJournal(':memory:');
    const rules = compileRules([rule], { executor: 'jenkins', timeoutMs: 3_600_000, productChannels: new Map(), durationMs });
    const router = new Router(rules, { maxParameterLength: 256 });
    const executor = new FakeExecutor();
    const notifier = new MemoryNotifier();
    const c = createCore({
      journal, validator, router, executors: new Map([['jenkins', executor]]), results: new MemoryResults(), notifier, bus: new FakeBus(),
      clock: new FakeClock(), log: new MemoryLogger(), random: () => 0.5, outcomes: defaultOutcomes, limits: { maxBytes: 64 * 1024, maxDepth: 20 },
      pollIntervalMs: new Map([['jenkins', 10_000]]), maxPollsPerSecond: new Map([['jenkins', 1_000]]), notices: { channel: '#cvp' }, writeQueued: true,
      products: new Map(), checkJob: async (_e, job, run) => router.jobProblem(run.rule, job),
    });
    const settle = async () => {
      for (let i = 0; i < 20; i++) {
        let n = (await c.dispatcher.runOnce()) + (await c.tracker.runOnce());
        for (const peer of c.outbox.peers()) n += await c.outbox.runOnce(peer);
        if (n === 0) return;
      }
    };
    return { ...c, journal, executor, notifier, settle, router };
  }

  it.each([
    ['Pipelines/../admin/job/delete-everything', /\. or \.\. segment/],
    ['__proto__', /member of every JavaScript object/],
    ['Pipelines/other-job', /not among the rule's jobs/],
  ])('fails the run for good when the event names %j, and says why in the thread', async (name, why) => {
    const h = core();
    const event = groupEvent((e) => { e.artifact.job = name; });
    const out = await h.intake.processEvent({ envelope: { id: `m-${name.length}`, topic: GROUP_TOPIC, headers: {}, body: JSON.stringify(event), source: 'bus' }, handle: null });
    expect(out.status).toBe('accepted');
    await h.settle();
    expect(h.executor.builds).toEqual([]);
    const texts = h.notifier.notices.map((n) => n.text).join('\n');
    expect(texts).toMatch(why);
    const [run] = (await h.journal.eventStatus(out.messageId))!.runs;
    expect(run.state).toBe('finished');
    expect(run.errorReason).toMatch(why);
    await h.journal.close();
  });

  it('triggers a job of the allow-list', async () => {
    const h = core();
    const event = groupEvent((e) => { e.artifact.job = 'Pipelines/openshift-integration-pipeline'; });
    await h.intake.processEvent({ envelope: { id: 'm-ok', topic: GROUP_TOPIC, headers: {}, body: JSON.stringify(event), source: 'bus' }, handle: null });
    await h.settle();
    expect(h.executor.builds.map((b) => b.job)).toEqual(['Pipelines/openshift-integration-pipeline']);
    await h.journal.close();
  });

  it('names no job, rather than throwing, when the expression gives an object or nothing', () => {
    const rules = compileRules([{ ...rule, job: '=test' }], { executor: 'jenkins', timeoutMs: 1, productChannels: new Map(), durationMs });
    const router = new Router(rules, { maxParameterLength: 256 });
    const [plan] = router.route(GROUP_TOPIC, groupEvent(), 'm');
    expect(router.jobProblem('chosen', plan.job)).toMatch(/character no job name may have/);
    const none = new Router(compileRules([{ ...rule, job: '=artifact.nothing' }], { executor: 'jenkins', timeoutMs: 1, productChannels: new Map(), durationMs }), { maxParameterLength: 256 });
    expect(none.jobProblem('chosen', none.route(GROUP_TOPIC, groupEvent(), 'm')[0].job)).toMatch(/no job name/);
  });
});

describe('checks', () => {
  function routerWith(field: string): Router {
    const rules = compileRules([{ ...towerRule, checks: [{ field, expected: 'fresh' }] }], { executor: 'jenkins', timeoutMs: 1, productChannels: new Map(), durationMs });
    return new Router(rules, { maxParameterLength: 256 });
  }

  it('a check whose path throws on this event counts as failing: the message is still judged', () => {
    const event = groupEvent((e) => { e.artifact.images[0].issuer = 42; });
    // A filter calling a string method on a number throws inside the path library.
    const throwing = routerWith("$.artifact.images[?(@.issuer.startsWith('fresh'))]");
    expect(throwing.route(GROUP_TOPIC, event, 'm')).toEqual([]);
    // The same rule with a check that can be evaluated routes the event as usual.
    expect(routerWith('$.artifact.images[1].issuer').route(GROUP_TOPIC, event, 'm')).toHaveLength(1);
  });
});

describe('the configuration', () => {
  it('requires the jobs a job expression may choose, and checks them', () => {
    expect(problems(config('    job: "=artifact.job"'), ENV)).toEqual([
      expect.stringMatching(/^cvp\.yaml:6:\d+: rules\[0\]\.job: an expression can name any job: list the jobs it may choose in jobs: \[\.\.\.\] \(or a job_pattern/),
    ]);
    expect(problems(config('    job: "=artifact.job"\n    jobs: [Pipelines/a, "a/../b"]\n    job_pattern: "("'), ENV)).toEqual([
      expect.stringMatching(/^cvp\.yaml:7:\d+: rules\[0\]\.jobs\[1\]: job name "a\/\.\.\/b" has a \. or \.\. segment$/),
      expect.stringMatching(/^cvp\.yaml:8:\d+: rules\[0\]\.job_pattern: regular expression does not compile/),
    ]);
    expect(problems(config('    job: Pipelines/a\n    jobs: [Pipelines/a]'), ENV)).toEqual([
      expect.stringMatching(/rules\[0\]\.jobs: only for a job chosen by an expression/),
    ]);
    expect(() => parseConfig(config('    job: "=artifact.job"\n    jobs: [Pipelines/a, Pipelines/b]'), 'cvp.yaml', ENV, knows)).not.toThrow();
    expect(() => parseConfig(config('    job: "=artifact.job"\n    job_pattern: "Pipelines/tower-[0-9]+"'), 'cvp.yaml', ENV, knows)).not.toThrow();
  });

  it('refuses JMESPath that would read a prototype instead of the event', () => {
    expect(problems(config('    job: "=artifact.__proto__.x"\n    jobs: [a]\n    parameters: { P: "artifact.constructor" }'), ENV)).toEqual([
      expect.stringMatching(/rules\[0\]\.parameters\.P: JMESPath artifact\.constructor names constructor, which every JavaScript object has/),
      expect.stringMatching(/rules\[0\]\.job: JMESPath artifact\.__proto__\.x names __proto__/),
    ]);
  });

  it('refuses a command job named like a prototype member', () => {
    const text = `
command: { jobs: { smoke: { run: /bin/true } } }
rules:
  - name: r
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    job: constructor
    report: { testcase: a.b.c }
`;
    expect(problems(text)).toEqual([expect.stringMatching(/rules\[0\]\.job: command\.jobs has no job named "constructor"/)]);
  });

  it('refuses an empty intake.host (an empty ${VAR}), naming where it is written', () => {
    expect(problems(config('    job: Pipelines/a', 'intake: { host: "${CVP_HOST}" }'), { ...ENV, CVP_HOST: '' })).toEqual([
      expect.stringMatching(/^cvp\.yaml:1:\d+: intake\.host: empty \(an unset or empty \$\{VAR\}\?\), which would listen on every interface/),
    ]);
  });

  it('never prints a secret in an error: a secret of the wrong type, a secret in a wrong key, a long one', () => {
    const secret = 'intake-SECRET-0123456789abcdef';
    const long = `long-SECRET-${'z'.repeat(80)}`;
    const reasons = [
      ...problems(config('    job: Pipelines/a', 'slack: { channel: "#x", token: 1234567890123 }'), ENV),
      ...problems(config('    job: Pipelines/a', 'intake: { port: "${CVP_INTAKE_TOKEN}" }'), { ...ENV, CVP_INTAKE_TOKEN: secret }),
      ...problems(config('    job: Pipelines/a', 'intake: { host: 0.0.0.0, token: "${T}", max_connections: "${T}" }'), { ...ENV, T: long }),
      ...problems(config('    job: Pipelines/a', 'resultsdb: { url: "${RDB}" }'), { ...ENV, RDB: `not-a-url-${secret}` }),
    ];
    expect(reasons).toHaveLength(4);
    const all = reasons.join('\n');
    for (const s of ['1234567890123', secret, long.slice(0, 50), 'jenkins-SECRET']) expect(all).not.toContain(s);
    expect(reasons[0]).toMatch(/slack\.token: expected string, found a value not shown here/);
    expect(reasons[1]).toMatch(/intake\.port: expected integer, found a value not shown here/);
  });
});
