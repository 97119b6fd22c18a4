/**
 * The journal port's conformance suite: every implementation (SQLite in-process, SQLite on its
 * worker thread, two SQLite instances sharing a file, PostgreSQL) runs these same cases. Two
 * instances (`a` and `b`) may be one journal twice or two connections to one store: claims must
 * never overlap, and a claim's owner alone can settle it.
 */
import { randomUUID } from 'node:crypto';
import type { Gate, GateSubject, IntakeRecord, NewEffect, NewResult, Run, RunPlan } from '../../src/listener/domain';
import type { Journal, RunClaim } from '../../src/listener/ports/journal';
import type { JournalQueries } from '../../src/listener/ports/journal-queries';

export type AnyJournal = Journal & JournalQueries;

export interface JournalPair {
  a: AnyJournal;
  b: AnyJournal;
  close(): Promise<void>;
}

const T0 = 1_800_000_000_000;
const LEASE = 30_000;
const EXECUTOR = 'jenkins';

function plan(rule: string, over: Partial<RunPlan> = {}): RunPlan {
  return {
    id: randomUUID(), rule, executor: EXECUTOR, job: 'Folder/job', parameters: { P: 'v' }, testcase: 'ns.default.integration',
    items: [{ item: `nvr-${randomUUID().slice(0, 8)}`, type: 'brew-build', data: { component: 'c' } }],
    context: { topic: 't', artifactType: 'redhat-container-image', artifactId: `a-${randomUUID().slice(0, 8)}`, images: [], messageId: '' },
    timeoutMs: 60_000, ...over,
  };
}

function record(runs: RunPlan[], over: Partial<IntakeRecord> = {}, id = `ID:${randomUUID()}`, body: string = randomUUID()): IntakeRecord {
  for (const r of runs) r.context.messageId = id;
  return {
    envelope: { id, topic: 'VirtualTopic.eng.ci.redhat-container-image.test.queued', headers: { 'message-id': id }, body, source: 'bus' },
    contentHash: `hash-${body}`,
    verdict: runs.length ? { kind: 'routed', runs } : { kind: 'unmatched' },
    effects: [], results: [], touch: [], gates: [], receivedAt: T0, ...over,
  };
}

function notice(thread: string, role: 'open' | 'reply', text: string, runId: string | null = null): NewEffect {
  const n = { text, blocks: [], channel: '#c', key: randomUUID() };
  return {
    peer: 'slack', runId, orderKey: `thread|${thread}|#c`,
    payload: role === 'open' ? { kind: 'notice', role, thread, notice: n, reply: { ...n, text: `${text} (reply)` } } : { kind: 'notice', role, thread, notice: n },
  };
}

function publish(orderKey: string, body: string, runId: string | null = null): NewEffect {
  return { peer: 'bus', runId, orderKey, payload: { kind: 'publish', destination: '/queue/x', body, headers: {} } };
}

const dispatch = (owner: string, now = T0, over: Partial<RunClaim> = {}): RunClaim =>
  ({ owner, now, leaseMs: LEASE, phase: 'dispatch', executor: EXECUTOR, limit: 100, ...over });

function subject(key: string, items: Array<{ item: string; type: string }>, messageId: string): GateSubject {
  return {
    key, product: 'P', artifactType: 'redhat-container-group', artifactId: key, messageId, items,
    context: { topic: 't', artifactType: 'redhat-container-group', artifactId: key, images: [], messageId },
  };
}

function result(item: string, outcome: string, over: Partial<NewResult> = {}): NewResult {
  return { item, type: 'brew-build', testcase: 'ns.default.integration', scenario: null, outcome, refUrl: null, messageId: null, ...over };
}

async function pendingRuns(j: AnyJournal, n: number, rule = 'r'): Promise<RunPlan[]> {
  const plans: RunPlan[] = [];
  for (let i = 0; i < n; i++) {
    const p = plan(rule);
    plans.push(p);
    await j.commitIntake([record([p])]);
  }
  return plans;
}

