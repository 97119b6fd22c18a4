/**
 * STOMP over TLS with a client certificate, against a real ActiveMQ (test/broker/activemq-tls.xml:
 * stomp+ssl with needClientAuth) that this file starts, and the built daemon as a separate process.
 * Events are published on the broker's plain STOMP port; the daemon consumes them over TLS.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { freePorts, startBroker, type Broker } from '../support/activemq';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { peersYaml } from '../support/peers-yaml';
import { JOB, publishStream, StreamFixture, TESTCASE } from '../support/stream-fixture';
import { generateTestCertificates, type ClientCertificate, type TestCertificates } from '../support/test-certificates';

const CVP = join(packageRoot, 'bin', 'cvp');
const TLS_BROKER_CONFIG = join(packageRoot, 'test', 'broker', 'activemq-tls.xml');

interface LogLine {
  time: number;
  level: number;
  msg: string;
  broker?: string;
  err?: string;
  retryInMs?: number;
  [key: string]: unknown;
}

/** Every JSON line of the daemon's log files in `dir` (DaemonProcess writes daemon-<n>.log there). */
function daemonLog(dir: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const name of readdirSync(dir).filter((n) => /^daemon-\d+\.log$/.test(n)).sort()) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ time: 0, level: 0, msg: `(not JSON) ${line}` });
      }
    }
  }
  return lines;
}

const connectErrors = (dir: string) => daemonLog(dir).filter((l) => l.msg === 'cannot connect to the broker');

/** A TCP relay in front of the broker's TLS port that counts connections: one per connection attempt of the daemon. */
class CountingProxy {
  connections = 0;
  port = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((client) => {
    this.connections += 1;
    const upstream = net.connect({ host: '127.0.0.1', port: this.target });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });

