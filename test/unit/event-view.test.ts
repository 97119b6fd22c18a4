/** What `cvp status` and GET /events/:id show of an event: each step, and when it happened. */
import type { Effect, EventStatus, Run } from '../../src/listener/domain';
import { eventTimeline, eventView } from '../../src/listener/views/event-view';

const T0 = Date.parse('2026-12-06T14:00:00.000Z');
const at = (ms: number) => T0 + ms;

function run(over: Partial<Run> = {}): Run {
  return {
    id: 'run-aaaaaaaa-0001', rule: 'tower-group-testing', executor: 'jenkins', job: 'Pipelines/integration', parameters: {},
    testcase: 'ansible-tower-35.default.integration', items: [{ item: 'tower-1-1', type: 'brew-build', data: {} }],
    context: { topic: 't', artifactType: 'redhat-container-group', artifactId: 'g1', images: [], messageId: 'm1' },
    timeoutMs: 60_000, messageId: 'm1', state: 'finished', buildRef: { queueId: 'q1', number: 7, url: 'https://jenkins.example.com/job/x/7/' },
    buildResult: 'SUCCESS', outcome: 'PASSED', errorReason: null, createdAt: at(10), updatedAt: at(900), deadlineAt: null, nextPollAt: null, attempts: 0,
    triggeredAt: null, startedAt: null, finishedAt: null, reported: null, supersededBy: null,
    ...over,
  };
}

function effect(id: number, over: Partial<Effect>): Effect {
  return {
    id, peer: 'resultsdb', runId: 'run-aaaaaaaa-0001', messageId: 'm1', orderKey: 'run|run-aaaaaaaa-0001',
    payload: { kind: 'result', result: { testcase: { name: 'ansible-tower-35.default.integration' }, outcome: 'QUEUED', data: { item: 'tower-1-1' } } },
    state: 'done', attempts: 1, nextAt: 0, lastError: null, interrupted: false, createdAt: at(20), doneAt: at(30), ...over,
  };
}

function status(r: Run, effects: Effect[]): EventStatus {
  return {
    message: { messageId: 'm1', topic: 'VirtualTopic.eng.ci.redhat-container-group.test.queued', status: 'routed', reasons: [], receivedAt: at(0), body: '{}' },
    runs: [r],
    effects,
  };
}

describe('the event view', () => {
  it('gives the time of every step it knows, in ISO 8601, and null for what has not happened', () => {
    const v = eventView(status(run({ triggeredAt: at(15), startedAt: at(100), finishedAt: at(800) }), [
      effect(1, {}),
      effect(2, { peer: 'slack', payload: { kind: 'notice', notice: { text: 'x', blocks: [] }, role: 'reply', thread: 'm1' }, state: 'pending', attempts: 2, lastError: '429', createdAt: at(810), doneAt: null }),
    ]));
    expect(v.receivedAt).toBe('2026-12-06T14:00:00.000Z');
    expect(v.runs[0]).toMatchObject({
      createdAt: '2026-12-06T14:00:00.010Z', triggeredAt: '2026-12-06T14:00:00.015Z',
      startedAt: '2026-12-06T14:00:00.100Z', finishedAt: '2026-12-06T14:00:00.800Z',
    });
    expect(v.runs[0].effects).toEqual([
      { peer: 'resultsdb', what: 'QUEUED tower-1-1', state: 'done', attempts: 1, lastError: null, createdAt: '2026-12-06T14:00:00.020Z', doneAt: '2026-12-06T14:00:00.030Z' },
      { peer: 'slack', what: 'reply', state: 'pending', attempts: 2, lastError: '429', createdAt: '2026-12-06T14:00:00.810Z', doneAt: null },
    ]);
  });

  it('leaves the run times null when the journal does not record them', () => {
    const v = eventView(status(run({ state: 'queued', outcome: null, buildResult: null }), []));
    expect(v.runs[0]).toMatchObject({ triggeredAt: null, startedAt: null, finishedAt: null, createdAt: '2026-12-06T14:00:00.010Z' });
    expect(v.done).toBe(false);
  });
});

