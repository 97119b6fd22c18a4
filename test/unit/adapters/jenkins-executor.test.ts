/**
 * JenkinsExecutor against the Jenkins stand-in: a lost answer to a trigger is transient and the
 * build is then found, however many builds are newer; lookups stop at builds older than the run
 * and are bounded by time; every answer is checked against the wire schemas.
 */
import { CvpError } from '../../../src/errors';
import { JenkinsExecutor } from '../../../src/adapters/jenkins/jenkins-executor';
import { JenkinsStandIn, LEFT_ITEM_TTL_MS, expectNoUnexpected } from '../../stand-ins/jenkins-stand-in';

const JOB = 'Pipelines/openshift-integration-pipeline';
const JOB_PATH = '/job/Pipelines/job/openshift-integration-pipeline';
const USER = 'cvp-bot';
const TOKEN = 'jenkins-token';

let jenkins: JenkinsStandIn;
let now: number;

function executor(opts: { token?: string; locateTimeoutMs?: number; fetch?: typeof fetch; now?: () => number; url?: string; requestTimeoutMs?: number } = {}): JenkinsExecutor {
  return new JenkinsExecutor({ url: opts.url ?? jenkins.url, user: USER, token: opts.token ?? TOKEN, requestTimeoutMs: 5_000, ...opts });
}

async function failure(p: Promise<unknown>): Promise<CvpError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(CvpError);
  return err as CvpError;
}

/** The allBuilds ranges the executor asked for, in order. */
function pages(): string[] {
  return jenkins.requests.filter((r) => r.query.tree?.startsWith('allBuilds')).map((r) => /\{(\d+,\d+)\}$/.exec(r.query.tree)![1]);
}

beforeEach(async () => {
  now = 1_700_000_000_000;
  jenkins = new JenkinsStandIn({ user: USER, token: TOKEN, clock: () => now });
  jenkins.defineJob(JOB, { parameters: ['GROUP_ID', 'CVP_RUN_ID'] });
  await jenkins.start();
});

afterEach(async () => {
  await jenkins.stop();
});

