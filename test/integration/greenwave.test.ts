import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { DaemonFixture, TOWER_JOB, TOWER_PARAMETERS } from '../support/daemon-fixture';
import { eventually } from '../support/eventually';
import { greenwaveResults, greenwaveVerdict } from '../support/greenwave';
import { connectTestClient, disconnectTestClient, sendWithReceipt, testStompPort } from '../support/stomp-client';

const GROUP_TOPIC = 'VirtualTopic.eng.ci.redhat-container-group.test.queued';
const TESTCASE = 'ansible-tower-35.default.integration';
const ARCH_TESTCASE = 'tower-qe.arch.functional';
/** The namespaced form real producers publish on. */
const NAMESPACED_COMPLETE = 'VirtualTopic.eng.ci.tower-qe.brew-build.test.complete';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test events are edited freely
function example(name: string): any {
  return JSON.parse(readFileSync(join(packageRoot, 'examples/messages', name), 'utf8'));
}

async function publish(topic: string, body: unknown): Promise<void> {
  const client = await connectTestClient(testStompPort());
  try {
    await sendWithReceipt(client, `/topic/${topic}`, JSON.stringify(body), { 'content-type': 'application/json' });
  } finally {
    await disconnectTestClient(client);
  }
}

/** A group event: each image named here is rebuilt (freshmaker's), the others are not. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test events are edited freely
function group(id: string, rebuilt: string[]): any {
  const e = example('redhat-container-group.test.queued.json');
  e.artifact.id = id;
  for (const img of e.artifact.images) img.issuer = rebuilt.includes(img.name) ? 'freshmaker' : 'rhel-build-service';
  return e;
}

function config(f: DaemonFixture): string {
  return f.configYaml().replace(/\nrules:[\s\S]*$/, `
pipeline_results:
  topics: [VirtualTopic.eng.ci.brew-build.test.complete, ${NAMESPACED_COMPLETE}, VirtualTopic.eng.ci.redhat-container-image.test.complete]
products:
  - name: Ansible Tower
    required: { brew-build: [${TESTCASE}, ${ARCH_TESTCASE}] }
    release: shadow
rules:
  - name: tower-group-testing
    product: Ansible Tower
    topic: ${GROUP_TOPIC}
    job: ${TOWER_JOB}
    parameters:
      TOWER_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower' && issuer=='freshmaker'].full_name | [0]
    report: { testcase: ${TESTCASE}, per: image, type: brew-build, rebuilt: "issuer == 'freshmaker'", group: false }
  - name: image-testing
    topic: VirtualTopic.eng.ci.redhat-container-image.test.queued
    job: ${TOWER_JOB}
    parameters: { TOWER_CONTAINER_IMAGE: "artifact.full_names[0]" }
    report: { testcase: ansible-tower-35.image.integration, docs: "https://tower-qe.example.com/docs/image-integration" }
`);
}

function decisions(f: DaemonFixture): Promise<Array<{ decision: string }>> {
  return import('../../src/adapters/store/sqlite/sqlite-journal').then(async ({ SqliteJournal }) => {
    const j = new SqliteJournal(join(f.dir, 'journal.db'));
    try { return await j.decisions(undefined, 10); } finally { await j.close(); }
  });
}

/**
 * What CVP writes, read the way the gating service reads it (latest per item, type, test case
 * and scenario): results that make Greenwave, and CVP's own gate, decide right.
 */
