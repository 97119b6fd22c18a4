import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgJournal } from '../../src/adapters/store/postgres/pg-journal';
import { SqliteJournal } from '../../src/adapters/store/sqlite/sqlite-journal';
import { migrateJournal, runJournalMigrate } from '../../src/cli/journal-migrate';
import { parseConfig } from '../../src/config/load-config';
import { CvpError } from '../../src/errors';
import type { IntakeRecord, NewEffect, RunPlan } from '../../src/listener/domain';
import { testPostgres } from '../support/postgres';

const T0 = 1_800_000_000_000;
const T_BASE = T0;
const LEASE = 30_000;
const server = testPostgres();

function plan(rule: string): RunPlan {
  const id = randomUUID();
  return {
    id, rule, executor: 'jenkins', job: 'J', parameters: { A: 'b' }, testcase: 'ns.t.c',
    items: [{ item: `nvr-${id.slice(0, 8)}`, type: 'brew-build', data: { nvr: `nvr-${id.slice(0, 8)}` } }],
    context: { topic: 't', artifactType: 'redhat-container-image', artifactId: `a-${id.slice(0, 8)}`, images: [], messageId: '' },
    timeoutMs: 60_000,
  };
}

function record(id: string, runs: RunPlan[], over: Partial<IntakeRecord> = {}, at = T_BASE): IntakeRecord {
  for (const r of runs) r.context.messageId = id;
  return {
    envelope: { id, topic: 't', headers: { 'message-id': id }, body: `{"id":"${id}"}`, source: 'bus' }, contentHash: `h-${id}`,
    verdict: runs.length ? { kind: 'routed', runs } : { kind: 'unmatched' },
    effects: [], results: [], touch: [], gates: [], receivedAt: at, ...over,
  };
}

function notice(thread: string, role: 'open' | 'reply', text: string, runId: string | null): NewEffect {
  const n = { text, blocks: [], channel: '#c', key: randomUUID() };
  return { peer: 'slack', runId, orderKey: `thread|${thread}|#c`, payload: role === 'open' ? { kind: 'notice', role, thread, notice: n, reply: n } : { kind: 'notice', role, thread, notice: n } };
}

/** A journal with something of everything: runs in every state, effects done, failed, pending and in flight, a gate decided. */
async function filledJournal(path: string, t0 = T_BASE): Promise<{ ids: string[]; pendingRun: string; inFlightEffect: number }> {
  const j = new SqliteJournal(path);
  const [p1, p2, p3] = [plan('r'), plan('r'), plan('limited')];
  const items = [{ item: p1.items[0].item, type: 'brew-build' }];
  await j.commitIntake([
    record('ID:1', [p1], { gates: [{ key: 'g1', product: 'P', artifactType: 'redhat-container-image', artifactId: 'a', messageId: 'ID:1', items, context: p1.context }] }, t0),
    record('ID:2', [p2], {}, t0),
    record('ID:3', [p3], {}, t0),
    record('ID:bad', [], { verdict: { kind: 'rejected', code: 'MESSAGE_INVALID', reasons: ['$.x: required'] } }, t0),
  ]);
  const claimed = await j.claimRuns({ owner: 'host/1/a', now: t0, leaseMs: LEASE, phase: 'dispatch', executor: 'jenkins', limit: 2 });
  expect(claimed.map((r) => r.id)).toEqual([p1.id, p2.id]);
  await j.settleRuns('host/1/a', [
    { runId: p1.id, expect: 'triggering', patch: { state: 'finished', outcome: 'PASSED', finishedAt: t0, buildRef: { queueId: '1', number: 4 } },
      effects: [notice('ID:1', 'open', 'started', p1.id), notice('ID:1', 'reply', 'passed', p1.id)],
      results: [{ item: p1.items[0].item, type: 'brew-build', testcase: 'ns.t.c', scenario: null, outcome: 'PASSED', refUrl: 'http://j/4', messageId: 'ID:1' }],
      touch: items },
    { runId: p2.id, expect: 'triggering', patch: { state: 'running', nextPollAt: t0 + 5_000, triggeredAt: t0, startedAt: t0 },
      effects: [{ peer: 'bus', runId: p2.id, orderKey: 'k', payload: { kind: 'publish', destination: '/topic/x', body: 'running', headers: {} } }], results: [], touch: [] },
  ], t0);
  const [opener] = await j.claimEffects('slack', { owner: 'host/1/a', now: t0, leaseMs: LEASE }, 10);
  await j.settleEffects('host/1/a', [{ id: opener.id, state: 'done', thread: { thread: 'ID:1', channel: '#c', ts: '1.000100' } }], t0);
  const [bus] = await j.claimEffects('bus', { owner: 'host/1/a', now: t0, leaseMs: LEASE }, 10);
  // The daemon died while publishing: the effect is in flight, its lease long over by the migration.
  const [gate] = await j.claimGates({ owner: 'host/1/a', now: t0, leaseMs: LEASE }, 10);
  await j.settleGates('host/1/a', [{ key: 'g1', version: gate.version, released: true, effects: [],
    decision: { gateKey: 'g1', decision: 'pass', mode: 'on', action: 'released', reasons: [], createdAt: t0 } }], t0);
  await j.close();
  return { ids: ['ID:1', 'ID:2', 'ID:3', 'ID:bad'], pendingRun: p3.id, inFlightEffect: bus.id };
}

