/**
 * Three `cvp listen` processes (the built binary) on one PostgreSQL journal, consuming one queue of
 * the real broker. Everything is counted from the stand-ins' own records: builds in Jenkins,
 * results in ResultsDB, messages in Slack, calls to the release API.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../support/activemq';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { peersYaml } from '../support/peers-yaml';
import { startPostgres, testPostgres, type PgServer } from '../support/postgres';
import { connectTestClient, disconnectTestClient, sendWithReceipt, testStompPort } from '../support/stomp-client';
import { itemsOf, JOB, StreamFixture, streamEvent, TESTCASE } from '../support/stream-fixture';
import { JenkinsStandIn } from '../stand-ins/jenkins-stand-in';
import type { Reply, StandInRequest } from '../stand-ins/http-stand-in';
import { Client } from 'pg';

const CLEAN = { missingBuilds: 0, extraBuilds: 0, missingResults: 0, extraResults: 0 };
const PRODUCT = 'Ansible Tower';

/** A small seeded generator, so a failing run can be repeated (the seed is in the test output). */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

/**
 * Events from..to-1 of a stream, each with a receipt. Heart-beats every 10 s rather than 1 s: the
 * machine is shared, and this publisher must not be the one that gives up when it is busy.
 */
async function publishStream(port: number, tag: string, from: number, to: number): Promise<void> {
  const client = await connectTestClient(port, { heartBeat: '10000,10000', timeoutMs: 30_000 });
  try {
    for (let n = from; n < to; n++) {
      await sendWithReceipt(client, '/topic/VirtualTopic.eng.ci.redhat-container-group.test.queued', JSON.stringify(streamEvent(tag, n)), { 'content-type': 'application/json' });
    }
  } finally {
    await disconnectTestClient(client);
  }
}

/**
 * What is not exactly once: events without exactly one build, items without exactly one final
 * result. The items of each event are worked out once: the stand-ins run in this process, and a
 * check that re-reads every event on each look would starve them.
 */
function mistakeCounter(f: StreamFixture, tag: string, events: number): () => typeof CLEAN {
  const items = Array.from({ length: events }, (_, n) => itemsOf(tag, n));
  return () => {
    const builds = f.buildsPerEvent();
    const results = f.finalResultsPerItem();
    const out = { ...CLEAN };
    items.forEach((list, n) => {
      const b = builds.get(`${tag}-${n}`) ?? 0;
      if (b === 0) out.missingBuilds += 1;
      if (b > 1) out.extraBuilds += b - 1;
      for (const item of list) {
        const r = results.get(item) ?? 0;
        if (r === 0) out.missingResults += 1;
        if (r > 1) out.extraResults += r - 1;
      }
    });
    return out;
  };
}

/** Waits until `check` holds, looking once a second (the stand-ins share this process). */
function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<unknown> {
  return eventually(what, async () => (await check()) || (await new Promise<false>((r) => setTimeout(() => r(false), 1_000))), timeoutMs);
}

/** The Jenkins stand-in, also noting when it accepted each trigger: a build holds Jenkins from then until queueMs + runMs later. */
class TimedJenkins extends JenkinsStandIn {
  readonly acceptedAt: number[] = [];

  protected override async handle(req: StandInRequest): Promise<Reply> {
    const reply = await super.handle(req);
    if (reply.status === 201 && req.path.endsWith('/buildWithParameters')) this.acceptedAt.push(Date.now());
    return reply;
  }

  /** The most builds queued or running at one moment, for builds that each take `holdMs`. */
  peakInJenkins(holdMs: number): number {
    const edges = this.acceptedAt.flatMap((t) => [[t, 1], [t + holdMs, -1]] as Array<[number, number]>)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0;
    let peak = 0;
    for (const [, d] of edges) { now += d; peak = Math.max(peak, now); }
    return peak;
  }
}

class ClusterFixture extends StreamFixture {
  override readonly jenkins = new TimedJenkins({ user: 'cvp-bot', token: 'jenkins-token' });
}

/** The release driver's API: records each call with its Idempotency-Key (the gate); anything else is unexpected. */
class ReleaseApi {
  readonly calls: Array<{ key: string; body: { artifact?: { id?: string } } }> = [];
  readonly unexpected: string[] = [];
  private readonly server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/api/release' || !req.headers['idempotency-key']) {
        this.unexpected.push(`${req.method} ${req.url}`);
        res.writeHead(404).end();
        return;
      }
      this.calls.push({ key: String(req.headers['idempotency-key']), body: JSON.parse(body) });
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"queued":true}');
    });
  });

  url = '';

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/release`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server.close(r));
  }
}

interface ClusterOptions {
  journalUrl: string;
  consumer: string;
  releaseUrl?: string;
  maxInFlight?: number;
}

/** Three daemons, each with its config, its intake port and its log folder. */
class Cluster {
  readonly daemons: DaemonProcess[] = [];
  private ports: number[] = [];

  constructor(private readonly f: ClusterFixture) {}

  async create(o: ClusterOptions, count = 3): Promise<void> {
    this.ports = await freePorts(count);
    this.ports.forEach((port, i) => {
      const dir = join(this.f.dir, `daemon-${i}`);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'cvp.yaml');
      writeFileSync(file, `
