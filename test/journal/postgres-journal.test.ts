/**
 * What only a shared PostgreSQL journal must show: many clients claiming at once, migrations,
 * wake-ups between daemons, and clear errors while the database is away.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { PgJournal } from '../../src/adapters/store/postgres/pg-journal';
import { migrate } from '../../src/adapters/store/postgres/pg-migrations';
import { MIGRATIONS } from '../../src/adapters/store/postgres/pg-schema';
import { CvpError } from '../../src/errors';
import type { IntakeRecord, NewEffect, RunPlan } from '../../src/listener/domain';
import { eventually } from '../support/eventually';
import { startPostgres, testPostgres, type PgServer } from '../support/postgres';

const T0 = 1_800_000_000_000;
const LEASE = 60_000;
const server = testPostgres();

function plan(rule: string): RunPlan {
  const id = randomUUID();
  return {
    id, rule, executor: 'jenkins', job: 'J', parameters: {}, testcase: 'ns.t.c',
    items: [{ item: `nvr-${id}`, type: 'brew-build', data: {} }],
    context: { topic: 't', artifactType: 'redhat-container-image', artifactId: `a-${id}`, images: [], messageId: '' },
    timeoutMs: 60_000,
  };
}

function record(runs: RunPlan[], effects: NewEffect[] = [], id = `ID:${randomUUID()}`): IntakeRecord {
  const body = randomUUID();
  return {
    envelope: { id, topic: 't', headers: {}, body, source: 'bus' }, contentHash: `h-${body}`,
    verdict: runs.length ? { kind: 'routed', runs } : { kind: 'unmatched' },
    effects, results: [], touch: [], gates: [], receivedAt: T0,
  };
}

function publish(orderKey: string, body: string): NewEffect {
  return { peer: 'bus', runId: null, orderKey, payload: { kind: 'publish', destination: '/queue/x', body, headers: {} } };
}

function openNotice(thread: string, text: string): NewEffect {
  const n = { text, blocks: [], channel: '#c', key: randomUUID() };
  return { peer: 'slack', runId: null, orderKey: `thread|${thread}|#c`, payload: { kind: 'notice', role: 'open', thread, notice: n, reply: n } };
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('PostgreSQL journal: five daemons (five pools) at once', () => {
  let db: string;
  let url: string;
  let journals: PgJournal[];

  beforeEach(async () => {
    db = await server.createDatabase('many');
    url = server.url(db);
    journals = [];
    for (let i = 0; i < 5; i++) journals.push(await PgJournal.open({ url, poolSize: 3 }));
  });
  afterEach(async () => {
    await Promise.all(journals.map((j) => j.close()));
    await server.dropDatabase(db);
  });

  it('records a message id that all five see at once exactly once', async () => {
    const commits = await Promise.all(journals.map(() => journals[0].commitIntake([record([plan('r')], [], 'ID:everyone')])));
    const all = await Promise.all(journals.map((j, i) => j.commitIntake([record([plan('r')], [], i % 2 ? 'ID:everyone' : 'ID:again')])));
    expect(commits.flat().filter((c) => c.status === 'recorded')).toHaveLength(1);
    expect(all.flat().filter((c) => c.status === 'recorded')).toHaveLength(1);
    expect((await journals[3].eventStatus('ID:everyone'))!.runs).toHaveLength(1);
  });

  it('hands each run to one owner and keeps a rule under its in-flight limit, however the claims interleave', async () => {
    const limited = Array.from({ length: 40 }, () => plan('limited'));
    const free = Array.from({ length: 120 }, () => plan('free'));
    await journals[0].commitIntake([...limited, ...free].map((p) => record([p])));
    const claimedBy = new Map<string, string[]>();
    let peak = 0;
    let sampling = true;
    // The database's own count of the rule's builds in flight, sampled while the daemons work.
    const sampler = withClient(url, async (c) => {
      while (sampling) {
        const { rows } = await c.query(`SELECT COUNT(*)::int AS n FROM runs WHERE rule = 'limited' AND state IN ('triggering', 'queued', 'running')`);
        peak = Math.max(peak, rows[0].n);
      }
    });
    const daemon = async (j: PgJournal, owner: string) => {
      for (let idle = 0; idle < 5;) {
        const runs = await j.claimRuns({ owner, now: T0, leaseMs: LEASE, phase: 'dispatch', executor: 'jenkins', limit: 4, maxInFlight: { limited: 3 } });
        if (!runs.length) { idle += 1; await new Promise((r) => setTimeout(r, 20)); continue; }
        idle = 0;
        for (const r of runs) claimedBy.set(r.id, [...(claimedBy.get(r.id) ?? []), owner]);
        // A build runs, then ends; the limited rule's slot is free again only once it has ended.
        const started = await j.settleRuns(owner, runs.map((r) => ({ runId: r.id, expect: 'triggering' as const, patch: { state: 'running' as const, nextPollAt: T0 + LEASE * 10 }, effects: [], results: [], touch: [] })), T0);
        expect(started.every(Boolean)).toBe(true);
        const mine = await j.claimRuns({ owner, now: T0 + LEASE * 10, leaseMs: LEASE, phase: 'track', executor: 'jenkins', limit: 100 });
        await j.settleRuns(owner, mine.map((r) => ({ runId: r.id, expect: 'running' as const, patch: { state: 'finished' as const, outcome: 'PASSED', finishedAt: T0 }, effects: [], results: [], touch: [] })), T0);
      }
    };
    await Promise.all(journals.map((j, i) => daemon(j, `host/${i}/x`)));
    sampling = false;
    await sampler;
    expect([...claimedBy.values()].filter((owners) => owners.length > 1)).toEqual([]);
    expect(claimedBy.size).toBe(160);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(0);
    const stats = await journals[1].stats(T0);
    expect(stats.runsByState).toEqual({ finished: 160 });
  });

  it('hands out no more polls than the shared bucket holds, across all five', async () => {
    const plans = Array.from({ length: 100 }, () => plan('r'));
    await journals[0].commitIntake(plans.map((p) => record([p])));
    await journals[0].claimRuns({ owner: 'setup', now: T0, leaseMs: LEASE, phase: 'dispatch', executor: 'jenkins', limit: 100 });
    await journals[0].settleRuns('setup', plans.map((p) => ({ runId: p.id, expect: 'triggering' as const, patch: { state: 'running' as const, nextPollAt: T0 }, effects: [], results: [], touch: [] })), T0);
    const budget = { key: 'poll:jenkins', policy: { ratePerSecond: 20, burst: 5 } };
    const claimed: string[] = [];
    // Each of the five asks every 100 ms of (simulated) time for 1.9 s: 5 + 20 × 1.9 = 43 tokens in all.
    await Promise.all(journals.map(async (j, i) => {
      for (let k = 0; k < 20; k++) {
        const runs = await j.claimRuns({ owner: `o${i}`, now: T0 + k * 100, leaseMs: LEASE, phase: 'track', executor: 'jenkins', limit: 10, budget });
        claimed.push(...runs.map((r) => r.id));
      }
    }));
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.length).toBeLessThanOrEqual(43);
    expect(claimed.length).toBeGreaterThanOrEqual(30);
  });

  it('delivers each effect once, every order key in order, with five claiming', async () => {
    const keys = Array.from({ length: 20 }, (_, k) => `key-${k}`);
    await journals[0].commitIntake(Array.from({ length: 10 }, (_, n) => record([], keys.map((k) => publish(k, `${k}#${n}`)))));
    const delivered = new Map<string, number[]>();
    await Promise.all(journals.map(async (j, i) => {
      for (let idle = 0; idle < 5;) {
        const due = await j.claimEffects('bus', { owner: `o${i}`, now: T0, leaseMs: LEASE }, 7);
        if (!due.length) { idle += 1; await new Promise((r) => setTimeout(r, 20)); continue; }
        idle = 0;
        for (const e of due) delivered.set(e.orderKey, [...(delivered.get(e.orderKey) ?? []), Number((e.payload as { body: string }).body.split('#')[1])]);
        await j.settleEffects(`o${i}`, due.map((e) => ({ id: e.id, state: 'done' as const })), T0);
      }
    }));
    for (const k of keys) expect(delivered.get(k)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('makes the first committed opening notice of a thread its opener, even when five commit at once', async () => {
    for (let round = 0; round < 10; round++) {
      const thread = `ID:${randomUUID()}`;
      await Promise.all(journals.map((j, i) => j.commitIntake([record([], [openNotice(thread, `from ${i}`)])])));
      const opener = (await journals[0].thread(thread, '#c'))!.opener;
      // The opener must be delivered first: it has the lowest id of the thread's notices.
      const ids = await withClient(url, async (c) => (await c.query(`SELECT id FROM effects WHERE order_key = $1 ORDER BY id`, [`thread|${thread}|#c`])).rows.map((r) => Number(r.id)));
      expect(ids).toHaveLength(5);
      expect(opener).toBe(ids[0]);
    }
  });

  it('tells the other daemons when work they may claim was committed', async () => {
    const heard: string[] = [];
    journals[1].onChange((what) => heard.push(what));
    // LISTEN is set up on its own connection: wait until it is there.
    await eventually('the effects announced', async () => {
      await journals[0].commitIntake([record([], [publish('k', 'x')])]);
      return heard.includes('effects');
    }, 10_000);
    await journals[0].commitIntake([record([plan('r')])]);
    await eventually('the runs announced', () => heard.includes('runs'), 10_000);
  });
});

describe('PostgreSQL journal: sessions ended by the server', () => {
  let db: string;
  let url: string;
  beforeEach(async () => { db = await server.createDatabase('killed'); url = server.url(db); });
  afterEach(async () => { await server.dropDatabase(db); });

  it('fails only the transactions whose session ended, with JOURNAL_UNAVAILABLE, and goes on (the process does not crash)', async () => {
    const j = await PgJournal.open({ url, poolSize: 4 });
    const outcomes = { ok: 0, unavailable: 0, other: [] as string[] };
    let storming = true;
    // Ends every session of the journal, again and again, wherever it is: between two statements of a transaction too.
    const storm = withClient(url, async (c) => {
      while (storming) {
        await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cvp' AND pid <> pg_backend_pid()`);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    });
    const worker = async () => {
      for (let i = 0; i < 60; i++) {
        try {
          await j.commitIntake([record([plan('r')], [publish(`k${i % 3}`, 'x')])]);
          await j.claimEffects('bus', { owner: 'o', now: T0, leaseMs: LEASE }, 5);
          outcomes.ok += 1;
        } catch (err) {
          if (err instanceof CvpError && err.code === 'JOURNAL_UNAVAILABLE') outcomes.unavailable += 1;
          else outcomes.other.push(String(err));
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    storming = false;
    await storm;
    expect(outcomes.other).toEqual([]);
    expect(outcomes.unavailable).toBeGreaterThan(0);
    const [after] = await j.commitIntake([record([plan('r')])]);
    expect(after.status).toBe('recorded');
    await j.close();
  });

  it('says when every connection of the pool stayed busy, rather than that the database is unreachable', async () => {
    const j = await PgJournal.open({ url, poolSize: 1, connectTimeoutMs: 500 });
    // Another session holds the rule's lock: a claim for that rule waits, holding the pool's one connection.
    await withClient(url, async (c) => {
      await c.query(`SELECT pg_advisory_lock(hashtextextended('cvp:rule:limited', 0))`);
      const waiting = j.claimRuns({ owner: 'o', now: T0, leaseMs: LEASE, phase: 'dispatch', executor: 'jenkins', limit: 1, maxInFlight: { limited: 1 } });
      await new Promise((r) => setTimeout(r, 100));
      const err = await j.probe(T0).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
      expect((err as Error).message).toBe(`PostgreSQL journal at 127.0.0.1:${server.port}/${db}: all 1 connections of this daemon's pool stayed busy `
        + 'for longer than journal.connect_timeout (the database is slow to commit, or journal.pool_size is too small)');
      await c.query(`SELECT pg_advisory_unlock(hashtextextended('cvp:rule:limited', 0))`);
      expect(await waiting).toEqual([]);
    });
    await expect(j.probe(T0)).resolves.toBeUndefined();
    await j.close();
  });
});

describe('PostgreSQL journal: migrations', () => {
  let db: string;
  let url: string;
  beforeEach(async () => { db = await server.createDatabase('migrate'); url = server.url(db); });
  afterEach(async () => { await server.dropDatabase(db); });

  it('applies the migrations a database lacks, in order, once', async () => {
    const extra = [...MIGRATIONS, { version: 2, description: 'a column', sql: 'ALTER TABLE runs ADD COLUMN note TEXT' },
      { version: 3, description: 'its index', sql: 'CREATE INDEX runs_note ON runs (note)' }];
    const found = await withClient(url, async (c) => [await migrate(c, 'here', T0, MIGRATIONS), await migrate(c, 'here', T0, extra), await migrate(c, 'here', T0, extra)]);
    expect(found).toEqual([0, 1, 3]);
    const rows = await withClient(url, async (c) => (await c.query('SELECT version, description FROM cvp_schema ORDER BY version')).rows);
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3]);
  });

  it('refuses a database a newer CVP wrote, and says so', async () => {
    const j = await PgJournal.open({ url });
    await j.close();
    await withClient(url, (c) => c.query(`INSERT INTO cvp_schema (version, description, applied_at) VALUES (99, 'from the future', 0)`));
    const err = await PgJournal.open({ url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CvpError);
    expect((err as CvpError).permanent).toBe(true);
    expect((err as CvpError).message).toMatch(new RegExp(`journal at 127\\.0\\.0\\.1:${server.port}/${db} has schema version 99, this CVP knows versions up to 1`));
  });

  it('migrates once when several daemons start together', async () => {
    const many = await Promise.all(Array.from({ length: 4 }, () => PgJournal.open({ url, poolSize: 1 })));
    await Promise.all(many.map((j) => j.close()));
    const rows = await withClient(url, async (c) => (await c.query('SELECT version FROM cvp_schema')).rows);
    expect(rows).toEqual([{ version: 1 }]);
  });
});

describe('PostgreSQL journal: the database away', () => {
  let own: PgServer;
  let db: string;
  beforeAll(async () => { own = await startPostgres(); db = await own.createDatabase('away'); });
  afterAll(async () => { await own?.stop(); });

  it('fails with JOURNAL_UNAVAILABLE naming where and why (never the password), and works again once it is back', async () => {
    const url = own.url(db).replace('postgres@', 'postgres:s3cret-pw@');
    const j = await PgJournal.open({ url, connectTimeoutMs: 2_000 });
    const heard: string[] = [];
    j.onChange((what) => heard.push(what));
    try {
      await j.commitIntake([record([plan('r')])]);
      await own.stopProcess();
      const err = await j.commitIntake([record([plan('r')])]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CvpError);
      expect((err as CvpError).code).toBe('JOURNAL_UNAVAILABLE');
      expect((err as CvpError).permanent).toBe(false);
      expect((err as CvpError).message).toContain(`PostgreSQL journal at 127.0.0.1:${own.port}/${db}`);
      expect((err as CvpError).message).toMatch(/ECONNREFUSED|terminat|shut/i);
      expect((err as CvpError).message).not.toContain('s3cret-pw');
      await expect(j.probe(T0)).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
      await own.startProcess();
      await eventually('a commit working again', async () => { await j.probe(T0); return true; }, 20_000);
      const [c] = await j.commitIntake([record([plan('r')])]);
      expect(c.status).toBe('recorded');
      // The LISTEN connection came back by itself and announces work again.
      heard.length = 0;
      await eventually('the effects announced after the restart', async () => {
        await j.commitIntake([record([], [publish('k', 'x')])]);
        return heard.includes('effects');
      }, 20_000);
    } finally {
      if (!own.running) await own.startProcess();
      await j.close();
    }
  });

  it('refuses to open when nothing answers, naming where', async () => {
    await own.stopProcess();
    try {
      const err = await PgJournal.open({ url: own.url(db), connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'JOURNAL_UNAVAILABLE', permanent: false });
      expect((err as Error).message).toMatch(new RegExp(`PostgreSQL journal at 127\\.0\\.0\\.1:${own.port}/${db} is unreachable \\(ECONNREFUSED`));
    } finally {
      await own.startProcess();
    }
  });
});
