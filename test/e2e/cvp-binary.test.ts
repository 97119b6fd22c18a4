import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { freePorts } from '../support/activemq';
import { eventually } from '../support/eventually';
import { testStompPort } from '../support/stomp-client';

const CVP = join(packageRoot, 'bin', 'cvp');

function cvp(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(CVP, args, { encoding: 'utf8', timeout: 60_000, cwd: packageRoot });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function cvpAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(CVP, args, { cwd: packageRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

class Listener {
  out = '';
  err = '';
  exit: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (c) => { this.out += c; });
    child.stderr!.on('data', (c) => { this.err += c; });
    this.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }
}

function sandboxConfig(dir: string, port: number, bus = ''): string {
  const file = join(dir, 'cvp.yaml');
  writeFileSync(file, `
${bus}
intake: { host: 127.0.0.1, port: ${port} }
journal: { path: ${join(dir, 'journal.db')} }
command:
  logs: ${join(dir, 'jobs')}
  jobs:
    openshift-integration-pipeline: { run: ${join(packageRoot, 'examples/jobs/integration-test.sh')} }
    image-smoke-test: { run: ${join(packageRoot, 'examples/jobs/image-smoke-test.sh')} }
rules:
  - name: tower-group-testing
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    checks:
      - { field: $.artifact.component, expected: Ansible Tower }
    job: openshift-integration-pipeline
    parameters:
      TESTEXPR: "'yolo'"
      TOWER_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower'].full_name | [0]
    report: { testcase: ansible-tower-35.default.integration, per: image, type: brew-build }
  - name: image-smoke
    topic: VirtualTopic.eng.ci.redhat-container-image.test.queued
    job: image-smoke-test
    parameters: { IMAGE: "artifact.full_names[0]", NVR: artifact.nvr }
    report: { testcase: cvp.default.functional, per: artifact }
`);
  return file;
}

describe('the cvp binary', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cvp-e2e-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the sandbox: trigger --wait follows a group event to PASSED (exit 0) and a broken image to FAILED (exit 1); SIGTERM exits 0', async () => {
    const [port] = await freePorts(1);
    const config = sandboxConfig(dir, port);
    const listener = new Listener(spawn(CVP, ['listen', '--config', config, '--log-format', 'text'], { cwd: packageRoot }));
    try {
      await eventually('the daemon to listen', () => listener.out.includes('cvp is listening'));
      const ok = await cvpAsync(['trigger', 'group-testing', '--to', `http://127.0.0.1:${port}`, '--wait', '--timeout', '60']);
      expect(ok.stdout).toContain('finished PASSED');
      expect(ok.stdout).toContain('all runs passed');
      expect(ok.status).toBe(0);
      const bad = await cvpAsync(['trigger', 'image', '--to', `http://127.0.0.1:${port}`, '--wait', '--set', 'artifact.nvr=foo-broken-1-1']);
      expect(bad.stdout).toContain('finished FAILED');
      expect(bad.status).toBe(1);
      await eventually('the printed results', () => (listener.out.match(/^result PASSED/gm) ?? []).length === 4 && /^result FAILED .*foo-broken-1-1/m.test(listener.out));
      expect(listener.out).toMatch(/^slack {3}↳ openshift-integration-pipeline PASSED/m);
    } finally {
      listener.child.kill('SIGTERM');
    }
    expect(await listener.exit).toBe(0);
    expect(listener.err).toContain('stopped');
  });

  it('takes events from a real broker: trigger --broker publishes, the daemon runs the job', async () => {
    const [port] = await freePorts(1);
    const bus = `bus:
  brokers: [{ host: 127.0.0.1, port: ${testStompPort()} }]
  consumer: Consumer.cvp-e2e.${Date.now()}
  dead_letter: /queue/cvp-e2e.dead-letter
  heartbeat: 1s`;
    const config = sandboxConfig(dir, port, bus);
    const listener = new Listener(spawn(CVP, ['listen', '--config', config], { cwd: packageRoot }));
    try {
      await eventually('the daemon to be ready', async () => {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
        return r?.status === 200;
      });
      const sent = await cvpAsync(['trigger', 'group-testing', '--broker', `stomp://127.0.0.1:${testStompPort()}`]);
      expect(sent.status).toBe(0);
      await eventually('the printed PASSED results', () => (listener.out.match(/^result PASSED/gm) ?? []).length === 4, 30_000);
      const log = listener.err.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; messageId?: string });
      const recorded = log.find((l) => l.msg === 'message recorded');
      expect(recorded?.messageId).toMatch(/^ID:/);
      const status = cvp(['status', recorded!.messageId!, '--config', config]);
      expect(status.status).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ status: 'routed', done: true, passed: true });
      const byNvr = cvp(['status', 'ansible-tower-container-3.5.4-2', '--config', config]);
      expect(byNvr.status).toBe(0);
      expect(JSON.parse(byNvr.stdout)).toMatchObject({ messageId: recorded!.messageId, runs: [{ state: 'finished', outcome: 'PASSED' }] });
    } finally {
      listener.child.kill('SIGTERM');
    }
    expect(await listener.exit).toBe(0);
  });

  it('validates event files: a table, a summary, exit 1 when any is invalid', () => {
    const good = cvp(['validate', 'examples/messages']);
    expect(good.status).toBe(0);
    // Top-level examples only: 12 ci-messages 1.x, 2 Freshmaker, 1 cvp.gate.decision (legacy/ is a subfolder).
    expect(good.stdout).toMatch(/15 file\(s\): 15 valid, 0 invalid/);
    const bad = cvp(['validate', 'examples/messages/invalid']);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/brew-build\.test\.complete\.wrong-type\.json\s+INVALID\s+\$\.artifact\.scratch: expected boolean/);
    expect(bad.stdout).toMatch(/0 valid, \d+ invalid/);
  });

  it('checks a config and names file, line and key; refuses to listen on a bad one', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'rules:\n  - name: x\n    topic: VirtualTopic.eng.ci.brew-build.test.complete\n    job: j\n    report: { testcase: a.b.c, per: everything }\n');
    const check = cvp(['config', 'check', file]);
    expect(check.status).toBe(2);
    expect(check.stderr).toContain(`${file}:5:`);
    expect(check.stderr).toContain('rules[0].report.per: expected one of "image", "artifact", found "everything"');
    const listen = cvp(['listen', '--config', file]);
    expect(listen.status).toBe(2);
    expect(listen.stderr).toContain('rules[0].report.per');
    const ok = cvp(['config', 'check', 'examples/sandbox.yaml']);
    expect(ok.status).toBe(0);
  });

  it('refuses an invalid simulated event before sending it, and a bad argument clearly', () => {
    const r = cvp(['trigger', 'group-testing', '--dry-run', '--set', 'artifact.errata_id="soon"']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('$.artifact.errata_id: expected integer, found "soon"');
    const dry = cvp(['trigger', 'image', '--dry-run', '--set', 'artifact.nvr=my-image-1-1']);
    expect(dry.status).toBe(0);
    expect(JSON.parse(dry.stdout.split('\n').slice(1).join('\n')).artifact.nvr).toBe('my-image-1-1');
    const unknown = cvp(['trigger', 'nope', '--dry-run']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/Invalid values[\s\S]*nope/);
  });
});