bus:
  brokers: [{ host: 127.0.0.1, port: ${testStompPort()} }]
  consumer: ${o.consumer}
  dead_letter: /queue/${o.consumer}.dead-letter
  heartbeat: 2s
  reconnect_delay: 200ms
  max_reconnect_delay: 1s
  prefetch: 100
intake: { host: 127.0.0.1, port: ${port} }
journal: { url: "${o.journalUrl}", lease: 10s, pool_size: 4, connect_timeout: 2s, statement_timeout: 10s }
${peersYaml({ jenkins: this.f.jenkins.url, resultsdb: this.f.resultsdb.url, slackApi: this.f.slack.apiUrl, channel: '#stream', jenkinsExtra: ['max_polls_per_second: 400', 'lookback: 2000'] })}delivery: { base_delay: 100ms, max_delay: 1s }
${o.releaseUrl ? `ci_messages:
  contact: { name: CVP, team: tower-qe, docs: "https://cvp.example.com/docs", email: tower-qe@example.com }
products:
  - name: ${PRODUCT}
    required: { brew-build: [${TESTCASE}] }
    release: on
    release_action: { http: { url: "${o.releaseUrl}" } }
` : ''}rules:
  - name: stream
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    job: ${JOB}
    parameters:
      GROUP_ID: artifact.id
      TOWER_CONTAINER_IMAGE: artifact.images[0].full_name
    timeout: 10m
    report: { testcase: ${TESTCASE}, per: image, type: brew-build }
${o.releaseUrl ? `    product: ${PRODUCT}\n` : ''}${o.maxInFlight ? `    max_in_flight: ${o.maxInFlight}\n` : ''}`);
      const d = new DaemonProcess(file, dir, this.f.env);
      this.daemons.push(d);
      this.f.daemons.push(d);
    });
  }

  async ready(i: number): Promise<boolean> {
    const r = await fetch(`http://127.0.0.1:${this.ports[i]}/readyz`).catch(() => null);
    return r?.status === 200;
  }

  async allReady(what: string): Promise<void> {
    await eventually(what, async () => {
      for (const d of this.daemons) d.assertAlive();
      return (await Promise.all(this.daemons.map((_, i) => this.ready(i)))).every(Boolean);
    }, 60_000);
  }

  startAll(): void {
    for (const d of this.daemons) d.start();
  }
}

/** Slack as the stand-in saw it: per event, its thread roots and the replies, each reply in its own event's thread. */
function slackByEvent(f: StreamFixture, tag: string, events: number): { roots: number[]; replies: number[]; astray: number; duplicates: number } {
  const eventOf = (text: string | undefined) => {
    const m = new RegExp(`\\b${tag}-(\\d+)\\b`).exec(text ?? '');
    return m ? Number(m[1]) : -1;
  };
  const roots = new Array<number>(events).fill(0);
  const replies = new Array<number>(events).fill(0);
  const rootEvent = new Map<string, number>();
  for (const m of f.slack.messages) {
    if (!m.thread_ts) { const n = eventOf(m.text); if (n >= 0) { roots[n] += 1; rootEvent.set(m.ts, n); } }
  }
  let astray = 0;
  const seen = new Set<string>();
  let duplicates = 0;
  for (const m of f.slack.messages) {
    const key = `${m.thread_ts ?? m.ts}|${m.text}`;
    if (m.thread_ts) {
      const n = eventOf(m.text);
      if (rootEvent.get(m.thread_ts) !== n) astray += 1;
      else replies[n] += 1;
      if (seen.has(key)) duplicates += 1;
      seen.add(key);
    }
  }
  return { roots, replies, astray, duplicates };
}