export function describeJournalConformance(name: string, open: () => Promise<JournalPair>): void {
  describe(`journal conformance: ${name}`, () => {
    let pair: JournalPair;
    let a: AnyJournal;
    let b: AnyJournal;
    beforeEach(async () => { pair = await open(); a = pair.a; b = pair.b; });
    afterEach(async () => { await pair.close(); });

    describe('intake', () => {
      it('records a message once: the same message id from two daemons at once is one record', async () => {
        const p1 = plan('r');
        const p2 = { ...p1, id: randomUUID() };
        const [[x], [y]] = await Promise.all([a.commitIntake([record([p1], {}, 'ID:same', 'body')]), b.commitIntake([record([p2], {}, 'ID:same', 'body')])]);
        expect([x.status, y.status].sort()).toEqual(['duplicate', 'recorded']);
        const s = await a.eventStatus('ID:same');
        expect(s!.runs).toHaveLength(1);
      });

      it('starts nothing twice for the same event under a new message id, and keeps a batch\'s records apart', async () => {
        const p = plan('r');
        const [first, second, other] = await a.commitIntake([
          record([p], {}, 'ID:1', 'same body'), record([{ ...p, id: randomUUID() }], {}, 'ID:2', 'same body'), record([plan('r')], {}, 'ID:3', 'other'),
        ]);
        expect(first).toEqual({ status: 'recorded', runIds: [p.id], duplicateRuns: 0 });
        expect(second).toEqual({ status: 'recorded', runIds: [], duplicateRuns: 1 });
        expect(other.runIds).toHaveLength(1);
        expect(await a.runState(p.id)).toBe('pending');
        expect(await a.runState('no-such-run')).toBeNull();
      });

      it('keeps a rejected message with its reasons, and finds it among the rejected', async () => {
        await a.commitIntake([record([], { verdict: { kind: 'rejected', code: 'MESSAGE_INVALID', reasons: ['$.a: required'] } }, 'ID:bad')]);
        const rejected = await b.rejectedMessages(0, 10);
        expect(rejected.map((m) => [m.messageId, m.status, m.reasons])).toEqual([['ID:bad', 'rejected', ['$.a: required']]]);
      });
    });

    describe('runs', () => {
      it('claims pending runs oldest first, marks them triggering, and never hands one run to two owners', async () => {
        const plans = await pendingRuns(a, 12);
        const [x, y] = await Promise.all([a.claimRuns(dispatch('A', T0, { limit: 8 })), b.claimRuns(dispatch('B', T0, { limit: 8 }))]);
        const ids = [...x, ...y].map((r) => r.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.sort()).toEqual(plans.map((p) => p.id).sort());
        expect([...x, ...y].every((r) => r.state === 'triggering' && r.claimedFrom === 'pending')).toBe(true);
        const single = await a.claimRuns(dispatch('A', T0));
        expect(single).toEqual([]);
      });

      it('hands the oldest first', async () => {
        const plans = await pendingRuns(a, 5);
        const got = await a.claimRuns(dispatch('A', T0, { limit: 2 }));
        expect(got.map((r) => r.id)).toEqual(plans.slice(0, 2).map((p) => p.id));
      });

      it('lets a claim be taken over only once its lease has ended, and then the late owner can no longer settle it', async () => {
        const [p] = await pendingRuns(a, 1);
        const [claimed] = await a.claimRuns(dispatch('A'));
        expect(claimed.id).toBe(p.id);
        expect(await b.claimRuns(dispatch('B', T0 + LEASE - 1))).toEqual([]);
        const [taken] = await b.claimRuns(dispatch('B', T0 + LEASE + 1));
        expect(taken.id).toBe(p.id);
        expect(taken.claimedFrom).toBe('triggering');
        const late = await a.settleRuns('A', [{ runId: p.id, expect: 'triggering', patch: { state: 'queued', nextPollAt: T0 }, effects: [], results: [], touch: [] }], T0 + LEASE + 2);
        expect(late).toEqual([false]);
        const mine = await b.settleRuns('B', [{ runId: p.id, expect: 'triggering', patch: { state: 'queued', nextPollAt: T0, buildRef: { queueId: '7' } }, effects: [], results: [], touch: [] }], T0 + LEASE + 2);
        expect(mine).toEqual([true]);
        const s = await a.eventStatus(p.context.messageId);
        expect(s!.runs[0]).toMatchObject({ state: 'queued', buildRef: { queueId: '7' } });
      });

      it('applies a transition only in the state it expects, and records its effects and results with it', async () => {
        const [p] = await pendingRuns(a, 1);
        await a.claimRuns(dispatch('A'));
        const wrong = await a.settleRuns('A', [{ runId: p.id, expect: 'queued', patch: { state: 'running' }, effects: [publish('k', 'x')], results: [], touch: [] }], T0);
        expect(wrong).toEqual([false]);
        const right = await a.settleRuns('A', [{
          runId: p.id, expect: 'triggering', patch: { state: 'running', nextPollAt: T0 + 10, triggeredAt: T0, startedAt: T0 },
          effects: [publish('k', 'y', p.id)], results: [result(p.items[0].item, 'QUEUED')], touch: [],
        }], T0);
        expect(right).toEqual([true]);
        const s = await a.eventStatus(p.context.messageId);
        expect(s!.effects.map((e) => e.payload.kind === 'publish' && e.payload.body)).toEqual(['y']);
        expect(s!.runs[0]).toMatchObject({ state: 'running', triggeredAt: T0, startedAt: T0, nextPollAt: T0 + 10 });
      });

      it('retries a triggering run when its time comes, as `triggering`', async () => {
        const [p] = await pendingRuns(a, 1);
        await a.claimRuns(dispatch('A'));
        await a.settleRuns('A', [{ runId: p.id, expect: 'triggering', patch: { attempts: 1, nextPollAt: T0 + 5_000 }, effects: [], results: [], touch: [] }], T0);
        expect(await a.claimRuns(dispatch('A', T0 + 4_999))).toEqual([]);
        expect(await a.nextRunDue('dispatch', EXECUTOR, T0)).toBe(T0 + 5_000);
        const [again] = await b.claimRuns(dispatch('B', T0 + 5_000));
        expect(again).toMatchObject({ id: p.id, claimedFrom: 'triggering', attempts: 1 });
      });

      it('claims builds to poll by due time, within a budget both daemons share', async () => {
        const plans = await pendingRuns(a, 6);
        await a.claimRuns(dispatch('A'));
        await a.settleRuns('A', plans.map((p, i) => ({ runId: p.id, expect: 'triggering' as const, patch: { state: 'running' as const, nextPollAt: T0 + 100 - i }, effects: [], results: [], touch: [] })), T0);
        const budget = { key: 'poll:jenkins', policy: { ratePerSecond: 2, burst: 3 } };
        const track = (owner: string, now: number) => ({ owner, now, leaseMs: LEASE, phase: 'track' as const, executor: EXECUTOR, limit: 100, budget });
        const [x, y] = await Promise.all([a.claimRuns(track('A', T0 + 100)), b.claimRuns(track('B', T0 + 100))]);
        expect(x.length + y.length).toBe(3);
        expect([...x, ...y].map((r) => r.nextPollAt).sort()).toEqual([T0 + 95, T0 + 96, T0 + 97]);
        expect(await a.claimRuns(track('A', T0 + 100))).toEqual([]);
        // Due again when a burst's worth of tokens is back, not at each token: one pass claims many.
        expect(await a.nextRunDue('track', EXECUTOR, T0 + 100, budget)).toBe(T0 + 1_600);
        expect(await b.claimRuns(track('B', T0 + 600))).toHaveLength(1);
        expect(await b.claimRuns(track('B', T0 + 1_600))).toHaveLength(2);
      });

      it('keeps a rule\'s builds in flight under its limit, across daemons, oldest waiting first', async () => {
        const limited = await pendingRuns(a, 5, 'limited');
        const free = await pendingRuns(a, 2, 'free');
        const [x, y] = await Promise.all([
          a.claimRuns(dispatch('A', T0, { maxInFlight: { limited: 2 } })), b.claimRuns(dispatch('B', T0, { maxInFlight: { limited: 2 } })),
        ]);
        const got = [...x, ...y];
        expect(got.filter((r) => r.rule === 'limited').map((r) => r.id).sort()).toEqual(limited.slice(0, 2).map((p) => p.id).sort());
        // The limited rule's waiting runs are not due while it is full (no pass spins on them).
        // (What is due next is a claimed run, when its lease ends.)
        expect(await a.nextRunDue('dispatch', EXECUTOR, T0, undefined, { limited: 2 })).toBe(T0 + LEASE);
        expect(got.filter((r) => r.rule === 'free')).toHaveLength(2);
        // One of them ends: the next oldest may go.
        const done = got.find((r) => r.rule === 'limited')!;
        const owner = x.includes(done) ? 'A' : 'B';
        await (owner === 'A' ? a : b).settleRuns(owner, [{ runId: done.id, expect: 'triggering', patch: { state: 'finished', outcome: 'PASSED' }, effects: [], results: [], touch: [] }], T0);
        const next = await a.claimRuns(dispatch('A', T0, { maxInFlight: { limited: 2 } }));
        expect(next.map((r) => r.id)).toEqual([limited[2].id]);
        void free;
      });

      it('keeps a pipeline\'s verdict on its run and makes the run due now', async () => {
        const [p] = await pendingRuns(a, 1);
        await a.claimRuns(dispatch('A'));
        await a.settleRuns('A', [{ runId: p.id, expect: 'triggering', patch: { state: 'running', nextPollAt: T0 + 60_000 }, effects: [], results: [], touch: [] }], T0);
        await b.commitIntake([record([], { verdict: { kind: 'result' }, report: { runId: p.id, report: { outcome: 'FAILED', url: 'http://x', reason: null } } })]);
        const [run] = await b.claimRuns({ owner: 'B', now: T0 + 1, leaseMs: LEASE, phase: 'track', executor: EXECUTOR, limit: 10 });
        expect(run).toMatchObject({ id: p.id, reported: { outcome: 'FAILED', url: 'http://x', reason: null } });
      });

      it('marks an older unfinished run of the same rule and artifact as superseded by a newer one', async () => {
        const older = plan('r', { supersedeKey: 'image|c' });
        const newer = plan('r', { supersedeKey: 'image|c' });
        const unrelated = plan('r', { supersedeKey: 'image|d' });
        await a.commitIntake([record([older]), record([unrelated])]);
        await b.commitIntake([record([newer])]);
        const runs = await a.claimRuns(dispatch('A'));
        const by = Object.fromEntries(runs.map((r) => [r.id, r.supersededBy]));
        expect(by).toEqual({ [older.id]: newer.id, [unrelated.id]: null, [newer.id]: null });
      });

      it('gives back what a crashed owner held when asked, and lists the owners holding claims', async () => {
        await pendingRuns(a, 2);
        await a.claimRuns(dispatch('host/1/dead'));
        expect(await b.claimOwners()).toEqual(['host/1/dead']);
        expect(await b.releaseClaims(['host/1/dead'])).toBe(2);
        expect(await b.claimRuns(dispatch('B'))).toHaveLength(2);
        expect(await b.claimOwners()).toEqual(['B']);
      });
    });

    describe('effects', () => {
      it('delivers one order key\'s effects in order, each to one owner, counting attempts', async () => {
        await a.commitIntake([record([], { effects: [publish('k1', '1'), publish('k1', '2'), publish('k2', '3')] })]);
        const lease = (owner: string, now = T0) => ({ owner, now, leaseMs: LEASE });
        const [x, y] = await Promise.all([a.claimEffects('bus', lease('A'), 10), b.claimEffects('bus', lease('B'), 10)]);
        const claimed = [...x, ...y];
        expect(claimed.map((e) => e.payload.kind === 'publish' && e.payload.body).sort()).toEqual(['1', '3']);
        expect(claimed.every((e) => e.attempts === 1 && !e.interrupted)).toBe(true);
        const first = claimed.find((e) => e.payload.kind === 'publish' && e.payload.body === '1')!;
        const owner = x.includes(first) ? 'A' : 'B';
        await (owner === 'A' ? b : a).settleEffects(owner === 'A' ? 'B' : 'A', [{ id: first.id, state: 'done' }], T0);
        expect(await a.claimEffects('bus', lease('A'), 10)).toEqual([]);
        await (owner === 'A' ? a : b).settleEffects(owner, [{ id: first.id, state: 'done' }], T0);
        const [second] = await a.claimEffects('bus', lease('A'), 10);
        expect(second.payload).toMatchObject({ body: '2' });
      });

      it('says an effect was interrupted when its last claim ended without a word, and backs off a retry', async () => {
        await a.commitIntake([record([], { effects: [publish('k', 'x')] })]);
        const [e] = await a.claimEffects('bus', { owner: 'A', now: T0, leaseMs: LEASE }, 10);
        // Held by A: due for the others when its lease ends.
        expect(await b.nextEffectDue('bus', T0 + 1)).toBe(T0 + LEASE);
        expect(await b.claimEffects('bus', { owner: 'B', now: T0 + LEASE - 1, leaseMs: LEASE }, 10)).toEqual([]);
        const [again] = await b.claimEffects('bus', { owner: 'B', now: T0 + LEASE + 1, leaseMs: LEASE }, 10);
        expect(again).toMatchObject({ id: e.id, attempts: 2, interrupted: true });
        await b.settleEffects('B', [{ id: e.id, state: 'retry', nextAt: T0 + 90_000, error: 'PEER_UNAVAILABLE: down' }], T0 + LEASE + 2);
        expect(await b.nextEffectDue('bus', T0 + LEASE + 3)).toBe(T0 + 90_000);
        const [third] = await a.claimEffects('bus', { owner: 'A', now: T0 + 90_000, leaseMs: LEASE }, 10);
        expect(third).toMatchObject({ attempts: 3, interrupted: false, lastError: 'PEER_UNAVAILABLE: down' });
        await a.settleEffects('A', [{ id: e.id, state: 'failed', error: 'PEER_REJECTED: no' }], T0 + 90_001);
        expect(await a.claimEffects('bus', { owner: 'A', now: T0 + 200_000, leaseMs: LEASE }, 10)).toEqual([]);
      });

      it('makes the first opening notice of a thread its opener, and records the thread\'s ts when it is posted', async () => {
        const thread = `ID:${randomUUID()}`;
        await a.commitIntake([record([], { effects: [notice(thread, 'open', 'first'), notice(thread, 'open', 'second'), notice(thread, 'reply', 'third')] })]);
        const [first] = await a.claimEffects('slack', { owner: 'A', now: T0, leaseMs: LEASE }, 10);
        expect(await b.thread(thread, '#c')).toEqual({ opener: first.id, ts: null });
        await a.settleEffects('A', [{ id: first.id, state: 'done', thread: { thread, channel: '#c', ts: '1700000000.000100' } }], T0);
        expect(await b.thread(thread, '#c')).toEqual({ opener: first.id, ts: '1700000000.000100' });
        expect(await a.thread('other', '#c')).toBeNull();
      });
      it('delivers first the opening notice that became the thread\'s opener, when both record one at once', async () => {
        for (let round = 0; round < 5; round++) {
          const thread = `ID:${randomUUID()}`;
          await Promise.all([
            a.commitIntake([record([], { effects: [notice(thread, 'open', 'from a')] })]),
            b.commitIntake([record([], { effects: [notice(thread, 'open', 'from b')] })]),
          ]);
          const state = await a.thread(thread, '#c');
          // Earlier rounds' notices are claimed or wait behind their claimed opener: only this round's first is due.
          const due = await b.claimEffects('slack', { owner: 'B', now: T0, leaseMs: LEASE }, 10);
          expect(due.map((e) => e.id)).toEqual([state!.opener]);
        }
      });
    });

    describe('gates', () => {
      it('hands a touched gate to one owner with every result of its items, and records its decision once', async () => {
        const m = `ID:${randomUUID()}`;
        const items = [{ item: 'i1', type: 'brew-build' }, { item: 'i2', type: 'brew-build' }];
        await a.commitIntake([record([], { gates: [subject('g1', items, m)], results: [result('i1', 'PASSED'), result('other', 'FAILED')] }, m)]);
        await a.commitIntake([record([], { results: [result('i2', 'FAILED', { scenario: 'x86_64' })], touch: [{ item: 'i2', type: 'brew-build' }] })]);
        const [x, y] = await Promise.all([a.claimGates({ owner: 'A', now: T0, leaseMs: LEASE }, 10), b.claimGates({ owner: 'B', now: T0, leaseMs: LEASE }, 10)]);
        const claims = [...x, ...y];
        expect(claims).toHaveLength(1);
        const c = claims[0];
        expect(c.gate).toMatchObject({ key: 'g1', product: 'P', decision: null, released: false, items });
        expect(c.results.map((r) => [r.item, r.outcome, r.scenario])).toEqual([['i1', 'PASSED', null], ['i2', 'FAILED', 'x86_64']]);
        expect(c.results[0].seq).toBeLessThan(c.results[1].seq);
        const owner = x.length ? 'A' : 'B';
        const j = owner === 'A' ? a : b;
        const applied = await j.settleGates(owner, [{
          key: 'g1', version: c.version, released: true, effects: [publish('release|g1', 'released')],
          decision: { gateKey: 'g1', decision: 'fail', mode: 'on', action: 'none', reasons: [], createdAt: T0 },
        }], T0);
        expect(applied).toEqual([true]);
        expect(await a.claimGates({ owner: 'A', now: T0 + LEASE * 2, leaseMs: LEASE }, 10)).toEqual([]);
        const decisions = await b.decisions('P', 10);
        expect(decisions.map((d) => [d.gateKey, d.decision])).toEqual([['g1', 'fail']]);
        expect((await b.decisions('Q', 10))).toEqual([]);
      });

      it('evaluates a gate again when a result arrives during its evaluation', async () => {
        const m = `ID:${randomUUID()}`;
        await a.commitIntake([record([], { gates: [subject('g2', [{ item: 'i3', type: 'brew-build' }], m)] }, m)]);
        const [c] = await a.claimGates({ owner: 'A', now: T0, leaseMs: LEASE }, 10);
        await b.commitIntake([record([], { results: [result('i3', 'PASSED')], touch: [{ item: 'i3', type: 'brew-build' }] })]);
        await a.settleGates('A', [{ key: 'g2', version: c.version, effects: [] }], T0);
        const [again] = await b.claimGates({ owner: 'B', now: T0, leaseMs: LEASE }, 10);
        expect(again.gate.key).toBe('g2');
        expect(again.version).toBeGreaterThan(c.version);
        expect(again.results.map((r) => r.outcome)).toEqual(['PASSED']);
        const gate: Gate = again.gate;
        expect(gate.decision).toBeNull();
      });
    });

    describe('people\'s actions and the watchdog\'s alarms', () => {
      it('records an action once, with the waiver it gives, and hands the waiver to the gate\'s next evaluation', async () => {
        const m = `ID:${randomUUID()}`;
        await a.commitIntake([record([], { gates: [subject('gw', [{ item: 'iw', type: 'brew-build' }], m)], results: [result('iw', 'FAILED')] }, m)]);
        const [c] = await a.claimGates({ owner: 'A', now: T0, leaseMs: LEASE }, 10);
        expect(c.waivers).toEqual([]);
        await a.settleGates('A', [{ key: 'gw', version: c.version, effects: [] }], T0);
        const waiver = { id: 'w1', product: 'P', item: 'iw', type: 'brew-build', testcase: 'ns.default.integration', scenario: null, reason: 'known flake', who: 'cli:ada', createdAt: T0, revokedAt: null, revokedBy: null };
        const action = { id: 'act-1', kind: 'waive' as const, product: 'P', gateKey: 'gw', reason: 'known flake', who: 'cli:ada', via: 'cli' as const, at: T0 };
        const change = { effects: [notice(m, 'reply', 'waived')], results: [], touch: [{ item: 'iw', type: 'brew-build' }] };
        const [x, y] = await Promise.all([a.recordAction({ action, waiver, change }), b.recordAction({ action, waiver, change })]);
        expect([x, y].sort()).toEqual(['duplicate', 'recorded']);
        const [again] = await b.claimGates({ owner: 'B', now: T0, leaseMs: LEASE }, 10);
        expect(again.waivers.map((w) => [w.id, w.reason, w.who])).toEqual([['w1', 'known flake', 'cli:ada']]);
        await b.settleGates('B', [{ key: 'gw', version: again.version, effects: [] }], T0);
        await a.recordAction({ action: { ...action, id: 'act-2', kind: 'revoke', waiverId: 'w1', at: T0 + 1 }, revoke: { waiverId: 'w1', at: T0 + 1, by: 'cli:bob' }, change: { effects: [], results: [], touch: [{ item: 'iw', type: 'brew-build' }] } });
        const [third] = await a.claimGates({ owner: 'A', now: T0, leaseMs: LEASE }, 10);
        expect(third.waivers).toEqual([]);
        expect((await b.waivers('P', true, 10)).map((w) => [w.id, w.revokedBy])).toEqual([['w1', 'cli:bob']]);
        expect((await b.waivers('P', false, 10))).toEqual([]);
        expect((await a.actions('P', 10)).map((x2) => x2.kind)).toEqual(['revoke', 'waive']);
        expect((await a.gate('gw'))?.product).toBe('P');
        expect(await a.gate('none')).toBeNull();
      });

      it('makes a run again for a rerun, claimable like any pending run', async () => {
        const [p] = await pendingRuns(a, 1);
        await a.claimRuns(dispatch('A'));
        await a.settleRuns('A', [{ runId: p.id, expect: 'triggering', patch: { state: 'finished', outcome: 'FAILED' }, effects: [], results: [], touch: [] }], T0);
        const again = { ...p, id: randomUUID(), messageId: p.context.messageId };
        await b.recordAction({ action: { id: 'rerun-1', kind: 'rerun', product: 'P', runId: p.id, who: 'slack:U1', via: 'slack', at: T0 }, rerun: again, change: { effects: [], results: [], touch: [] } });
        expect(await a.runState(again.id)).toBe('pending');
        expect((await a.run(p.id))?.outcome).toBe('FAILED');
        const [claimed] = await a.claimRuns(dispatch('A'));
        expect(claimed.id).toBe(again.id);
        expect((await a.eventStatus(p.context.messageId))!.runs.map((r) => r.id)).toEqual([p.id, again.id]);
      });

      it('raises an alarm once and clears it once, whoever asks', async () => {
        const raise = { key: 'silence:t', raised: true, since: T0, detail: 'no message for 2 h' };
        const change = { effects: [publish('alarm', 'raised')], results: [], touch: [] };
        const [x, y] = await Promise.all([a.setAlarm(raise, change), b.setAlarm(raise, change)]);
        expect([x, y].sort()).toEqual([false, true]);
        expect(await a.alarms()).toEqual([raise]);
        expect(await b.setAlarm({ ...raise, raised: false, since: T0 + 5 }, change)).toBe(true);
        expect(await a.setAlarm({ ...raise, raised: false, since: T0 + 6 }, change)).toBe(false);
        const effects = await a.claimEffects('bus', { owner: 'A', now: T0 + 10, leaseMs: LEASE }, 10);
        expect(effects).toHaveLength(1);
      });

      it('tells when each topic last spoke, and the oldest unfinished run of each rule', async () => {
        await a.commitIntake([record([plan('r1')], { receivedAt: T0 + 10 })]);
        await a.commitIntake([record([plan('r1')], { receivedAt: T0 + 20 })]);
        expect(await b.lastReceived(['VirtualTopic.eng.ci.redhat-container-image.test.queued', 'other'])).toEqual({
          'VirtualTopic.eng.ci.redhat-container-image.test.queued': T0 + 20, other: null,
        });
        const oldest = await b.oldestUnfinished();
        expect(oldest.map((o) => [o.rule, o.createdAt])).toEqual([['r1', T0 + 10]]);
        expect((await b.recentMessages(10)).map((mm) => mm.receivedAt)).toEqual([T0 + 20, T0 + 10]);
      });
    });

    describe('upkeep and queries', () => {
      it('probes with a real write', async () => {
        await expect(a.probe(T0)).resolves.toBeUndefined();
      });

      it('prunes what retention no longer needs, never what is still to do', async () => {
        const [old] = await pendingRuns(a, 1);
        await a.claimRuns(dispatch('A'));
        await a.settleRuns('A', [{ runId: old.id, expect: 'triggering', patch: { state: 'finished', outcome: 'PASSED', finishedAt: T0 }, effects: [], results: [], touch: [] }], T0);
        const [live] = await pendingRuns(a, 1);
        await a.commitIntake([record([], { effects: [publish('k', 'undelivered')] })]);
        const report = await b.prune({ maxAgeMs: 1_000, batch: 100 }, T0 + 10_000);
        expect(report.runs).toBe(1);
        expect(await a.runState(old.id)).toBeNull();
        expect(await a.runState(live.id)).toBe('pending');
        const [e] = await a.claimEffects('bus', { owner: 'A', now: T0 + 10_000, leaseMs: LEASE }, 10);
        expect(e.payload).toMatchObject({ body: 'undelivered' });
      });

      it('tells what became of an event, finds it by item, and counts', async () => {
        const p = plan('r');
        await a.commitIntake([record([p], {}, 'ID:status')]);
        const s = await b.eventStatus('ID:status');
        expect(s!.message).toMatchObject({ messageId: 'ID:status', status: 'routed' });
        expect(s!.runs.map((r: Run) => [r.id, r.state])).toEqual([[p.id, 'pending']]);
        expect(await b.messagesAbout(p.items[0].item, 10)).toEqual(['ID:status']);
        expect(await b.messagesAbout(p.context.artifactId, 10)).toEqual(['ID:status']);
        const stats = await b.stats(T0 + 5_000);
        expect(stats.runsByState.pending).toBe(1);
        expect(stats.oldestUnfinishedRunAgeSeconds).toBe(5);
        expect(stats.backlog).toBe(1);
        expect(await b.eventStatus('ID:none')).toBeNull();
      });
    });
  });
}
