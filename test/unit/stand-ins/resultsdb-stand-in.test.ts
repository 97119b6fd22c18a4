/**
 * The ResultsDB stand-in, driven with fetch as any HTTP client would: the answers ResultsDB 2.2
 * gives (201 bodies, 400 validation bodies, list shapes), its filters, and its failure switches.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- peers' JSON is untyped; the assertions check its shape */
import { ResultsDbStandIn, expectNoUnexpected } from '../../stand-ins/resultsdb-stand-in';

let rdb: ResultsDbStandIn;
let url: string;

async function post(body: unknown, contentType = 'application/json') {
  const res = await fetch(`${url}/api/v2.0/results`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function get(path: string) {
  const res = await fetch(`${url}/api/v2.0${path}`);
  return { status: res.status, body: (await res.json()) as any };
}

const result = (over: Record<string, unknown> = {}) => ({
  testcase: 'cvp.default.integration',
  outcome: 'PASSED',
  data: { item: 'ansible-tower-3.8-1', type: 'brew-build' },
  ...over,
});

beforeEach(async () => {
  rdb = new ResultsDbStandIn({ clock: () => Date.UTC(2024, 0, 2, 3, 4, 5, 678) });
  url = await rdb.start();
});

afterEach(async () => {
  await rdb.stop();
});

describe('POST /api/v2.0/results', () => {
  it('answers 201 with the stored result: testcase object, data values as lists of strings', async () => {
    const { status, body } = await post({
      testcase: { name: 'cvp.default.integration', ref_url: 'https://docs/cvp' },
      outcome: 'passed',
      data: { item: 'ansible-tower-3.8-1', images: ['a', 'b'], attempt: 2, flag: true },
      ref_url: 'https://jenkins/job/x/1/',
      note: 'ok',
      groups: ['1f7c3f1e-0000-4000-8000-000000000001', { description: 'no uuid' }],
      submit_time: 1_700_000_000_123,
    });
    expect(status).toBe(201);
    expect(body).toEqual({
      id: 1,
      testcase: { name: 'cvp.default.integration', ref_url: 'https://docs/cvp', href: `${url}/api/v2.0/testcases/cvp.default.integration` },
      outcome: 'PASSED',
      data: { item: ['ansible-tower-3.8-1'], images: ['a', 'b'], attempt: ['2'], flag: ['True'] },
      submit_time: '2023-11-14T22:13:20.123000',
      ref_url: 'https://jenkins/job/x/1/',
      note: 'ok',
      groups: ['1f7c3f1e-0000-4000-8000-000000000001', expect.stringMatching(/^[0-9a-f-]{36}$/)],
      href: `${url}/api/v2.0/results/1`,
    });
    expect(rdb.results).toEqual([body]);
    expectNoUnexpected(rdb);
  });

  it('takes submit_time as an ISO string only with fractional seconds, and uses the clock without one', async () => {
    expect((await post(result({ submit_time: '2024-05-06T07:08:09.5Z' }))).body.submit_time).toBe('2024-05-06T07:08:09.500000');
    expect((await post(result())).body.submit_time).toBe('2024-01-02T03:04:05.678000');
    const whole = await post(result({ submit_time: '2024-05-06T07:08:09Z' }));
    expect(whole.status).toBe(400);
    expect(whole.body.validation_error[0]).toEqual(
      expect.objectContaining({ loc: ['submit_time'], msg: expect.stringContaining("got '2024-05-06T07:08:09Z'") }),
    );
  });

  it('refuses an outcome the deployment does not accept with a 400 naming the field', async () => {
    const { status, body } = await post(result({ outcome: 'QUEUED' }));
    expect(status).toBe(400);
    expect(body).toEqual({
      validation_error: [
        {
          type: 'value_error',
          loc: ['outcome'],
          msg: 'Value error, must be one of: PASSED, INFO, FAILED, NEEDS_INSPECTION',
          input: 'QUEUED',
        },
      ],
    });
    expect(rdb.results).toEqual([]);
  });

  it('accepts QUEUED, RUNNING and ERROR where the deployment adds them', async () => {
    const extended = new ResultsDbStandIn({ outcomes: ['QUEUED', 'RUNNING', 'ERROR'] });
    const base = await extended.start();
    try {
      const res = await fetch(`${base}/api/v2.0/results`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(result({ outcome: 'RUNNING' })),
      });
      expect(res.status).toBe(201);
      expect(extended.results.map((r) => r.outcome)).toEqual(['RUNNING']);
    } finally {
      await extended.stop();
    }
  });

  it.each([
    ['no outcome', { testcase: 'tc' }, ['outcome'], 'Field required'],
    ['no testcase', { outcome: 'PASSED' }, ['testcase'], 'Field required'],
    ['a testcase without a name', { outcome: 'PASSED', testcase: { ref_url: 'x' } }, ['testcase'], 'Value error, testcase name must be non-empty'],
    ['data as a list', { ...result(), data: ['item'] }, ['data'], 'Input should be a valid dictionary'],
    ['a numeric note', { ...result(), note: 5 }, ['note'], 'Input should be a valid string'],
  ])('answers 400 for %s', async (_name, body, loc, msg) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.validation_error).toEqual([expect.objectContaining({ loc, msg })]);
  });

  it('refuses data keys with a colon as ResultsDB does (a message, not a validation list)', async () => {
    const res = await post(result({ data: { 'item:like': 'x', type: 'brew-build' } }));
    expect(res).toEqual({ status: 400, body: { message: "Colon not allowed in key name: ['item:like']" } });
  });

  it('answers 415 to a body that is not JSON, and 400 to JSON that does not parse', async () => {
    expect((await post('outcome=PASSED', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect(await post('{"outcome":', 'application/json')).toEqual({ status: 400, body: { message: 'Bad request' } });
  });
});

describe('GET /api/v2.0/results', () => {
  beforeEach(() => {
    rdb.addResult(result({ testcase: 'a.default.integration', outcome: 'FAILED', submit_time: 1_000 }));
    rdb.addResult(result({ testcase: 'a.default.integration', outcome: 'PASSED', submit_time: 3_000 }));
    rdb.addResult(result({ testcase: 'b.default.integration', outcome: 'PASSED', submit_time: 2_000 }));
    rdb.addResult(result({ testcase: 'a.default.integration', data: { item: 'other-1-1', type: 'brew-build' }, submit_time: 4_000 }));
  });

  it('filters by testcases (comma-separated), item and type, newest first', async () => {
    const { status, body } = await get('/results?testcases=a.default.integration,b.default.integration&item=ansible-tower-3.8-1&type=brew-build');
    expect(status).toBe(200);
    expect(body.data.map((r: any) => r.id)).toEqual([2, 3, 1]);
    expect(body).toEqual(expect.objectContaining({ prev: null, next: null }));
  });

  it('filters by outcome, data LIKE patterns and pages with limit', async () => {
    expect((await get('/results?outcome=passed')).body.data.map((r: any) => r.id)).toEqual([4, 2, 3]);
    expect((await get('/results?item:like=other-*')).body.data.map((r: any) => r.id)).toEqual([4]);
    const page = await get('/results?limit=2');
    expect(page.body.data.map((r: any) => r.id)).toEqual([4, 2]);
    expect(page.body.next).toBe(`${url}/api/v2.0/results?limit=2&page=1`);
    expect((await get('/results?outcome=QUEUED')).status).toBe(400);
  });

  it('gives the latest result per testcase, ignoring an outcome filter as ResultsDB does', async () => {
    const { body } = await get('/results/latest?item=ansible-tower-3.8-1&outcome=FAILED');
    expect(body).toEqual({ data: [expect.objectContaining({ id: 2 }), expect.objectContaining({ id: 3 })] });
  });

  it('gets one result by id, 404 otherwise', async () => {
    expect((await get('/results/3')).body.testcase.name).toBe('b.default.integration');
    expect(await get('/results/99')).toEqual({ status: 404, body: { message: 'Result not found' } });
    expectNoUnexpected(rdb);
  });

  it('records what it does not model as unexpected', async () => {
    expect((await get('/testcases')).status).toBe(404);
    expect(rdb.unexpected).toEqual(['GET /api/v2.0/testcases']);
    expect(() => expectNoUnexpected(rdb)).toThrow(/ResultsDbStandIn: GET \/api\/v2.0\/testcases/);
  });
});

describe('GET /api/v2.0/results/latest with _distinct_on (Greenwave\'s query)', () => {
  it('keeps the latest result per test case and value of each key apart, a missing key being one value', async () => {
    const at = (s: number) => `2024-01-0${s}T00:00:00.000000`;
    const r = (scenario: string | undefined, outcome: string, day: number) =>
      post(result({ outcome, submit_time: at(day), data: { item: 'nvr-1', type: 'brew-build', ...(scenario ? { scenario } : {}) } }));
    await r('aarch64', 'FAILED', 1);
    await r('x86_64', 'FAILED', 2);
    await r('x86_64', 'PASSED', 3);
    await r(undefined, 'INFO', 4);
    const { body } = await get('/results/latest?item=nvr-1&type=brew-build&_distinct_on=scenario,system_architecture');
    expect(body.data.map((x: any) => [x.data.scenario?.[0] ?? null, x.outcome])).toEqual([[null, 'INFO'], ['x86_64', 'PASSED'], ['aarch64', 'FAILED']]);
    expect(await get('/results/latest?_distinct_on=scenario')).toEqual({ status: 400, body: { message: "Please, provide at least one filter beside '_distinct_on'" } });
    expectNoUnexpected(rdb);
  });
});

describe('failure switches', () => {
  it('answers 500 to the creation of a new test case while a race is switched on, storing nothing', async () => {
    rdb.raceOnNewTestcase(1);
    expect((await post(result())).status).toBe(500);
    expect(rdb.results).toHaveLength(0);
    expect((await post(result())).status).toBe(201);
  });

  it('fails with a status for a number of requests', async () => {
    rdb.failWith(503, 1);
    expect((await fetch(`${url}/api/v2.0/results`)).status).toBe(503);
    expect((await fetch(`${url}/api/v2.0/results`)).status).toBe(200);
  });

  it('refuses connections, then accepts them again on the same port', async () => {
    expect((await fetch(`${url}/api/v2.0/results`)).status).toBe(200); // leaves a keep-alive socket behind
    await rdb.refuseConnections();
    await expect(fetch(`${url}/api/v2.0/results`)).rejects.toMatchObject({ cause: expect.objectContaining({ code: 'ECONNREFUSED' }) });
    await rdb.acceptConnections();
    expect(rdb.url).toBe(url);
    expect((await post(result())).status).toBe(201);
  });
});

describe('lost answers', () => {
  it('stores a result and then resets the connection, holds the answer, or answers a gateway\'s 504; a refused result loses nothing', async () => {
    rdb.loseResultAnswers({ as: 'reset' }, { count: 1 });
    expect(await post({ testcase: 'x' }).then((r) => r.status)).toBe(400);
    await expect(post(result({ note: 'reset' }))).rejects.toThrow(/fetch failed/);
    rdb.loseResultAnswers({ as: 'hold', holdMs: 1_000 }, { count: 1 });
    await expect(fetch(`${url}/api/v2.0/results`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(result({ note: 'held' })), signal: AbortSignal.timeout(200),
    })).rejects.toThrow(/timeout|aborted/);
    rdb.loseResultAnswers({ as: 'gateway', status: 504 }, { count: 1 });
    const res = await fetch(`${url}/api/v2.0/results`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(result({ note: 'gateway' })) });
    expect(res.status).toBe(504);
    expect(await res.text()).toContain('504 Gateway Timeout');
    expect((await post(result({ note: 'answered' }))).status).toBe(201);
    expect(rdb.results.map((r) => r.note)).toEqual(['reset', 'held', 'gateway', 'answered']);
    expect(rdb.lostAnswers).toBe(3);
    expectNoUnexpected(rdb);
  });
});