describe('trigger', () => {
  it('posts buildWithParameters with the crumb and CVP_RUN_ID, and names the queue item', async () => {
    const ref = await executor().trigger(JOB, { GROUP_ID: 'g1' }, 'run-1');
    expect(ref).toEqual({ queueId: '1' });
    expect(jenkins.builds(JOB)[0].parameters).toEqual({ GROUP_ID: 'g1', CVP_RUN_ID: 'run-1' });
    const post = jenkins.requests.find((r) => r.method === 'POST')!;
    expect(post.path).toBe(`${JOB_PATH}/buildWithParameters`);
    expect(post.headers['jenkins-crumb']).toBe(jenkins.crumb);
    expect(post.headers.authorization).toBe(`Basic ${Buffer.from(`${USER}:${TOKEN}`).toString('base64')}`);
    expectNoUnexpected(jenkins);
  });

  it.each([504, 502, 'reset', { holdMs: 1_000 }] as const)('makes a lost answer (%j) a transient PEER_OUTCOME_UNKNOWN; the build is then found by locate()', async (as) => {
    jenkins.loseTriggerAnswers(as, { count: 1 });
    const since = now;
    const err = await failure(executor({ requestTimeoutMs: 300 }).trigger(JOB, { GROUP_ID: 'g1' }, 'run-lost'));
    expect(err).toMatchObject({ code: 'PEER_OUTCOME_UNKNOWN', permanent: false });
    expect(err.message).toContain(`triggering ${JOB}`);
    expect(await executor().locate(JOB, 'run-lost', since)).toEqual({ number: 1, url: `${jenkins.url}${JOB_PATH}/1/` });
    expect(jenkins.triggerCount(JOB)).toBe(1);
  });

  it('sends no trigger once its deadline has passed (the claim is ending): a transient PEER_UNAVAILABLE, no build', async () => {
    const err = await failure(executor({ now: () => now }).trigger(JOB, { GROUP_ID: 'g1' }, 'run-late', now - 1));
    expect(err).toMatchObject({ code: 'PEER_UNAVAILABLE', permanent: false });
    expect(err.message).toContain('not sent');
    expect(jenkins.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(jenkins.triggerCount(JOB)).toBe(0);
  });

  it('gives a trigger no longer than the time left to its deadline: an answer held past it is an unknown outcome', async () => {
    jenkins.loseTriggerAnswers({ holdMs: 2_000 }, { count: 1 });
    const started = Date.now();
    const err = await failure(executor({ now: Date.now, requestTimeoutMs: 10_000 }).trigger(JOB, {}, 'run-held', Date.now() + 300));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(err).toMatchObject({ code: 'PEER_OUTCOME_UNKNOWN', permanent: false });
    expect(jenkins.triggerCount(JOB)).toBe(1);
  });

  it('makes a refused connection a transient PEER_UNAVAILABLE (nothing was sent)', async () => {
    await jenkins.refuseConnections();
    const err = await failure(executor().trigger(JOB, {}, 'run-x'));
    expect(err).toMatchObject({ code: 'PEER_UNAVAILABLE', permanent: false });
    expect(err.message).toMatch(/unreachable \(ECONNREFUSED\)/);
  });

  it('classifies Jenkins\' own answers: 404 permanent, 401 transient, 503 transient', async () => {
    expect(await failure(executor().trigger('Pipelines/nope', {}, 'r'))).toMatchObject({ code: 'JOB_NOT_FOUND', permanent: true });
    const auth = await failure(executor({ token: 'wrong' }).trigger(JOB, {}, 'r'));
    expect(auth).toMatchObject({ code: 'PEER_AUTH_FAILED', permanent: false });
    expect(auth.message).not.toContain('wrong');
    jenkins.failWith(503, 2);
    expect(await failure(executor().trigger(JOB, {}, 'r'))).toMatchObject({ code: 'PEER_UNAVAILABLE', permanent: false });
    expect(jenkins.triggerCount(JOB)).toBe(0);
  });
});

describe('locate', () => {
  it('finds a run waiting in the queue', async () => {
    jenkins.defineJob('queued', { parameters: ['CVP_RUN_ID'], queueMs: 60_000 });
    await executor().trigger('queued', {}, 'run-q');
    expect(await executor().locate('queued', 'run-q', now)).toEqual({ queueId: '1' });
    expect(pages()).toEqual([]);
  });

  it('pages back through allBuilds past more than 100 newer builds', async () => {
    for (let i = 0; i < 40; i++) { jenkins.triggerAsAnotherUser(JOB, { GROUP_ID: `old-${i}` }); now += 1_000; }
    now += 3_600_000;
    const since = now;
    await executor().trigger(JOB, { GROUP_ID: 'mine' }, 'run-deep');
    for (let i = 0; i < 250; i++) { now += 1_000; jenkins.triggerAsAnotherUser(JOB, { GROUP_ID: `new-${i}`, CVP_RUN_ID: `other-${i}` }); }
    expect(await executor().locate(JOB, 'run-deep', since)).toEqual({ number: 41, url: `${jenkins.url}${JOB_PATH}/41/` });
    expect(pages()).toEqual(['0,100', '100,200', '200,300']);
    expectNoUnexpected(jenkins);
  });

  it('stops once it has passed builds older than the run (allowing for clock skew): null, without reading all history', async () => {
    for (let i = 0; i < 450; i++) { jenkins.triggerAsAnotherUser(JOB, { GROUP_ID: `old-${i}` }); now += 1_000; }
    now += 3_600_000;
    const since = now;
    for (let i = 0; i < 150; i++) { now += 1_000; jenkins.triggerAsAnotherUser(JOB, { GROUP_ID: `new-${i}` }); }
    expect(await executor().locate(JOB, 'run-never-triggered', since)).toBeNull();
    // Page 2 holds the first builds older than the run (minus ten minutes of skew): no page 3.
    expect(pages()).toEqual(['0,100', '100,200']);
  });

  it('reads to the end of a short history', async () => {
    for (let i = 0; i < 5; i++) jenkins.triggerAsAnotherUser(JOB, {});
    expect(await executor().locate(JOB, 'run-none', 0)).toBeNull();
    expect(pages()).toEqual(['0,100']);
  });

  it('is bounded by time, not by a count: a transient TIMEOUT naming how far it got', async () => {
    for (let i = 0; i < 350; i++) jenkins.triggerAsAnotherUser(JOB, {});
    let t = 0;
    // Each look at this clock moves it two seconds (one per request); the lookup may take ten.
    const slow = executor({ locateTimeoutMs: 10_000, now: () => (t += 2_000) });
    const err = await failure(slow.locate(JOB, 'run-far', 0));
    expect(err).toMatchObject({ code: 'TIMEOUT', permanent: false });
    expect(err.message).toMatch(/gave up after 10000 ms \(jenkins.locate_timeout\) with 300 builds read/);
    expect(pages()).toEqual(['0,100', '100,200', '200,300']);
  });

  it('refuses an answer of the wrong shape with PEER_ANSWER_INVALID naming the field', async () => {
    const wrong: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).includes('allBuilds')) return res;
      return new Response(JSON.stringify({ allBuilds: [{ number: '7', url: 'u', timestamp: 1 }] }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const err = await failure(executor({ fetch: wrong }).locate(JOB, 'r', 0));
    expect(err).toMatchObject({ code: 'PEER_ANSWER_INVALID', permanent: false });
    expect(err.message).toContain('/allBuilds/0/number must be integer');
    expect(err.message).toContain(`${JOB_PATH}/api/json`);
  });

  it('refuses a login page answered with 200 as not JSON', async () => {
    const login: typeof fetch = async () => new Response('<html>Sign in</html>', { status: 200, headers: { 'content-type': 'text/html' } });
    const err = await failure(executor({ fetch: login }).locate(JOB, 'r', 0));
    expect(err).toMatchObject({ code: 'PEER_ANSWER_INVALID', permanent: false });
    expect(err.message).toMatch(/not JSON \(text\/html\)/);
  });
});

describe('declaredParameters', () => {
  it('reads the names the job declares', async () => {
    jenkins.defineJob('Pipelines/typed', { parameters: ['CVP_RUN_ID', 'DRY_RUN'], parameterTypes: { DRY_RUN: 'boolean' }, properties: ['jenkins.model.BuildDiscarderProperty'] });
    expect(await executor().declaredParameters('Pipelines/typed')).toEqual(['CVP_RUN_ID', 'DRY_RUN']);
    const asked = jenkins.requests.at(-1)!;
    expect(asked.path).toBe('/job/Pipelines/job/typed/api/json');
    expect(asked.query.tree).toBe('property[parameterDefinitions[name]]');
  });

  it('answers [] for a job without parameters and JOB_NOT_FOUND (permanent) for a missing one', async () => {
    jenkins.defineJob('plain', { parameters: [] });
    expect(await executor().declaredParameters('plain')).toEqual([]);
    expect(await failure(executor().declaredParameters('Pipelines/missing'))).toMatchObject({ code: 'JOB_NOT_FOUND', permanent: true });
  });

  it('refuses a property list of the wrong shape', async () => {
    const wrong: typeof fetch = async () => new Response(JSON.stringify({ property: [{ parameterDefinitions: [{ name: 3 }] }] }), { status: 200 });
    const err = await failure(executor({ fetch: wrong }).declaredParameters(JOB));
    expect(err).toMatchObject({ code: 'PEER_ANSWER_INVALID' });
    expect(err.message).toContain('/property/0');
  });
});

describe('status and cancel', () => {
  it('follows a queue item to its build, and finds the build after Jenkins forgot the item', async () => {
    jenkins.defineJob('timed', { parameters: ['CVP_RUN_ID'], queueMs: 1_000, runMs: 5_000 });
    const ref = await executor().trigger('timed', {}, 'run-s');
    expect(await executor().status('timed', ref, 'run-s')).toEqual({ state: 'queued', ref });
    now += 1_000;
    expect(await executor().status('timed', ref, 'run-s')).toMatchObject({ state: 'running', ref: { queueId: '1', number: 1 } });
    now += LEFT_ITEM_TTL_MS;
    expect(await executor().status('timed', ref, 'run-s')).toEqual({
      state: 'finished', result: 'SUCCESS', ref: { queueId: '1', number: 1, url: `${jenkins.url}/job/timed/1/` },
    });
    expectNoUnexpected(jenkins);
  });

  it('cancels a waiting item with cancelItem, and stops the build of one that has left the queue', async () => {
    jenkins.defineJob('slow', { parameters: ['CVP_RUN_ID'], queueMs: 60_000, neverFinishes: true });
    const waiting = await executor().trigger('slow', {}, 'run-c1');
    await executor().cancel('slow', waiting);
    expect(jenkins.builds('slow')[0]).toMatchObject({ cancelled: true, number: null });
    const started = await executor().trigger('slow', {}, 'run-c2');
    now += 60_000;
    await executor().cancel('slow', started);
    expect(jenkins.builds('slow')[1]).toMatchObject({ number: 1, result: 'ABORTED' });
    expect(jenkins.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([
      '/job/slow/buildWithParameters', '/queue/cancelItem', '/job/slow/buildWithParameters', '/queue/cancelItem', '/job/slow/1/stop',
    ]);
    expectNoUnexpected(jenkins);
  });
});
