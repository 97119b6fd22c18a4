/**
 * The Jenkins stand-in checked against clients no one here wrote: Debian's python3-jenkins and the
 * npm `jenkins` package, plus plain fetch for the edges neither client reaches.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- peers' JSON is untyped; the assertions check its shape */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Jenkins from 'jenkins';
import { JenkinsStandIn, LEFT_ITEM_TTL_MS, expectNoUnexpected } from '../../stand-ins/jenkins-stand-in';

const JOB = 'Pipelines/openshift-integration-pipeline';
const JOB_PATH = '/job/Pipelines/job/openshift-integration-pipeline';
const USER = 'cvp-bot';
const TOKEN = '11aa22bb33cc44dd';

type Step = { ok?: any; error?: string; message?: string };

/** Runs python3-jenkins steps (async: the stand-in lives in this process). */
async function python(url: string, steps: unknown[][], token = TOKEN): Promise<Step[]> {
  const script = path.join(__dirname, 'python-jenkins-client.py');
  const { stdout } = await promisify(execFile)('/usr/bin/python3', [script, url, USER, token, JSON.stringify(steps)], {
    timeout: 20_000,
  });
  return JSON.parse(stdout) as Step[];
}

function paramsOf(actions: any[]): Record<string, string> {
  const pa = actions.find((a) => a._class === 'hudson.model.ParametersAction');
  return Object.fromEntries(pa.parameters.map((p: any) => [p.name, p.value]));
}

let jenkins: JenkinsStandIn;
let url: string;
let now: number;

beforeEach(async () => {
  now = 1_700_000_000_000;
  jenkins = new JenkinsStandIn({ user: USER, token: TOKEN, clock: () => now });
  jenkins.defineJob(JOB, { parameters: ['A', 'B'], defaults: { B: 'default-b' } });
  url = await jenkins.start();
});

afterEach(async () => {
  await jenkins.stop();
});

