import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { packageRoot } from '../../src/paths';
import { freePorts } from '../support/activemq';
import { eventually } from '../support/eventually';
import { testStompPort } from '../support/stomp-client';
import { CVP, cvp, cvpAsync, listen } from './cvp-cli';

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

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface StatusJson {
  receivedAt: string;
  effects: unknown[];
  runs: Array<{ createdAt: string; triggeredAt: string | null; startedAt: string | null; finishedAt: string | null;
    effects: Array<{ peer: string; what: string; state: string; createdAt: string; doneAt: string | null }> }>;
}

/** `cvp status` says when each step happened: as JSON fields, and as a timeline for a person. */
async function statusShowsEachStep(messageId: string, config: string): Promise<void> {
  // The effects (printed results and notices) are delivered just after the run ends.
  const view = await eventually('every effect delivered', () => {
    const r = cvp(['status', messageId, '--config', config]);
    const v = JSON.parse(r.stdout) as StatusJson;
    return v.runs[0].effects.every((e) => e.state === 'done') && v;
  });
  expect(view.receivedAt).toMatch(ISO);
  const [run] = view.runs;
  expect(run.createdAt).toMatch(ISO);
  // Filled in by the journal once it records them (null until then): when present, times in order.
  const steps = [view.receivedAt, run.createdAt, run.triggeredAt, run.startedAt, run.finishedAt].filter((t): t is string => t !== null);
  for (const t of steps) expect(t).toMatch(ISO);
  expect([...steps].sort()).toEqual(steps);
  expect(run.effects.length).toBeGreaterThan(0);
  for (const e of run.effects) {
    expect(e.createdAt).toMatch(ISO);
    expect(e.doneAt).toMatch(ISO);
    expect(e.doneAt! >= e.createdAt).toBe(true);
  }
  const text = cvp(['status', messageId, '--config', config, '--format', 'text']);
  expect(text.status).toBe(0);
  const lines = text.stdout.split('\n');
  expect(lines[0]).toBe(`event ${messageId} (VirtualTopic.eng.ci.redhat-container-group.test.queued): passed`);
  const at = (what: RegExp) => lines.find((l) => what.test(l));
  expect(at(/ received \(routed\)$/)).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} {2}received/);
  expect(at(/ planned: openshift-integration-pipeline \(rule tower-group-testing\)/)).toBeDefined();
  expect(at(/ finished PASSED, build SUCCESS( \(build \S+\))?$/)).toBeDefined();
  expect(lines.filter((l) => / delivered$/.test(l))).toHaveLength(run.effects.length + view.effects.length);
  // In the order they happened.
  const times = lines.slice(2).filter((l) => /^ {2}\d{4}-/.test(l)).map((l) => l.slice(2, 25));
  expect([...times].sort()).toEqual(times);
}