describe('results the gating service reads right', () => {
  let f: DaemonFixture;
  let api: string;

  beforeEach(async () => {
    f = new DaemonFixture();
    await f.startPeers();
    // The rules' job must exist and declare CVP_RUN_ID, or the daemon refuses to start.
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, runMs: 50, result: 'SUCCESS' });
    api = `${f.resultsdb.url}/api/v2.0`;
  });
  afterEach(async () => { await f.stop(); });

  it('keeps an image FAILED when a later event lists it as not rebuilt', async () => {
    // The integration fails while the tower image is in it.
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, runMs: 100, result: (p) => (p.TOWER_CONTAINER_IMAGE ? 'FAILURE' : 'SUCCESS') });
    await f.startDaemon(config(f));
    const tower = example('redhat-container-group.test.queued.json').artifact.images[0].nvr as string;
    await publish(GROUP_TOPIC, group('first', ['ansible-tower', 'ansible-tower-memcached']));
    await eventually('the first run\'s results', () => f.resultsdb.results.filter((r) => r.outcome === 'FAILED').length === 2, 20_000);
    expect(await greenwaveVerdict(api, 'koji_build', tower, TESTCASE)).toBe('failed');

    // The next event rebuilt only memcached: the tower image was not tested again.
    await publish(GROUP_TOPIC, group('second', ['ansible-tower-memcached']));
    await eventually('the second run\'s results', () => f.resultsdb.results.filter((r) => r.outcome === 'PASSED').length === 1, 20_000);
    expect(f.resultsdb.results.filter((r) => r.data.item[0] === tower).map((r) => r.outcome)).toEqual(['QUEUED', 'FAILED']);
    expect(await greenwaveVerdict(api, 'koji_build', tower, TESTCASE)).toBe('failed');
    f.expectNoUnexpected();
  });

  it('counts a failing scenario even when another scenario passed later', async () => {
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, runMs: 50, result: 'SUCCESS' });
    await f.startDaemon(config(f));
    const event = group('scenarios', ['ansible-tower', 'ansible-tower-memcached']);
    await publish(GROUP_TOPIC, event);
    await eventually('CVP\'s own results', () => f.resultsdb.results.filter((r) => r.outcome === 'PASSED').length === 2, 20_000);
    for (const [img, scenario, result] of [[0, 'aarch64', 'failed'], [0, 'x86_64', 'passed'], [1, 'aarch64', 'passed'], [1, 'x86_64', 'passed']] as const) {
      const m = example('brew-build.test.complete.json');
      const image = event.artifact.images[img];
      m.artifact = { type: 'brew-build', id: image.id, issuer: 'freshmaker', component: image.component, nvr: image.nvr, scratch: false };
      m.test = { ...m.test, namespace: 'tower-qe', type: 'arch', category: 'functional', result, scenario };
      m.pipeline = { id: `arch-${img}-${scenario}`, name: 'tower arch tests' };
      await publish('VirtualTopic.eng.ci.brew-build.test.complete', m);
    }
    await eventually('the pipelines\' results', () => f.resultsdb.results.filter((r) => r.testcase.name === ARCH_TESTCASE).length === 4, 20_000);
    const tower = event.artifact.images[0].nvr;
    const seen = await greenwaveResults(api, 'koji_build', tower, ARCH_TESTCASE);
    expect(seen.map((r) => [r.scenario, r.outcome]).sort()).toEqual([['aarch64', 'FAILED'], ['x86_64', 'PASSED']]);
    expect(await greenwaveVerdict(api, 'koji_build', tower, ARCH_TESTCASE)).toBe('failed');
    expect(await greenwaveVerdict(api, 'koji_build', event.artifact.images[1].nvr, ARCH_TESTCASE)).toBe('satisfied');
    // CVP's own gate reads them the same way: the aarch64 failure fails it.
    await eventually('the gate to fail', async () => (await decisions(f)).map((d) => d.decision).join() === 'fail', 20_000);
  });

  it('writes a scratch build as brew-build_scratch, which no real build\'s policy counts', async () => {
    await f.startDaemon(config(f));
    const m = example('brew-build.test.complete.json');
    m.artifact = { ...m.artifact, scratch: true, nvr: 'ansible-tower-container-9.9.9-1' };
    await publish('VirtualTopic.eng.ci.brew-build.test.complete', m);
    const written = await eventually('the result', () => f.resultsdb.results[0], 20_000);
    expect(written.data.type).toEqual(['brew-build_scratch']);
    expect(written.data.scratch).toEqual(['true']);
    expect(await greenwaveVerdict(api, 'koji_build', 'ansible-tower-container-9.9.9-1', `${m.test.namespace}.${m.test.type}.${m.test.category}`)).toBe('missing');
  });

  it('writes a container image the way Greenwave\'s redhat-container-image subject finds it, from a pipeline and from CVP\'s own run', async () => {
    f.jenkins.defineJob(TOWER_JOB, { parameters: TOWER_PARAMETERS, runMs: 50, result: 'SUCCESS' });
    await f.startDaemon(config(f));
    const done = example('redhat-container-image.test.complete.json');
    await publish('VirtualTopic.eng.ci.redhat-container-image.test.complete', done);
    const queued = example('redhat-container-image.test.queued.json');
    queued.artifact = { ...queued.artifact, id: 'sha256:1111111111111111111111111111111111111111111111111111111111111111', nvr: 'ansible-tower-container-3.5.5-1' };
    await publish('VirtualTopic.eng.ci.redhat-container-image.test.queued', queued);
    await eventually('both results', () => f.resultsdb.results.filter((r) => r.outcome === 'PASSED').length === 2, 20_000);
    const fromPipeline = f.resultsdb.results.find((r) => r.data.item[0] === done.artifact.id)!;
    expect(fromPipeline.data).toMatchObject({ type: ['redhat-container-image'], nvr: [done.artifact.nvr], full_names: done.artifact.full_names });
    expect(await greenwaveVerdict(api, 'redhat-container-image', done.artifact.nvr, `${done.test.namespace}.${done.test.type}.${done.test.category}`)).toBe('satisfied');
    const fromRun = f.resultsdb.results.find((r) => r.outcome === 'PASSED' && r.data.item[0] === queued.artifact.id)!;
    expect(fromRun.data).toMatchObject({ type: ['redhat-container-image'], nvr: ['ansible-tower-container-3.5.5-1'] });
    // The test case's ref_url is its documentation, never a build.
    expect(fromRun.testcase.ref_url).toBe('https://tower-qe.example.com/docs/image-integration');
    expect(await greenwaveVerdict(api, 'redhat-container-image', 'ansible-tower-container-3.5.5-1', 'ansible-tower-35.image.integration')).toBe('satisfied');
  });

  it('takes in a 0.2.x result with a space-separated generated_at, on the namespaced topic, as the results updater writes it', async () => {
    await f.startDaemon(config(f));
    const m = example('legacy/brew-build.test.complete.json');
    m.generated_at = '2018-05-10 08:58:31.222602';
    m.test.scenario = 'fips';
    m.test.docs = 'https://tower-qe.example.com/docs/default';
    await publish(NAMESPACED_COMPLETE, m);
    const r = await eventually('the result', () => f.resultsdb.results[0], 20_000);
    expect(r).toMatchObject({
      outcome: 'PASSED',
      ref_url: m.run.url,
      testcase: { name: 'tower-qe.default.integration', ref_url: 'https://tower-qe.example.com/docs/default' },
      data: {
        item: [m.artifact.nvr], type: ['brew-build'], brew_task_id: [String(m.artifact.id)], scenario: ['fips'], category: ['integration'],
        ci_name: [m.contact.name], ci_team: [m.contact.team], ci_email: [m.contact.email], ci_irc: ['#tower-qe'],
        system_architecture: ['x86_64'], system_os: ['openshift-4.2'], system_provider: ['openshift'], recipients: ['tower-qe@example.com'],
        log: [m.run.log],
      },
    });
    f.expectNoUnexpected();
  });
});
