/**
 * People in the loop from Slack, end to end on the daemon's port: the notices carry buttons, a
 * click is signed as Slack signs it (and forged: wrong secret, old timestamp, altered body,
 * replay), answered at once, acted on once however often it is pressed, by approvers only, and
 * its effect is found once in the journal, in the stand-ins (Jenkins, the release API) and in the
 * event's Slack thread.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDaemon, type Built } from '../../src/cli/build-daemon';
import { parseConfig } from '../../src/config/load-config';
import { SqliteJournal } from '../../src/adapters/store/sqlite/sqlite-journal';
import { systemClock } from '../../src/listener/ports';
import { packageRoot, schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';
import { HttpStandIn, type Reply, type StandInRequest, expectNoUnexpected } from '../stand-ins/http-stand-in';
import { JenkinsStandIn } from '../stand-ins/jenkins-stand-in';
import { ResultsDbStandIn } from '../stand-ins/resultsdb-stand-in';
import { SlackStandIn, type SlackMessage, type SlackPerson } from '../stand-ins/slack-stand-in';
import { eventually } from '../support/eventually';
import { MemoryLogger } from '../support/fakes';
import { peersYaml } from '../support/peers-yaml';
import { testBrokerHost, testStompPort } from '../support/stomp-client';
import { type Answer, sendInteraction, sendSigned, signInteraction } from '../support/slack-signing';

const SECRET = 'slack-signing-secret-for-the-tests';
const JOB = 'Pipelines/openshift-integration-pipeline';
const TESTCASE = 'ansible-tower-35.default.integration';
const GROUP_TOPIC = 'VirtualTopic.eng.ci.redhat-container-group.test.queued';
const ADA: SlackPerson = { id: 'U0ADA', name: 'ada' };          // an approver by name
const GRACE: SlackPerson = { id: 'U0GRACE', name: 'grace' };    // an approver through the user group
const EVE: SlackPerson = { id: 'U0EVE', name: 'eve' };          // not an approver

/** The release driver's API: the release action's HTTP call lands here. */
class ReleaseApiStandIn extends HttpStandIn {
  readonly calls: Array<{ key: string; body: Record<string, unknown> }> = [];
  protected handle(req: StandInRequest): Reply {
    if (req.method !== 'POST' || req.path !== '/api/release') return this.unrecognised(req);
    this.calls.push({ key: String(req.headers['idempotency-key']), body: req.body as Record<string, unknown> });
    return { status: 202, json: { queued: true } };
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test events are edited freely
function groupEvent(id: string, opts: { broken?: boolean } = {}): any {
  const e = JSON.parse(readFileSync(join(packageRoot, 'examples/messages/redhat-container-group.test.queued.json'), 'utf8'));
  e.artifact.id = id;
  e.artifact.images[0].nvr = `ansible-tower-container-3.5.4-${id}`;
  if (opts.broken) e.artifact.images[0].full_name = `registry.example.com/ansible-tower/ansible-tower:broken-${id}`;
  e.artifact.images[1].issuer = 'rhel-build-service';
  e.artifact.images[2].issuer = 'rhel-build-service';
  return e;
}

describe('Slack actions on the daemon\'s port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cvp-slack-actions-'));
  const jenkins = new JenkinsStandIn({ user: 'cvp-bot', token: 'jenkins-token' });
  const resultsdb = new ResultsDbStandIn({ outcomes: ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'QUEUED', 'RUNNING', 'ERROR'] });
  const slack = new SlackStandIn({ token: 'xoxb-slack-token', usergroups: { S0TOWERQE: [GRACE.id, 'U0SOMEONE'] } });
  const releaseApi = new ReleaseApiStandIn();
  const log = new MemoryLogger();
  let built: Built;
  let url: string;
  let journal: SqliteJournal;

  beforeAll(async () => {
    await Promise.all([jenkins.start(), resultsdb.start(), slack.start(), releaseApi.start()]);
    jenkins.defineJob(JOB, {
      parameters: ['TOWER_CONTAINER_IMAGE', 'MEMCACHED_CONTAINER_IMAGE', 'MESSAGING_CONTAINER_IMAGE', 'CVP_RUN_ID'],
      result: (p) => (p.TOWER_CONTAINER_IMAGE.includes('broken') ? 'FAILURE' : 'SUCCESS'), runMs: 100,
    });
    const yaml = `
intake: { host: 127.0.0.1, port: 0 }
journal: { path: ${join(dir, 'journal.db')} }
${peersYaml({ jenkins: jenkins.url, resultsdb: resultsdb.url, slackApi: slack.apiUrl, channel: '#tower-qe' })}  signing_secret: \${SLACK_SIGNING_SECRET}
# The decision message needs a contact, which comes with CI messages, which need a bus.
bus:
  brokers: [{ host: ${testBrokerHost()}, port: ${testStompPort()} }]
  consumer: Consumer.cvp-it.slack${process.pid}
  dead_letter: /queue/cvp-it.slack${process.pid}.dead-letter
ci_messages:
  contact: { name: CVP, team: tower-qe, docs: "https://cvp.example.com/docs", email: tower-qe@example.com }
  run_url: "https://cvp.example.com/runs/{run_id}"
products:
  - name: Ansible Tower
    required: { brew-build: [${TESTCASE}] }
    release: "off"
    release_action: { http: { url: "${releaseApi.url}/api/release" } }
    slack_channel: "#tower-gating"
    approvers: { users: [${ADA.id}], groups: [S0TOWERQE] }
rules:
  - name: tower-group-testing
    product: Ansible Tower
    topic: ${GROUP_TOPIC}
    job: ${JOB}
    parameters:
      TOWER_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower' && issuer=='freshmaker'].full_name | [0]
      MEMCACHED_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower-memcached' && issuer=='freshmaker'].full_name | [0]
      MESSAGING_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower-messaging' && issuer=='freshmaker'].full_name | [0]
    report: { testcase: ${TESTCASE}, per: image, type: brew-build, rebuilt: "issuer == 'freshmaker'", group: false }
`;
    const validator = new EventValidator(schemasDir);
    const loaded = parseConfig(yaml, join(dir, 'cvp.yaml'), { JENKINS_TOKEN: 'jenkins-token', SLACK_TOKEN: 'xoxb-slack-token', SLACK_SIGNING_SECRET: SECRET }, (t) => validator.knows(t));
    built = await buildDaemon(loaded, { env: {}, clock: systemClock, log, print: () => undefined }, validator);
    await built.daemon.start();
    url = `${built.intake!.url()}/slack/actions`;
    journal = new SqliteJournal(join(dir, 'journal.db'));
  });

  afterAll(async () => {
    await journal?.close();
    await built?.daemon.stop();
    await Promise.all([jenkins.stop(), resultsdb.stop(), slack.stop(), releaseApi.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => expectNoUnexpected(jenkins, resultsdb, slack, releaseApi));

  async function send(id: string, opts: { broken?: boolean } = {}): Promise<void> {
    const res = await fetch(`${built.intake!.url()}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: GROUP_TOPIC, body: groupEvent(id, opts) }) });
    expect(res.status).toBe(202);
  }

  /** The event's thread: its first notice and the replies, as Slack holds them. */
  function thread(artifactId: string): SlackMessage[] {
    const root = slack.messages.find((m) => !m.thread_ts && m.text?.includes(artifactId));
    return root ? [root, ...slack.thread(root.ts)] : [];
  }

  const said = (artifactId: string, pattern: RegExp) => thread(artifactId).filter((m) => pattern.test(m.text ?? ''));

  function one(artifactId: string, pattern: RegExp): Promise<SlackMessage> {
    return eventually(`"${pattern}" in the thread of ${artifactId}`, () => {
      const found = said(artifactId, pattern);
      return found.length === 1 && found[0];
    }, 20_000);
  }

  /** Presses a button as Slack sends the click, signed; Slack waits 3 s for the answer. */
  async function press(message: SlackMessage, actionId: string, user: SlackPerson): Promise<{ click: Record<string, unknown>; answer: Answer }> {
    const click = slack.click(message, actionId, user);
    const answer = await sendInteraction(url, click, SECRET);
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(3_000);
    return { click, answer };
  }

  async function settled(): Promise<void> {
    await built.interactivity!.idle();
  }

  const actionsOn = async (gateEnd: string) => (await journal.actions('Ansible Tower', 1000)).filter((a) => (a.gateKey ?? '').endsWith(gateEnd));
  const buttons = (m: SlackMessage) => (m.blocks as Array<{ type: string; elements?: Array<{ action_id: string }> }>)
    .filter((b) => b.type === 'actions').flatMap((b) => b.elements!.map((e) => e.action_id));

  it('refuses forged and replayed requests, and acts once on the genuine Release click; the release action is called once with who released', async () => {
    await send('g-release');
    const decision = await one('g-release', /^Gate PASSED for Ansible Tower/);
    expect(buttons(decision)).toEqual(['cvp.release', 'cvp.hold']);

    const click = slack.click(decision, 'cvp.release', ADA);
    const forged = [
      await sendInteraction(url, click, 'not-the-signing-secret'),
      await sendSigned(url, signInteraction(click, SECRET, Date.now() - 6 * 60_000)),
      await sendSigned(url, { ...signInteraction(click, SECRET), body: new URLSearchParams({ payload: JSON.stringify({ ...click, user: { id: EVE.id, username: EVE.name } }) }).toString() }),
      await sendSigned(url, { ...signInteraction(click, SECRET), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    ];
    expect(forged.map((a) => a.status)).toEqual([401, 401, 401, 401]);
    expect(forged.map((a) => a.text.trim())).toEqual([
      'X-Slack-Signature does not match the body (wrong signing secret, or the body was altered)',
      'X-Slack-Request-Timestamp is more than 5 minutes off: a stale or replayed request',
      'X-Slack-Signature does not match the body (wrong signing secret, or the body was altered)',
      'X-Slack-Request-Timestamp and X-Slack-Signature are required',
    ]);
    await settled();
    expect(await actionsOn('g-release')).toEqual([]);

    const genuine = signInteraction(click, SECRET);
    const first = await sendSigned(url, genuine);
    expect(first.status).toBe(200);
    expect(first.ms).toBeLessThan(3_000);
    const replayed = await sendSigned(url, genuine);
    expect(replayed).toMatchObject({ status: 401, text: 'this signed request was received before: a replay\n' });
    // A double click: a second payload of the same button, with its own trigger id and signature.
    const again = await press(decision, 'cvp.release', ADA);
    await settled();

    const acts = await actionsOn('g-release');
    expect(acts.map((a) => [a.kind, a.who, a.via])).toEqual([['release', 'slack:U0ADA (ada)', 'slack']]);
    await one('g-release', /^slack:U0ADA \(ada\) released Ansible Tower g-release/);
    await eventually('the release action', () => releaseApi.calls.length === 1);
    expect(releaseApi.calls[0].key).toBe('Ansible Tower|redhat-container-group|g-release');
    expect(releaseApi.calls[0].body).toMatchObject({ decision: 'pass', release: { mode: 'off', action: 'released', released_by: 'slack:U0ADA (ada)' } });
    expect(slack.responsesTo(click)).toEqual([{ response_type: 'ephemeral', replace_original: false, text: expect.stringContaining(':white_check_mark: Ansible Tower g-release released by slack:U0ADA (ada)') }]);
    expect(slack.responsesTo(again.click)).toEqual([expect.objectContaining({ text: ':information_source: Ansible Tower g-release was released already' })]);
    // Still once, after the outbox had every chance to deliver more.
    await new Promise((r) => setTimeout(r, 300));
    expect(said('g-release', /released Ansible Tower/)).toHaveLength(1);
    expect(releaseApi.calls).toHaveLength(1);
    const metrics = (await built.metrics.render()).body;
    expect(metrics).toMatch(/cvp_intake_unauthorized_total\{path="\/slack\/actions"\} 5/);
  });

  it('lets a member of an approving user group hold, and refuses someone who is not an approver', async () => {
    await send('g-hold');
    const decision = await one('g-hold', /^Gate PASSED for Ansible Tower/);
    const reads = slack.usergroupReads.length;
    const refused = await press(decision, 'cvp.release', EVE);
    await settled();
    expect(await actionsOn('g-hold')).toEqual([]);
    expect(slack.responsesTo(refused.click)).toEqual([expect.objectContaining({ text: ':no_entry: slack:U0EVE (eve) may not act on Ansible Tower: ask one of its approvers' })]);

    await press(decision, 'cvp.hold', GRACE);
    await settled();
    expect((await actionsOn('g-hold')).map((a) => [a.kind, a.who])).toEqual([['hold', 'slack:U0GRACE (grace)']]);
    await one('g-hold', /^slack:U0GRACE \(grace\) held Ansible Tower g-hold/);
    // The group's members were asked of Slack once (for eve's click), and are cached for the next ones.
    expect(slack.usergroupReads.slice(reads)).toEqual(['S0TOWERQE']);
    await press(decision, 'cvp.hold', GRACE);
    await settled();
    expect(slack.usergroupReads.slice(reads)).toEqual(['S0TOWERQE']);
    expect(await actionsOn('g-hold')).toHaveLength(1);
    expect(releaseApi.calls.filter((c) => c.key.endsWith('g-hold'))).toEqual([]);
  });

  it('waives a failing result through the modal (a reason required), revokes the waiver, and reruns the failed run, each once', async () => {
    await send('g-fail', { broken: true });
    const outcome = await one('g-fail', /^Pipelines\/openshift-integration-pipeline FAILED/);
    expect(buttons(outcome)).toEqual(['cvp.rerun']);
    const decision = await one('g-fail', /^Gate FAILED for Ansible Tower/);
    expect(buttons(decision)).toEqual(['cvp.waive.0']);

    // Waive: the click opens the modal with the click's trigger id.
    const waive = await press(decision, 'cvp.waive.0', ADA);
    const view = await eventually('the Waive modal', () => slack.views.find((v) => v.triggerId === waive.click.trigger_id));
    expect(view.view.title.text).toBe('Waive a result');
    const blank = await sendInteraction(url, slack.submit(view.id, { 'cvp.reason': '   ' }), SECRET);
    expect(blank.status).toBe(200);
    expect(JSON.parse(blank.text)).toEqual({ response_action: 'errors', errors: { 'cvp.reason': 'A waiver needs a reason: say why this failure may be accepted' } });
    const submitted = await sendInteraction(url, slack.submit(view.id, { 'cvp.reason': 'known flake: the test cluster ran out of quota' }), SECRET);
    expect(submitted).toMatchObject({ status: 200, text: '' });
    // The form submitted twice (a double click on Waive), and a second modal from the same button: one waiver.
    await sendInteraction(url, slack.submit(view.id, { 'cvp.reason': 'known flake: the test cluster ran out of quota' }), SECRET);
    const second = await press(decision, 'cvp.waive.0', ADA);
    const view2 = await eventually('the second modal', () => slack.views.find((v) => v.triggerId === second.click.trigger_id));
    await sendInteraction(url, slack.submit(view2.id, { 'cvp.reason': 'another reason' }), SECRET);
    await settled();

    const waivers = await journal.waivers('Ansible Tower', true, 100);
    const nvr = 'ansible-tower-container-3.5.4-g-fail';
    expect(waivers.filter((w) => w.item === nvr).map((w) => [w.testcase, w.reason, w.who, w.revokedAt])).toEqual([[TESTCASE, 'known flake: the test cluster ran out of quota', 'slack:U0ADA (ada)', null]]);
    const waived = await one('g-fail', /^slack:U0ADA \(ada\) waived ansible-tower-35.default.integration on ansible-tower-container-3.5.4-g-fail: known flake/);
    expect(buttons(waived)).toEqual(['cvp.revoke']);
    const passed = await one('g-fail', /^Gate changed to PASSED for Ansible Tower/);
    expect(JSON.stringify(passed.blocks)).toContain('waived by slack:U0ADA (ada): known flake: the test cluster ran out of quota');
    expect(buttons(passed)).toEqual(['cvp.release', 'cvp.hold']);

    // Revoke, on the waiver's notice (twice: once).
    await press(waived, 'cvp.revoke', GRACE);
    await press(waived, 'cvp.revoke', GRACE);
    await settled();
    expect((await journal.waiver(waivers[0].id))).toMatchObject({ revokedBy: 'slack:U0GRACE (grace)' });
    await one('g-fail', /^Gate changed to FAILED for Ansible Tower/);

    // Rerun the failed run (twice: once): Jenkins gets one more build, which fails again and says so.
    const builds = () => jenkins.builds(JOB).filter((b) => b.parameters.TOWER_CONTAINER_IMAGE.endsWith('broken-g-fail'));
    expect(builds()).toHaveLength(1);
    await press(outcome, 'cvp.rerun', ADA);
    await press(outcome, 'cvp.rerun', ADA);
    await settled();
    await one('g-fail', /^slack:U0ADA \(ada\) asked for Pipelines\/openshift-integration-pipeline to run again/);
    await eventually('the rerun\'s outcome', () => said('g-fail', /^Pipelines\/openshift-integration-pipeline FAILED/).length === 2, 20_000);
    expect(builds()).toHaveLength(2);
    const kinds = (await journal.actions('Ansible Tower', 1000)).filter((a) => a.gateKey?.endsWith('g-fail') || a.kind === 'rerun' || a.kind === 'revoke').map((a) => a.kind).sort();
    expect(kinds).toEqual(['rerun', 'revoke', 'waive']);
    await new Promise((r) => setTimeout(r, 300));
    expect(said('g-fail', /asked for .* to run again/)).toHaveLength(1);
    expect(said('g-fail', /waived ansible-tower/)).toHaveLength(1);
  });

  it('refuses a trigger Slack has expired: the modal is not opened, and the user is told', async () => {
    await send('g-late', { broken: true });
    const decision = await one('g-late', /^Gate FAILED for Ansible Tower/);
    const click = slack.click(decision, 'cvp.waive.0', ADA);
    slack.expireTriggers();
    expect((await sendInteraction(url, click, SECRET)).status).toBe(200);
    await settled();
    expect(slack.views.some((v) => v.triggerId === click.trigger_id)).toBe(false);
    expect(slack.responsesTo(click)).toEqual([expect.objectContaining({ text: expect.stringContaining('could not open the waiver form (PEER_REJECTED: Slack refused views.open: expired_trigger_id)') })]);
  });
});
