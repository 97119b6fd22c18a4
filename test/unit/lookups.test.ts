/**
 * Lookups against a real HTTP server on 127.0.0.1 standing in for the errata service: it answers
 * only the requests it expects and records every other one, which fails the test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpLookup } from '../../src/adapters/lookup/http-lookup';
import { parseConfig } from '../../src/config/load-config';
import { CvpError } from '../../src/errors';
import {
  compileLookup, computeLookupParameters, lookupVerdict, planLookups, prepareParameters, resolveLookups,
} from '../../src/listener/dispatch/lookups';
import { Router } from '../../src/listener/intake/router';
import { compileRules } from '../../src/listener/intake/rules';
import { durationMs, type RuleConfig } from '../../src/config/config';
import { schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

class ErrataStandIn {
  readonly requests: Array<{ url: string; authorization?: string }> = [];
  readonly unexpected: string[] = [];
  private readonly routes = new Map<string, Handler>();
  private server!: Server;
  base = '';

  route(path: string, handler: Handler): void { this.routes.set(path, handler); }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const handler = req.method === 'GET' ? this.routes.get(req.url ?? '') : undefined;
      if (!handler) {
        this.unexpected.push(`${req.method} ${req.url}`);
        res.writeHead(404).end();
        return;
      }
      this.requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      handler(req, res);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const json = (body: unknown, status = 200): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const event = { artifact: { errata_id: 47960, component: 'Ansible Tower' } };
const opts = { maxParameterLength: 4096 };

describe('lookups', () => {
  let errata: ErrataStandIn;
  beforeEach(async () => { errata = new ErrataStandIn(); await errata.start(); });
  afterEach(async () => {
    await errata.stop();
    expect(errata.unexpected).toEqual([]);
  });

  const spec = (over: Record<string, unknown> = {}) => compileLookup({
    name: 'advisory',
    url: `${errata.base}/api/v1/erratum/{artifact.errata_id}`,
    parameters: { PRODUCT_VERSION: 'errata.rhba.product_version', SYNOPSIS: 'errata.rhba.synopsis' },
    token: 's3cret-token',
    ...over,
  });

  it('fills the URL from the event, sends the secret, and computes parameters with JMESPath', async () => {
    errata.route('/api/v1/erratum/47960', json({ errata: { rhba: { product_version: 'RHEL-8-TOWER-3.5', synopsis: 'Tower <3.5> update' } } }));
    const params = await computeLookupParameters([spec()], event, new HttpLookup(), opts);
    expect(params).toEqual({ PRODUCT_VERSION: 'RHEL-8-TOWER-3.5', SYNOPSIS: 'Tower <3.5> update' });
    expect(errata.requests).toEqual([{ url: '/api/v1/erratum/47960', authorization: 'Bearer s3cret-token' }]);
  });

  it('percent-encodes what it takes from the event, so it cannot change the URL', () => {
    const s = compileLookup({ name: 'x', url: 'https://e.example/api?q={artifact.component}', parameters: { A: 'a' } });
    expect(planLookups([s], event)).toEqual([{ name: 'x', url: 'https://e.example/api?q=Ansible%20Tower' }]);
    expect(planLookups([s], { artifact: { component: '../../admin?x=1#' } })[0].url).toBe('https://e.example/api?q=..%2F..%2Fadmin%3Fx%3D1%23');
  });

  it('an empty placeholder makes a permanent error with the reason, at resolve time', async () => {
    const s = spec();
    const planned = planLookups([s], { artifact: {} });
    expect(planned[0].problem).toMatch(/artifact\.errata_id\} is empty/);
    await expect(resolveLookups([s], planned, new HttpLookup(), opts)).rejects.toMatchObject({ permanent: true, code: 'MESSAGE_INVALID' });
  });

  it('reuses an answer within its TTL, asks again after it, and keeps a bounded number of answers', async () => {
    let now = 1_000;
    errata.route('/api/v1/erratum/1', json({ errata: { rhba: { product_version: 'A' } } }));
    errata.route('/api/v1/erratum/2', json({ errata: { rhba: { product_version: 'B' } } }));
    const lookup = new HttpLookup({ now: () => now, maxEntries: 1 });
    const s = spec({ cache: '1m' });
    const run = (id: number) => computeLookupParameters([s], { artifact: { errata_id: id } }, lookup, opts);
    await run(1);
    await run(1);
    expect(errata.requests).toHaveLength(1);
    now += 61_000;
    await run(1);
    expect(errata.requests).toHaveLength(2);
    await run(2);
    expect(lookup.cached()).toBe(1);
    await run(1);
    expect(errata.requests.map((r) => r.url)).toEqual(['/api/v1/erratum/1', '/api/v1/erratum/1', '/api/v1/erratum/2', '/api/v1/erratum/1']);
  });

  it('classifies failures: 5xx and timeouts are transient, 4xx, redirects, non-JSON and oversized answers permanent', async () => {
    errata.route('/api/v1/erratum/503', (_q, res) => res.writeHead(503, { 'retry-after': '7' }).end());
    errata.route('/api/v1/erratum/404', (_q, res) => res.writeHead(404).end());
    errata.route('/api/v1/erratum/302', (_q, res) => res.writeHead(302, { location: 'https://elsewhere.example/' }).end());
    errata.route('/api/v1/erratum/html', (_q, res) => res.writeHead(200).end('<html>login</html>'));
    errata.route('/api/v1/erratum/big', json({ pad: 'x'.repeat(5000) }));
    errata.route('/api/v1/erratum/slow', (_q, res) => { setTimeout(() => { if (!res.destroyed) json({})(_q, res); }, 2_000); });
    const lookup = new HttpLookup();
    const failure = async (id: string, over: Record<string, unknown> = {}): Promise<CvpError> => {
      const err = await computeLookupParameters([spec(over)], { artifact: { errata_id: id } }, lookup, opts).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(CvpError);
      expect((err as CvpError).message).not.toContain('s3cret-token');
      return err as CvpError;
    };
    expect(await failure('503')).toMatchObject({ permanent: false, code: 'PEER_UNAVAILABLE', retryAfterMs: 7000 });
    expect(await failure('404')).toMatchObject({ permanent: true, code: 'PEER_REJECTED' });
    expect(await failure('302')).toMatchObject({ permanent: true, code: 'PEER_ANSWER_INVALID' });
    expect(await failure('html')).toMatchObject({ permanent: true, code: 'PEER_ANSWER_INVALID' });
    expect(await failure('big', { max_bytes: 1024 })).toMatchObject({ permanent: true, code: 'PEER_ANSWER_INVALID' });
    expect(await failure('slow', { timeout: 200 })).toMatchObject({ permanent: false, code: 'TIMEOUT' });
  });

  it('retries a transient failure until the attempts run out, then ends the run with the reason', () => {
    const transient = new CvpError('PEER_UNAVAILABLE', 'lookup GET x answered 503', { permanent: false });
    expect(lookupVerdict(transient, 1, 3)).toMatchObject({ retry: true });
    expect(lookupVerdict(transient, 3, 3)).toEqual({ retry: false, reason: 'PEER_UNAVAILABLE: lookup GET x answered 503 (gave up after 3 attempts)' });
    expect(lookupVerdict(new CvpError('PEER_REJECTED', 'refused (404)', { permanent: true }), 1, 3)).toEqual({ retry: false, reason: 'PEER_REJECTED: refused (404)' });
  });

  it('prepares a run\'s parameters: the whole event within its limit, then the lookups', async () => {
    errata.route('/api/v1/erratum/47960', json({ errata: { rhba: { product_version: 'V' } } }));
    const s = spec();
    const body = JSON.stringify(event);
    const got = await prepareParameters({ ci_message: true }, { CI_MESSAGE: body }, [s], planLookups([s], event), new HttpLookup(), opts);
    expect(got).toEqual({ CI_MESSAGE: body, PRODUCT_VERSION: 'V', SYNOPSIS: '' });
    await expect(prepareParameters({ ci_message: { max_bytes: 1024 } }, { CI_MESSAGE: 'x'.repeat(2000) }, [], [], undefined, opts))
      .rejects.toMatchObject({ permanent: true, code: 'MESSAGE_TOO_LARGE' });
  });
});

function compiled(rule: RuleConfig) {
  return compileRules([rule], { executor: 'jenkins', timeoutMs: 1, productChannels: new Map(), durationMs });
}

describe('the whole event to a job (CI_MESSAGE)', () => {
  const rule = {
    name: 'r', topic: 'VirtualTopic.eng.ci.redhat-container-group.test.queued', job: 'j',
    parameters: { SHORT: 'artifact.component' }, report: { testcase: 'a.b.c' },
  };
  const big = { artifact: { component: 'x'.repeat(100), type: 'redhat-container-group', id: 'g', images: [] } };
  const body = JSON.stringify(big, null, 1);

  it('is passed whole, as it came, not bounded by max_parameter_length', () => {
    const router = new Router(compiled({ ...rule, ci_message: true }), { maxParameterLength: 16 });
    const [plan] = router.route(rule.topic, big, 'm1', body);
    expect(plan.parameters.CI_MESSAGE).toBe(body);
    expect(plan.parameters.SHORT).toHaveLength(16);
  });

  it('takes another name when asked, and is absent unless asked', () => {
    const named = new Router(compiled({ ...rule, ci_message: { name: 'EVENT' } }), { maxParameterLength: 16 });
    expect(Object.keys(named.route(rule.topic, big, 'm1', body)[0].parameters)).toEqual(['SHORT', 'EVENT']);
    const none = new Router(compiled(rule), { maxParameterLength: 16 });
    expect(Object.keys(none.route(rule.topic, big, 'm1', body)[0].parameters)).toEqual(['SHORT']);
  });
});

describe('config check of lookups and ci_message', () => {
  const validator = new EventValidator(schemasDir);
  const problems = (rules: string): string[] => {
    try {
      parseConfig(`command: { jobs: { j: { run: ./j.sh } } }\nrules:\n${rules}`, 'cvp.yaml', { ERRATA_TOKEN: 't' }, (t) => validator.knows(t));
      return [];
    } catch (err) {
      return (err as CvpError).reasons;
    }
  };
  const head = `  - name: r
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    job: j
    report: { testcase: a.b.c }
`;

  it('accepts a valid lookup with its token from the environment', () => {
    expect(problems(`${head}    ci_message: { max_bytes: 65536 }
    lookups:
      - name: advisory
        url: "https://errata.example.com/api/v1/erratum/{artifact.errata_id}"
        token: \${ERRATA_TOKEN}
        timeout: 5s
        cache: 10m
        parameters: { PRODUCT_VERSION: "errata.*.product_version | [0]" }
`)).toEqual([]);
  });

  it('refuses a template or an expression that does not parse, and a host taken from the event, naming file, line and key', () => {
    const found = problems(`${head}    lookups:
      - name: a
        url: "https://errata.example.com/{artifact.errata_id"
        parameters: { V: "x[" }
      - name: b
        url: "https://{artifact.host}/x"
        parameters: { W: "x" }
`);
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^cvp\.yaml:\d+:\d+: rules\[0\]\.lookups\[0\]\.url: URL template .* is not closed/),
      expect.stringMatching(/^cvp\.yaml:\d+:\d+: rules\[0\]\.lookups\[0\]\.parameters\.V: JMESPath x\[ does not parse/),
      expect.stringMatching(/^cvp\.yaml:\d+:\d+: rules\[0\]\.lookups\[1\]\.url: the scheme and host must be written out/),
    ]));
  });

  it('refuses a token written into the file', () => {
    expect(problems(`${head}    lookups:
      - { name: a, url: "https://e.example/{x}", token: plain, parameters: { V: x } }
`).join('\n')).toMatch(/lookups\[0\]\.token/);
  });
});