  constructor(private readonly target: number) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function status(port: number, path: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  await r.text();
  return r.status;
}

describe('STOMP over TLS with a client certificate (ActiveMQ with needClientAuth)', () => {
  let certs: TestCertificates;
  let broker: Broker;
  let sslPort: number;
  let f: StreamFixture;
  let n = 0;

  beforeAll(async () => {
    certs = generateTestCertificates();
    [sslPort] = await freePorts(1);
    broker = await startBroker({ configFile: TLS_BROKER_CONFIG, systemProperties: certs.brokerSystemProperties(sslPort) });
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
    certs?.remove();
  });

  beforeEach(async () => {
    f = new StreamFixture();
    await f.start();
  });
  afterEach(async () => { await f.stop(); });

  /** The daemon's files: the client certificate and key (copied, so a test can replace them) and the CA. */
  function installClient(client: ClientCertificate): { cert: string; key: string; ca: string } {
    const files = { cert: join(f.dir, 'client.pem'), key: join(f.dir, 'client.key'), ca: join(f.dir, 'ca.pem') };
    copyFileSync(certs.ca, files.ca);
    // Replaced by rename, as a certificate manager renews files in place.
    for (const k of ['cert', 'key'] as const) {
      copyFileSync(client[k], `${files[k]}.new`);
      renameSync(`${files[k]}.new`, files[k]);
    }
    return files;
  }

  /** A config for a daemon on the TLS broker (through `port`, the broker's or a proxy's), the tls mapping as given. */
  function writeConfig(port: number, tls: Record<string, string>): { file: string; consumer: string; tag: string } {
    n += 1;
    const tag = `tls${n}x${Date.now().toString(36)}`;
    const consumer = `Consumer.cvp-tls.${tag}`;
    const file = join(f.dir, `cvp-${n}.yaml`);
    const tlsYaml = Object.entries(tls).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ');
    writeFileSync(file, `
bus:
  brokers:
    - { host: localhost, port: ${port}, tls: { ${tlsYaml} } }
  consumer: ${consumer}
  dead_letter: /queue/${consumer}.dead-letter
  heartbeat: 2s
  connect_timeout: 5s
  reconnect_delay: 500ms
  max_reconnect_delay: 2s
intake: { host: 127.0.0.1, port: ${f.intakePort} }
journal: { path: ${join(f.dir, `journal-${n}.db`)} }
${peersYaml({ jenkins: f.jenkins.url, resultsdb: f.resultsdb.url, slackApi: f.slack.apiUrl, channel: '#tls' })}delivery: { base_delay: 100ms, max_delay: 1s }
rules:
  - name: tls
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    job: ${JOB}
    parameters:
      GROUP_ID: artifact.id
      TOWER_CONTAINER_IMAGE: artifact.images[0].full_name
    report: { testcase: ${TESTCASE}, per: image, type: brew-build }
`);
    return { file, consumer, tag };
  }

  function newDaemon(file: string, env: Record<string, string> = {}): { daemon: DaemonProcess; logDir: string } {
    const logDir = mkdtempSync(join(f.dir, 'log-'));
    return { daemon: new DaemonProcess(file, logDir, { ...f.env, ...env }), logDir };
  }

  /** Publishes one group event on the plain STOMP port and waits for the Jenkins stand-in's build of it. */
  async function expectProcessed(tag: string): Promise<void> {
    await publishStream(broker.stompPort, tag, 0, 1);
    await eventually(`a build for the event ${tag}-0`, () => f.buildsPerEvent().get(`${tag}-0`) === 1, 20_000);
  }

  it('connects with the right certificate: /readyz turns 200 and a published event gets its build', async () => {
    const files = installClient(certs.client);
    const { file, tag } = writeConfig(sslPort, files);
    const { daemon, logDir } = newDaemon(file);
    try {
      daemon.start();
      await eventually('the daemon to be ready over TLS', () => { daemon.assertAlive(); return f.ready(); }, 20_000);
      const connected = daemonLog(logDir).filter((l) => l.msg === 'connected to the broker');
      expect(connected.map((l) => l.broker)).toEqual([`stomp+ssl://localhost:${sslPort}`]);
      expect(connectErrors(logDir)).toEqual([]);
      await expectProcessed(tag);
      expect(f.jenkins.builds(JOB)[0].parameters.GROUP_ID).toBe(`${tag}-0`);
      expect((await daemon.terminate()).code).toBe(0);
    } finally {
      await daemon.kill();
    }
  });

  it.each([
    ['signed by a CA the broker does not know', 'unknownCaClient', /unknown CA|does not trust|not trusted/i],
    ['that has expired', 'expiredClient', /expired/i],
  ] as const)('with a client certificate %s: one clear error per attempt, bounded retries, not ready; then the renewed files are used by themselves', async (_what, which, cause) => {
    const proxy = new CountingProxy(sslPort);
    await proxy.start();
    const files = installClient(certs[which]);
    const { file, tag } = writeConfig(proxy.port, files);
    const { daemon, logDir } = newDaemon(file);
    const where = `stomp+ssl://localhost:${proxy.port}`;
    try {
      daemon.start();
      const first = await eventually('the first connection error', () => { daemon.assertAlive(); return connectErrors(logDir)[0]; }, 20_000);
      // Watch it for 5 s.
      await new Promise((r) => setTimeout(r, 5_000 - Math.max(0, Date.now() - first.time)));
      const attempts = proxy.connections;
      const errors = connectErrors(logDir);
      const inWindow = errors.filter((e) => e.time - first.time <= 5_000);

      daemon.assertAlive();
      expect(await status(f.intakePort, '/healthz')).toBe(200);
      expect(await status(f.intakePort, '/readyz')).toBe(503);
      // Each error: an error-level line naming the broker and the cause.
      for (const e of errors) {
        expect(e).toMatchObject({ level: 50, broker: where });
        expect(e.err).toMatch(cause);
      }
      // It retries on its schedule (reconnect_delay 500ms, max 2s): a handful in 5 s, not hundreds...
      expect(inWindow.length).toBeGreaterThanOrEqual(3);
      expect(inWindow.length).toBeLessThanOrEqual(10);
      // ...with the announced delay between attempts, never less than half of reconnect_delay...
      for (let i = 1; i < errors.length; i++) {
        const gap = errors[i].time - errors[i - 1].time;
        expect(gap).toBeGreaterThanOrEqual(Math.max(240, (errors[i - 1].retryInMs ?? 0) - 20));
      }
      // ...and exactly one error per attempt (the proxy counts the attempts; one may be in flight).
      expect(errors.length).toBeGreaterThanOrEqual(attempts - 1);
      expect(errors.length).toBeLessThanOrEqual(attempts);
      expect(daemonLog(logDir).filter((l) => l.msg === 'connected to the broker')).toEqual([]);
      // Nothing else at warn level or above per attempt (a second line for the same failure, say).
      const noisy = daemonLog(logDir).filter((l) => l.level >= 40 && l.msg !== 'cannot connect to the broker'
        && l.msg !== 'the client certificate has expired; the broker will refuse it');
      expect(noisy).toEqual([]);

      // The right certificate, at the same paths: the daemon picks it up at its next attempt.
      installClient(certs.client);
      const renewedAt = Date.now();
      await eventually('the daemon to connect with the renewed certificate', () => { daemon.assertAlive(); return f.ready(); }, 15_000);
      expect(Date.now() - renewedAt).toBeLessThan(5_000);
      const log = daemonLog(logDir);
      const connectedAt = log.findIndex((l) => l.msg === 'connected to the broker');
      expect(log[connectedAt]).toMatchObject({ broker: where });
      expect(log.slice(connectedAt).filter((l) => l.msg === 'cannot connect to the broker')).toEqual([]);
      await expectProcessed(tag);
      expect((await daemon.terminate()).code).toBe(0);
    } finally {
      await daemon.kill();
      await proxy.stop();
    }
  });

  it.each(['CVP_TLS_PASSPHRASE', 'CVP_TLS_PASSPHRASE_FILE'])('uses a key encrypted with a passphrase given as ${CVP_TLS_PASSPHRASE} (from %s)', async (how) => {
    const files = installClient(certs.encryptedClient);
    const { file, tag } = writeConfig(sslPort, { ...files, passphrase: '${CVP_TLS_PASSPHRASE}' });
    const passphrase = certs.encryptedClient.passphrase;
    let env: Record<string, string> = { CVP_TLS_PASSPHRASE: passphrase };
    if (how === 'CVP_TLS_PASSPHRASE_FILE') {
      const secretFile = join(f.dir, 'tls-passphrase');
      writeFileSync(secretFile, `${passphrase}\n`, { mode: 0o600 });
      env = { CVP_TLS_PASSPHRASE_FILE: secretFile };
    }
    const { daemon, logDir } = newDaemon(file, env);
    try {
      daemon.start();
      await eventually('the daemon to be ready over TLS', () => { daemon.assertAlive(); return f.ready(); }, 20_000);
      expect(connectErrors(logDir)).toEqual([]);
      await expectProcessed(tag);
      expect((await daemon.terminate()).code).toBe(0);
      const raw = readdirSync(logDir).map((name) => readFileSync(join(logDir, name), 'utf8')).join('');
      expect(raw).not.toContain(certs.encryptedClient.passphrase);
    } finally {
      await daemon.kill();
    }
  });

  /** A config with the encrypted key and `passphrase: ${CVP_TLS_PASSPHRASE}`, and a way to run `cvp` on it. */
  function passphraseSetup(withPassphrase = true) {
    const files = installClient(certs.encryptedClient);
    const { file } = writeConfig(sslPort, withPassphrase ? { ...files, passphrase: '${CVP_TLS_PASSPHRASE}' } : files);
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...f.env };
    const cvp = (args: string[], extra: Record<string, string>) =>
      spawnSync(CVP, [...args, file], { cwd: packageRoot, encoding: 'utf8', timeout: 20_000, env: { ...env, ...extra } });
    return { cvp };
  }
  const WRONG = 'not-the-passphrase-3e9b';

  it('cvp listen refuses to start with a wrong or missing passphrase, naming bus.brokers[0].tls and the passphrase', () => {
    const wrong = passphraseSetup().cvp(['listen', '--config'], { CVP_TLS_PASSPHRASE: WRONG });
    expect(wrong.signal).toBeNull();
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain('bus.brokers[0].tls');
    expect(wrong.stderr).toMatch(/passphrase/);
    expect(wrong.stderr).not.toContain(WRONG);
    expect(wrong.stderr).not.toContain('HTTP intake listening');

    const missing = passphraseSetup(false).cvp(['listen', '--config'], {});
    expect(missing.signal).toBeNull();
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('bus.brokers[0].tls');
    expect(missing.stderr).toMatch(/passphrase/);
  });

  it('cvp config check reports a wrong passphrase too, naming bus.brokers[0].tls and the passphrase', () => {
    const check = passphraseSetup().cvp(['config', 'check'], { CVP_TLS_PASSPHRASE: WRONG });
    expect(check.stderr).toContain('bus.brokers[0].tls');
    expect(check.stderr).toMatch(/passphrase/);
    expect(check.status).not.toBe(0);
  });
});
