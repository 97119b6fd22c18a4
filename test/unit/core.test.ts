import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { permanentError, transientError } from '../../src/errors';
import { coreHarness, GROUP_TOPIC, groupEvent, towerRule, type Harness } from '../support/core-harness';

describe('the core path, driven through a fake bus', () => {
  let h: Harness;
  beforeEach(() => { h = coreHarness(); });
  afterEach(() => h.journal.close());

  it('turns a group event into one build, QUEUED then PASSED per image, and a threaded pair of notices', async () => {
    const d = h.bus.delivery(GROUP_TOPIC, groupEvent());
    const outcome = await h.intake.processEvent(d);
    expect(outcome.status).toBe('accepted');
    expect(h.bus.acked).toEqual([d.envelope.id]);
    await h.settle();
    expect(h.executor.builds).toHaveLength(1);
    const build = h.executor.builds[0];
    expect(build.job).toBe('Pipelines/openshift-integration-pipeline');
    expect(build.parameters).toEqual({
      TESTEXPR: 'yolo or ansible_integration',
      TOWER_CONTAINER_IMAGE: 'registry.example.com/ansible-tower/ansible-tower:3.5.4-2',
      MEMCACHED_CONTAINER_IMAGE: 'registry.example.com/ansible-tower/ansible-tower-memcached:1.5.16-4',
      WEB_CONTAINER_IMAGE: '',
      CVP_RUN_ID: build.runId,
    });
    expect(h.results.results.map((r) => r.outcome)).toEqual(['QUEUED', 'QUEUED', 'QUEUED', 'QUEUED']);
    h.executor.finish(build.runId, 'SUCCESS');
    h.clock.advance(10_000);
    await h.settle();
    const finals = h.results.results.slice(4);
    const groupId = groupEvent().artifact.id;
    expect(finals.map((r) => [r.outcome, r.data.item, r.data.type])).toEqual([
      ['PASSED', 'ansible-tower-container-3.5.4-2', 'brew-build'],
      ['PASSED', 'ansible-tower-memcached-container-1.5.16-4', 'brew-build'],
      ['PASSED', 'ansible-tower-messaging-container-3.7.21-6', 'brew-build'],
      ['PASSED', groupId, 'redhat-container-group'],
    ]);
    expect(finals[0]).toMatchObject({
      // The test case's ref_url is its documentation (test.docs), never a build: the result's own ref_url is the build.
      testcase: { name: 'ansible-tower-35.default.integration' },
      ref_url: 'http://jenkins/job/Pipelines/openshift-integration-pipeline/1/',
      data: { type: 'brew-build', cvp_run_id: build.runId, errata_id: '47960' },
    });
    expect(finals[0].testcase.ref_url).toBeUndefined();
    expect(finals[0].data.group_id).toBe(groupEvent().artifact.id);
    expect(h.notifier.notices).toHaveLength(2);
    expect(h.notifier.notices[0].threadTs).toBeUndefined();
    expect(h.notifier.notices[1].threadTs).toBe('1700000000.000001');
    expect(h.notifier.notices[1].text).toContain('PASSED');
    expect(h.notifier.notices[1].text).toContain('https://errata.example.com/advisory/47960');
  });

  it('maps each build result to its outcome', async () => {
    const cases: Array<[string, string]> = [['SUCCESS', 'PASSED'], ['UNSTABLE', 'NEEDS_INSPECTION'], ['FAILURE', 'FAILED'], ['ABORTED', 'ERROR'], ['NOT_BUILT', 'ERROR']];
    for (const [result, outcome] of cases) {
      await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { e.artifact.id = `group-${result}`; })));
      await h.settle();
      h.executor.finish(h.executor.builds[h.executor.builds.length - 1].runId, result);
      h.clock.advance(10_000);
      await h.settle();
      expect(h.results.results[h.results.results.length - 1].outcome).toBe(outcome);
    }
  });

  it('dead-letters an invalid message with every reason in its headers, acks it, and goes on', async () => {
    const bad = h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { delete e.artifact.images; e.artifact.errata_id = 'soon'; }));
    const outcome = await h.intake.processEvent(bad);
    expect(outcome).toMatchObject({ status: 'rejected', code: 'MESSAGE_INVALID' });
    await h.settle();
    expect(h.bus.acked).toContain(bad.envelope.id);
    expect(h.bus.published).toHaveLength(1);
    const dl = h.bus.published[0];
    expect(dl.destination).toBe('/queue/cvp.dead-letter');
    expect(dl.headers['cvp-original-message-id']).toBe(bad.envelope.id);
    const reasons = Object.entries(dl.headers).filter(([k]) => k.startsWith('cvp-reason-') && k !== 'cvp-reason-count').map(([, v]) => v);
    expect(reasons).toEqual(expect.arrayContaining(['$.artifact.images: required, but missing', expect.stringContaining('$.artifact.errata_id: expected')]));
    expect(h.executor.builds).toHaveLength(0);
    const good = await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent()));
    expect(good.status).toBe('accepted');
  });

  it('judges junk without throwing: not JSON, too deep, too large, an unknown version', async () => {
    const deep = '{"a":'.repeat(30) + '1' + '}'.repeat(30);
    const big = JSON.stringify({ pad: 'x'.repeat(70 * 1024) });
    const cases: Array<[string, string]> = [['{not json', 'MESSAGE_NOT_JSON'], [deep, 'MESSAGE_TOO_DEEP'], [big, 'MESSAGE_TOO_LARGE'],
      [JSON.stringify(groupEvent((e) => { e.version = '7.0.0'; })), 'UNKNOWN_VERSION']];
    for (const [body, code] of cases) {
      expect(await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, body))).toMatchObject({ status: 'rejected', code });
    }
  });

  it('starts nothing twice: not for a redelivered message, nor for the same event under a new id', async () => {
    const body = groupEvent();
    const first = h.bus.delivery(GROUP_TOPIC, body, 'ID:one');
    expect((await h.intake.processEvent(first)).status).toBe('accepted');
    expect((await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, body, 'ID:one'))).status).toBe('duplicate');
    expect(await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, body, 'ID:two'))).toMatchObject({ status: 'accepted', runIds: [], duplicateRuns: 1 });
    await h.settle();
    expect(h.executor.builds).toHaveLength(1);
    expect(h.bus.acked).toEqual(['ID:one', 'ID:one', 'ID:two']);
  });

  it('ignores an event the rule checks do not match, and says so', async () => {
    const outcome = await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { e.artifact.images[0].issuer = 'someone'; })));
    expect(outcome.status).toBe('unmatched');
    await h.settle();
    expect(h.executor.builds).toHaveLength(0);
  });

  it('retries a trigger that failed for a while, looking the run up first, and triggers it once', async () => {
    h.executor.failTrigger.push(transientError('PEER_UNAVAILABLE', 'Jenkins answered 503'));
    await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent()));
    await h.settle();
    expect(h.executor.builds).toHaveLength(0);
    h.clock.advance(60_000);
    await h.settle();
    expect(h.executor.locates).toBe(1);
    expect(h.executor.builds).toHaveLength(1);
  });

  it('ends a run whose job does not exist with ERROR and the reason', async () => {
    h.executor.failTrigger.push(permanentError('JOB_NOT_FOUND', 'Jenkins has no job Pipelines/openshift-integration-pipeline (404)'));
    await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent()));
    await h.settle();
    expect(h.results.results.map((r) => r.outcome)).toEqual(['ERROR', 'ERROR', 'ERROR', 'ERROR']);
    expect(h.results.results[0].note).toContain('404');
    expect(h.results.results[0].data.error_reason).toContain('404');
  });

  it('turns a build that never finishes into ERROR after its timeout, with a notice saying so', async () => {
    await h.journal.close();
    h = coreHarness({ timeoutMs: 60_000 });
    await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent()));
    await h.settle();
    h.clock.advance(61_000);
    await h.settle();
    expect(h.executor.builds[0].cancelled).toBe(true);
    expect(h.results.results.slice(4).map((r) => r.outcome)).toEqual(['ERROR', 'ERROR', 'ERROR', 'ERROR']);
    expect(h.notifier.notices[1].text).toContain('did not finish within 60 s');
  });

  it('keeps retrying an effect while its peer is down, then delivers it once', async () => {
    h.bus.failPublish = 3;
    await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, '{'));
    for (let i = 0; i < 5; i++) { await h.settle(); h.clock.advance(60_000); }
    expect(h.bus.published).toHaveLength(1);
  });
});

