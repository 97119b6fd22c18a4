/**
 * The jobs' check before a rule is used: onlineCheck over a config (against the Jenkins stand-in),
 * and CheckedJobs, which checks a job chosen by an expression the first time a run uses it.
 */
import { formatOnlineCheck, onlineCheck, onlineExecutors } from '../../src/cli/online-check';
import type { CvpConfig, LoadedConfig, RuleConfig } from '../../src/config/config';
import { transientError } from '../../src/errors';
import { CheckedJobs, checkJob } from '../../src/listener/dispatch/job-check';
import { JenkinsStandIn, expectNoUnexpected } from '../stand-ins/jenkins-stand-in';

let jenkins: JenkinsStandIn;

function rule(name: string, job: string, parameters: Record<string, string> = {}, extra: Partial<RuleConfig> = {}): RuleConfig {
  return { name, topic: 'VirtualTopic.eng.ci.redhat-container-group.test.queued', job, parameters, report: { testcase: 'a.b.c' }, ...extra };
}

function loaded(rules: RuleConfig[], url = jenkins.url): LoadedConfig {
  const config: CvpConfig = { jenkins: { url, user: 'cvp-bot', token: 'jenkins-token', request_timeout: '2s' }, rules };
  return { config, file: 'cvp.yaml', dir: '/tmp', secrets: [] };
}

beforeEach(async () => {
  jenkins = new JenkinsStandIn({ user: 'cvp-bot', token: 'jenkins-token' });
  jenkins.defineJob('Pipelines/fit', { parameters: ['CVP_RUN_ID', 'GROUP_ID'] });
  jenkins.defineJob('Pipelines/old', { parameters: ['GROUP_ID'] });
  await jenkins.start();
});

afterEach(async () => {
  await jenkins.stop();
});

describe('onlineCheck', () => {
  it('passes fit jobs, refuses one without CVP_RUN_ID or missing, warns of dropped parameters, defers expressions', async () => {
    const cfg = loaded([
      rule('fit', 'Pipelines/fit', { GROUP_ID: 'artifact.id' }),
      rule('fit-again', 'Pipelines/fit', { GROUP_ID: 'artifact.id', EXTRA: 'artifact.nvr' }),
      rule('old', 'Pipelines/old', { GROUP_ID: 'artifact.id' }),
      rule('missing', 'Pipelines/missing'),
      rule('chosen', "=join('/', ['Pipelines', artifact.component])"),
    ]);
    const check = await onlineCheck(cfg, onlineExecutors(cfg), 'error');
    expect(check.ok).toBe(false);
    expect(check.deferred).toEqual([{ rule: 'chosen', job: "=join('/', ['Pipelines', artifact.component])" }]);
    expect(formatOnlineCheck('cvp.yaml', check)).toEqual([
      expect.stringMatching(/^cvp\.yaml: error: rules\[2\] \(old\): job Pipelines\/old does not declare the parameter CVP_RUN_ID, so Jenkins drops it \(SECURITY-170\).*parameters \{ string\(name: 'CVP_RUN_ID', defaultValue: ''\) \}.*"This project is parameterized"/),
      expect.stringMatching(/^cvp\.yaml: error: rules\[3\] \(missing\): job Pipelines\/missing: JOB_NOT_FOUND: .*has no job Pipelines\/missing \(404\)$/),
      'cvp.yaml: warning: rules[1] (fit-again): job Pipelines/fit does not declare the parameter EXTRA, so Jenkins drops it (SECURITY-170); declare it in the job, or remove it from the rule',
      "cvp.yaml: note: rules[4] (chosen): job =join('/', ['Pipelines', artifact.component]) is chosen by an expression: checked when first used",
    ]);
    // One read per job, whatever number of rules use it.
    expect(jenkins.requests.filter((r) => r.path === '/job/Pipelines/job/fit/api/json')).toHaveLength(1);
    expectNoUnexpected(jenkins);
  });

  it('makes an unreachable Jenkins an error for `config check --online` and a deferral (warning) for the daemon\'s start', async () => {
    await jenkins.refuseConnections();
    const cfg = loaded([rule('fit', 'Pipelines/fit')]);
    const online = await onlineCheck(cfg, onlineExecutors(cfg), 'error');
    expect(online.ok).toBe(false);
    expect(online.lines).toEqual([{ level: 'error', message: expect.stringMatching(/^rules\[0\] \(fit\): cannot check job Pipelines\/fit now \(PEER_UNAVAILABLE: .*ECONNREFUSED/) }]);
    const atStart = await onlineCheck(cfg, onlineExecutors(cfg), 'warning');
    expect(atStart.ok).toBe(true);
    expect(atStart.lines[0]).toEqual({ level: 'warning', message: expect.stringMatching(/; checked when first used$/) });
    expect(atStart.deferred).toEqual([{ rule: 'fit', job: 'Pipelines/fit' }]);
  });

  it('leaves rules on the command executor alone: a local program takes every parameter', async () => {
    const cfg = loaded([rule('local', 'smoke', {}, { executor: 'command' })]);
    expect(await onlineCheck(cfg, onlineExecutors(cfg), 'error')).toEqual({ lines: [], ok: true, deferred: [] });
    expect(jenkins.requests).toEqual([]);
  });
});

describe('checkJob and CheckedJobs', () => {
  it('passes every job of an executor that declares nothing (null)', async () => {
    expect(await checkJob({ declaredParameters: async () => null }, 'x', ['A'])).toEqual({ warnings: [] });
  });

  it('checks a job once when first used, keeps the verdict, and asks again after a failure retrying may cure', async () => {
    let calls = 0;
    let down = true;
    const executor = {
      declaredParameters: async (job: string) => {
        calls += 1;
        if (down) throw transientError('PEER_UNAVAILABLE', 'Jenkins unreachable');
        return job === 'fit' ? ['CVP_RUN_ID'] : ['A'];
      },
    };
    const warnings: string[] = [];
    const checked = new CheckedJobs((job, w) => warnings.push(`${job}: ${w}`));
    const ex = executor as never;
    await expect(checked.refusal('jenkins', ex, 'fit', ['A'])).rejects.toThrow('Jenkins unreachable');
    down = false;
    expect(await checked.refusal('jenkins', ex, 'fit', ['A'])).toBeNull();
    expect(await checked.refusal('jenkins', ex, 'fit', ['A'])).toBeNull();
    expect(await checked.refusal('jenkins', ex, 'old', ['A'])).toMatch(/job old does not declare the parameter CVP_RUN_ID/);
    expect(await checked.refusal('jenkins', ex, 'old', ['A'])).toMatch(/CVP_RUN_ID/);
    expect(calls).toBe(3);
    expect(warnings).toEqual(['fit: job fit does not declare the parameter A, so Jenkins drops it (SECURITY-170); declare it in the job, or remove it from the rule']);
    checked.remember('jenkins', 'known', [], { warnings: [] });
    expect(await checked.refusal('jenkins', ex, 'known', [])).toBeNull();
    expect(calls).toBe(3);
  });
});