describe('the event timeline', () => {
  it('lists each step in the order it happened, then what has not happened yet', () => {
    const lines = eventTimeline(eventView(status(run({ triggeredAt: at(15), startedAt: at(100), finishedAt: at(800) }), [
      effect(2, { payload: { kind: 'result', result: { testcase: { name: 'c' }, outcome: 'PASSED', data: { item: 'tower-1-1' } } }, createdAt: at(800), doneAt: at(850) }),
      effect(1, {}),
      effect(3, { peer: 'slack', payload: { kind: 'notice', notice: { text: 'x', blocks: [] }, role: 'reply', thread: 'm1' }, state: 'pending', attempts: 2, lastError: 'slack answered 429', doneAt: null }),
      effect(4, { peer: 'bus', payload: { kind: 'publish', destination: '/topic/x', body: '{}', headers: {} }, state: 'failed', lastError: 'refused', doneAt: at(860) }),
    ])));
    expect(lines).toEqual([
      'event m1 (VirtualTopic.eng.ci.redhat-container-group.test.queued): passed',
      '  WHEN (UTC)               STEP',
      '  2026-12-06 14:00:00.000  received (routed)',
      '  2026-12-06 14:00:00.010  run run-aaaa planned: Pipelines/integration (rule tower-group-testing) for tower-1-1',
      '  2026-12-06 14:00:00.015  run run-aaaa triggered: https://jenkins.example.com/job/x/7/',
      '  2026-12-06 14:00:00.030  run run-aaaa resultsdb QUEUED tower-1-1 delivered',
      '  2026-12-06 14:00:00.100  run run-aaaa started',
      '  2026-12-06 14:00:00.800  run run-aaaa finished PASSED, build SUCCESS',
      '  2026-12-06 14:00:00.850  run run-aaaa resultsdb PASSED tower-1-1 delivered',
      '  2026-12-06 14:00:00.860  run run-aaaa bus /topic/x FAILED for good: refused',
      '  -                        run run-aaaa slack reply pending (2 attempt(s), last error: slack answered 429)',
    ]);
  });

  it('says a finished run finished even without its time, and an unfinished one where it stands', () => {
    const finished = eventTimeline(eventView(status(run(), [])));
    expect(finished[0]).toMatch(/: passed$/);
    expect(finished.at(-1)).toBe('  -                        run run-aaaa finished PASSED, build SUCCESS (build https://jenkins.example.com/job/x/7/)');
    const running = eventTimeline(eventView(status(run({ state: 'running', outcome: null, buildResult: null, buildRef: null }), [])));
    expect(running[0]).toMatch(/: in progress$/);
    expect(running.at(-1)).toBe('  -                        run run-aaaa running');
  });

  it('gives a rejected event its reasons, and the effects of no run (its dead letter)', () => {
    const deadLetter = effect(9, { runId: null, peer: 'bus', payload: { kind: 'publish', destination: '/queue/dead', body: '{}', headers: {} }, createdAt: at(5), doneAt: at(6) });
    const s = status(run(), [deadLetter]);
    const view = eventView({ ...s, message: { ...s.message, status: 'rejected', reasons: ['$.artifact: required, but missing'] }, runs: [] });
    expect(view.effects).toEqual([expect.objectContaining({ peer: 'bus', what: '/queue/dead', doneAt: '2026-12-06T14:00:00.006Z' })]);
    expect(eventTimeline(view)).toEqual([
      'event m1 (VirtualTopic.eng.ci.redhat-container-group.test.queued): rejected',
      '  $.artifact: required, but missing',
      '  WHEN (UTC)               STEP',
      '  2026-12-06 14:00:00.000  received (rejected)',
      '  2026-12-06 14:00:00.006  bus /queue/dead delivered',
    ]);
  });
});