describe('a trigger and the claim it is made under', () => {
  it('is given a deadline a quarter of the lease before the claim ends, when another daemon may take the run over', async () => {
    const h = coreHarness();
    const claimedAt = h.clock.now();
    await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent()));
    await h.settle();
    expect(h.executor.builds).toHaveLength(1);
    // The core's default lease is 120 s: the request must be on its way by 90 s.
    expect(h.executor.deadlines).toEqual([claimedAt + 90_000]);
    await h.journal.close();
  });
});

describe('recovery from the journal file', () => {
  it('finds a run left in `triggering` by its run id instead of triggering it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cvp-core-'));
    try {
      const path = join(dir, 'journal.db');
      const a = coreHarness({ journalPath: path });
      await a.intake.processEvent(a.bus.delivery(GROUP_TOPIC, groupEvent()));
      // As if the process died right after Jenkins took the build, before the queue item was recorded.
      const [run] = await a.journal.claimRuns({ owner: 'host/1/dead', now: a.clock.now(), leaseMs: 60_000, phase: 'dispatch', executor: 'jenkins', limit: 10 });
      expect(run.claimedFrom).toBe('pending');
      await a.executor.trigger(run.job, {}, run.id);
      await a.journal.close();

      const b = coreHarness({ journalPath: path });
      b.executor.builds = a.executor.builds;
      b.clock.advance(60_001);
      await b.settle();
      expect(b.executor.locates).toBe(1);
      expect(b.executor.builds).toHaveLength(1);
      expect(await b.journal.runState(run.id)).toBe('running');
      await b.journal.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the gate, driven through a fake bus', () => {
  const product = { name: 'Ansible Tower', required: { 'brew-build': ['ansible-tower-35.default.integration'] }, release: 'shadow' as const };

  it('decides once every required case is final for the images under test, and not for an image that was not rebuilt', async () => {
    const h = coreHarness({ rules: [{ ...towerRule, product: product.name, report: { ...towerRule.report, rebuilt: "issuer == 'freshmaker'" } }], products: [product] });
    try {
      const event = groupEvent((e) => { e.artifact.images[2].issuer = 'rhel-build-service'; });
      await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, event));
      await h.settle();
      expect(h.results.results.map((r) => [r.outcome, r.data.item])).toEqual([
        ['QUEUED', 'ansible-tower-container-3.5.4-2'], ['QUEUED', 'ansible-tower-memcached-container-1.5.16-4'], ['QUEUED', event.artifact.id],
      ]);
      expect(await h.journal.decisions(undefined, 10)).toEqual([]);
      h.executor.finish(h.executor.builds[0].runId, 'SUCCESS');
      h.clock.advance(10_000);
      await h.settle();
      const finals = h.results.results.slice(3);
      expect(finals.map((r) => [r.outcome, r.data.item])).toEqual([
        ['PASSED', 'ansible-tower-container-3.5.4-2'], ['PASSED', 'ansible-tower-memcached-container-1.5.16-4'], ['PASSED', event.artifact.id],
      ]);
      // The group's result names the image that was not rebuilt; that image gets no result of its own.
      expect(finals[2].data.not_rebuilt).toEqual(['ansible-tower-messaging-container-3.7.21-6']);
      const decisions = await h.journal.decisions(undefined, 10);
      expect(decisions.map((d) => [d.decision, d.mode, d.action])).toEqual([['pass', 'shadow', 'would_release']]);
      expect(h.notifier.notices.map((n) => n.text)).toEqual([expect.stringContaining('Rebuilt'), expect.stringContaining('PASSED'), expect.stringContaining('Gate PASSED')]);
      expect(h.notifier.notices.slice(1).every((n) => n.threadTs === '1700000000.000001')).toBe(true);
    } finally {
      await h.journal.close();
    }
  });
});

