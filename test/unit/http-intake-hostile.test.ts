/**
 * The HTTP intake against hostile clients, in process on a real socket: a request is judged from
 * its headers before its body is read (token, content type, Host and Origin, admission), bodies are
 * checked as bytes, malformed targets and deep bodies get 400, and connections are bounded.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { HttpIntake, type HttpIntakeOptions } from '../../src/adapters/bus/http-intake';
import { PrometheusMetrics } from '../../src/adapters/metrics/prometheus-metrics';
import type { Delivery } from '../../src/listener/ports';
import type { JournalStats } from '../../src/listener/ports/journal-queries';
import { CvpError } from '../../src/errors';
import { eventually } from '../support/eventually';
import { FakeClock, MemoryLogger } from '../support/fakes';

const EVENT = JSON.stringify({ topic: 'VirtualTopic.eng.ci.redhat-container-group.test.queued', body: { version: '1.0.0' } });

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string; ms: number }

/** One request on a fresh connection (no keep-alive), with the headers given exactly. */
function call(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Answer> {
  const t = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', agent: false,
      headers: { connection: 'close', ...(opts.headers ?? {}) }, setHost: !(opts.headers && 'host' in opts.headers),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), ms: Date.now() - t }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

/** A raw connection that sends `text` and reads whatever comes back until the server closes. */
function raw(port: number, text: string): Promise<{ reply: string; ms: number }> {
  const t = Date.now();
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let reply = '';
    s.on('data', (c: Buffer) => { reply += c.toString(); });
    s.on('close', () => resolve({ reply, ms: Date.now() - t }));
    s.on('error', reject);
  });
}

