/**
 * Jenkins queues every build but its answers are lost (a proxy's 504) for 20 s, while other users
 * keep the job busy: by the time the daemon looks a run up, more than 100 builds are newer than its
 * own, so its build is past the 100 that `builds` holds. The daemon must find every build (paging
 * back through `allBuilds`) and trigger none twice. Counted from the Jenkins stand-in's own log.
 */
import { randomUUID } from 'node:crypto';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { testStompPort } from '../support/stomp-client';
import { countMistakes, JOB, publishStream, StreamFixture } from '../support/stream-fixture';

const EVENTS = 300;
const WINDOW_MS = 20_000;

describe('lost answers to triggers', () => {
  let f: StreamFixture;
  let others: NodeJS.Timeout | undefined;
  beforeEach(async () => { f = new StreamFixture(); await f.start(); });
  afterEach(async () => {
    clearInterval(others);
    await f.stop();
  });

  it('300 events while Jenkins accepts every trigger but loses its answer for 20 s, with more than 100 newer builds: exactly 300 builds', async () => {
    const tag = `la${randomUUID().slice(0, 6)}`;
    // The first retry of a run (which looks it up) comes 3 s or more after its lost answer.
    const daemon = new DaemonProcess(f.writeConfig(testStompPort(), `Consumer.cvp-lost.${tag}`, { delivery: { base_delay: '3s', max_delay: '6s' } }), f.dir, f.env);
    f.daemons.push(daemon);
    daemon.start();
    await eventually('the daemon to subscribe', () => { daemon.assertAlive(); return f.ready(); }, 30_000);

    // Every trigger's answer is lost for 20 s, and on until all 300 have been triggered (a loaded
    // machine may take longer to take the events in).
    f.jenkins.loseTriggerAnswers(504);
    const windowStart = Date.now();
    // Other users keep the job busy: 150 builds a second, so well over 100 are newer than a run's
    // own build by the time it is looked up.
    let other = 0;
    others = setInterval(() => {
      for (let i = 0; i < 3; i++) f.jenkins.triggerAsAnotherUser(JOB, { GROUP_ID: `someone-else-${other++}` });
    }, 20);
    // The events arrive over the first 10 s of the window, 30 at a time.
    for (let batch = 0; batch < EVENTS / 30; batch++) {
      await publishStream(testStompPort(), tag, batch * 30, batch * 30 + 30);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await eventually('every event to be triggered', () => { daemon.assertAlive(); return f.jenkins.triggerCount(JOB) >= EVENTS; }, 120_000);
    await new Promise((r) => setTimeout(r, Math.max(0, WINDOW_MS - (Date.now() - windowStart))));
    f.jenkins.restoreTriggerAnswers();
    const windowMs = Date.now() - windowStart;
    await eventually('every event to have its results', () => { daemon.assertAlive(); return countMistakes(f, tag, EVENTS).missingResults === 0; }, 120_000);
    clearInterval(others);
    const stop = await daemon.terminate();
    expect(stop.code).toBe(0);

    const mine = f.jenkins.builds(JOB).filter((b) => !b.byAnotherUser);
    const lost = mine.filter((b) => b.answerLost).length;
    // Lookup pages that started past the newest 100 builds (`allBuilds[...]{100,200}` and on).
    const deepest = f.jenkins.requests.filter((r) => /^allBuilds.*\{(\d+),/.exec(r.query.tree ?? '')?.[1] !== '0').length;
    console.log(`lost answers: ${EVENTS} events, answers lost for ${(windowMs / 1000).toFixed(1)} s, ${mine.length} builds by CVP ` +
      `(${lost} with a lost answer), ${other} by others, ${deepest} lookup pages beyond the newest 100 builds, stop ${stop.ms} ms`);
    expect(mine.length).toBe(EVENTS);
    expect(f.jenkins.triggerCount(JOB)).toBe(EVENTS);
    expect(countMistakes(f, tag, EVENTS)).toEqual({ missingBuilds: 0, extraBuilds: 0, missingResults: 0, extraResults: 0 });
    // Every answer was lost: every run was found by a lookup.
    expect(lost).toBe(EVENTS);
    expect(windowMs).toBeGreaterThanOrEqual(WINDOW_MS);
    // Each run's build was past the 100 newest when looked up: every lookup read a page beyond them.
    expect(deepest).toBeGreaterThanOrEqual(EVENTS);
    expect(f.jenkins.unexpected).toEqual([]);
  }, 240_000);
});
