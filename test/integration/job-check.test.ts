/**
 * A rule whose Jenkins job does not declare CVP_RUN_ID: Jenkins would drop the parameter
 * (SECURITY-170), so CVP could never find the job's builds after a lost answer. The daemon
 * refuses to start, with a message that says how to declare it, before it takes any message in.
 */
import { randomUUID } from 'node:crypto';
import { DaemonProcess } from '../support/daemon-process';
import { browse, testStompPort } from '../support/stomp-client';
import { JOB, publishStream, StreamFixture } from '../support/stream-fixture';

describe('the start-up check of the rules\' jobs', () => {
  let f: StreamFixture;
  beforeEach(async () => { f = new StreamFixture(); await f.start(); });
  afterEach(async () => { await f.stop(); });

  it('refuses to start when a rule\'s job lacks CVP_RUN_ID, saying how to add it, and warns of a rule parameter the job drops', async () => {
    // The job declares GROUP_ID only: the rule also sets TOWER_CONTAINER_IMAGE, and CVP_RUN_ID is missing.
    f.jenkins.defineJob(JOB, { parameters: ['GROUP_ID'] });
    const tag = `jc${randomUUID().slice(0, 6)}`;
    const consumer = `Consumer.cvp-jobcheck.${tag}`;
    const daemon = new DaemonProcess(f.writeConfig(testStompPort(), consumer), f.dir, f.env);
    f.daemons.push(daemon);
    daemon.start();
    const end = await daemon.ended(30_000);
    expect(end.code).not.toBe(0);
    expect(end.code).not.toBeNull();
    expect(end.stderr).toContain(`job ${JOB} does not declare the parameter CVP_RUN_ID, so Jenkins drops it (SECURITY-170)`);
    expect(end.stderr).toContain("parameters { string(name: 'CVP_RUN_ID', defaultValue: '') }");
    expect(end.stderr).toContain('"This project is parameterized"');
    expect(end.stderr).toContain('rules[0] (stream)');
    expect(end.stderr).toContain(`job ${JOB} does not declare the parameter TOWER_CONTAINER_IMAGE`);
    // Refused before subscribing: the consumer queue was never made, so an event published now reaches nobody.
    await publishStream(testStompPort(), tag, 0, 1);
    expect(await browse(testStompPort(), `/queue/${consumer}.VirtualTopic.eng.ci.redhat-container-group.test.queued`)).toEqual([]);
    expect(f.jenkins.triggerCount(JOB)).toBe(0);
    // It asked Jenkins for the job's parameter definitions.
    expect(f.jenkins.requests.some((r) => r.query.tree === 'property[parameterDefinitions[name]]')).toBe(true);
  }, 60_000);
});
