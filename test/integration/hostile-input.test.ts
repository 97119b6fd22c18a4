/**
 * Hostile input against the built daemon (its own process, the real broker, loopback stand-ins),
 * with the sizes the issue gives, while /healthz is asked every 50 ms on a fresh connection and must
 * answer within 100 ms throughout: a 360 KB group event with 120,000 empty images (it blocked the
 * daemon for 280 s, and again after every restart), 20,000 slow connections (they exhausted the file
 * descriptors), and a 40-image event whose first Slack notice Slack refused for good.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { HealthProbe } from '../support/health-probe';
import { emptyImagesEvent, GROUP_QUEUED } from '../support/hostile-input';
import { connectTestClient, disconnectTestClient, sendWithReceipt, TestSubscription, testStompPort } from '../support/stomp-client';
import { JOB, StreamFixture, streamEvent } from '../support/stream-fixture';

/** The daemon's JSON log lines of one start (daemon-<n>.log). */
function logOf(dir: string, start: number): Array<Record<string, unknown>> {
  const text = readFileSync(join(dir, `daemon-${start}.log`), 'utf8');
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * This machine's 2 cores are shared with other work (load averages of 10 and more): the daemon and
 * the probe run ahead of it when the tests run as root, so that what is measured is the daemon's own
 * event loop, not the neighbours' load. Elsewhere they run as they are.
 */
function ahead(pid: number): void {
  try {
    setPriority(pid, -10);
  } catch {
    // not root: measured as it comes
  }
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe('hostile input against the daemon', () => {
  let f: StreamFixture;
  let daemon: DaemonProcess;
  let consumer: string;
  const ownPriority = getPriority();

  beforeAll(async () => {
    ahead(process.pid);
    f = new StreamFixture();
    await f.start();
    consumer = `Consumer.cvp-hostile.${randomUUID().slice(0, 8)}`;
    daemon = new DaemonProcess(f.writeConfig(testStompPort(), consumer), f.dir, f.env);
    f.daemons.push(daemon);
    daemon.start();
    await eventually('ready', () => { daemon.assertAlive(); return f.ready(); }, 60_000);
    ahead(daemon.pid!);
  }, 90_000);

  afterAll(async () => {
    await f.stop();
    try { setPriority(process.pid, ownPriority); } catch { /* as it was */ }
  });

  it('dead-letters the 120,000-empty-images event (360 KB) once, in bounded time, answering /healthz throughout, and is not held up by it after a restart', async () => {
    const dlq = await TestSubscription.open(testStompPort(), `/queue/${consumer}.dead-letter`, { ack: 'auto' });
    const probe = new HealthProbe(f.intakePort);
    const raw = emptyImagesEvent();
    expect(raw.length).toBe(360_688);
    try {
      probe.start();
      await new Promise((r) => setTimeout(r, 500));
      const client = await connectTestClient();
      const sent = Date.now();
      await sendWithReceipt(client, `/topic/${GROUP_QUEUED}`, raw, { 'content-type': 'application/json' });
      await disconnectTestClient(client);
      const [dead] = await dlq.take(1, 30_000);
      const tookMs = Date.now() - sent;
      await new Promise((r) => setTimeout(r, 1_000));
      await probe.stop();
      expect(dead).toBeDefined();
      expect(dead.body.length).toBe(raw.length);
      expect(dead.headers['cvp-error-code']).toBe('MESSAGE_INVALID');
      expect(dead.headers['cvp-reason-1']).toBe('$.artifact.images: expected at most 1000 item(s), found an array of 120000');
      // 50 reasons found; the journal, the log and the headers keep 20 of them and say how many more.
      expect(dead.headers['cvp-reason-count']).toBe('50');
      expect(dead.headers['cvp-reason-21']).toBe('… and 30 more');
      expect(dead.headers['cvp-reason-22']).toBeUndefined();
      console.log(`120,000 empty images: dead-lettered ${tookMs} ms after it was sent; ${probe.samples.length} probes, slowest ${probe.worstMs().toFixed(1)} ms`);
      expect(tookMs).toBeLessThan(10_000);
      expect({ late: probe.late(100), worstMs: probe.worstMs() }).toEqual({ late: [], worstMs: expect.any(Number) });
      expect(probe.samples.length).toBeGreaterThan(20);
      const rejected = logOf(f.dir, 1).filter((l) => l.msg === 'message rejected');
      expect(rejected).toHaveLength(1);
      expect(JSON.stringify(rejected[0]).length).toBeLessThan(25_000);

      // A restart: the message was acked once, so it does not come back, and the daemon works.
      await eventually('recorded', () => logOf(f.dir, 1).some((l) => l.msg === 'message recorded' && l.status === 'rejected'));
      expect((await daemon.terminate()).code).toBe(0);
      daemon.start();
      await eventually('ready again', () => { daemon.assertAlive(); return f.ready(); }, 60_000);
      ahead(daemon.pid!);
      const again = new HealthProbe(f.intakePort);
      again.start();
      const client2 = await connectTestClient();
      await sendWithReceipt(client2, `/topic/${GROUP_QUEUED}`, JSON.stringify(streamEvent('after-restart', 1)), { 'content-type': 'application/json' });
      await disconnectTestClient(client2);
      await eventually('the next event built', () => f.jenkins.builds(JOB).some((b) => b.parameters.GROUP_ID === 'after-restart-1'), 30_000);
      await again.stop();
      expect(again.late(100)).toEqual([]);
      const second = logOf(f.dir, 2);
      expect(second.filter((l) => l.msg === 'message rejected' || l.status === 'duplicate')).toEqual([]);
      expect(dlq.messages).toHaveLength(1);
    } finally {
      await probe.stop();
      await dlq.close();
    }
  }, 180_000);

  it('posts the first notice of a 40-image event, its image list cut to Slack\'s sizes', async () => {
    const event = streamEvent('forty', 1) as { artifact: { images: Array<Record<string, string>> } };
    const image = event.artifact.images[0];
    event.artifact.images = Array.from({ length: 40 }, (_, i) => ({ ...image, name: `image-${i}`, nvr: `${'ansible-tower-container-with-a-long-name'.repeat(5)}-forty.${i}-1` }));
    const client = await connectTestClient();
    await sendWithReceipt(client, `/topic/${GROUP_QUEUED}`, JSON.stringify(event), { 'content-type': 'application/json' });
    await disconnectTestClient(client);
    const first = await eventually('the thread\'s first notice', () => f.slack.messages.find((m) => !m.thread_ts && m.text?.includes('forty-1')), 30_000);
    const sections = (first.blocks ?? []).map((b) => (b as { text?: { text: string } }).text?.text ?? '');
    expect(sections.every((t) => t.length <= 3_000)).toBe(true);
    expect(sections.join('\n')).toMatch(/Images: .* and \d+ more/);
    // The replies go into its thread.
    await eventually('the outcome in the thread', () => f.slack.thread(first.ts).some((m) => m.text?.includes('PASSED')), 30_000);
  }, 60_000);

  it('keeps answering /healthz within 100 ms while 20,000 slow connections come in, holding a bounded number of them', async () => {
    const pid = daemon.pid!;
    const fdsBefore = openFds(pid);
    const probe = new HealthProbe(f.intakePort);
    let maxFds = fdsBefore;
    const fdWatch = setInterval(() => { maxFds = Math.max(maxFds, openFds(pid)); }, 100);
    // Four attackers of 5,000 connections each, from their own loopback addresses, 500 a second each
    // (slow connections held, as in the issue, not a SYN flood, which is the network's to stop). A
    // real attacker runs on another machine: here they run at the lowest priority, so that what is
    // measured is the daemon, not the 2 cores it shares with them.
    const attackers = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map((address) => {
      const script = join(__dirname, '..', 'support', 'slow-clients.js');
      const child = spawn('nice', ['-n', '19', process.execPath, script, String(f.intakePort), '5000', address, '9000', '500'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const lines: Array<Record<string, number | string>> = [];
      let buffer = '';
      let onOpened: () => void = () => undefined;
      const opened = new Promise<void>((resolve) => { onOpened = resolve; });
      child.stdout.on('data', (c: Buffer) => {
        buffer += c.toString();
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          const line = JSON.parse(buffer.slice(0, i)) as Record<string, number | string>;
          buffer = buffer.slice(i + 1);
          lines.push(line);
          if (line.phase === 'opened') onOpened();
        }
      });
      return { opened, exited: new Promise<Array<Record<string, number | string>>>((resolve) => child.on('exit', () => resolve(lines))) };
    });
    try {
      probe.start();
      await Promise.all(attackers.map((a) => a.opened));
      // Every connection is now older than the header timeout (5 s, checked every second) and they
      // are all still sending, one byte a second: the daemon has let go of them all.
      await new Promise((r) => setTimeout(r, 7_500));
      const fdsAfterTimeout = openFds(pid);
      const reports = await Promise.all(attackers.map((a) => a.exited));
      await probe.stop();
      clearInterval(fdWatch);
      const opened = reports.map((r) => r.find((x) => x.phase === 'opened')!);
      const total = opened.reduce((n, r) => n + Number(r.opened), 0);
      // Measured, for the README: how fast they came, how many the daemon held, how slow the probe got.
      console.log(`slow connections: ${total} opened in ${Math.max(...opened.map((r) => Number(r.openingMs)))} ms; ` +
        `daemon fds ${fdsBefore} before, at most ${maxFds}, ${fdsAfterTimeout} once they had timed out; ` +
        `${probe.samples.length} probes, slowest ${probe.worstMs().toFixed(1)} ms`);
      expect(total).toBe(20_000);
      expect({ late: probe.late(100) }).toEqual({ late: [] });
      expect(probe.samples.length).toBeGreaterThan(100);
      // At most max_connections (512) client sockets, beside the daemon's own files and peers.
      expect(maxFds).toBeLessThan(fdsBefore + 512 + 64);
      expect(fdsAfterTimeout).toBeLessThan(fdsBefore + 16);
      daemon.assertAlive();
    } finally {
      clearInterval(fdWatch);
      await probe.stop();
    }
  }, 120_000);
});
