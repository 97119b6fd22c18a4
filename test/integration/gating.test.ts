import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { packageRoot, schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';
import { DaemonFixture, TOWER_JOB, TOWER_PARAMETERS } from '../support/daemon-fixture';
import { eventually } from '../support/eventually';
import { upstreamValidator } from '../support/upstream-schemas';
import { connectTestClient, disconnectTestClient, sendWithReceipt, TestSubscription, testStompPort } from '../support/stomp-client';

const GROUP_TOPIC = '/topic/VirtualTopic.eng.ci.redhat-container-group.test.queued';
const TESTCASE = 'ansible-tower-35.default.integration';

/** Three images of the product; the messaging image was not rebuilt (not freshmaker's). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test events are edited freely
function groupEvent(id: string): any {
  const e = JSON.parse(readFileSync(join(packageRoot, 'examples/messages/redhat-container-group.test.queued.json'), 'utf8'));
  e.artifact.id = id;
  e.artifact.images[2].issuer = 'rhel-build-service';
  return e;
}

async function publish(topic: string, body: unknown): Promise<void> {
  const client = await connectTestClient(testStompPort());
  try {
    await sendWithReceipt(client, topic, JSON.stringify(body), { 'content-type': 'application/json' });
  } finally {
    await disconnectTestClient(client);
  }
}

/** The release driver's API, as the release action's HTTP call sees it. */
class ReleaseApi {
  calls: Array<{ headers: Record<string, unknown>; body: Record<string, unknown> }> = [];
  private server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      this.calls.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"queued":true}');
    });
  });
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/release`;
  }
  async stop(): Promise<void> { await new Promise((r) => this.server.close(r)); }
}

function config(f: DaemonFixture, mode: string, releaseUrl: string): string {
  return f.configYaml().replace(/\nrules:[\s\S]*$/, `
ci_messages:
  contact: { name: CVP, team: tower-qe, docs: "https://cvp.example.com/docs", email: tower-qe@example.com }
  run_url: "https://cvp.example.com/runs/{run_id}"
pipeline_results:
  topics: [VirtualTopic.eng.ci.brew-build.test.complete, VirtualTopic.eng.ci.brew-build.test.error]
products:
  - name: Ansible Tower
    required: { brew-build: [${TESTCASE}] }
    release: ${mode}
    release_action:
      bus: /queue/cvp-it.${f.id}.release
      http: { url: "${releaseUrl}", token: "\${RELEASE_TOKEN}" }
    slack_channel: "#tower-gating"
rules:
  - name: tower-group-testing
    product: Ansible Tower
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    checks:
      - { field: $.artifact.component, expected: Ansible Tower }
    job: ${TOWER_JOB}
    parameters:
      TOWER_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower' && issuer=='freshmaker'].full_name | [0]
      MEMCACHED_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower-memcached' && issuer=='freshmaker'].full_name | [0]
      MESSAGING_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower-messaging' && issuer=='freshmaker'].full_name | [0]
    report: { testcase: ${TESTCASE}, per: image, type: brew-build, rebuilt: "issuer == 'freshmaker'" }