describe('cluster-wide rules, driven through a fake bus', () => {
  it('lets a newer event for the same artifact supersede an older run that has not finished: cancelled, said so, no verdict written', async () => {
    const h = coreHarness({ rules: [{ ...towerRule, supersede: true }] });
    try {
      await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { e.artifact.id = 'older'; })));
      await h.settle();
      expect(h.executor.builds).toHaveLength(1);
      const older = h.executor.builds[0];
      await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { e.artifact.id = 'newer'; })));
      h.clock.advance(10_000);
      await h.settle();
      expect(h.executor.builds).toHaveLength(2);
      expect(older.cancelled).toBe(true);
      const olderRun = await h.journal.run(older.runId);
      expect(olderRun).toMatchObject({ state: 'finished', outcome: null, buildResult: 'SUPERSEDED' });
      expect(olderRun!.supersededBy).toBe(h.executor.builds[1].runId);
      // QUEUED for both runs' items, and no final result for the superseded one.
      expect(h.results.results.filter((r) => r.data.cvp_run_id === older.runId).map((r) => r.outcome)).toEqual(['QUEUED', 'QUEUED', 'QUEUED', 'QUEUED']);
      expect(h.notifier.notices.some((n) => n.text.includes('superseded') && n.threadTs)).toBe(true);
      // A different artifact (component) is not superseded.
      await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { e.artifact.id = 'other'; e.artifact.component = 'Ansible Tower 2'; })));
      await h.settle();
      expect((await h.journal.run(h.executor.builds[1].runId))!.state).not.toBe('finished');
    } finally {
      await h.journal.close();
    }
  });

  it('keeps a rule\'s builds in flight under its limit, the oldest waiting first', async () => {
    const h = coreHarness({ rules: [{ ...towerRule, max_in_flight: 2 }] });
    try {
      for (let i = 0; i < 5; i++) await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { e.artifact.id = `backlog-${i}`; })));
      await h.settle();
      expect(h.executor.builds).toHaveLength(2);
      h.executor.finish(h.executor.builds[0].runId, 'SUCCESS');
      h.clock.advance(10_000);
      await h.settle();
      expect(h.executor.builds).toHaveLength(3);
      for (const b of h.executor.builds) h.executor.finish(b.runId, 'SUCCESS');
      for (let i = 0; i < 4; i++) {
        h.clock.advance(10_000);
        await h.settle();
        for (const b of h.executor.builds) if (!b.result) h.executor.finish(b.runId, 'SUCCESS');
      }
      expect(h.executor.builds).toHaveLength(5);
      // Oldest first: the builds started in the order their events came.
      const order = [];
      for (const b of h.executor.builds) order.push((await h.journal.run(b.runId))!.context.artifactId);
      expect(order).toEqual(['backlog-0', 'backlog-1', 'backlog-2', 'backlog-3', 'backlog-4']);
    } finally {
      await h.journal.close();
    }
  });
});

