/**
 * Secrets stay secret: the built daemon runs as a separate process with every secret set to a
 * recognisable value (some from the environment, some from *_FILE files), events go through it
 * (valid, invalid, over the bus and the HTTP intake), peers fail for a while (Jenkins 401, ResultsDB
 * 400, Slack 500), unauthorised requests hit the intake; then everything that left the daemon is
 * collected and searched for the secrets in every encoding: its log, `cvp status`, /metrics, the
 * intake's answers, every bus message, the journal, and every request the stand-ins received except
 * the Authorization header that carries a peer its own token.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { HttpStandIn, type Reply, type StandInRequest } from '../stand-ins/http-stand-in';
import { JenkinsStandIn } from '../stand-ins/jenkins-stand-in';
import { ResultsDbStandIn } from '../stand-ins/resultsdb-stand-in';
import { SlackStandIn } from '../stand-ins/slack-stand-in';
import { freePorts } from '../support/activemq';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { connectTestClient, disconnectTestClient, sendWithReceipt, TestSubscription, testStompPort } from '../support/stomp-client';
import { streamEvent } from '../support/stream-fixture';

const CVP = join(packageRoot, 'bin', 'cvp');
const JOB = 'Pipelines/openshift-integration-pipeline';
const TESTCASE = 'ansible-tower-35.default.integration';
const GROUP_TOPIC = 'VirtualTopic.eng.ci.redhat-container-group.test.queued';
const JENKINS_USER = 'cvp-bot';

/** Every secret, recognisable, with characters that URL and JSON encodings change in some. */
const SECRETS = {
  JENKINS_TOKEN: 'jenkins-SECRET-1f3a9c7e5b2d',
  SLACK_TOKEN: 'xoxb-SLACK-SECRET-8d2e4f6a0c',
  CVP_INTAKE_TOKEN: 'intake-SECRET+4b7c/9e1f=',
  CVP_INTAKE_HMAC: 'hmac-SECRET-5a6b7c8d9e0f',
  CVP_RELEASE_TOKEN: 'release-SECRET/2c3d+4e5f==',
  CVP_BUS_PASSCODE: 'bus-SECRET-6e7f8a9b0c1d',
} as const;
type SecretName = keyof typeof SECRETS;
/** These come from files named by NAME_FILE, the others straight from the environment. */
const FROM_FILES: SecretName[] = ['JENKINS_TOKEN', 'CVP_INTAKE_HMAC', 'CVP_RELEASE_TOKEN'];

/**
 * The forms a secret can take in text: as is, URL-encoded, form-encoded, JSON-escaped, and base64 at
 * each of the three alignments (so base64 of "user:secret" or of a longer text is found too).
 */
function formsOf(secret: string): Record<string, string> {
  const forms: Record<string, string> = {
    raw: secret,
    'URL-encoded': encodeURIComponent(secret),
    'form-encoded': new URLSearchParams({ x: secret }).toString().slice(2),
    'JSON-escaped': JSON.stringify(secret).slice(1, -1),
  };
  for (let k = 0; k < 3; k++) {
    const full = Buffer.concat([Buffer.alloc(k), Buffer.from(secret)]);
    const first = Math.ceil(k / 3);
    const last = Math.floor(full.length / 3);
    forms[`base64@${k}`] = full.toString('base64').slice(first * 4, last * 4);
    forms[`base64url@${k}`] = full.toString('base64url').slice(first * 4, last * 4);
  }
  // One name per distinct text (JSON-escaping changes nothing in most secrets, say).
  const distinct: Record<string, string> = {};
  for (const [name, text] of Object.entries(forms)) if (!Object.values(distinct).includes(text)) distinct[name] = text;
  return distinct;
}

interface Leak { source: string; secret: string; form: string; context: string }

/** One line per place and secret, with the forms found and where the first one was. */
function leakReport(leaks: Leak[]): string[] {
  const byKind = new Map<string, { forms: string[]; context: string }>();
  for (const l of leaks) {
    const kind = `${l.source}: ${l.secret}`;
    const entry = byKind.get(kind) ?? { forms: [], context: l.context };
    entry.forms.push(l.form);
    byKind.set(kind, entry);
  }
  return [...byKind.entries()].map(([kind, e]) => `${kind} (${e.forms.join(', ')}) in ${JSON.stringify(e.context)}`);
}

