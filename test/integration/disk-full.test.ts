import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { testStompPort } from '../support/stomp-client';
import { countMistakes, JOB, publishStream, StreamFixture } from '../support/stream-fixture';

/** Writes zeros until the file system says it is full (ENOSPC): every block is taken. */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return written;
}

/**
 * The journal on a small tmpfs that fills up under a stream: the daemon is not ready while the
 * disk is full, acks nothing it could not record, says so once per state change, and handles
 * every event once the space is back, without a restart.
 */
describe('a full disk under the journal', () => {
  let f: StreamFixture;
  let mount: string;
  beforeEach(async () => {
    f = new StreamFixture();
    await f.start();
    mount = join(f.dir, 'small-disk');
    mkdirSync(mount);
    // Root on the CI machine: a file system of our own, so "full" is real and touches nothing else.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mount]);
  });
  afterEach(async () => {
    await f.stop().catch(() => undefined);
    try { execFileSync('umount', ['-l', mount]); } catch { /* not mounted */ }
  });

  it('is not ready for 30 s of a full disk, loses nothing, and resumes by itself', async () => {
    const EVENTS = 300;
    const tag = `d${randomUUID().slice(0, 6)}`;
    const daemon = new DaemonProcess(f.writeConfig(testStompPort(), `Consumer.cvp-disk.${tag}`, { journal: join(mount, 'journal.db') }), f.dir, f.env);
    f.daemons.push(daemon);
    daemon.start();
    await eventually('the daemon to be ready', () => { daemon.assertAlive(); return f.ready(); }, 30_000);
    const firstHalf = publishStream(testStompPort(), tag, 0, EVENTS / 2);
    await eventually('some builds', () => f.jenkins.triggerCount(JOB) >= 20, 30_000);
    const filler = join(mount, 'filler');
    fill(filler);
    await firstHalf;
    const secondHalf = publishStream(testStompPort(), tag, EVENTS / 2, EVENTS);

    await eventually('/readyz to say the journal cannot commit', async () => {
      const r = await fetch(`http://127.0.0.1:${f.intakePort}/readyz`);
      return r.status === 503 && /journal/.test(await r.text());
    }, 20_000);
    const fullSince = Date.now();
    let slowest = 0;
    while (Date.now() - fullSince < 30_000) {
      const t = Date.now();
      const health = await fetch(`http://127.0.0.1:${f.intakePort}/healthz`);
      slowest = Math.max(slowest, Date.now() - t);
      expect(health.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${f.intakePort}/readyz`)).status).toBe(503);
      daemon.assertAlive();
      await new Promise((r) => setTimeout(r, 500));
    }
    rmSync(filler);
    await secondHalf;
    await eventually('the daemon to be ready again', () => f.ready(), 60_000);
    await eventually('every event to have its results', () => countMistakes(f, tag, EVENTS).missingResults === 0, 180_000);
    const stop = await daemon.terminate();
    expect(stop.code).toBe(0);
    expect(countMistakes(f, tag, EVENTS)).toEqual({ missingBuilds: 0, extraBuilds: 0, missingResults: 0, extraResults: 0 });
    expect(f.jenkins.triggerCount(JOB)).toBe(EVENTS);
    expect(slowest).toBeLessThan(1_000);
    // Said once when the disk filled and once when it emptied, not once per attempt.
    const log = readdirSync(f.dir).filter((n) => n.startsWith('daemon-')).map((n) => readFileSync(join(f.dir, n), 'utf8')).join('');
    const failing = log.split('\n').filter((l) => l.includes('the journal cannot commit')).length;
    const recovered = log.split('\n').filter((l) => l.includes('the journal commits again')).length;
    expect(failing).toBeGreaterThanOrEqual(1);
    expect(failing).toBeLessThanOrEqual(3);
    expect(recovered).toBe(failing);
    const errors = log.split('\n').filter((l) => l.includes('"level":50')).length;
    expect(errors).toBeLessThan(50);
  }, 360_000);
});
