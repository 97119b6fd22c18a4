import { Watchdog, span, type WatchdogOptions } from '../../src/listener/watchdog';
import { coreHarness, GROUP_TOPIC, groupEvent, towerRule, type Harness } from '../support/core-harness';
import { MemoryLogger } from '../support/fakes';

const MIN = 60_000;
const HOUR = 60 * MIN;
const OTHER_TOPIC = 'VirtualTopic.eng.ci.redhat-container-image.test.queued';

const options: WatchdogOptions = {
  silence: new Map([[GROUP_TOPIC, 2 * HOUR], [OTHER_TOPIC, 3 * HOUR]]),
  runTimeouts: new Map([[towerRule.name, HOUR]]),
  graceMs: 15 * MIN,
  intervalMs: MIN,
  channel: '#cvp-watchdog',
};

describe('the watchdog, on an injected clock', () => {
  let h: Harness;
  beforeEach(() => { h = coreHarness({ watchdog: options }); });
  afterEach(() => h.journal.close());

  const watchdogNotices = () => h.notifier.notices.filter((n) => n.text.startsWith('Watchdog:'));

  it('raises a silent topic and a stuck run once each, says so once in Slack, and clears each once when traffic resumes and the run ends', async () => {
    const watchdog = h.watchdog!;
    expect(await watchdog.runOnce()).toBe(0);
    expect(watchdog.state()!.topics.map((t) => [t.topic, t.silenceMs, t.over])).toEqual([[GROUP_TOPIC, 0, false], [OTHER_TOPIC, 0, false]]);

    await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent()));
    await h.settle();
    expect(h.executor.builds).toHaveLength(1);
    const received = h.clock.now();

    // An hour and a quarter later: the topic is quiet within its bound, the run just within its timeout and grace.
    h.clock.advance(HOUR + 15 * MIN);
    expect(await watchdog.runOnce()).toBe(0);
    expect(watchdog.state()!.runs).toEqual([expect.objectContaining({ rule: towerRule.name, ageMs: HOUR + 15 * MIN, limitMs: HOUR + 15 * MIN, over: false })]);

    // Past both: Jenkins never answers (the tracker makes no progress) and nothing arrives.
    h.clock.advance(HOUR);
    expect(await watchdog.runOnce()).toBe(2);
    const state = watchdog.state()!;
    expect(state.topics.find((t) => t.topic === GROUP_TOPIC)).toMatchObject({ lastReceived: received, silenceMs: 2 * HOUR + 15 * MIN, over: true });
    // The other topic never spoke: its silence counts from when the watchdog started, within its 3 h.
    expect(state.topics.find((t) => t.topic === OTHER_TOPIC)).toMatchObject({ lastReceived: null, over: false });
    expect(state.alarms.filter((a) => a.raised).map((a) => a.key).sort()).toEqual([`run:${towerRule.name}`, `silence:${GROUP_TOPIC}`]);
    expect(state.alarms.find((a) => a.key === `silence:${GROUP_TOPIC}`)!.detail)
      .toBe(`no message on ${GROUP_TOPIC} for 2h 15m (expected within 2h); the last at ${new Date(received).toISOString()}`);

    // Looking again, or another daemon on the same journal looking, changes nothing and says nothing more.
    expect(await watchdog.runOnce()).toBe(0);
    const other = new Watchdog({ ...options, journal: h.journal, clock: h.clock, log: new MemoryLogger(), hasNotifier: true });
    expect(await other.runOnce()).toBe(0);
    await deliverNotices(h);
    expect(watchdogNotices().map((n) => [n.channel, n.threadTs])).toEqual([['#cvp-watchdog', undefined], ['#cvp-watchdog', undefined]]);
    expect(watchdogNotices().map((n) => n.text).join('\n')).toMatch(/no message on .*redhat-container-group.* for 2h 15m/);
    expect(watchdogNotices().map((n) => n.text).join('\n')).toMatch(/has not finished after 2h 15m \(its timeout and grace: 1h 15m\)/);

    // Traffic resumes: the silence alarm clears once, as a reply in its own thread.
    h.clock.advance(10 * MIN);
    await h.intake.processEvent(h.bus.delivery(GROUP_TOPIC, groupEvent((e) => { e.artifact.id = 'group-after-the-silence'; })));
    expect(await watchdog.runOnce()).toBe(1);
    expect(await other.runOnce()).toBe(0);
    expect(watchdog.state()!.alarms.find((a) => a.key === `silence:${GROUP_TOPIC}`)).toMatchObject({ raised: false, since: h.clock.now() });
    await deliverNotices(h);
    const cleared = watchdogNotices()[2];
    expect(cleared.text).toContain(`${GROUP_TOPIC} speaks again`);
    const raised = h.notifier.notices.findIndex((n) => n.text.startsWith('Watchdog: no message'));
    expect(cleared.threadTs).toBe(`1700000000.${String(raised + 1).padStart(6, '0')}`);

    // Both runs end (the stuck one and the new event's): the run alarm clears once.
    await h.settle();
    expect(h.executor.builds).toHaveLength(2);
    for (const b of h.executor.builds) h.executor.finish(b.runId, 'SUCCESS');
    h.clock.advance(10_000);
    await h.settle();
    expect(await watchdog.runOnce()).toBe(1);
    expect(await watchdog.runOnce()).toBe(0);
    await deliverNotices(h);
    expect(watchdogNotices()).toHaveLength(4);
    expect(watchdogNotices()[3].text).toContain(`rule ${towerRule.name} has no stuck run any more`);
    expect(watchdog.state()!.alarms.every((a) => !a.raised)).toBe(true);
  });

  it('clears an alarm about a topic no longer watched', async () => {
    h.clock.advance(3 * HOUR);
    expect(await h.watchdog!.runOnce()).toBe(1);
    const narrower = new Watchdog({ ...options, silence: new Map([[OTHER_TOPIC, 4 * HOUR]]), journal: h.journal, clock: h.clock, log: new MemoryLogger(), hasNotifier: false });
    expect(await narrower.runOnce()).toBe(1);
    expect(narrower.state()!.alarms).toEqual([expect.objectContaining({ key: `silence:${GROUP_TOPIC}`, raised: false, detail: `silence:${GROUP_TOPIC} is no longer watched` })]);
  });

  it('says spans as people do', () => {
    expect([span(0), span(45_000), span(2 * HOUR + 5 * MIN), span(26 * HOUR), span(90_000)]).toEqual(['0s', '45s', '2h 5m', '1d 2h', '1m 30s']);
  });
});

async function deliverNotices(h: Harness): Promise<void> {
  while ((await h.outbox.runOnce('slack')) > 0) { /* until the Slack outbox is empty */ }
}