describe('three daemons on one PostgreSQL journal, on the real broker', () => {
  let f: ClusterFixture;
  let release: ReleaseApi;
  let db: string | undefined;
  const pg = testPostgres();

  beforeEach(async () => {
    f = new ClusterFixture();
    await f.start();
    release = new ReleaseApi();
    await release.start();
  });
  afterEach(async () => {
    await f.stop();
    await release.stop();
    if (db) await pg.dropDatabase(db);
    db = undefined;
  });

  it('shares 2,000 events while any of them is SIGKILLed at random: nothing lost, nothing twice, every reply in its thread, one decision per artifact', async () => {
    const EVENTS = 2000;
    const tag = `c${randomUUID().slice(0, 6)}`;
    const seed = Number(process.env.CVP_TEST_SEED ?? Date.now() % 100000);
    const random = seeded(seed);
    db = await pg.createDatabase('cluster');
    const cluster = new Cluster(f);
    await cluster.create({ journalUrl: pg.url(db), consumer: `Consumer.cvp-cluster.${tag}`, releaseUrl: release.url });
    cluster.startAll();
    await cluster.allReady('the three daemons to subscribe');
    const mistakes = mistakeCounter(f, tag, EVENTS);
    const publishing = publishStream(testStompPort(), tag, 0, EVENTS);
    const kills = [0, 0, 0];
    const started = Date.now();
    while (kills.reduce((a, b) => a + b, 0) < 12) {
      await new Promise((r) => setTimeout(r, 300 + random() * 2500));
      if (mistakes().missingResults === 0) break;
      const i = Math.floor(random() * 3);
      await cluster.daemons[i].kill();
      kills[i] += 1;
      cluster.daemons[i].start();
    }
    await publishing;
    await waitUntil('every event to have its results', () => mistakes().missingResults === 0, 300_000);
    await waitUntil('every artifact released', () => new Set(release.calls.map((c) => c.key)).size === EVENTS, 120_000);
    await waitUntil('every thread to have its replies', () => slackByEvent(f, tag, EVENTS).replies.every((n) => n >= 2), 120_000);
    const seconds = (Date.now() - started) / 1000;
    const stops = await Promise.all(cluster.daemons.map((d) => d.terminate()));
    const slack = slackByEvent(f, tag, EVENTS);
    // Notices whose delivery began more than once (a daemon died during one), from the journal itself.
    const query = <T,>(sql: string) => new Promise<T[]>((resolve, reject) => {
      const c = new Client({ connectionString: pg.url(db!) });
      c.connect().then(() => c.query(sql))
        .then((r) => { resolve(r.rows as T[]); return c.end(); }, (err) => { reject(err); return c.end(); });
    });
    const retried = await query<{ attempts: number; n: number }>(`SELECT attempts, COUNT(*)::int AS n FROM effects WHERE peer = 'slack' AND attempts > 1 GROUP BY attempts ORDER BY attempts`);
    // A release call in flight when its daemon was killed is made again (the hook has no lookup; the
    // receiver deduplicates by Idempotency-Key): only those, whose delivery the journal says began twice.
    const releaseAttempts = new Map((await query<{ order_key: string; attempts: number }>(`SELECT order_key, attempts FROM effects WHERE peer = 'release' AND attempts > 1`))
      .map((r) => [r.order_key.replace(/^release\|/, ''), r.attempts]));
    const extraRoots = slack.roots.reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    console.log(`Slack: ${extraRoots} thread roots posted more than once; notices whose delivery began more than once: ${JSON.stringify(retried)}`);
    const perKey = new Map<string, number>();
    for (const c of release.calls) perKey.set(c.key, (perKey.get(c.key) ?? 0) + 1);
    console.log(`cluster crash test (seed ${seed}): ${EVENTS} events, SIGKILLs ${kills.join('/')}, ${f.jenkins.triggerCount(JOB)} triggers, `
      + `${f.resultsdb.results.length} results, ${f.slack.messages.length} Slack messages, ${release.calls.length} release calls, ${seconds.toFixed(1)} s`);
    expect(kills.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
    expect(mistakes()).toEqual(CLEAN);
    expect(f.jenkins.triggerCount(JOB)).toBe(EVENTS);
    expect({ rootsNotOne: slack.roots.filter((n) => n !== 1).length, astray: slack.astray, duplicates: slack.duplicates, repliesNotTwo: slack.replies.filter((n) => n !== 2).length })
      .toEqual({ rootsNotOne: 0, astray: 0, duplicates: 0, repliesNotTwo: 0 });
    // One decision per artifact, and one release effect for it, in the journal itself.
    const decisions = await query<{ n: number; gates: number; most: number }>(
      `SELECT COUNT(*)::int AS n, COUNT(DISTINCT gate_key)::int AS gates, COALESCE(MAX(c), 0)::int AS most FROM (SELECT gate_key, COUNT(*) OVER (PARTITION BY gate_key) AS c FROM decisions) d`);
    const releaseEffects = await query<{ n: number; keys: number }>(`SELECT COUNT(*)::int AS n, COUNT(DISTINCT order_key)::int AS keys FROM effects WHERE peer = 'release'`);
    expect(decisions[0]).toEqual({ n: EVENTS, gates: EVENTS, most: 1 });
    expect(releaseEffects[0]).toEqual({ n: EVENTS, keys: EVENTS });
    const repeated = [...perKey].filter(([, n]) => n !== 1);
    console.log(`release: ${repeated.length} artifacts' calls made again after a daemon died during them, ${releaseAttempts.size} release deliveries began more than once`);
    expect(repeated.filter(([key, n]) => n > (releaseAttempts.get(key) ?? 1))).toEqual([]);
    expect(new Set(release.calls.map((c) => `${c.key} ${c.body.artifact?.id}`)).size).toBe(EVENTS);
    expect(release.unexpected).toEqual([]);
    expect(stops.map((s) => s.code)).toEqual([0, 0, 0]);
  }, 600_000);

  it('keeps a rule to 3 builds in flight across the three daemons while a backlog of 500 events drains', async () => {
    const EVENTS = 500;
    const RUN_MS = 100;
    const tag = `m${randomUUID().slice(0, 6)}`;
    f.jenkins.defineJob(JOB, { parameters: ['GROUP_ID', 'TOWER_CONTAINER_IMAGE', 'CVP_RUN_ID'], result: 'SUCCESS', runMs: RUN_MS });
    db = await pg.createDatabase('inflight');
    const cluster = new Cluster(f);
    await cluster.create({ journalUrl: pg.url(db), consumer: `Consumer.cvp-inflight.${tag}`, maxInFlight: 3 });
    cluster.startAll();
    await cluster.allReady('the three daemons to subscribe');
    const mistakes = mistakeCounter(f, tag, EVENTS);
    await publishStream(testStompPort(), tag, 0, EVENTS);
    await waitUntil('every event to have its results', () => mistakes().missingResults === 0, 300_000);
    const stops = await Promise.all(cluster.daemons.map((d) => d.terminate()));
    expect(mistakes()).toEqual(CLEAN);
    expect(f.jenkins.triggerCount(JOB)).toBe(EVENTS);
    const peak = f.jenkins.peakInJenkins(RUN_MS);
    console.log(`in-flight test: ${EVENTS} events, at most ${peak} builds in Jenkins at once`);
    expect(peak).toBeLessThanOrEqual(3);
    // The limit was reached, not merely respected by a trickle.
    expect(peak).toBe(3);
    expect(stops.map((s) => s.code)).toEqual([0, 0, 0]);
  }, 400_000);
});

describe('PostgreSQL away for 30 s under a stream', () => {
  let f: ClusterFixture;
  let own: PgServer;
  beforeEach(async () => { f = new ClusterFixture(); await f.start(); own = await startPostgres(); });
  afterEach(async () => { await f.stop(); await own.stop(); });

  it('makes every daemon not ready while it is away, loses nothing, and all resume by themselves', async () => {
    const tag = `p${randomUUID().slice(0, 6)}`;
    const db = await own.createDatabase('away');
    const cluster = new Cluster(f);
    const mistakes = mistakeCounter(f, tag, 400);
    await cluster.create({ journalUrl: own.url(db), consumer: `Consumer.cvp-pgaway.${tag}` });
    cluster.startAll();
    await cluster.allReady('the three daemons to subscribe');
    await publishStream(testStompPort(), tag, 0, 200);
    await eventually('some builds before the outage', () => f.jenkins.triggerCount(JOB) >= 20, 60_000);
    await own.stopProcess();
    const down = Date.now();
    // Under a stream: events keep coming while the database is away.
    const during = publishStream(testStompPort(), tag, 200, 300);
    await eventually('every daemon to report not ready', async () => {
      for (const d of cluster.daemons) d.assertAlive();
      return (await Promise.all(cluster.daemons.map((_, i) => cluster.ready(i)))).every((r) => !r);
    }, 20_000);
    const notReadyAfterMs = Date.now() - down;
    await during;
    // Still not ready, and still running, until the database is back.
    while (Date.now() - down < 30_000) {
      for (const d of cluster.daemons) d.assertAlive();
      expect((await Promise.all(cluster.daemons.map((_, i) => cluster.ready(i)))).some(Boolean)).toBe(false);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await own.startProcess();
    await cluster.allReady('every daemon ready again by itself');
    const backAfterMs = Date.now() - down;
    await publishStream(testStompPort(), tag, 300, 400);
    await waitUntil('every event to have its results', () => mistakes().missingResults === 0, 180_000);
    console.log(`PostgreSQL away: all not ready ${notReadyAfterMs} ms after the stop, all ready again ${backAfterMs - 30_000} ms after the start`);
    const stops = await Promise.all(cluster.daemons.map((d) => d.terminate()));
    expect(mistakes()).toEqual(CLEAN);
    expect(f.jenkins.triggerCount(JOB)).toBe(400);
    expect(stops.map((s) => s.code)).toEqual([0, 0, 0]);
  }, 400_000);
});