`);
}

function decisions(f: DaemonFixture): Array<{ decision: string; mode: string; action: string }> {
  const db = new Database(join(f.dir, 'journal.db'), { readonly: true });
  try {
    return db.prepare('SELECT decision, mode, action FROM decisions ORDER BY id').all() as Array<{ decision: string; mode: string; action: string }>;
  } finally {
    db.close();
  }
}

describe('group testing, the gate and the auto-release knob, on a real ActiveMQ', () => {
  let f: DaemonFixture;
  let release: ReleaseApi;
  let releaseUrl: string;
  let ci: Map<string, TestSubscription>;
  let released: TestSubscription;

  beforeEach(async () => {
    f = new DaemonFixture();
    await f.startPeers();
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, result: 'SUCCESS', runMs: 200 });
    release = new ReleaseApi();
    releaseUrl = await release.start();
    // Listeners of CVP's CI messages and of the release queue, in place before anything is sent.
    ci = new Map();
    for (const stage of ['queued', 'running', 'complete', 'error']) {
      ci.set(stage, await TestSubscription.open(testStompPort(), `/queue/Consumer.cvp-it.${f.id}-ci.VirtualTopic.eng.ci.brew-build.test.${stage}`));
    }
    released = await TestSubscription.open(testStompPort(), `/queue/cvp-it.${f.id}.release`);
  });

  afterEach(async () => {
    for (const s of ci.values()) await s.close();
    await released.close();
    await f.stop();
    await release.stop();
  });

  it.each(['on', 'off', 'shadow'])('release: %s — two PASSED, the image not rebuilt named in the group\'s result, CI messages, a Slack thread, and the knob obeyed', async (mode) => {
    await f.startDaemon(config(f, mode, releaseUrl));
    await publish(GROUP_TOPIC, groupEvent(`tower-${mode}`));

    await eventually('the gate\'s decision', () => decisions(f).length === 1, 20_000);
    await eventually('the results in ResultsDB', () => f.resultsdb.results.filter((r) => r.outcome !== 'QUEUED').length === 3, 10_000);
    expect(f.jenkins.triggerCount(TOWER_JOB)).toBe(1);
    const params = f.jenkins.builds(TOWER_JOB)[0].parameters;
    expect(params.TOWER_CONTAINER_IMAGE).toContain('ansible-tower:');
    expect(params.MESSAGING_CONTAINER_IMAGE).toBe('');

    const images = f.resultsdb.results.filter((r) => r.data.type[0] === 'brew-build' && r.outcome !== 'QUEUED');
    // The image that was not rebuilt was not tested: no result of its own (a later INFO would hide
    // an earlier FAILED from the gating service); the group's result names it.
    expect(images.map((r) => [r.data.item[0], r.outcome]).sort()).toEqual([
      ['ansible-tower-container-3.5.4-2', 'PASSED'],
      ['ansible-tower-memcached-container-1.5.16-4', 'PASSED'],
    ]);
    const group = f.resultsdb.results.filter((r) => r.data.type[0] === 'redhat-container-group');
    expect(group.map((r) => r.outcome)).toEqual(['QUEUED', 'PASSED']);
    expect(group[1].data.not_rebuilt).toEqual(['ansible-tower-messaging-container-3.7.21-6']);

    // CI messages for each image under test, valid ci-messages.
    const validator = new EventValidator(schemasDir);
    const upstream = upstreamValidator();
    const seen: string[] = [];
    for (const [stage, sub] of ci) {
      const messages = stage === 'error' ? sub.messages : await sub.take(2, 10_000);
      for (const m of messages) {
        const body = JSON.parse(m.body);
        expect(validator.validate(`VirtualTopic.eng.ci.brew-build.test.${stage}`, body)).toEqual({ valid: true });
        // ...and what the upstream ci-messages 0.2.5 schemas define of them.
        const parts: Array<[string, unknown]> = [['contact', body.contact], ['run', body.run], ['pipeline', body.pipeline], ['test-common', body.test], ['rpm-build', body.artifact]];
        if (stage === 'complete') parts.push(['test-complete', body.test]);
        for (const [part, value] of parts) expect({ part, ...upstream.validatePart(part, value) }).toEqual({ part, valid: true, errors: [] });
        expect(body.pipeline.id).toBe(f.jenkins.builds(TOWER_JOB)[0].parameters.CVP_RUN_ID);
        seen.push(`${stage} ${body.artifact.nvr}`);
      }
    }
    expect(seen.sort()).toEqual([
      'complete ansible-tower-container-3.5.4-2', 'complete ansible-tower-memcached-container-1.5.16-4',
      'queued ansible-tower-container-3.5.4-2', 'queued ansible-tower-memcached-container-1.5.16-4',
      'running ansible-tower-container-3.5.4-2', 'running ansible-tower-memcached-container-1.5.16-4',
    ]);

    // One thread: what was rebuilt, the run's outcome, the gate's decision.
    await eventually('three Slack messages', () => f.slack.messages.length === 3, 10_000);
    const [first, outcome, gate] = f.slack.messages;
    expect(first.channel).toBe('#tower-gating');
    expect(first.text).toContain('Rebuilt');
    expect(first.text).toContain(TOWER_JOB);
    expect(outcome.thread_ts).toBe(first.ts);
    expect(outcome.text).toContain('PASSED');
    expect(gate.thread_ts).toBe(first.ts);
    expect(gate.text).toContain('Gate PASSED for Ansible Tower');

    const expected = { on: 'released', off: 'asked', shadow: 'would_release' }[mode];
    expect(decisions(f)).toEqual([{ decision: 'pass', mode, action: expected }]);
    if (mode === 'on') {
      await eventually('the release action', () => release.calls.length === 1 && released.messages.length === 1, 10_000);
      expect(release.calls[0].headers.authorization).toBe('Bearer release-token');
      expect(release.calls[0].body).toMatchObject({ product: 'Ansible Tower', decision: 'pass', release: { mode: 'on', action: 'released' } });
      expect(validator.validate('VirtualTopic.eng.cvp.gate.decision', JSON.parse(released.messages[0].body))).toEqual({ valid: true });
    } else {
      expect(gate.text).toContain(mode === 'off' ? 'a person decides' : 'would have released');
      // What the team reads to see how often CVP would have released.
      const file = join(f.dir, 'cvp.yaml');
      writeFileSync(file, config(f, mode, releaseUrl));
      const listed = spawnSync(join(packageRoot, 'bin', 'cvp'), ['decisions', '--config', file], { encoding: 'utf8', env: { ...process.env, JENKINS_TOKEN: 'jenkins-token', SLACK_TOKEN: 'xoxb-slack-token', RELEASE_TOKEN: 'release-token' } });
      expect(listed.stderr).toBe('');
      expect(listed.status).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`pass\\s+${mode}\\s+${expected}\\s+Ansible Tower\\|redhat-container-group\\|tower-${mode}`));
      expect(listed.stdout).toContain(`1 decision(s): 1 ${expected}`);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(release.calls).toHaveLength(0);
      expect(released.messages).toHaveLength(0);
    }
    f.expectNoUnexpected();
  });

  it('changes its decision when a pipeline\'s test.complete for another test case arrives later and fails', async () => {
    await f.startDaemon(config(f, 'off', releaseUrl));
    const event = groupEvent('tower-later');
    await publish(GROUP_TOPIC, event);
    await eventually('the first decision', () => decisions(f).length === 1, 20_000);
    expect(decisions(f)[0].decision).toBe('pass');

    const late = JSON.parse(readFileSync(join(packageRoot, 'examples/messages/brew-build.test.complete.json'), 'utf8'));
    late.artifact = { type: 'brew-build', id: event.artifact.images[1].id, issuer: 'freshmaker', component: event.artifact.images[1].component, nvr: event.artifact.images[1].nvr, scratch: false };
    late.test = { ...late.test, namespace: 'ansible-tower-35', type: 'upgrade', category: 'functional', result: 'failed' };
    late.pipeline = { id: 'tower-upgrade-pipeline-77', name: 'tower upgrade tests' };
    await publish('/topic/VirtualTopic.eng.ci.brew-build.test.complete', late);

    await eventually('the changed decision', () => decisions(f).length === 2, 20_000);
    expect(decisions(f)[1]).toEqual({ decision: 'fail', mode: 'off', action: 'none' });
    const written = await eventually('the pipeline\'s result in ResultsDB', () => f.resultsdb.results.find((r) => r.testcase.name === 'ansible-tower-35.upgrade.functional'), 10_000);
    expect(written).toMatchObject({ outcome: 'FAILED', data: { item: [event.artifact.images[1].nvr], type: ['brew-build'] } });
    await eventually('the Slack reply', () => f.slack.messages.some((m) => m.text?.includes('Gate changed to FAILED')), 10_000);
    expect(f.jenkins.triggerCount(TOWER_JOB)).toBe(1);
    f.expectNoUnexpected();
  });

  it('ends a run at once when its pipeline reports its own test.error, naming the run', async () => {
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, neverFinishes: true });
    await f.startDaemon(config(f, 'off', releaseUrl));
    const event = groupEvent('tower-reported');
    await publish(GROUP_TOPIC, event);
    await eventually('the build', () => f.jenkins.builds(TOWER_JOB).length === 1, 10_000);
    const runId = f.jenkins.builds(TOWER_JOB)[0].parameters.CVP_RUN_ID;
    const err = JSON.parse(readFileSync(join(packageRoot, 'examples/messages/brew-build.test.error.json'), 'utf8'));
    err.pipeline = { id: runId, name: TOWER_JOB };
    err.test = { ...err.test, namespace: 'ansible-tower-35', type: 'default', category: 'integration' };
    err.error = { reason: 'the OpenShift cluster could not be installed' };
    await publish('/topic/VirtualTopic.eng.ci.brew-build.test.error', err);
    await eventually('ERROR results from the pipeline\'s word', () =>
      f.resultsdb.results.filter((r) => r.outcome === 'ERROR' && r.testcase.name === TESTCASE).length === 3, 10_000);
    const e = f.resultsdb.results.find((r) => r.outcome === 'ERROR')!;
    expect(e.data.error_reason).toEqual(['the OpenShift cluster could not be installed']);
    expect(e.data.cvp_run_id).toEqual([runId]);
  });
});