function findLeaks(sources: Record<string, string>): Leak[] {
  const leaks: Leak[] = [];
  for (const [source, text] of Object.entries(sources)) {
    for (const [name, value] of Object.entries(SECRETS)) {
      for (const [form, needle] of Object.entries(formsOf(value))) {
        const at = text.indexOf(needle);
        if (at >= 0) leaks.push({ source, secret: name, form, context: text.slice(Math.max(0, at - 120), at + needle.length + 60) });
      }
    }
  }
  return leaks;
}

/** The release driver's endpoint: records requests (HttpStandIn) and accepts them. */
class ReleaseStandIn extends HttpStandIn {
  protected handle(req: StandInRequest): Reply {
    if (req.method === 'POST' && req.path === '/api/release') return { status: 202, json: { queued: true } };
    return this.unrecognised(req);
  }
}

/**
 * What a stand-in received, one text per part (request line, each header, body) over all its
 * requests, so a leak names the header it is in. The Authorization header is left out only where it
 * is exactly the one carrying this peer its own token.
 */
function requestParts(peer: string, requests: StandInRequest[], legitimateAuthorization: string): Record<string, string> {
  const parts: Record<string, string[]> = {};
  const add = (part: string, text: string) => (parts[`${peer} requests, ${part}`] ??= []).push(text);
  for (const req of requests) {
    const search = req.searchParams.toString();
    add('request line', `${req.method} ${req.path}${search ? `?${search}` : ''}`);
    for (const [name, value] of Object.entries(req.headers)) {
      if (name === 'authorization' && value === legitimateAuthorization) continue;
      add(`header ${name}`, String(value));
    }
    add('body', req.rawBody);
  }
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.join('\n')]));
}

interface LogLine { level: number; msg: string; messageId?: string; status?: string; err?: string; [k: string]: unknown }