describe('cvp journal migrate: SQLite into PostgreSQL', () => {
  let dir: string;
  let db: string;
  beforeEach(async () => { dir = mkdtempSync(join(tmpdir(), 'cvp-migrate-')); db = await server.createDatabase('migrate'); });
  afterEach(async () => { rmSync(dir, { recursive: true, force: true }); await server.dropDatabase(db); });

  it('copies every record with its state, and the daemons on PostgreSQL go on where SQLite stopped', async () => {
    const path = join(dir, 'cvp.db');
    const { ids, pendingRun, inFlightEffect } = await filledJournal(path);
    const later = T0 + LEASE * 2;
    const { copied } = await migrateJournal(path, { url: server.url(db) }, later);
    expect(copied).toMatchObject({ messages: 4, runs: 3, run_plans: 3, effects: 3, effect_payloads: 3, threads: 1, results: 1, gates: 1, decisions: 1 });

    const sqlite = new SqliteJournal(path);
    const pg = await PgJournal.open({ url: server.url(db) });
    try {
      for (const id of ids) expect(await pg.eventStatus(id)).toEqual(await sqlite.eventStatus(id));
      expect(await pg.decisions(undefined, 10)).toEqual(await sqlite.decisions(undefined, 10));
      expect(await pg.rejectedMessages(0, 10)).toEqual(await sqlite.rejectedMessages(0, 10));
      expect(await pg.thread('ID:1', '#c')).toEqual(await sqlite.thread('ID:1', '#c'));
      expect(await pg.stats(later)).toEqual(await sqlite.stats(later));
      expect(await pg.messagesAbout('ID:2', 5)).toEqual([]);
      // The work goes on: the pending run is dispatched, the interrupted publish is looked up, the reply follows its opener.
      const [run] = await pg.claimRuns({ owner: 'pg/1/a', now: later, leaseMs: LEASE, phase: 'dispatch', executor: 'jenkins', limit: 10 });
      expect(run.id).toBe(pendingRun);
      const [again] = await pg.claimEffects('bus', { owner: 'pg/1/a', now: later, leaseMs: LEASE }, 10);
      expect(again).toMatchObject({ id: inFlightEffect, interrupted: true, attempts: 2 });
      const [reply] = await pg.claimEffects('slack', { owner: 'pg/1/a', now: later, leaseMs: LEASE }, 10);
      expect(reply.payload).toMatchObject({ role: 'reply' });
      // New ids come after the copied ones.
      await pg.commitIntake([record('ID:new', [], { effects: [{ peer: 'bus', runId: null, orderKey: 'n', payload: { kind: 'publish', destination: '/x', body: 'n', headers: {} } }] })]);
      const fresh = (await pg.eventStatus('ID:new'))!.effects[0];
      expect(fresh.id).toBeGreaterThan(inFlightEffect);
      expect(await pg.claimGates({ owner: 'pg/1/a', now: later, leaseMs: LEASE }, 10)).toEqual([]);
    } finally {
      await sqlite.close();
      await pg.close();
    }
  });

  it('refuses to write into a journal that is not empty, and changes nothing there', async () => {
    const path = join(dir, 'cvp.db');
    await filledJournal(path);
    const pg = await PgJournal.open({ url: server.url(db) });
    await pg.commitIntake([record('ID:already-there', [plan('r')])]);
    const err = await migrateJournal(path, { url: server.url(db) }, T0 + LEASE * 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CvpError);
    expect((err as Error).message).toMatch(new RegExp(`the PostgreSQL journal at 127\\.0\\.0\\.1:${server.port}/${db} is not empty \\(rows in messages, run_plans, runs, run_subjects\\)`));
    expect(await pg.eventStatus('ID:1')).toBeNull();
    await pg.close();
  });

  it('refuses a journal a daemon still holds claims in', async () => {
    const path = join(dir, 'cvp.db');
    await filledJournal(path);
    const j = new SqliteJournal(path);
    await j.claimRuns({ owner: 'host/2/live', now: T0 + LEASE, leaseMs: LEASE, phase: 'dispatch', executor: 'jenkins', limit: 10 });
    await j.close();
    await expect(migrateJournal(path, { url: server.url(db) }, T0 + LEASE + 1_000)).rejects.toThrow(/is in use: host\/2\/live still holds claims; stop every daemon using it first/);
  });

  it('runs as a command from the config: journal.url names the target, --from the file', async () => {
    const path = join(dir, 'old.db');
    // The command runs now: the journal's last claims ended a while ago.
    await filledJournal(path, Date.now() - 10 * LEASE);
    const cfg = join(dir, 'cvp.yaml');
    const text = `journal: { url: "postgres://postgres:\${PGPW}@127.0.0.1:${server.port}/${db}" }
rules:
  - { name: r, topic: VirtualTopic.eng.ci.redhat-container-group.test.queued, executor: command, job: j, report: { testcase: a.b.c } }
command: { jobs: { j: { run: ./j.sh } } }
`;
    writeFileSync(cfg, text);
    const loaded = parseConfig(text, cfg, { PGPW: 'not-shown' }, () => true);
    const out: string[] = [];
    const err: string[] = [];
    expect(await runJournalMigrate(loaded, { from: path }, { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(0);
    expect(err).toEqual([]);
    expect(out).toEqual([`copied ${path} into the PostgreSQL journal at 127.0.0.1:${server.port}/${db}: 4 messages, 3 run_plans, 3 runs, 6 run_subjects, 3 effects, 3 effect_payloads, 1 threads, 1 results, 1 gates, 1 gate_items, 1 decisions, 0 buckets, 0 actions, 0 waivers, 0 alarms`]);
    expect(out.join('\n')).not.toContain('not-shown');
  });
});
