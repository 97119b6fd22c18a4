/**
 * The notices' buttons (only when Slack can send their clicks back), the waived reasons, and the
 * configuration keys of people in the loop: the signing secret, approvers, the watchdog.
 */
import { interactionWire } from '../../src/adapters/slack/slack-interaction-wire';
import { watchdogOptions } from '../../src/cli/people-wiring';
import { parseConfig } from '../../src/config/load-config';
import { CvpError } from '../../src/errors';
import type { GateReason, Run } from '../../src/listener/domain';
import { alarmNotice, decisionNotice, outcomeNotice, type DecisionNoticeInput } from '../../src/listener/effects/notices';
import { schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';

const context = { topic: 't', artifactType: 'redhat-container-group', artifactId: 'g1', component: 'Ansible Tower', images: [], messageId: 'm1' };
const failed = (item: string, extra: Partial<GateReason> = {}): GateReason => ({ testcase: 'tower.default.integration', item, type: 'brew-build', outcome: 'FAILED', why: 'required; does not pass', ...extra });
const decision = (over: Partial<DecisionNoticeInput>): DecisionNoticeInput => ({
  context, product: 'Ansible Tower', decision: 'pass', mode: 'off', action: 'asked', reasons: [], changed: false, ...over,
});

type Block = { type: string; block_id?: string; elements?: Array<{ action_id: string; value: string; text: { text: string } }>; text?: { text: string } };
const actionIds = (blocks: unknown[]) => (blocks as Block[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements!.map((e) => e.action_id));
const values = (blocks: unknown[]) => (blocks as Block[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements!.map((e) => JSON.parse(e.value)));

describe('buttons on the notices', () => {
  it('asks a person with Release and Hold when the knob is off and the gate passed; none in shadow, none without the signing secret', () => {
    const n = decisionNotice(decision({}), { interactive: true });
    expect(actionIds(n.blocks)).toEqual(['cvp.release', 'cvp.hold']);
    expect(values(n.blocks)).toEqual([{ k: 'release', p: 'Ansible Tower', t: 'redhat-container-group', a: 'g1' }, { k: 'hold', p: 'Ansible Tower', t: 'redhat-container-group', a: 'g1' }]);
    expect((n.blocks[n.blocks.length - 1] as Block).type).toBe('context');
    expect(actionIds(decisionNotice(decision({ mode: 'shadow', action: 'would_release' }), { interactive: true }).blocks)).toEqual([]);
    expect(actionIds(decisionNotice(decision({}), {}).blocks)).toEqual([]);
  });

  it('offers Waive on each failing result no waiver covers, and shows the waived ones with who and why', () => {
    const reasons = [failed('a-1-1'), failed('b-1-1', { scenario: 'fips', why: 'required; waived', waived_by: 'slack:U1 (ada)', waiver_reason: 'known <flake>' }), failed('c-1-1', { outcome: 'ERROR' }), { ...failed('d-1-1'), outcome: 'PASSED' }];
    const n = decisionNotice(decision({ decision: 'fail', action: 'none', reasons }), { interactive: true });
    expect(actionIds(n.blocks)).toEqual(['cvp.waive.0', 'cvp.waive.1']);
    expect(values(n.blocks).map((v) => v.i)).toEqual(['a-1-1', 'c-1-1']);
    for (const v of values(n.blocks)) expect(interactionWire('button_value', v)).toHaveProperty('ok');
    const waived = (n.blocks as Block[]).find((b) => b.text?.text.startsWith(':memo: *Waived*'))!;
    expect(waived.text!.text).toBe(':memo: *Waived*\n• tower.default.integration on b-1-1 (fips): FAILED, waived by slack:U1 (ada): known &lt;flake&gt;');
    // The waived reasons are shown without buttons too (a waiver from the CLI).
    expect(JSON.stringify(decisionNotice(decision({ decision: 'fail', action: 'none', reasons }), {}).blocks)).toContain('waived by slack:U1 (ada)');
  });

  it('leaves out a button whose value Slack would refuse (over 2,000 characters)', () => {
    const n = decisionNotice(decision({ decision: 'fail', action: 'none', reasons: [failed('x'.repeat(2100)), failed('short-1-1')] }), { interactive: true });
    expect(values(n.blocks).map((v) => v.i)).toEqual(['short-1-1']);
  });

  it('offers Rerun on a failed or errored run only', () => {
    const run = { id: 'run-1', job: 'Pipelines/integration', context, channel: '#c' } as unknown as Run;
    expect(actionIds(outcomeNotice(run, 'FAILED', undefined, null, { interactive: true }).blocks)).toEqual(['cvp.rerun']);
    expect(values(outcomeNotice(run, 'ERROR', undefined, 'timed out', { interactive: true }).blocks)).toEqual([{ k: 'rerun', r: 'run-1' }]);
    expect(actionIds(outcomeNotice(run, 'PASSED', undefined, null, { interactive: true }).blocks)).toEqual([]);
    expect(actionIds(outcomeNotice(run, 'FAILED', undefined, null, {}).blocks)).toEqual([]);
  });

  it('says the watchdog\'s alarm and its end', () => {
    const raised = alarmNotice({ key: 'silence:T', raised: true, since: Date.parse('2026-12-06T10:00:00Z'), detail: 'no message on T for 2h' }, null, '#ops');
    expect(raised).toMatchObject({ channel: '#ops', text: 'Watchdog: no message on T for 2h (2026-12-06 10:00:00 UTC)' });
    const cleared = alarmNotice({ key: 'silence:T', raised: false, since: Date.parse('2026-12-06T11:00:00Z'), detail: 'T speaks again' }, Date.parse('2026-12-06T10:00:00Z'), undefined);
    expect(cleared.text).toBe('Watchdog: T speaks again (2026-12-06 11:00:00 UTC; the alarm had been raised at 2026-12-06 10:00:00 UTC)');
  });
});

const validator = new EventValidator(schemasDir);
const base = `
jenkins: { url: "https://jenkins.example.com", token: "\${JENKINS_TOKEN}" }
rules:
  - name: tower
    product: Ansible Tower
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    job: j
    timeout: 3h
    report: { testcase: a.b.c, per: image }
products:
  - name: Ansible Tower
    required: { brew-build: [a.b.c] }
`;

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'cvp.yaml', { JENKINS_TOKEN: 't', ...env }, (t) => validator.knows(t));
  } catch (err) {
    return (err as CvpError).reasons;
  }
  throw new Error('expected the configuration to be refused');
}

