/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) after a sandbox
 * run: the built `cvp listen` on the shipped sandbox (with a watchdog on its quiet image topic), a
 * simulated group event, a person's release, rerun and waiver (given, then revoked) from the CLI,
 * and a malformed event; the page shows the event, its runs, the decision, who released it, the
 * agreement figure, the waiver, the dead letter and the watchdog's alarm, with event data escaped,
 * never run.
 * With CVP_UPDATE_SCREENSHOTS=1 it also saves docs/dashboard.png for the README.
 */
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { packageRoot } from '../../src/paths';
import { freePorts } from '../support/activemq';
import { eventually } from '../support/eventually';
import { cvp, cvpAsync, listen, sandboxCopy } from './cvp-cli';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the dashboard, in a browser, after a sandbox run', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cvp-dashboard-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('shows the event, its run, the decision, the person who released it, the agreement figure and the dead letter', async () => {
    const config = sandboxCopy(dir);
    // The sandbox's image topic stays quiet in this test: the watchdog says so after 2 s.
    appendFileSync(config, 'watchdog:\n  silence: { VirtualTopic.eng.ci.redhat-container-image.test.queued: 2s }\n  interval: 500ms\n');
    const [port] = await freePorts(1);
    const base = `http://127.0.0.1:${port}`;
    const daemon = listen(['--config', config, '--port', String(port)]);
    let browser: BrowserContext | undefined;
    try {
      await eventually('the daemon to listen', () => daemon.out.includes('cvp is listening'), 30_000);
      const sent = await cvpAsync(['trigger', 'group-testing', '--to', base, '--wait', '--timeout', '60']);
      expect(sent.status).toBe(0);
      const messageId = /^event (\S+): accepted/m.exec(sent.stdout)![1];
      const decided = await eventually('the decision', () => {
        const r = cvp(['decisions', '-c', config]);
        return r.stdout.includes('1 decision(s)') && r.stdout;
      });
      const gate = /(Ansible Tower\|redhat-container-group\|\S+)$/m.exec(decided)![1];
      const artifactId = gate.split('|')[2];

      // A person agrees with CVP's shadow decision and releases it from a terminal.
      const released = cvp(['release', artifactId, '-c', config, '--as', 'tester']);
      expect(released.stderr).toBe('');
      expect(released.stdout).toMatch(new RegExp(`^Ansible Tower ${artifactId} released by cli:tester \\(action cli:[0-9a-f-]+\\)`));
      expect(released.status).toBe(0);
      await eventually('the release in the thread', () => daemon.out.includes(`cli:tester released Ansible Tower ${artifactId} (no release action is configured: this records the decision)`));
      // The run again, and a waiver given then revoked: each recorded, and said in the thread.
      const runId = /\[([0-9a-f]{8})\]/.exec(sent.stdout)![1];
      const status = JSON.parse(cvp(['status', messageId, '-c', config, '--format', 'json']).stdout) as { runs: Array<{ id: string }> };
      const firstRun = status.runs.find((r) => r.id.startsWith(runId))!.id;
      const rerun = cvp(['rerun', firstRun, '-c', config, '--as', 'tester']);
      expect(rerun.stdout).toMatch(new RegExp(`^run ${firstRun} runs again as [0-9a-f-]{36} by cli:tester`));
      await eventually('the rerun to pass', () => {
        const v = JSON.parse(cvp(['status', messageId, '-c', config, '--format', 'json']).stdout) as { runs: Array<{ outcome: string | null }> };
        return v.runs.length === 2 && v.runs.every((r) => r.outcome === 'PASSED');
      }, 30_000);
      const waived = cvp(['waive', gate, '-c', config, '--as', 'tester', '--item', 'ansible-tower-container-3.5.4-2', '--testcase', 'ansible-tower-35.default.integration', '--reason', 'accepted <b>before</b> a known flake']);
      expect(waived.status).toBe(0);
      const waiverId = /^waiver (\S+) given by cli:tester/.exec(waived.stdout)![1];
      expect(cvp(['decisions', '-c', config, '--waivers']).stdout).toMatch(new RegExp(`^${waiverId}\\s+\\S+\\s+in force\\s+Ansible Tower: ansible-tower-35.default.integration on ansible-tower-container-3.5.4-2`, 'm'));
      expect(cvp(['waive', '--revoke', waiverId, '-c', config, '--as', 'tester']).stdout).toMatch(new RegExp(`^waiver ${waiverId} revoked by cli:tester`));
      expect(cvp(['waive', '--revoke', waiverId, '-c', config]).stdout).toMatch(/was revoked already by cli:tester/);
      await eventually('the waiver in the thread', () => daemon.out.includes(`cli:tester waived ansible-tower-35.default.integration on ansible-tower-container-3.5.4-2: accepted <b>before</b> a known flake (waiver ${waiverId})`));

      const summary = cvp(['decisions', '-c', config, '--summary']);
      expect(summary.stdout).toMatch(/^Ansible Tower\s+100%\s+1\s+0\s+0\s+1$/m);
      expect(cvp(['decisions', '-c', config]).stdout).toContain(`  release by cli:tester at `);

      // A malformed event whose text would be markup if it were not escaped.
      const evil = JSON.parse(readFileSync(join(packageRoot, 'examples/messages/redhat-container-group.test.queued.json'), 'utf8'));
      evil.artifact.images[0].nvr = '<img src=x onerror="document.title=1">';
      const bad = await fetch(`${base}/events`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'evil-1', topic: 'VirtualTopic.eng.ci.redhat-container-group.test.queued', body: evil }),
      });
      expect(bad.status).toBe(400);

      const res = await fetch(`${base}/dashboard`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src 'none'/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');

      const userDataDir = join(dir, 'chromium-profile');
      browser = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
      const page = await browser.newPage();
      const violations: string[] = [];
      page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`${base}/dashboard`);
      await expect(page.title()).resolves.toBe('CVP dashboard');

      const event = page.locator(`#events tr[data-event="${messageId}"]`);
      await expect(event.count()).resolves.toBe(1);
      const eventText = await event.innerText();
      expect(eventText).toContain(artifactId);
      expect(eventText).toMatch(/openshift-integration-pipeline\s+PASSED/);
      await expect(event.locator('li[data-run]').count()).resolves.toBe(2);

      const decision = page.locator(`#decisions tr[data-gate="${gate}"]`);
      const decisionText = await decision.innerText();
      expect(decisionText).toMatch(/pass\s+shadow\s+would_release/);
      expect(decisionText).toContain('ansible-tower-35.default.integration on ansible-tower-container-3.5.4-2');
      expect(decisionText).toContain('release by cli:tester');

      const agreement = page.locator('#agreement tr[data-product="Ansible Tower"]');
      await expect(agreement.locator('.ratio').innerText()).resolves.toBe('100%');
      expect(await agreement.innerText()).toContain('100% (1 of 1 agreed)');

      const dead = page.locator('#dead-letters tr[data-dead-letter="evil-1"]');
      expect(await dead.innerText()).toContain('$.artifact.images[0].nvr: expected a string matching');
      expect(await dead.innerText()).toContain('found "<img src=x onerror="document.title=1">"');
      // Shown, not run: no image element, the title untouched, and nothing fetched but the page itself.
      await expect(page.locator('img').count()).resolves.toBe(0);
      await expect(page.title()).resolves.toBe('CVP dashboard');
      expect(requests).toEqual([`${base}/dashboard`]);
      expect(violations).toEqual([]);
      const waiver = page.locator(`#waivers tr[data-waiver="${waiverId}"]`);
      expect(await waiver.innerText()).toMatch(/accepted <b>before<\/b> a known flake[\s\S]*revoked cli:tester/);
      await expect(page.locator('b').count()).resolves.toBe(0);
      const watchdog = await page.locator('#watchdog').innerText();
      expect(watchdog).toMatch(/raised\s+silence:VirtualTopic.eng.ci.redhat-container-image.test.queued/);
      expect(watchdog).toContain('none since this daemon started');
      expect(daemon.out).toMatch(/Watchdog: no message on VirtualTopic.eng.ci.redhat-container-image.test.queued for \d+s \(expected within 2s\)/);
      const ready = await (await fetch(`${base}/readyz`)).json() as { status: string; watchdog: { alarms: Array<{ key: string }> } };
      expect(ready.status).toBe('ready');
      expect(ready.watchdog.alarms.map((a) => a.key)).toEqual(['silence:VirtualTopic.eng.ci.redhat-container-image.test.queued']);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^cvp_watchdog_alarm\{key="silence:VirtualTopic.eng.ci.redhat-container-image.test.queued"\} 1$/m);
      expect(metrics).toMatch(/^cvp_shadow_agreement_ratio\{product="Ansible Tower"\} 1$/m);
      expect(metrics).toMatch(/^cvp_topic_silence_seconds\{topic="VirtualTopic.eng.ci.redhat-container-image.test.queued"\} \d+/m);

      const shot = join(dir, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      if (process.env.CVP_UPDATE_SCREENSHOTS === '1') copyFileSync(shot, join(packageRoot, 'docs', 'dashboard.png'));
    } finally {
      await browser?.close();
      daemon.child.kill('SIGTERM');
    }
    expect(await daemon.exit).toBe(0);
  });
});