/** Holds a loopback port, as another process would. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as { port: number }).port, server };
}

describe('the cvp binary', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cvp-e2e-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the sandbox: trigger --wait follows a group event to PASSED (exit 0) and a broken image to FAILED (exit 1); SIGTERM exits 0', async () => {
    const [port] = await freePorts(1);
    const config = sandboxConfig(dir, port);
    const listener = listen(['--config', config, '--log-format', 'text']);
    try {
      await eventually('the daemon to listen', () => listener.out.includes('cvp is listening'));
      const ok = await cvpAsync(['trigger', 'group-testing', '--to', `http://127.0.0.1:${port}`, '--wait', '--timeout', '60']);
      expect(ok.stdout).toContain('finished PASSED');
      expect(ok.stdout).toContain('all runs passed');
      expect(ok.status).toBe(0);
      const messageId = /^event (\S+): accepted/m.exec(ok.stdout)![1];
      await statusShowsEachStep(messageId, config);
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
    // Not a terminal and no --log-format: JSON lines.
    const listener = listen(['--config', config]);
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
    const good = cvp(['validate', 'examples/messages/legacy', 'examples/messages/redhat-container-group.test.queued.json']);
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/13 file\(s\): 13 valid, 0 invalid/);
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
    const refused = cvp(['listen', '--config', file]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('rules[0].report.per');
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

  it('says its version, and names an unknown command with the nearest one (not its options as unknown)', () => {
    const version = cvp(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version);

    const typo = cvp(['lisen', '--config', 'examples/sandbox.yaml', '--port', '9']);
    expect(typo.status).toBe(2);
    expect(typo.stderr.trim()).toBe('cvp: unknown command "lisen"; did you mean listen? (cvp --help lists the commands)');
    const nested = cvp(['config', 'chek', 'examples/sandbox.yaml']);
    expect(nested.stderr.trim()).toBe('cvp: unknown command "config chek"; did you mean config check? (cvp --help lists the commands)');
    const far = cvp(['frobnicate', '-c', 'x.yaml']);
    expect(far.status).toBe(2);
    expect(far.stderr.trim()).toBe('cvp: unknown command "frobnicate" (cvp --help lists the commands)');
    // A real unknown option of a known command is still named, and only it.
    const option = cvp(['listen', '--config', 'examples/sandbox.yaml', '--prot', '9']);
    expect(option.status).toBe(2);
    expect(option.stderr.trim()).toBe('cvp: Unknown argument: prot (cvp listen --help)');
    const decisions = cvp(['decisions', '--product', 'x']);
    expect(decisions.stderr).toContain('Missing required argument: config (cvp decisions --help)');
  });

  it('validates a folder and its sub-folders, with the table aligned however long the names are', () => {
    const root = join(dir, 'messages');
    const deep = join(root, 'a-sub-folder', 'and-a-sub-sub-folder-with-a-rather-long-name-indeed');
    mkdirSync(deep, { recursive: true });
    const example = readFileSync(join(packageRoot, 'examples/messages/brew-build.test.complete.json'), 'utf8');
    writeFileSync(join(root, 'brew-build.test.complete.json'), example);
    writeFileSync(join(deep, 'brew-build.test.complete.a-very-long-descriptive-file-name-for-this-example.json'), example);
    writeFileSync(join(deep, 'brew-build.test.complete.broken.json'), example.replace('"scratch": false', '"scratch": "no"'));
    writeFileSync(join(deep, 'notes.txt'), 'not an event');
    const r = cvp(['validate', root]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('3 file(s): 2 valid, 1 invalid');
    const rows = lines.slice(1, -1);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual([
      join(root, 'brew-build.test.complete.json'),
      join(deep, 'brew-build.test.complete.a-very-long-descriptive-file-name-for-this-example.json'),
      join(deep, 'brew-build.test.complete.broken.json'),
    ]);
    const column = lines[0].indexOf('VERDICT');
    expect(column).toBeGreaterThan(join(deep, 'brew-build.test.complete.a-very-long-descriptive-file-name-for-this-example.json').length);
    for (const row of rows) expect(row.slice(column)).toMatch(/^(valid|INVALID {2}\$\.artifact\.scratch: expected boolean)/);

    // The shipped examples: every folder, invalid/ included.
    const all = cvp(['validate', 'examples/messages']);
    const files = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : n.endsWith('.json') ? [join(d, n)] : []));
    const shipped = files(join(packageRoot, 'examples/messages')).map((f) => relative(packageRoot, f));
    const invalid = shipped.filter((f) => f.includes('/invalid/')).length;
    expect(all.stdout).toContain(`${shipped.length} file(s): ${shipped.length - invalid} valid, ${invalid} invalid`);
    expect(all.status).toBe(1);
  });

  it('listens on another port without editing the file (--port, CVP_INTAKE_PORT), and names intake.port when the port is taken', async () => {
    const [inFile, byFlag, byEnv] = await freePorts(3);
    const config = sandboxConfig(dir, inFile);
    for (const [args, env, port] of [[['--port', String(byFlag)], {}, byFlag], [[], { CVP_INTAKE_PORT: String(byEnv) }, byEnv]] as const) {
      const daemon = listen(['--config', config, ...args], env);
      try {
        await eventually('the daemon to listen', () => daemon.out.includes(`send events to http://127.0.0.1:${port}/events`));
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      } finally {
        daemon.child.kill('SIGTERM');
      }
      expect(await daemon.exit).toBe(0);
    }
    const bad = cvp(['listen', '--config', config, '--port', '80000']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('cvp: --port: expected a port number from 0 to 65535 (0: any free port), found "80000"');

    const taken = await holdPort();
    try {
      const inUse = sandboxConfig(dir, taken.port);
      const refused = cvp(['listen', '--config', inUse]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain(`cvp: ${inUse}:3:34: intake.port: 127.0.0.1:${taken.port} is already in use by another process`);
      expect(refused.stderr).toContain(`choose another port: intake.port in ${inUse}, or without editing it: cvp listen --port N (npm start -- --port N) or CVP_INTAKE_PORT=N`);
      const byFlagTaken = cvp(['listen', '--config', config, '--port', String(taken.port)]);
      expect(byFlagTaken.stderr).toContain(`cvp: --port ${taken.port} (intake.port): 127.0.0.1:${taken.port} is already in use`);
    } finally {
      taken.server.close();
    }
  });

  it('logs text lines when stderr is a terminal, JSON lines when asked', async () => {
    const [port] = await freePorts(1);
    const config = sandboxConfig(dir, port);
    // `script` (util-linux) gives the daemon a terminal; `timeout` stops it with SIGTERM.
    const tty = spawnSync('script', ['-qec', `timeout -s TERM 8 ${CVP} listen --config ${config}`, '/dev/null'], { encoding: 'utf8', timeout: 60_000, cwd: packageRoot });
    expect(tty.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} info {2}HTTP intake listening {2}url=http:\/\/127\.0\.0\.1:\d+\r?$/m);
    expect(tty.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} info {2}stopped\r?$/m);
    expect(tty.stdout).not.toContain('"level":30');

    const daemon = listen(['--config', config, '--log-format', 'json']);
    try {
      await eventually('the daemon to listen', () => daemon.out.includes('cvp is listening'));
    } finally {
      daemon.child.kill('SIGTERM');
    }
    expect(await daemon.exit).toBe(0);
    const lines = daemon.err.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['HTTP intake listening', 'stopping', 'stopped']));
  });

  it('names the file, line and key of a TLS file problem, in config check and listen', () => {
    const file = join(dir, 'tls.yaml');
    writeFileSync(file, [
      'bus:',
      '  brokers: [{ host: broker.example.com, port: 61612 }]',
      '  tls: { cert: tls/tls.crt, key: tls/tls.key, ca: tls/ca.crt }',
      '  consumer: Consumer.cvp-e2e.tls',
      '  dead_letter: /queue/cvp-e2e.dead-letter',
      'command: { jobs: { j: { run: /bin/true } } }',
      'rules:',
      '  - name: x',
      '    topic: VirtualTopic.eng.ci.brew-build.test.complete',
      '    job: j',
      '    report: { testcase: a.b.c, per: artifact }',
      '',
    ].join('\n'));
    for (const command of [['config', 'check', file], ['listen', '--config', file, '--port', '0']]) {
      const r = cvp(command);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${file}:3:16: bus.tls.cert: cannot read ${join(dir, 'tls', 'tls.crt')} (no such file)`);
    }
  });
});