describe('tester\'s events and lookups, driven through a fake bus', () => {
  it('keeps a simulated event\'s results apart (typed _simulated) and never releases its gate, even with the knob on', async () => {
    const calls: string[] = [];
    const product = { name: 'Ansible Tower', required: { 'brew-build': ['ansible-tower-35.default.integration'] }, release: 'on' as const, releaseAction: { http: { url: 'https://release.example.com/api', method: 'POST' as const } } };
    const h = coreHarness({ rules: [{ ...towerRule, product: product.name }], products: [product], release: { call: async (url) => { calls.push(url); } } });
    try {
      await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { e.cvp_simulated = true; })));
      await h.settle();
      h.executor.finish(h.executor.builds[0].runId, 'SUCCESS');
      h.clock.advance(10_000);
      await h.settle();
      expect(new Set(h.results.results.map((r) => r.data.type))).toEqual(new Set(['brew-build_simulated', 'redhat-container-group_simulated']));
      expect(h.results.results.every((r) => r.data.cvp_simulated === 'true')).toBe(true);
      const decisions = await h.journal.decisions(undefined, 10);
      expect(decisions.map((d) => [d.decision, d.action])).toEqual([['pass', 'would_release']]);
      expect(calls).toEqual([]);
    } finally {
      await h.journal.close();
    }
  });

  it('computes parameters from a lookup before the trigger, retrying a transient failure, and ends the run as ERROR when it keeps failing', async () => {
    const answers: Array<unknown> = [transientError('PEER_UNAVAILABLE', 'errata answered 503'), { product_version: 'RHEL-8-TOWER-3.5' }];
    const asked: string[] = [];
    const lookup = {
      get: async (url: string) => {
        asked.push(url);
        const a = answers.shift() ?? permanentError('PEER_REJECTED', 'errata answered 404');
        if (a instanceof Error) throw a;
        return a;
      },
    };
    const rule = { ...towerRule, lookups: [{ name: 'errata', url: 'https://errata.example.com/api/v1/erratum/{artifact.errata_id}', parameters: { PRODUCT_VERSION: 'product_version' }, attempts: 2 }] };
    const h = coreHarness({ rules: [rule], lookup });
    try {
      await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent()));
      await h.settle();
      expect(h.executor.builds).toHaveLength(0);
      h.clock.advance(60_000);
      await h.settle();
      expect(asked).toEqual(['https://errata.example.com/api/v1/erratum/47960', 'https://errata.example.com/api/v1/erratum/47960']);
      expect(h.executor.builds[0].parameters.PRODUCT_VERSION).toBe('RHEL-8-TOWER-3.5');
      // A second event whose lookup keeps failing ends as ERROR with the reason.
      await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { e.artifact.id = 'another'; })));
      await h.settle();
      h.clock.advance(60_000);
      await h.settle();
      expect(h.executor.builds).toHaveLength(1);
      const errors = h.results.results.filter((r) => r.outcome === 'ERROR');
      expect(errors.length).toBeGreaterThan(0);
      expect(String(errors[0].data.error_reason)).toMatch(/404/);
    } finally {
      await h.journal.close();
    }
  });
});
