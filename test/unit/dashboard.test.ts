/**
 * The dashboard's page and its place on the daemon's port: every value escaped, its inline style
 * allowed by hash and nothing else, and behind the intake's token (Bearer, or HTTP Basic for a
 * browser) when one is set.
 */
import { createHash } from 'node:crypto';
import { HttpIntake } from '../../src/adapters/bus/http-intake';
import type { DashboardModel } from '../../src/adapters/dashboard/dashboard-data';
import { DASHBOARD_CSP, esc, renderDashboard } from '../../src/adapters/dashboard/dashboard-page';
import { dashboardRoute } from '../../src/adapters/dashboard/dashboard-route';
import { MemoryLogger } from '../support/fakes';

const EVIL = '<script>alert(1)</script>"\'&';

function model(): DashboardModel {
  return {
    generatedAt: 1_700_000_000_000,
    events: [{
      messageId: `m-${EVIL}`, topic: 'VirtualTopic.x', status: 'routed', receivedAt: 1_700_000_000_000, artifact: EVIL,
      runs: [
        { id: 'r1', job: EVIL, rule: 'r', state: 'finished', outcome: 'FAILED', buildUrl: 'javascript:alert(1)', reason: EVIL, items: [], createdAt: 0, finishedAt: 1 },
        { id: 'r2', job: 'j', rule: 'r', state: 'finished', outcome: 'PASSED', buildUrl: 'https://jenkins.example.com/job/j/2/?a=1&b="2"', reason: null, items: [], createdAt: 0, finishedAt: 1 },
      ],
    }],
    decisions: [{
      gateKey: `P|t|${EVIL}`, product: 'P', artifactType: 't', artifactId: EVIL, decision: 'pass', mode: 'shadow', action: 'would_release', createdAt: 0,
      reasons: [{ testcase: 'a.b.c', item: EVIL, type: 't', outcome: 'FAILED', why: 'x', waived_by: `cli:${EVIL}`, waiver_reason: EVIL }],
      actions: [{ id: 'a', kind: 'release', product: 'P', gateKey: `P|t|${EVIL}`, who: `slack:U1 (${EVIL})`, via: 'slack', at: 0 }],
    }],
    waivers: [{ id: 'w', product: 'P', item: EVIL, type: 't', testcase: 'a.b.c', scenario: null, reason: EVIL, who: EVIL, createdAt: 0, revokedAt: null, revokedBy: null }],
    agreement: { since: 0, products: [{ product: EVIL, gates: 2, agreed: 1, disagreed: 1, notActed: 0, ratio: 0.5 }], gates: [] },
    agreementWindowMs: 30 * 86_400_000,
    deadLetters: [{ messageId: 'd', topic: 't', status: 'rejected', reasons: [`$.x: found ${EVIL}`], receivedAt: 0, body: '' }],
    watchdog: { running: true, checkedAt: 0, alarms: [{ key: `silence:${EVIL}`, raised: true, since: 0, detail: EVIL }], topics: [], runs: [] },
  };
}

describe('the dashboard page', () => {
  it('escapes every value, links only to http(s), and carries no script', () => {
    const html = renderDashboard(model());
    expect(html).not.toContain('<script');
    expect(html).not.toContain(EVIL);
    expect(html).toContain(esc(EVIL));
    expect(esc(EVIL)).toBe('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain('<span class="muted id">javascript:alert(1)</span>');
    expect(html).toContain('<a href="https://jenkins.example.com/job/j/2/?a=1&amp;b=&quot;2&quot;" rel="noreferrer noopener">build</a>');
    expect(html).toContain('<span class="ratio">50%</span>');
  });

  it('allows its own inline style by hash, and nothing else', () => {
    const html = renderDashboard(model());
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const hash = createHash('sha256').update(style).digest('base64');
    expect(DASHBOARD_CSP).toBe(`default-src 'none'; style-src 'sha256-${hash}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
    expect(html.match(/<style>/g)).toHaveLength(1);
    expect(html).not.toMatch(/ style="/);
  });
});

describe('the dashboard on the daemon\'s port', () => {
  let intake: HttpIntake;
  let base: string;
  const unauthorized: string[] = [];
  const queries = {
    recentMessages: async () => [], eventStatus: async () => null, decisions: async () => [], actions: async () => [], waivers: async () => [],
  };

  beforeAll(async () => {
    intake = new HttpIntake({
      host: '127.0.0.1', port: 0, maxBodyBytes: 1024, log: new MemoryLogger(),
      handle: async () => { throw new Error('not used'); }, status: async () => null, ready: () => ({ ready: true, why: [], detail: { watchdog: { alarms: [] } } }),
      auth: { token: 'intake-token' }, onUnauthorized: (p) => unauthorized.push(p),
      routes: [dashboardRoute({ queries, journal: { alarms: async () => [] }, clock: { now: () => 1_700_000_000_000 } })],
    });
    await intake.start();
    base = intake.url();
  });

  afterAll(() => intake.stop());

  it('asks a browser for the token (HTTP Basic), and takes it as Basic or Bearer', async () => {
    const none = await fetch(`${base}/dashboard`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="cvp", charset="UTF-8"');
    const wrong = await fetch(`${base}/dashboard`, { headers: { authorization: `Basic ${Buffer.from('ada:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    expect(unauthorized).toEqual(['/dashboard', '/dashboard']);
    const basic = await fetch(`${base}/dashboard`, { headers: { authorization: `Basic ${Buffer.from('anyone:intake-token').toString('base64')}` } });
    expect(basic.status).toBe(200);
    expect(basic.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(basic.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(await basic.text()).toContain('No event received yet.');
    const bearer = await fetch(`${base}/dashboard`, { headers: { authorization: 'Bearer intake-token' } });
    expect(bearer.status).toBe(200);
    expect((await fetch(`${base}/dashboard`, { method: 'POST', headers: { authorization: 'Bearer intake-token' } })).status).toBe(404);
  });

  it('lists the readiness detail in /readyz', async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', why: [], watchdog: { alarms: [] } });
  });
});