describe('with python3-jenkins', () => {
  it('triggers a folder job, fetches its queue item and build, and drops undeclared parameters', async () => {
    const [build] = await python(url, [['build_job', JOB, { A: 'x', UNDECLARED: 'y' }]]);
    expect(build).toEqual({ ok: 1 });
    const [item, job] = await python(url, [['get_queue_item', 1], ['get_job_info', JOB]]);
    expect(item.ok._class).toBe('hudson.model.Queue$LeftItem');
    expect(item.ok.task).toEqual(expect.objectContaining({ name: 'openshift-integration-pipeline', url: `${url}${JOB_PATH}/` }));
    expect(item.ok.executable).toEqual(expect.objectContaining({ number: 1, url: `${url}${JOB_PATH}/1/` }));
    expect(paramsOf(item.ok.actions)).toEqual({ A: 'x', B: 'default-b' });
    expect(job.ok.builds).toEqual([expect.objectContaining({ number: 1 })]);
    expect(job.ok.nextBuildNumber).toBe(2);

    const [info] = await python(url, [['get_build_info', JOB, item.ok.executable.number]]);
    expect(info.ok).toEqual(expect.objectContaining({ number: 1, building: false, result: 'SUCCESS', queueId: 1 }));
    expect(paramsOf(info.ok.actions)).toEqual({ A: 'x', B: 'default-b' });
    expect(jenkins.builds(JOB)).toEqual([
      expect.objectContaining({ queueId: 1, number: 1, parameters: { A: 'x', B: 'default-b' }, dropped: ['UNDECLARED'] }),
    ]);
    // python3-jenkins sends parameters in the query string and fetches a crumb before its POST.
    const post = jenkins.requests.find((r) => r.method === 'POST')!;
    expect(post.path).toBe(`${JOB_PATH}/buildWithParameters`);
    expect(post.query).toEqual({ A: 'x', UNDECLARED: 'y' });
    expect(post.headers['jenkins-crumb']).toBe(jenkins.crumb);
    expect(jenkins.requests[0].path).toBe('/crumbIssuer/api/json');
    expectNoUnexpected(jenkins);
  });

  it('shows a waiting item in the queue until queueMs has passed', async () => {
    jenkins.defineJob('slow', { parameters: ['A'], queueMs: 5_000 });
    const [n, item, queue] = await python(url, [['build_job', 'slow', { A: '1' }], ['get_queue_item', 1], ['get_queue_info']]);
    expect(n.ok).toBe(1);
    expect(item.ok._class).toBe('hudson.model.Queue$WaitingItem');
    expect(item.ok.why).toMatch(/quiet period/);
    expect(item.ok).not.toHaveProperty('executable');
    expect(queue.ok.map((i: any) => i.id)).toEqual([1]);
    now += 5_000;
    const [later, emptied] = await python(url, [['get_queue_item', 1], ['get_queue_info']]);
    expect(later.ok.executable.number).toBe(1);
    expect(emptied.ok).toEqual([]);
  });

  it('stops a running build (following Jenkins\' redirect to the build page)', async () => {
    jenkins.defineJob('forever', { parameters: ['A'], neverFinishes: true });
    const [, running, stop, stopped] = await python(url, [
      ['build_job', 'forever', { A: '1' }],
      ['get_build_info', 'forever', 1],
      ['stop_build', 'forever', 1],
      ['get_build_info', 'forever', 1],
    ]);
    expect(running.ok).toEqual(expect.objectContaining({ building: true, result: null }));
    expect(stop.error).toBeUndefined();
    expect(stopped.ok).toEqual(expect.objectContaining({ building: false, result: 'ABORTED' }));
    expectNoUnexpected(jenkins);
  });

  it('lists the 100 newest builds in `builds`; fetch_all_builds reads the rest from `allBuilds`', async () => {
    // A top-level job: python3-jenkins 1.4 builds the allBuilds URL from the job's short name, so
    // for a job in a folder it asks for a job that does not exist (a real Jenkins answers 404 too).
    jenkins.defineJob('many', { parameters: ['A'] });
    for (let i = 0; i < 150; i++) jenkins.triggerAsAnotherUser('many', { A: String(i) });
    const [info, all] = await python(url, [['get_job_info', 'many'], ['get_job_info', 'many', 0, true]]);
    expect(info.ok.builds).toHaveLength(100);
    expect(info.ok.builds[0].number).toBe(150);
    expect(info.ok.builds[99].number).toBe(51);
    expect(info.ok.firstBuild.number).toBe(1);
    expect(info.ok).not.toHaveProperty('allBuilds');
    expect(all.ok.builds).toHaveLength(150);
    expect(all.ok.builds.map((b: any) => b.number)).toEqual(Array.from({ length: 150 }, (_, i) => 150 - i));
    expect(jenkins.requests.some((r) => r.query.tree === 'allBuilds[number,url]')).toBe(true);
    expectNoUnexpected(jenkins);
  });

  it('serves the job\'s parameter definitions, each kind with its own _class, after its other properties', async () => {
    jenkins.defineJob('Pipelines/typed', {
      parameters: ['CVP_RUN_ID', 'DRY_RUN', 'FLAVOUR'],
      parameterTypes: { DRY_RUN: 'boolean', FLAVOUR: 'choice' },
      defaults: { FLAVOUR: 'full' },
      properties: ['jenkins.model.BuildDiscarderProperty'],
    });
    const [info] = await python(url, [['get_job_info', 'Pipelines/typed']]);
    expect(info.ok.property).toEqual([
      { _class: 'jenkins.model.BuildDiscarderProperty' },
      {
        _class: 'hudson.model.ParametersDefinitionProperty',
        parameterDefinitions: [
          expect.objectContaining({ _class: 'hudson.model.StringParameterDefinition', name: 'CVP_RUN_ID', defaultParameterValue: expect.objectContaining({ value: '' }) }),
          expect.objectContaining({ _class: 'hudson.model.BooleanParameterDefinition', name: 'DRY_RUN', defaultParameterValue: expect.objectContaining({ value: false }) }),
          expect.objectContaining({ _class: 'hudson.model.ChoiceParameterDefinition', name: 'FLAVOUR', choices: ['full'] }),
        ],
      },
    ]);
    // A boolean parameter's value is a JSON boolean in the build.
    await python(url, [['build_job', 'Pipelines/typed', { CVP_RUN_ID: 'r1', DRY_RUN: 'true' }]]);
    const [build] = await python(url, [['get_build_info', 'Pipelines/typed', 1]]);
    expect(build.ok.actions[0].parameters).toEqual([
      { _class: 'hudson.model.StringParameterValue', name: 'CVP_RUN_ID', value: 'r1' },
      { _class: 'hudson.model.BooleanParameterValue', name: 'DRY_RUN', value: true },
      { _class: 'hudson.model.StringParameterValue', name: 'FLAVOUR', value: 'full' },
    ]);
  });

  it('forgets a queue item five minutes after it left the queue; cancel_queue uses cancelItem', async () => {
    jenkins.defineJob('slow', { parameters: ['A'], queueMs: 60_000 });
    await python(url, [['build_job', JOB, { A: 'x' }], ['build_job', 'slow', { A: '1' }]]);
    const [cancel, cancelled] = await python(url, [['cancel_queue', 2], ['get_queue_item', 2]]);
    // Jenkins since 2.2xx answers cancelItem 204 with no body; python3-jenkins 1.4 expected a redirect.
    expect(cancel.error).toBe('EmptyResponseException');
    expect(cancelled.ok).toEqual(expect.objectContaining({ cancelled: true, executable: null }));
    now += LEFT_ITEM_TTL_MS - 1;
    const [started, stillCancelled] = await python(url, [['get_queue_item', 1], ['get_queue_item', 2]]);
    expect(started.ok.executable.number).toBe(1);
    expect(stillCancelled.ok.cancelled).toBe(true);
    now += 1;
    const [gone, goneToo, build] = await python(url, [['get_queue_item', 1], ['get_queue_item', 2], ['get_build_info', JOB, 1]]);
    expect(gone).toEqual({ error: 'JenkinsException', message: 'queue number[1] does not exist' });
    expect(goneToo.error).toBe('JenkinsException');
    expect(build.ok.queueId).toBe(1);
    expect(jenkins.requests.filter((r) => r.method === 'POST').map((r) => `${r.path}?${r.searchParams}`)).toContain('/queue/cancelItem?id=2');
  });

  it.each([
    [504, 'HTTPError'],
    ['reset', 'ConnectionError'],
  ] as const)('can accept a trigger and lose the answer (%s): the client fails, the build runs anyway', async (as, error) => {
    jenkins.loseTriggerAnswers(as, { count: 1 });
    const [lost, answered] = await python(url, [['build_job', JOB, { A: 'lost' }], ['build_job', JOB, { A: 'answered' }]]);
    expect(lost.error).toBe(error);
    expect(answered).toEqual({ ok: 2 });
    expect(jenkins.lostAnswers).toBe(1);
    expect(jenkins.builds(JOB).map((b) => [b.parameters.A, b.answerLost, b.number])).toEqual([['lost', true, 1], ['answered', false, 2]]);
    const [info] = await python(url, [['get_build_info', JOB, 1]]);
    expect(paramsOf(info.ok.actions).A).toBe('lost');
  });

  it('fails with 401 on a wrong token', async () => {
    const [build] = await python(url, [['build_job', JOB, { A: 'x' }]], 'wrong-token');
    expect(build.error).toBe('JenkinsException');
    expect(build.message).toContain('[401]');
    expect(jenkins.triggerCount(JOB)).toBe(0);
  });
});