describe('secrets never leave the daemon', () => {
  const id = randomUUID().slice(0, 8);
  const tag = `sec${id}`;
  const consumer = `Consumer.cvp-sec.${id}`;
  const deadLetter = `/queue/cvp-sec.${id}.dead-letter`;
  const releaseQueue = `/queue/cvp-sec.${id}.release`;
  let dir: string;
  let jenkins: JenkinsStandIn;
  let resultsdb: ResultsDbStandIn;
  let slack: SlackStandIn;
  let release: ReleaseStandIn;
  let intakePort: number;
  let configFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cvp-secrets-'));
    jenkins = new JenkinsStandIn({ user: JENKINS_USER, token: SECRETS.JENKINS_TOKEN });
    resultsdb = new ResultsDbStandIn({ outcomes: ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'QUEUED', 'RUNNING', 'ERROR'] });
    slack = new SlackStandIn({ token: SECRETS.SLACK_TOKEN });
    release = new ReleaseStandIn();
    await Promise.all([jenkins.start(), resultsdb.start(), slack.start(), release.start()]);
    jenkins.defineJob(JOB, { parameters: ['GROUP_ID', 'TOWER_CONTAINER_IMAGE', 'CVP_RUN_ID'], result: 'SUCCESS', runMs: 300 });
    [intakePort] = await freePorts(1);
    env = {};
    for (const [name, value] of Object.entries(SECRETS) as Array<[SecretName, string]>) {
      if (FROM_FILES.includes(name)) {
        const file = join(dir, `${name.toLowerCase()}.secret`);
        writeFileSync(file, `${value}\n`, { mode: 0o600 });
        env[`${name}_FILE`] = file;
      } else {
        env[name] = value;
      }
    }
    configFile = join(dir, 'cvp.yaml');
    writeFileSync(configFile, `
bus:
  brokers: [{ host: 127.0.0.1, port: ${testStompPort()} }]
  login: ${JENKINS_USER}
  passcode: \${CVP_BUS_PASSCODE}
  consumer: ${consumer}
  dead_letter: ${deadLetter}
  heartbeat: 2s
  reconnect_delay: 200ms
  max_reconnect_delay: 1s
intake:
  host: 127.0.0.1
  port: ${intakePort}
  token: \${CVP_INTAKE_TOKEN}
  hmac_secret: \${CVP_INTAKE_HMAC}
journal: { path: ${join(dir, 'journal.db')} }
jenkins:
  url: ${jenkins.url}
  user: ${JENKINS_USER}
  token: \${JENKINS_TOKEN}
  poll_interval: 100ms
resultsdb:
  url: ${resultsdb.url}/api/v2.0
  outcomes: [PASSED, INFO, FAILED, NEEDS_INSPECTION, QUEUED, RUNNING, ERROR]
slack:
  token: \${SLACK_TOKEN}
  channel: "#secrets"
  api_url: ${slack.apiUrl}
delivery: { base_delay: 100ms, max_delay: 1s }
links: { advisory: "https://errata.example.com/advisory/{id}" }
ci_messages:
  contact: { name: CVP, team: tower-qe, docs: "https://cvp.example.com/docs", email: tower-qe@example.com }
products:
  - name: Ansible Tower
    required: { brew-build: [${TESTCASE}] }
    release: "on"
    release_action:
      bus: ${releaseQueue}
      http: { url: "${release.url}/api/release", token: "\${CVP_RELEASE_TOKEN}" }
rules:
  - name: secrets
    product: Ansible Tower
    topic: ${GROUP_TOPIC}
    job: ${JOB}
    parameters:
      GROUP_ID: artifact.id
      TOWER_CONTAINER_IMAGE: artifact.images[0].full_name
    report: { testcase: ${TESTCASE}, per: image, type: brew-build }
`);
  });

  afterAll(async () => {
    await Promise.all([jenkins?.stop(), resultsdb?.stop(), slack?.stop(), release?.stop()]);
    if (!process.env.CVP_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  const cvp = (args: string[], extraEnv: Record<string, string> = env) =>
    spawnSync(CVP, args, { cwd: packageRoot, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...extraEnv } });

  const intake = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${intakePort}${path}`, init);
  const bearer = { authorization: `Bearer ${SECRETS.CVP_INTAKE_TOKEN}` };

  it('appear nowhere in logs, status, metrics, bus messages, the journal or requests to peers, through failures and refusals', async () => {
    // Every message the daemon could publish: under this test's queue prefix, and on any virtual topic.
    const queues = await TestSubscription.open(testStompPort(), `/queue/cvp-sec.${id}.>`, { ack: 'auto' });
    const topics = await TestSubscription.open(testStompPort(), '/topic/VirtualTopic.>', { ack: 'auto' });
    const daemon = new DaemonProcess(configFile, dir, env);
    try {
      daemon.start();
      await eventually('the daemon to be ready', async () => {
        daemon.assertAlive();
        return (await intake('/readyz').catch(() => null))?.status === 200;
      }, 20_000);
      const logText = () => readdirSync(dir).filter((n) => /^daemon-\d+\.log$/.test(n)).map((n) => readFileSync(join(dir, n), 'utf8')).join('');
      const logLines = (): LogLine[] => logText().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);

      // Peers fail for a while: Jenkins refuses the credentials, ResultsDB answers 400, Slack 500.
      jenkins.failWith(401);
      resultsdb.failWith(400, 2);
      slack.failWith(500, 1);

      const client = await connectTestClient(testStompPort());
      try {
        await sendWithReceipt(client, `/topic/${GROUP_TOPIC}`, JSON.stringify(streamEvent(tag, 0)), { 'content-type': 'application/json' });
        await eventually('Jenkins errors in the log', () => logLines().filter((l) => /Jenkins at .* answered 401/.test(JSON.stringify(l))).length >= 2, 15_000);
        jenkins.restore();
        // Invalid events, dead-lettered.
        const missingImages = streamEvent(tag, 1) as { artifact: Record<string, unknown> };
        delete missingImages.artifact.images;
        await sendWithReceipt(client, `/topic/${GROUP_TOPIC}`, JSON.stringify(missingImages), { 'content-type': 'application/json' });
        await sendWithReceipt(client, `/topic/${GROUP_TOPIC}`, '{"not": json', { 'content-type': 'application/json' });
      } finally {
        await disconnectTestClient(client);
      }

      // The intake: refused without the token, with a wrong one, with a bad signature; accepted with them.
      const eventBody = (n: number) => JSON.stringify({ topic: GROUP_TOPIC, id: `${tag}-intake-${n}`, body: streamEvent(tag, n) });
      const refused = [
        await intake('/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: eventBody(9) }),
        await intake('/events', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-token' }, body: eventBody(9) }),
        await intake('/events', { method: 'POST', headers: { 'content-type': 'application/json', 'x-cvp-signature': 'sha256=00ff' }, body: eventBody(9) }),
        await intake(`/events/${tag}-intake-2`),
      ];
      const refusedBodies = await Promise.all(refused.map((r) => r.text()));
      expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401]);
      const accepted = await intake('/events', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: eventBody(2) });
      const acceptedBody = await accepted.text();
      expect(accepted.status).toBe(202);
      const invalid = JSON.stringify({ topic: GROUP_TOPIC, id: `${tag}-intake-3`, body: { ...streamEvent(tag, 3), version: '9.9.9' } });
      const signature = `sha256=${createHmac('sha256', SECRETS.CVP_INTAKE_HMAC).update(invalid).digest('hex')}`;
      const rejected = await intake('/events', { method: 'POST', headers: { 'content-type': 'application/json', 'x-cvp-signature': signature }, body: invalid });
      const rejectedBody = await rejected.text();
      expect(rejected.status).toBe(400);

      // Everything happens: two builds, dead letters, results, notices, and the release (HTTP and bus).
      // A wait that times out says what the daemon logged at warn level and above, and its decisions.
      const waitFor = async (what: string, check: () => boolean, ms: number) => {
        try {
          await eventually(what, check, ms);
        } catch (err) {
          const lines = logLines().filter((l) => l.level >= 40 || /gate|release/.test(l.msg)).map((l) => JSON.stringify(l));
          throw new Error(`${(err as Error).message}\n--- daemon log (warn and above, gates) ---\n${lines.join('\n')}`);
        }
      };
      await waitFor('two finished builds', () => jenkins.builds(JOB).filter((b) => b.result === 'SUCCESS').length === 2, 30_000);
      await waitFor('three dead letters', () => queues.messages.filter((m) => m.headers.destination === deadLetter).length === 3, 15_000);
      await waitFor('the release call', () => release.requests.length >= 1, 20_000);
      await waitFor('the release message on the bus', () => queues.messages.some((m) => m.headers.destination === releaseQueue), 20_000);
      await waitFor('final results', () => resultsdb.results.filter((r) => r.outcome === 'PASSED').length >= 2, 15_000);
      await waitFor('Slack notices', () => slack.messages.length >= 2, 15_000);
      await waitFor('CI messages', () => topics.messages.some((m) => /brew-build\.test\.complete/.test(m.headers.destination)), 15_000);
      expect(logLines().some((l) => /ResultsDB at .* refused .*\(400\)/.test(JSON.stringify(l)))).toBe(true);

      const status = await intake(`/events/${tag}-intake-2`, { headers: bearer });
      const statusBody = await status.text();
      expect(status.status).toBe(200);
      const metrics = await (await intake('/metrics')).text();
      const unauthorized = [...metrics.matchAll(/^cvp_intake_unauthorized_total\{path="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
      expect(Object.fromEntries(unauthorized)).toEqual({ '/events': 3, '/events/:id': 1 });

      const busMessageId = logLines().find((l) => l.msg === 'message recorded' && l.status === 'accepted' && l.messageId?.startsWith('ID:'))?.messageId;
      expect(busMessageId).toBeDefined();
      const statuses: Record<string, string> = {};
      for (const what of [busMessageId!, `${tag}-intake-2`, `${tag}-intake-3`, `${tag}-0`, `${tag}-2`, itemOf(0)]) {
        const r = cvp(['status', what, '--config', configFile]);
        expect({ what, status: r.status, stderr: r.stderr }).toEqual({ what, status: 0, stderr: '' });
        statuses[`cvp status ${what}`] = r.stdout + r.stderr;
      }
      expect(JSON.parse(statuses[`cvp status ${busMessageId}`])).toMatchObject({ status: 'routed' });

      expect((await daemon.terminate()).code).toBe(0);
      const journal = ['journal.db', 'journal.db-wal'].filter((n) => existsSync(join(dir, n)))
        .map((n) => readFileSync(join(dir, n)).toString('latin1')).join('\n');

      // The legitimate uses really happened, with the secrets as configured (from files, too)...
      const jenkinsAuth = `Basic ${Buffer.from(`${JENKINS_USER}:${SECRETS.JENKINS_TOKEN}`).toString('base64')}`;
      const slackAuth = `Bearer ${SECRETS.SLACK_TOKEN}`;
      const releaseAuth = `Bearer ${SECRETS.CVP_RELEASE_TOKEN}`;
      expect(jenkins.requests.filter((r) => r.headers.authorization === jenkinsAuth && r.status === 201)).toHaveLength(2);
      expect(slack.requests.some((r) => r.headers.authorization === slackAuth && r.status === 200)).toBe(true);
      expect(release.requests.map((r) => r.headers.authorization)).toContain(releaseAuth);
      // ...and the search finds a secret where one is (it would find a leak).
      const control = findLeaks({ control: `x ${jenkinsAuth} y ${encodeURIComponent(SECRETS.CVP_INTAKE_TOKEN)}` });
      expect(control.filter((l) => l.secret === 'JENKINS_TOKEN').map((l) => l.form)).toContain('base64@2');
      expect(control.filter((l) => l.secret === 'CVP_INTAKE_TOKEN').map((l) => l.form)).toContain('URL-encoded');
      expect(new Set(control.map((l) => l.secret))).toEqual(new Set(['JENKINS_TOKEN', 'CVP_INTAKE_TOKEN']));

      const sources: Record<string, string> = {
        'daemon log': logText(),
        'daemon stdout': daemon.stdout,
        ...statuses,
        'GET /metrics': metrics,
        'GET /events/:id': statusBody,
        'POST /events answers': [acceptedBody, rejectedBody, ...refusedBodies].join('\n'),
        journal,
      };
      for (const [i, m] of [...queues.messages, ...topics.messages].entries()) sources[`bus message ${i} to ${m.headers.destination}`] = `${JSON.stringify(m.headers)}\n${m.body}`;
      for (const [peer, standIn, auth] of [['Jenkins', jenkins, jenkinsAuth], ['ResultsDB', resultsdb, ''], ['Slack', slack, slackAuth], ['release', release, releaseAuth]] as const) {
        Object.assign(sources, requestParts(peer, standIn.requests, auth));
      }
      expect(Object.keys(sources).filter((s) => s.startsWith('bus message')).length).toBeGreaterThanOrEqual(3 + 1 + 2);
      expect(leakReport(findLeaks(sources))).toEqual([]);
    } finally {
      await daemon.kill();
      await queues.close();
      await topics.close();
    }
  }, 85_000);

  function itemOf(n: number): string {
    return (streamEvent(tag, n).artifact as { images: Array<{ nvr: string }> }).images[0].nvr;
  }

  it('the config loader refuses a secret written in the file, naming file:line and the key, unless allow_inline_secrets', () => {
    const file = join(dir, 'inline.yaml');
    const yaml = [
      'jenkins:',
      '  url: https://jenkins.example.com',
      '  user: cvp-bot',
      '  token: abc123',
      'slack:',
      '  token: xoxb-inline-0042',
      '  channel: "#x"',
      'rules:',
      '  - name: x',
      `    topic: ${GROUP_TOPIC}`,
      '    job: j',
      `    report: { testcase: ${TESTCASE} }`,
      '',
    ];
    writeFileSync(file, yaml.join('\n'));
    const refused = cvp(['config', 'check', file], {});
    expect(refused.status).toBe(2);
    // file:line:col of the value, then the key.
    expect(refused.stderr).toContain(`${file}:4:10: jenkins.token: a secret written in the file`);
    expect(refused.stderr).toContain(`${file}:6:10: slack.token: a secret written in the file`);
    expect(refused.stderr).toContain('${CVP_JENKINS_TOKEN}');
    expect(refused.stderr).not.toContain('abc123');
    expect(refused.stderr).not.toContain('xoxb-inline-0042');
    const listen = cvp(['listen', '--config', file], {});
    expect(listen.status).toBe(2);
    expect(listen.stderr).toContain(`${file}:4:10: jenkins.token`);

    writeFileSync(file, ['allow_inline_secrets: true', ...yaml].join('\n'));
    const allowed = cvp(['config', 'check', file], {});
    expect({ status: allowed.status, stderr: allowed.stderr }).toEqual({ status: 0, stderr: '' });
    expect(allowed.stdout).toContain('OK');
  });
});
