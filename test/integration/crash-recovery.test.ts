import { randomUUID } from 'node:crypto';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { testStompPort } from '../support/stomp-client';
import { countMistakes, JOB, publishStream, StreamFixture } from '../support/stream-fixture';

/** A small seeded generator, so a failing run can be repeated (the seed is in the test output). */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

describe('nothing lost, nothing twice', () => {
  let f: StreamFixture;
  beforeEach(async () => { f = new StreamFixture(); await f.start(); });
  afterEach(async () => { await f.stop(); });

  it('survives SIGKILL at random points during a stream of 2,000 events, some while Slack and ResultsDB hold their answers: one build, one final result and one thread of two notices each', async () => {
    const EVENTS = 2000;
    const tag = `k${randomUUID().slice(0, 6)}`;
    const seed = Number(process.env.CVP_TEST_SEED ?? Date.now() % 100000);
    const random = seeded(seed);
    const daemon = new DaemonProcess(f.writeConfig(testStompPort(), `Consumer.cvp-crash.${tag}`), f.dir, f.env);
    f.daemons.push(daemon);
    daemon.start();
    await eventually('the daemon to subscribe', () => { daemon.assertAlive(); return f.ready(); }, 30_000);
    const publishing = publishStream(testStompPort(), tag, 0, EVENTS);
    let kills = 0;
    const started = Date.now();
    let heldKills = 0;
    // Kill at random moments while work remains, restarting each time; every other time, while
    // Slack and ResultsDB have carried out requests whose answers they still hold back.
    while (kills < 12) {
      await new Promise((r) => setTimeout(r, 300 + random() * 2500));
      const done = countMistakes(f, tag, EVENTS);
      if (done.missingResults === 0) break;
      if (random() < 0.5) {
        f.slack.losePostAnswers({ as: 'hold', holdMs: 3_000 });
        f.resultsdb.loseResultAnswers({ as: 'hold', holdMs: 3_000 });
        await new Promise((r) => setTimeout(r, 500 + random() * 1000));
        if (f.slack.lostAnswers + f.resultsdb.lostAnswers > 0) heldKills += 1;
      }
      await daemon.kill();
      f.slack.restorePostAnswers();
      f.resultsdb.restoreResultAnswers();
      kills += 1;
      daemon.start();
      await eventually('the restarted daemon to subscribe', () => { daemon.assertAlive(); return f.ready(); }, 30_000);
    }
    await publishing;
    await eventually('every event to have its results', () => countMistakes(f, tag, EVENTS).missingResults === 0, 240_000);
    const seconds = (Date.now() - started) / 1000;
    const stop = await daemon.terminate();
    const mistakes = countMistakes(f, tag, EVENTS);
    console.log(`crash test (seed ${seed}): ${EVENTS} events, ${kills} SIGKILLs, ${f.jenkins.triggerCount(JOB)} triggers, ` +
      `${f.resultsdb.results.length} results, ${f.slack.messages.length} Slack messages, ${seconds.toFixed(1)} s, stop ${stop.ms} ms`);
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(heldKills).toBeGreaterThanOrEqual(1);
    expect(mistakes).toEqual({ missingBuilds: 0, extraBuilds: 0, missingResults: 0, extraResults: 0 });
    expect(f.jenkins.triggerCount(JOB)).toBe(EVENTS);
    expect(stop.code).toBe(0);
    // Slack, from its own history: every notice once (by the key in its metadata), each event one
    // thread of its start and its outcome, the outcome a reply in that thread.
    await eventually('every notice', () => f.slack.messages.length >= EVENTS * 2, 60_000).catch(() => undefined);
    const keys = f.slack.messages.map((m) => m.metadata?.event_payload?.key);
    expect(keys.every((k) => typeof k === 'string')).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    const threads = { lost: 0, twice: 0, unthreaded: 0 };
    const byEvent = new Map<string, typeof f.slack.messages>();
    for (const m of f.slack.messages) {
      const id = /\b(k[0-9a-f]{6}-\d+)(?!\d)/.exec(m.text ?? '')?.[1];
      if (id) byEvent.set(id, [...(byEvent.get(id) ?? []), m]);
    }
    for (let n = 0; n < EVENTS; n++) {
      const ms = byEvent.get(`${tag}-${n}`) ?? [];
      const roots = ms.filter((m) => !m.thread_ts);
      if (ms.length < 2) threads.lost += 1;
      if (ms.length > 2 || roots.length > 1) threads.twice += 1;
      if (roots.length === 1 && ms.some((m) => m !== roots[0] && m.thread_ts !== roots[0].ts)) threads.unthreaded += 1;
    }
    console.log(`Slack: ${f.slack.messages.length} messages, ${f.slack.lostAnswers} answers held back; kills while held: ${heldKills}`);
    expect(threads).toEqual({ lost: 0, twice: 0, unthreaded: 0 });
  }, 480_000);

  it('stops on SIGTERM during a stream within the bound, exit 0, and loses nothing across the restart', async () => {
    const EVENTS = 300;
    const tag = `t${randomUUID().slice(0, 6)}`;
    const daemon = new DaemonProcess(f.writeConfig(testStompPort(), `Consumer.cvp-term.${tag}`), f.dir, f.env);
    f.daemons.push(daemon);
    daemon.start();
    await eventually('the daemon to subscribe', () => { daemon.assertAlive(); return f.ready(); }, 30_000);
    const publishing = publishStream(testStompPort(), tag, 0, EVENTS);
    await eventually('some builds', () => f.jenkins.triggerCount(JOB) >= 20, 30_000);
    const stop = await daemon.terminate();
    console.log(`SIGTERM during a stream: exit ${stop.code} in ${stop.ms} ms`);
    expect(stop.code).toBe(0);
    // The bound, with peers answering: the last outbox pass runs before the bus closes.
    expect(stop.ms).toBeLessThan(2_000);
    await publishing;
    daemon.start();
    await eventually('every event to have its results', () => countMistakes(f, tag, EVENTS).missingResults === 0, 120_000);
    await daemon.terminate();
    expect(countMistakes(f, tag, EVENTS)).toEqual({ missingBuilds: 0, extraBuilds: 0, missingResults: 0, extraResults: 0 });
    expect(f.jenkins.triggerCount(JOB)).toBe(EVENTS);
  }, 200_000);
});