describe('with the npm jenkins package', () => {
  const client = (opts: { crumbIssuer?: boolean; token?: string } = {}) =>
    new Jenkins({ baseUrl: `http://${USER}:${opts.token ?? TOKEN}@127.0.0.1:${new URL(url).port}`, crumbIssuer: opts.crumbIssuer ?? true });

  it('triggers with job.build({ name, parameters }) and reads the queue item and build', async () => {
    const j = client();
    const queueId = await j.job.build({ name: JOB, parameters: { A: 'x', EXTRA: 'z' } });
    expect(queueId).toBe(1);
    const item = await j.queue.item(queueId);
    expect(item.executable.number).toBe(1);
    const build = await j.build.get(JOB, item.executable.number);
    expect(build).toEqual(expect.objectContaining({ result: 'SUCCESS', building: false, url: `${url}${JOB_PATH}/1/` }));
    expect(paramsOf(build.actions)).toEqual({ A: 'x', B: 'default-b' });
    expect(jenkins.builds(JOB)[0].dropped).toEqual(['EXTRA']);
    // The npm client posts the parameters as a form body and asks for a new crumb before every POST.
    const post = jenkins.requests.find((r) => r.method === 'POST')!;
    expect(post.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect(post.rawBody).toBe('A=x&EXTRA=z');
    expect(post.params).toEqual({ A: 'x', EXTRA: 'z' });
    expect(jenkins.requests[jenkins.requests.indexOf(post) - 1].path).toBe('/crumbIssuer/api/json');
    expectNoUnexpected(jenkins);
  });

  it('shows why the positional job.build(name, parameters) is a trap: it posts to /build without them', async () => {
    const j = client();
    await expect(j.job.build(JOB, { A: 'x' })).rejects.toThrow(/Nothing is submitted/);
    const post = jenkins.requests.find((r) => r.method === 'POST')!;
    expect(post.path).toBe(`${JOB_PATH}/build`);
    expect(post.rawBody).toBe('');
    expect(jenkins.triggerCount(JOB)).toBe(0);
  });

  it('answers 403 to a POST without the crumb and 401 to a wrong token', async () => {
    await expect(client({ crumbIssuer: false }).job.build({ name: JOB, parameters: { A: 'x' } })).rejects.toMatchObject({
      statusCode: 403,
    });
    await expect(client({ token: 'nope' }).queue.list()).rejects.toMatchObject({ statusCode: 401 });
    expect(jenkins.triggerCount(JOB)).toBe(0);
  });

  it('answers 404 for an unknown job without counting it as unexpected', async () => {
    await expect(client().job.build({ name: 'Pipelines/nope', parameters: { A: 'x' } })).rejects.toMatchObject({ notFound: true });
    expect(jenkins.unexpected).toEqual([]);
  });
});

describe('with fetch', () => {
  const auth = { authorization: `Basic ${Buffer.from(`${USER}:${TOKEN}`).toString('base64')}` };
  const post = (p: string, body?: string) =>
    fetch(`${url}${p}`, {
      method: 'POST',
      headers: { ...auth, 'jenkins-crumb': jenkins.crumb, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
  const get = async (p: string) => (await fetch(`${url}${p}`, { headers: auth })).json() as Promise<any>;

  it('serves the crumb with a query string and as Jenkins shapes it', async () => {
    expect(await get('/crumbIssuer/api/json?tree=crumb,crumbRequestField')).toEqual({
      _class: 'hudson.security.csrf.DefaultCrumbIssuer',
      crumb: jenkins.crumb,
      crumbRequestField: 'Jenkins-Crumb',
    });
  });

  it('moves items and builds along with the clock, and computes the result from the parameters', async () => {
    jenkins.defineJob('timed', { parameters: ['A'], queueMs: 100, runMs: 250, result: (p) => (p.A === 'bad' ? 'FAILURE' : 'SUCCESS') });
    const res = await post('/job/timed/buildWithParameters?A=bad');
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`${url}/queue/item/1/`);
    expect((await get('/queue/item/1/api/json'))._class).toBe('hudson.model.Queue$WaitingItem');
    now += 100;
    const item = await get('/queue/item/1/api/json');
    expect(item).toEqual(expect.objectContaining({ cancelled: false, executable: expect.objectContaining({ number: 1 }) }));
    expect(await get('/job/timed/1/api/json')).toEqual(expect.objectContaining({ building: true, result: null, duration: 0 }));
    now += 250;
    expect(await get('/job/timed/1/api/json')).toEqual(expect.objectContaining({ building: false, result: 'FAILURE', duration: 250 }));
  });

  it('lets a test finish a neverFinishes build by hand', async () => {
    jenkins.defineJob('manual', { parameters: ['A'], neverFinishes: true });
    await post('/job/manual/buildWithParameters', 'A=1');
    now += 60_000;
    expect(jenkins.builds('manual')[0]).toEqual(expect.objectContaining({ building: true, result: null }));
    jenkins.finishBuild('manual', 1, 'UNSTABLE');
    expect(await get('/job/manual/lastBuild/api/json')).toEqual(expect.objectContaining({ number: 1, result: 'UNSTABLE' }));
    expect(() => jenkins.finishBuild('manual', 2, 'SUCCESS')).toThrow(/has not started/);
  });

  it('folds an identical trigger into the waiting item, as Jenkins does, but not a different one', async () => {
    jenkins.defineJob('queued', { parameters: ['A'], queueMs: 10_000 });
    const first = await post('/job/queued/buildWithParameters', 'A=1');
    const again = await post('/job/queued/buildWithParameters', 'A=1');
    const other = await post('/job/queued/buildWithParameters', 'A=2');
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(other.headers.get('location')).toBe(`${url}/queue/item/2/`);
    expect(jenkins.triggerCount('queued')).toBe(3);
    expect(jenkins.builds('queued').map((b) => b.parameters)).toEqual([{ A: '1' }, { A: '2' }]);
    const queue = await get('/queue/api/json');
    expect(queue.items.map((i: any) => paramsOf(i.actions))).toEqual([{ A: '1' }, { A: '2' }]);
  });

  it('cancels a waiting item: 204, then the LeftItem is cancelled with no executable; 500 once left, 404 if unknown', async () => {
    jenkins.defineJob('queued', { parameters: ['A'], queueMs: 10_000 });
    await post('/job/queued/buildWithParameters', 'A=1');
    expect((await post('/queue/cancelItem?id=1')).status).toBe(204);
    expect(await get('/queue/item/1/api/json')).toEqual(
      expect.objectContaining({ _class: 'hudson.model.Queue$LeftItem', cancelled: true, executable: null }),
    );
    now += 10_000;
    expect(jenkins.builds('queued')).toEqual([expect.objectContaining({ cancelled: true, number: null })]);
    expect((await post('/queue/cancelItem?id=1')).status).toBe(500);
    expect((await post('/queue/cancelItem?id=99')).status).toBe(404);
  });

  it('lists builds shallowly at depth 0 and filters with tree=', async () => {
    await post(`${JOB_PATH}/buildWithParameters`, 'A=1');
    await post(`${JOB_PATH}/buildWithParameters`, 'A=2');
    const shallow = await get(`${JOB_PATH}/api/json`);
    expect(shallow.builds[0]).toEqual({ _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun', number: 2, url: `${url}${JOB_PATH}/2/` });
    const tree = await get(`${JOB_PATH}/api/json?tree=builds[number,actions[parameters[name,value]]]{0,1}`);
    expect(tree).toEqual({
      _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
      builds: [
        {
          _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
          number: 2,
          actions: [
            {
              _class: 'hudson.model.ParametersAction',
              parameters: [
                { _class: 'hudson.model.StringParameterValue', name: 'A', value: '2' },
                { _class: 'hudson.model.StringParameterValue', name: 'B', value: 'default-b' },
              ],
            },
            { _class: 'hudson.model.CauseAction' },
          ],
        },
      ],
    });
    expect((await get(`${JOB_PATH}/api/json?depth=1`)).builds[1].actions[0].parameters[0].value).toBe('1');
  });

  it('honours {M,N} ranges on `builds` (at most the 100 newest) and `allBuilds` (all), and shows allBuilds only when asked', async () => {
    for (let i = 0; i < 130; i++) jenkins.triggerAsAnotherUser(JOB, { A: String(i) });
    const numbers = async (tree: string, key: string) => ((await get(`${JOB_PATH}/api/json?tree=${encodeURIComponent(tree)}`))[key] as any[]).map((b) => b.number);
    expect(await numbers('builds[number]{0,3}', 'builds')).toEqual([130, 129, 128]);
    expect(await numbers('builds[number]{98,105}', 'builds')).toEqual([32, 31]);
    expect(await numbers('builds[number]{100,200}', 'builds')).toEqual([]);
    expect(await numbers('builds[number]', 'builds')).toHaveLength(100);
    expect(await numbers('allBuilds[number]{100,103}', 'allBuilds')).toEqual([30, 29, 28]);
    expect(await numbers('allBuilds[number]{128,200}', 'allBuilds')).toEqual([2, 1]);
    expect(await numbers('allBuilds[number]{5}', 'allBuilds')).toEqual([125]);
    expect(await numbers('allBuilds[number]{,2}', 'allBuilds')).toEqual([130, 129]);
    expect(await numbers('allBuilds[number]{127,}', 'allBuilds')).toEqual([3, 2, 1]);
    expect(await numbers('allBuilds[number]', 'allBuilds')).toHaveLength(130);
    const page = await get(`${JOB_PATH}/api/json?tree=${encodeURIComponent('allBuilds[number,timestamp,queueId,actions[parameters[name,value]]]{0,1}')}`);
    expect(page).toEqual({
      _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
      allBuilds: [{
        _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
        number: 130,
        timestamp: now,
        queueId: 130,
        actions: [
          { _class: 'hudson.model.ParametersAction', parameters: [
            { _class: 'hudson.model.StringParameterValue', name: 'A', value: '129' },
            { _class: 'hudson.model.StringParameterValue', name: 'B', value: 'default-b' },
          ] },
          { _class: 'hudson.model.CauseAction' },
        ],
      }],
    });
    expect(await get(`${JOB_PATH}/api/json?depth=1`)).not.toHaveProperty('allBuilds');
    expectNoUnexpected(jenkins);
  });

  it('answers `property[parameterDefinitions[name]]` as Jenkins does, for a parameterised job and for one without parameters', async () => {
    jenkins.defineJob('plain', { parameters: [], properties: ['org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty'] });
    expect(await get(`${JOB_PATH}/api/json?tree=property[parameterDefinitions[name]]`)).toEqual({
      _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
      property: [{
        _class: 'hudson.model.ParametersDefinitionProperty',
        parameterDefinitions: [
          { _class: 'hudson.model.StringParameterDefinition', name: 'A' },
          { _class: 'hudson.model.StringParameterDefinition', name: 'B' },
        ],
      }],
    });
    expect(await get('/job/plain/api/json?tree=property[parameterDefinitions[name]]')).toEqual({
      _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
      property: [{ _class: 'org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty' }],
    });
  });

  it('loses trigger answers for a time window by its clock, then answers again', async () => {
    jenkins.loseTriggerAnswers(504, { forMs: 20_000 });
    const lost = await post(`${JOB_PATH}/buildWithParameters`, 'A=1');
    expect(lost.status).toBe(504);
    expect(lost.headers.get('location')).toBeNull();
    now += 19_999;
    expect((await post(`${JOB_PATH}/buildWithParameters`, 'A=2')).status).toBe(504);
    now += 1;
    const answered = await post(`${JOB_PATH}/buildWithParameters`, 'A=3');
    expect(answered.status).toBe(201);
    expect(answered.headers.get('location')).toBe(`${url}/queue/item/3/`);
    expect(jenkins.builds(JOB).map((b) => [b.parameters.A, b.answerLost])).toEqual([['1', true], ['2', true], ['3', false]]);
  });

  it('fails on demand for a number of requests, or until restore()', async () => {
    jenkins.failWith(503, 2);
    expect((await fetch(`${url}/queue/api/json`, { headers: auth })).status).toBe(503);
    expect((await fetch(`${url}/queue/api/json`, { headers: auth })).status).toBe(503);
    expect((await fetch(`${url}/queue/api/json`, { headers: auth })).status).toBe(200);
    jenkins.failWith(502);
    for (let i = 0; i < 3; i++) expect((await fetch(`${url}/queue/api/json`, { headers: auth })).status).toBe(502);
    jenkins.restore();
    expect((await fetch(`${url}/queue/api/json`, { headers: auth })).status).toBe(200);
  });

  it('answers 404 to what it does not recognise and records it; expectNoUnexpected lists it', async () => {
    expect((await fetch(`${url}${JOB_PATH}/1/consoleText`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${url}/pluginManager/api/json?depth=1`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${url}/queue/api/json`, { method: 'DELETE', headers: auth })).status).toBe(404);
    expect(jenkins.unexpected).toEqual([
      `GET ${JOB_PATH}/1/consoleText`,
      'GET /pluginManager/api/json?depth=1',
      'DELETE /queue/api/json',
    ]);
    expect(() => expectNoUnexpected(jenkins)).toThrow(/JenkinsStandIn: GET \/pluginManager\/api\/json\?depth=1/);
  });
});
