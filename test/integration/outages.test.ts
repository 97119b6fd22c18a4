import { randomUUID } from 'node:crypto';
import { startBroker, type Broker } from '../support/activemq';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { testStompPort } from '../support/stomp-client';
import { countMistakes, JOB, publishStream, StreamFixture } from '../support/stream-fixture';

const CLEAN = { missingBuilds: 0, extraBuilds: 0, missingResults: 0, extraResults: 0 };

describe('outages of the broker and of the peers', () => {
  let f: StreamFixture;
  beforeEach(async () => { f = new StreamFixture(); await f.start(); });
  afterEach(async () => { await f.stop(); });

  it('reconnects by itself after ActiveMQ is away for 30 s in the middle of a stream, and loses nothing', async () => {
    const broker: Broker = await startBroker();
    const tag = `b${randomUUID().slice(0, 6)}`;
    const daemon = new DaemonProcess(f.writeConfig(broker.stompPort, `Consumer.cvp-outage.${tag}`), f.dir, f.env);
    f.daemons.push(daemon);
    try {
      daemon.start();
      await eventually('the daemon to subscribe', () => { daemon.assertAlive(); return f.ready(); }, 30_000);
      await publishStream(broker.stompPort, tag, 0, 200);
      await eventually('some builds before the outage', () => f.jenkins.triggerCount(JOB) >= 10, 30_000);
      await broker.stopProcess();
      const down = Date.now();
      await eventually('the daemon to notice', async () => !(await f.ready()), 15_000);
      await new Promise((r) => setTimeout(r, 30_000 - (Date.now() - down)));
      await broker.startProcess();
      await eventually('the daemon to resubscribe by itself', () => { daemon.assertAlive(); return f.ready(); }, 30_000);
      await publishStream(broker.stompPort, tag, 200, 400);
      await eventually('every event to have its results', () => countMistakes(f, tag, 400).missingResults === 0, 120_000);
      expect(countMistakes(f, tag, 400)).toEqual(CLEAN);
      expect(f.jenkins.triggerCount(JOB)).toBe(400);
      expect((await daemon.terminate()).code).toBe(0);
    } finally {
      await daemon.kill();
      await broker.stop();
    }
  }, 240_000);

  it('delivers every effect once after Jenkins answers 503, ResultsDB refuses connections and Slack rate-limits, each for a while, without one holding up another', async () => {
    const tag = `p${randomUUID().slice(0, 6)}`;
    const daemon = new DaemonProcess(f.writeConfig(testStompPort(), `Consumer.cvp-peers.${tag}`), f.dir, f.env);
    f.daemons.push(daemon);
    try {
      daemon.start();
      await eventually('the daemon to subscribe', () => { daemon.assertAlive(); return f.ready(); }, 30_000);
      // ResultsDB is down for a minute from now, and Slack answers 429 to its next 10 requests.
      await f.resultsdb.refuseConnections();
      f.slack.rateLimit(10, 1);
      const resultsDown = Date.now();
      await publishStream(testStompPort(), tag, 0, 20);
      // Jenkins and Slack go on while ResultsDB is away.
      await eventually('the first 20 builds to finish and be announced', () =>
        f.jenkins.builds(JOB).filter((b) => b.result === 'SUCCESS').length === 20 && f.slack.messages.length === 40, 50_000);
      expect(f.resultsdb.results).toHaveLength(0);
      // Now Jenkins answers 503 for a minute; new events wait for it, results of the first ones do not.
      f.jenkins.failWith(503);
      const jenkinsDown = Date.now();
      await publishStream(testStompPort(), tag, 20, 40);
      await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - resultsDown))));
      await f.resultsdb.acceptConnections();
      await eventually('the first 20 events\' results while Jenkins is still down', () => countMistakes(f, tag, 20).missingResults === 0, 30_000);
      expect(Date.now() - jenkinsDown).toBeLessThan(60_000);
      expect(f.jenkins.triggerCount(JOB)).toBe(20);
      await new Promise((r) => setTimeout(r, Math.max(0, 60_000 - (Date.now() - jenkinsDown))));
      f.jenkins.restore();
      await eventually('every event to have its results', () => countMistakes(f, tag, 40).missingResults === 0, 60_000);
      await eventually('every notice', () => f.slack.messages.length === 80, 30_000);
      expect(countMistakes(f, tag, 40)).toEqual(CLEAN);
      expect(f.jenkins.triggerCount(JOB)).toBe(40);
      // Each run: exactly one QUEUED and one final result per item, one start notice and one reply in its thread.
      const queued = f.resultsdb.results.filter((r) => r.outcome === 'QUEUED').length;
      expect(queued).toBe(120); // 40 runs × (2 images + the group)
      const starts = f.slack.messages.filter((m) => !m.thread_ts);
      expect(starts).toHaveLength(40);
      for (const s of starts) expect(f.slack.thread(s.ts).filter((m) => m.thread_ts === s.ts)).toHaveLength(1);
      expect((await daemon.terminate()).code).toBe(0);
    } finally {
      await daemon.kill();
    }
  }, 240_000);
});