describe('the configuration of people in the loop', () => {
  it('takes the signing secret from the environment only, and keeps it out of output', () => {
    const text = `${base}slack: { token: "\${SLACK_TOKEN}", channel: "#c", signing_secret: "\${SLACK_SIGNING_SECRET}" }\n`;
    const loaded = parseConfig(text, 'cvp.yaml', { JENKINS_TOKEN: 't', SLACK_TOKEN: 'xoxb', SLACK_SIGNING_SECRET: 'shh-signing' }, (t) => validator.knows(t));
    expect(loaded.secrets).toContain('shh-signing');
    expect(problems(`${base}slack: { token: "\${SLACK_TOKEN}", channel: "#c", signing_secret: inline }\n`, { SLACK_TOKEN: 'x' }))
      .toEqual([expect.stringMatching(/^cvp.yaml:\d+:\d+: slack.signing_secret: a secret written in the file; write \$\{CVP_SLACK_SIGNING_SECRET\}/)]);
  });

  it('says what buttons and approvers need, and refuses ids that are not Slack\'s', () => {
    expect(problems(`${base}slack: { channel: "#c", signing_secret: "\${S}" }\n`, { S: 's' })).toEqual([expect.stringContaining('slack.signing_secret: Slack\'s buttons need slack.token too')]);
    expect(problems(base.replace('required: { brew-build: [a.b.c] }', 'required: { brew-build: [a.b.c] }\n    approvers: { users: [U0ADA] }')))
      .toEqual([expect.stringMatching(/^cvp.yaml:\d+:\d+: products\[0\]\.approvers: approvers press buttons in Slack, which needs slack.signing_secret/)]);
    expect(problems(base.replace('required: { brew-build: [a.b.c] }', 'required: { brew-build: [a.b.c] }\n    approvers: { users: [ada], groups: [qe-team] }')))
      .toEqual(expect.arrayContaining([expect.stringContaining('products[0].approvers.users[0]'), expect.stringContaining('products[0].approvers.groups[0]')]));
  });

  it('watches only topics CVP receives, and takes the watchdog\'s bounds from watchdog and max_silence', () => {
    expect(problems(`${base}watchdog: { silence: { VirtualTopic.eng.ci.other.test.queued: 2h } }\n`))
      .toEqual([expect.stringMatching(/watchdog.silence.VirtualTopic.eng.ci.other.test.queued: no rule or pipeline_results topic is VirtualTopic.eng.ci.other.test.queued/)]);
    const withRule = base.replace('    timeout: 3h', '    timeout: 3h\n    max_silence: 90m');
    const loaded = parseConfig(`${withRule}watchdog: { silence: { VirtualTopic.eng.ci.redhat-container-group.test.queued: 2h }, run_grace: 5m }\n`, 'cvp.yaml', { JENKINS_TOKEN: 't' }, (t) => validator.knows(t));
    expect(watchdogOptions(loaded)).toEqual({
      silence: new Map([['VirtualTopic.eng.ci.redhat-container-group.test.queued', 90 * 60_000]]),
      runTimeouts: new Map([['tower', 3 * 3_600_000]]), graceMs: 5 * 60_000, intervalMs: 60_000, channel: undefined,
    });
    expect(watchdogOptions(parseConfig(base, 'cvp.yaml', { JENKINS_TOKEN: 't' }, (t) => validator.knows(t)))).toBeUndefined();
  });
});
