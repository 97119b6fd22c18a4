import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { DaemonFixture, TOWER_JOB, TOWER_PARAMETERS } from '../support/daemon-fixture';
import { eventually } from '../support/eventually';
import { connectTestClient, consume, disconnectTestClient, sendWithReceipt, testStompPort } from '../support/stomp-client';

const TOPIC = '/topic/VirtualTopic.eng.ci.redhat-container-group.test.queued';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test events are edited freely
function groupEvent(id: string, result?: (e: any) => void): any {
  const e = JSON.parse(readFileSync(join(packageRoot, 'examples/messages/redhat-container-group.test.queued.json'), 'utf8'));
  e.artifact.id = id;
  result?.(e);
  return e;
}

async function publish(body: unknown): Promise<void> {
  const client = await connectTestClient(testStompPort());
  try {
    await sendWithReceipt(client, TOPIC, typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json' });
  } finally {
    await disconnectTestClient(client);
  }
}

describe('the core path on a real ActiveMQ', () => {
  let f: DaemonFixture;

  beforeEach(async () => {
    f = new DaemonFixture();
    await f.startPeers();
  });

  afterEach(async () => {
    await f.stop();
  });

  it('turns a group-testing event into one Jenkins build, QUEUED then PASSED per image, and two Slack messages', async () => {
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, result: 'SUCCESS', queueMs: 100, runMs: 300 });
    await f.startDaemon();
    await publish(groupEvent('tower-group-1'));

    await eventually('four PASSED results', () => f.resultsdb.results.filter((r) => r.outcome === 'PASSED').length === 4);
    const builds = f.jenkins.builds(TOWER_JOB);
    expect(builds).toHaveLength(1);
    expect(f.jenkins.triggerCount(TOWER_JOB)).toBe(1);
    expect(builds[0].parameters).toMatchObject({
      TESTEXPR: 'yolo or ansible_integration',
      TOWER_CONTAINER_IMAGE: 'registry.example.com/ansible-tower/ansible-tower:3.5.4-2',
      MEMCACHED_CONTAINER_IMAGE: 'registry.example.com/ansible-tower/ansible-tower-memcached:1.5.16-4',
      MESSAGING_CONTAINER_IMAGE: 'registry.example.com/ansible-tower/ansible-tower-messaging:3.7.21-6',
    });
    const runId = builds[0].parameters.CVP_RUN_ID;
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);

    const results = f.resultsdb.results;
    expect(results.map((r) => r.outcome).sort()).toEqual(['PASSED', 'PASSED', 'PASSED', 'PASSED', 'QUEUED', 'QUEUED', 'QUEUED', 'QUEUED']);
    const group = results.filter((r) => r.data.type[0] === 'redhat-container-group');
    expect(group.map((r) => [r.outcome, r.data.item[0]])).toEqual([['QUEUED', 'tower-group-1'], ['PASSED', 'tower-group-1']]);
    for (const nvr of ['ansible-tower-container-3.5.4-2', 'ansible-tower-memcached-container-1.5.16-4', 'ansible-tower-messaging-container-3.7.21-6']) {
      const mine = results.filter((r) => r.data.item?.[0] === nvr);
      expect(mine.map((r) => r.outcome)).toEqual(['QUEUED', 'PASSED']);
      expect(mine[1]).toMatchObject({
        testcase: { name: 'ansible-tower-35.default.integration' },
        data: { type: ['brew-build'], cvp_run_id: [runId], group_id: ['tower-group-1'], errata_id: ['47960'] },
      });
      expect(mine[1].ref_url).toMatch(new RegExp(`${f.jenkins.url}/job/Pipelines/job/openshift-integration-pipeline/1/?$`));
    }

    await eventually('two Slack messages', () => f.slack.messages.length === 2);
    const [start, end] = f.slack.messages;
    expect(start.channel).toBe('#tower-qe');
    expect(start.text).toContain('started');
    expect(start.blocks).toBeDefined();
    expect(end.thread_ts).toBe(start.ts);
    expect(end.text).toContain('PASSED');
    expect(end.text).toContain('https://errata.example.com/advisory/47960');
    expect(end.text).toContain('/job/Pipelines/job/openshift-integration-pipeline/1/');
    f.expectNoUnexpected();
  });

  it('reports FAILED per image when the build fails', async () => {
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, result: 'FAILURE', runMs: 100 });
    await f.startDaemon();
    await publish(groupEvent('tower-group-2'));
    await eventually('four FAILED results', () => f.resultsdb.results.filter((r) => r.outcome === 'FAILED').length === 4);
    expect(f.jenkins.triggerCount(TOWER_JOB)).toBe(1);
    await eventually('the outcome notice', () => f.slack.messages.some((m) => m.text?.includes('FAILED')));
    f.expectNoUnexpected();
  });

  it('dead-letters a message that fails its schema, with its reasons, and still processes the next valid one', async () => {
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, result: 'SUCCESS' });
    await f.startDaemon();
    const bad = groupEvent('tower-group-bad', (e) => { delete e.artifact.errata_id; e.artifact.images[1].nvr = 42; });
    await publish(bad);
    await publish('this is not JSON');
    await publish(groupEvent('tower-group-3'));

    const dead = await consume(testStompPort(), f.deadLetter, { count: 2, timeoutMs: 15_000 });
    expect(dead).toHaveLength(2);
    expect(JSON.parse(dead[0].body)).toEqual(bad);
    expect(dead[0].headers['cvp-error-code']).toBe('MESSAGE_INVALID');
    const reasons = Object.entries(dead[0].headers).filter(([k]) => /^cvp-reason-\d+$/.test(k)).map(([, v]) => v);
    expect(reasons).toEqual(expect.arrayContaining([
      '$.artifact.errata_id: required, but missing',
      '$.artifact.images[1].nvr: expected string, found number 42',
    ]));
    expect(dead[0].headers['cvp-original-message-id']).toMatch(/^ID:/);
    expect(dead[1].headers['cvp-error-code']).toBe('MESSAGE_NOT_JSON');
    expect(dead[1].body).toBe('this is not JSON');

    await eventually('the valid event\'s results', () => f.resultsdb.results.filter((r) => r.outcome === 'PASSED').length === 4);
    expect(f.jenkins.triggerCount(TOWER_JOB)).toBe(1);
    expect(f.log.lines.filter((l) => l.msg === 'message rejected')).toHaveLength(2);
    f.expectNoUnexpected();
  });

  it('turns a build that never finishes into ERROR after its timeout, stops it, and says so in Slack', async () => {
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, neverFinishes: true });
    await f.startDaemon(f.configYaml('', '2s'));
    await publish(groupEvent('tower-group-stuck'));
    await eventually('four ERROR results', () => f.resultsdb.results.filter((r) => r.outcome === 'ERROR').length === 4, 20_000);
    const error = f.resultsdb.results.find((r) => r.outcome === 'ERROR')!;
    expect(error.data.error_reason).toEqual(['build did not finish within 2 s']);
    expect(error.note).toBe('build did not finish within 2 s');
    await eventually('the notice', () => f.slack.messages.length === 2);
    expect(f.slack.messages[1].text).toContain('ERROR');
    expect(f.slack.messages[1].text).toContain('did not finish within 2 s');
    expect(f.slack.messages[1].thread_ts).toBe(f.slack.messages[0].ts);
    await eventually('the build stopped in Jenkins', () => f.jenkins.requests.some((r) => r.method === 'POST' && /\/1\/stop$/.test(r.path)));
    f.expectNoUnexpected();
  });

  it('acks nothing it has not recorded: a message published while the daemon is down is processed after it starts again', async () => {
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, result: 'SUCCESS' });
    await f.startDaemon();
    await f.stopDaemon();
    await publish(groupEvent('tower-group-4'));
    await f.startDaemon();
    await eventually('four PASSED results', () => f.resultsdb.results.filter((r) => r.outcome === 'PASSED').length === 4);
    expect(f.jenkins.triggerCount(TOWER_JOB)).toBe(1);
  });
});