describe('the HTTP intake, against hostile clients', () => {
  let intake: HttpIntake;
  let port: number;
  const handled: Delivery[] = [];
  const unauthorized: string[] = [];
  let backlog = 0;
  let backlogReads = 0;

  async function start(extra: Partial<HttpIntakeOptions> = {}): Promise<void> {
    handled.length = 0;
    unauthorized.length = 0;
    intake = new HttpIntake({
      host: '127.0.0.1', port: 0, maxBodyBytes: 64 * 1024, maxDepth: 32,
      handle: async (d) => { handled.push(d); return { status: 'unmatched', messageId: d.envelope.id }; },
      status: async (id) => (id === 'known' ? ({ messageId: 'known' } as never) : null),
      ready: () => ({ ready: true, why: [] }),
      metrics: async () => ({ contentType: 'text/plain', body: 'cvp_up 1\n' }),
      onUnauthorized: (p) => unauthorized.push(p),
      log: new MemoryLogger(),
      ...extra,
    });
    await intake.start();
    port = Number(new URL(intake.url()).port);
  }

  afterEach(async () => { await intake?.stop(); });

  it('refuses to listen on an empty host (an unset ${VAR} would mean every interface)', async () => {
    const empty = new HttpIntake({ host: '', port: 0, maxBodyBytes: 1024, handle: async () => { throw new Error('no'); }, status: async () => null, ready: () => ({ ready: true, why: [] }), log: new MemoryLogger() });
    await expect(empty.start()).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^intake\.host: empty/) });
    await expect(empty.start()).rejects.toBeInstanceOf(CvpError);
  });

  describe('with a token', () => {
    beforeEach(() => start({ auth: { token: 'the-intake-token' } }));

    it('answers 401 from the headers alone: the body announced is never waited for', async () => {
      const { reply, ms } = await raw(port, 'POST /events HTTP/1.1\r\nHost: 127.0.0.1:' + port + '\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"topic"');
      expect(reply).toMatch(/^HTTP\/1\.1 401 /);
      expect(reply.toLowerCase()).toContain('connection: close');
      expect(ms).toBeLessThan(2_000);
      expect(unauthorized).toEqual(['/events']);
      expect(handled).toHaveLength(0);
    });

    it('takes the token, then wants application/json (415 otherwise)', async () => {
      const auth = { authorization: 'Bearer the-intake-token' };
      const plain = await call(port, { method: 'POST', path: '/events', headers: { ...auth, 'content-type': 'text/plain' }, body: EVENT });
      expect(plain.status).toBe(415);
      expect(JSON.parse(plain.body).error).toMatch(/application\/json/);
      const latin = await call(port, { method: 'POST', path: '/events', headers: { ...auth, 'content-type': 'application/json; charset=iso-8859-1' }, body: EVENT });
      expect(latin.status).toBe(415);
      const json = await call(port, { method: 'POST', path: '/events', headers: { ...auth, 'content-type': 'application/json; charset=utf-8' }, body: EVENT });
      expect(json.status).toBe(202);
      expect(handled).toHaveLength(1);
    });
  });

  describe('with an HMAC secret', () => {
    const secret = 'the-hmac-secret';
    const sign = (body: Buffer | string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    beforeEach(() => start({ auth: { hmacSecret: secret } }));

    it('checks the signature over the bytes received, and refuses a body that is not UTF-8', async () => {
      const ok = await call(port, { method: 'POST', path: '/events', headers: { 'content-type': 'application/json', 'x-cvp-signature': sign(EVENT) }, body: EVENT });
      expect(ok.status).toBe(202);
      // Invalid UTF-8 inside a string: its lossy decoding is other text, signed over that text it is refused...
      const bytes = Buffer.concat([Buffer.from('{"topic": "VirtualTopic.eng.ci.x", "body": "'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
      const overText = await call(port, { method: 'POST', path: '/events', headers: { 'content-type': 'application/json', 'x-cvp-signature': sign(bytes.toString('utf8')) }, body: bytes });
      expect(overText.status).toBe(401);
      // ...and signed over its bytes, it is refused for what it is.
      const overBytes = await call(port, { method: 'POST', path: '/events', headers: { 'content-type': 'application/json', 'x-cvp-signature': sign(bytes) }, body: bytes });
      expect(overBytes.status).toBe(400);
      expect(JSON.parse(overBytes.body).error).toBe('request body is not valid UTF-8');
      expect(handled).toHaveLength(1);
    });

    it('answers 401 before reading the body when the signature header is missing or malformed', async () => {
      const { reply } = await raw(port, `POST /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nX-CVP-Signature: sha256=00ff\r\nContent-Length: 60000\r\n\r\n{`);
      expect(reply).toMatch(/^HTTP\/1\.1 401 /);
    });
  });

  describe('on loopback without a token', () => {
    beforeEach(() => start());

    it('refuses a cross-site text/plain POST (a web page posting to 127.0.0.1)', async () => {
      const crossSite = await call(port, { method: 'POST', path: '/events', headers: { 'content-type': 'text/plain', origin: 'https://attacker.example' }, body: EVENT });
      expect(crossSite.status).toBe(403);
      expect(JSON.parse(crossSite.body).error).toMatch(/web pages are refused \(Origin https:\/\/attacker\.example\)/);
      // The same page using application/json (a preflighted request) is refused by its Origin too.
      const json = await call(port, { method: 'POST', path: '/events', headers: { 'content-type': 'application/json', origin: 'http://attacker.example' }, body: EVENT });
      expect(json.status).toBe(403);
      const opaque = await call(port, { method: 'POST', path: '/events', headers: { 'content-type': 'text/plain', origin: 'null' }, body: EVENT });
      expect(opaque.status).toBe(403);
      // Without Origin (curl, cvp), text/plain is still refused, for its type.
      expect((await call(port, { method: 'POST', path: '/events', headers: { 'content-type': 'text/plain' }, body: EVENT })).status).toBe(415);
      expect(handled).toHaveLength(0);
      const own = await call(port, { method: 'POST', path: '/events', headers: { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` }, body: EVENT });
      expect(own.status).toBe(202);
    });

    it('refuses a rebinding Host on every endpoint, and answers loopback names', async () => {
      for (const path of ['/metrics', '/events/known', '/readyz', '/healthz']) {
        const rebound = await call(port, { path, headers: { host: `attacker.example:${port}` } });
        expect({ path, status: rebound.status }).toEqual({ path, status: 403 });
        expect(JSON.parse(rebound.body).error).toMatch(/Host attacker\.example:\d+ is not this intake's/);
      }
      expect((await call(port, { path: '/metrics', headers: { host: `127.0.0.1:${port + 1}` } })).status).toBe(403);
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
        expect({ host, status: (await call(port, { path: '/metrics', headers: { host } })).status }).toEqual({ host, status: 200 });
      }
      expect((await call(port, { path: '/events/known' })).status).toBe(200);
    });

    it('answers the Host names it is told of (a reverse proxy\'s), bare or with its port', async () => {
      await intake.stop();
      await start({ allowedHosts: ['cvp.example.com', 'proxy.example.com:8443'] });
      for (const host of ['cvp.example.com', `cvp.example.com:${port}`, 'proxy.example.com:8443']) {
        expect({ host, status: (await call(port, { path: '/healthz', headers: { host } })).status }).toEqual({ host, status: 200 });
      }
      for (const host of ['proxy.example.com', 'cvp.example.com.attacker.example', 'example.com']) {
        expect({ host, status: (await call(port, { path: '/healthz', headers: { host } })).status }).toEqual({ host, status: 403 });
      }
      const fromProxyPage = await call(port, { method: 'POST', path: '/events', headers: { host: 'cvp.example.com', 'content-type': 'application/json', origin: 'https://cvp.example.com' }, body: EVENT });
      expect(fromProxyPage.status).toBe(202);
    });

    it('answers 400, not 500, to malformed targets and to bodies nested too deep', async () => {
      expect((await call(port, { path: '/events/%E0%A4%A' })).status).toBe(400);
      expect((await call(port, { path: '/events/%' })).status).toBe(400);
      const absolute = await raw(port, `GET http://attacker.example/metrics HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
      expect(absolute.reply).toMatch(/^HTTP\/1\.1 400 /);
      const deep = `{"topic": "VirtualTopic.eng.ci.x", "body": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
      const answer = await call(port, { method: 'POST', path: '/events', headers: { 'content-type': 'application/json' }, body: deep });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).error).toMatch(/nests 20001 levels deep, over the limit of 33/);
      const bad = await raw(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n');
      expect(bad.reply).toMatch(/^HTTP\/1\.1 400 /);
      expect(handled).toHaveLength(0);
    });
  });

  describe('admission', () => {
    const clock = new FakeClock();
    beforeEach(() => {
      backlog = 0;
      backlogReads = 0;
      return start({
        admission: { backlog: async () => { backlogReads += 1; return backlog; }, maxBacklog: 100, refreshMs: 2_000, retryAfterSeconds: 7 },
        now: () => clock.now(),
      });
    });

    it('answers 429 with Retry-After while the backlog is over the limit, reading it at most every 2 s', async () => {
      const post = () => call(port, { method: 'POST', path: '/events', headers: { 'content-type': 'application/json' }, body: EVENT });
      expect((await post()).status).toBe(202);
      backlog = 101;
      expect((await post()).status).toBe(202); // the figure read 0 s ago still holds
      clock.advance(2_000);
      await post(); // starts a new read in the background, answered with the last figure
      await eventually('the new figure', async () => (await post()).status === 429);
      const busy = await post();
      expect(busy.status).toBe(429);
      expect(busy.headers['retry-after']).toBe('7');
      expect(JSON.parse(busy.body).error).toMatch(/101 runs are waiting to start, over intake\.max_backlog \(100\)/);
      for (let i = 0; i < 30; i++) await post();
      expect(backlogReads).toBe(2);
      // GETs are never refused for it.
      expect((await call(port, { path: '/healthz' })).status).toBe(200);
      backlog = 10;
      clock.advance(2_000);
      await post();
      await eventually('admitted again', async () => (await post()).status === 202);
    });
  });

  describe('connections', () => {
    beforeEach(() => start({ connections: { maxConnections: 16, headersTimeoutMs: 400, bodyTimeoutMs: 800, idleTimeoutMs: 400 } }));

    it('holds at most max_connections: a newcomer closes the one idle longest, so /healthz gets in', async () => {
      const sockets: Socket[] = [];
      const closed: number[] = [];
      for (let i = 0; i < 100; i++) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        s.on('close', () => closed.push(i));
        s.write('GET /healthz HTTP/1.1\r\nHost: 12'); // and never more
        sockets.push(s);
      }
      await eventually('the oldest closed', () => closed.length >= 84);
      expect(intake.guard.connections).toBeLessThanOrEqual(16);
      expect(closed.slice().sort((a, b) => a - b).slice(0, 84)).toEqual(Array.from({ length: 84 }, (_, i) => i));
      const probe = await call(port, { path: '/healthz' });
      expect(probe.status).toBe(200);
      for (const s of sockets) s.destroy();
    });

    it('closes a connection that sends nothing, or too slowly, after the header timeout', async () => {
      const silent = await raw(port, '');
      expect(silent.ms).toBeLessThan(3_000);
      const slow = connect(port, '127.0.0.1');
      const t = Date.now();
      const trickle = setInterval(() => slow.write('X'), 100);
      slow.write('GET /healthz HTTP/1.1\r\nX-Slow: ');
      const reply = await new Promise<string>((resolve) => { let r = ''; slow.on('data', (c) => { r += c; }); slow.on('close', () => resolve(r)); slow.on('error', () => undefined); });
      clearInterval(trickle);
      expect(Date.now() - t).toBeLessThan(3_000);
      expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    });

    it('lets go of a timed-out client that never reads (no half-closed socket kept for it)', async () => {
      const sockets: Socket[] = [];
      for (let i = 0; i < 5; i++) {
        const s = connect(port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nX-Slow: '));
        s.on('error', () => undefined);
        s.pause(); // never reads the answer, nor the end of the connection
        sockets.push(s);
      }
      await eventually('connected', () => intake.guard.connections === 5);
      await eventually('all let go', () => intake.guard.connections === 0, 5_000);
      for (const s of sockets) s.destroy();
    });
  });
});

describe('/metrics is cheap to scrape', () => {
  it('reads the journal once per 5 s however often it is scraped', async () => {
    const clock = new FakeClock();
    let reads = 0;
    const stats: JournalStats = { runsByState: { pending: 3 }, effectsPending: { slack: 2 }, oldestUnfinishedRunAgeSeconds: 9, backlog: 3 };
    const metrics = new PrometheusMetrics({ journal: { stats: async () => { reads += 1; return stats; } }, clock });
    for (let i = 0; i < 200; i++) await metrics.render();
    expect(reads).toBe(1);
    clock.advance(5_000);
    const text = (await metrics.render()).body;
    expect(reads).toBe(2);
    expect(text).toContain('cvp_runs{state="pending"} 3');
    expect(text).toContain('cvp_effects_pending{peer="slack"} 2');
  });
});
