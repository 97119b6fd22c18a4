/**
 * The README's own shape of configuration (a rule plus `pipeline_results` topics) on the real
 * broker: the daemon opens one connection for all five subscriptions and acks every message on
 * it, so after a clean stop nothing is left on any consumer queue, and a daemon started on a new
 * journal (which would act on anything left) triggers nothing. Counted from the Jenkins and
 * ResultsDB stand-ins' own logs; the daemon's connections are counted by a TCP proxy in front of
 * the broker.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { browse, connectTestClient, disconnectTestClient, drain, sendWithReceipt, testBrokerHost, testStompPort } from '../support/stomp-client';
import { JOB, publishStream, StreamFixture } from '../support/stream-fixture';
import { TcpProxy } from '../support/tcp-proxy';

const RULE_TOPIC = 'VirtualTopic.eng.ci.redhat-container-group.test.queued';
const PIPELINE_TOPICS = [
  'VirtualTopic.eng.ci.redhat-container-image.test.complete',
  'VirtualTopic.eng.ci.redhat-container-image.test.error',
  'VirtualTopic.eng.ci.brew-build.test.complete',
  'VirtualTopic.eng.ci.brew-build.test.error',
];
const EVENTS = 500;
const PER_PIPELINE_TOPIC = 25;

/** A pipeline's own result for an artifact CVP did not put under test: written to ResultsDB as the updater would. */
function pipelineResult(topic: string, tag: string, n: number): string {
  const kind = topic.replace(/^VirtualTopic\.eng\.ci\./, '');
  const body = JSON.parse(readFileSync(join(packageRoot, `examples/messages/${kind}.json`), 'utf8'));
  body.artifact.nvr = `${tag}-${kind}-${n}`;
  body.pipeline.id = `${tag}-${kind}-${n}`;
  return JSON.stringify(body);
}

describe('one connection per broker', () => {
  let f: StreamFixture;
  let proxy: TcpProxy;
  beforeEach(async () => {
    f = new StreamFixture();
    await f.start();
    proxy = new TcpProxy({ host: testBrokerHost(), port: testStompPort() });
  });
  afterEach(async () => {
    await f.stop();
    await proxy.stop();
  });

  it('five topics, 500 events, clean stop: the consumer queues are empty and a restart on a new journal triggers nothing', async () => {
    const tag = `oc${randomUUID().slice(0, 6)}`;
    const consumer = `Consumer.cvp-one.${tag}`;
    const proxyPort = await proxy.start();
    const daemon = new DaemonProcess(f.writeConfig(proxyPort, consumer, { pipelineTopics: PIPELINE_TOPICS }), f.dir, f.env);
    f.daemons.push(daemon);
    daemon.start();
    await eventually('the daemon to subscribe', () => { daemon.assertAlive(); return f.ready(); }, 30_000);

    const publishing = publishStream(testStompPort(), tag, 0, EVENTS);
    const client = await connectTestClient(testStompPort());
    try {
      for (const topic of PIPELINE_TOPICS) {
        for (let n = 0; n < PER_PIPELINE_TOPIC; n++) await sendWithReceipt(client, `/topic/${topic}`, pipelineResult(topic, tag, n), { 'content-type': 'application/json' });
      }
    } finally {
      await disconnectTestClient(client);
    }
    await publishing;
    const pipelineItems = () => new Set(f.resultsdb.results.map((r) => r.data.pipeline_id?.[0]).filter((id) => id?.startsWith(`${tag}-`))).size;
    await eventually('every event triggered and every pipeline result written', () => {
      if (f.jenkins.triggerCount(JOB) === EVENTS && pipelineItems() === PIPELINE_TOPICS.length * PER_PIPELINE_TOPIC) return true;
      throw new Error(`${f.jenkins.triggerCount(JOB)} of ${EVENTS} triggered, ${pipelineItems()} pipeline results`);
    }, 120_000);

    const stop = await daemon.terminate();
    expect(stop.code).toBe(0);
    // One connection carried all five subscriptions for the whole run.
    expect(proxy.accepted).toBe(1);
    const queues = [RULE_TOPIC, ...PIPELINE_TOPICS].map((t) => `/queue/${consumer}.${t}`);
    // Looked at without consuming: every handled message was acked.
    for (const q of queues) expect({ queue: q, left: (await browse(testStompPort(), q)).length }).toEqual({ queue: q, left: 0 });

    // A daemon on a new journal would trigger anything still on the queues again.
    const again = new DaemonProcess(f.writeConfig(proxyPort, consumer, { pipelineTopics: PIPELINE_TOPICS, journal: 'journal-2.db' }), f.dir, f.env);
    f.daemons.push(again);
    again.start();
    await eventually('the second daemon to subscribe', () => { again.assertAlive(); return f.ready(); }, 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await again.terminate()).code).toBe(0);
    expect(f.jenkins.triggerCount(JOB)).toBe(EVENTS);
    expect([...f.buildsPerEvent().values()].every((n) => n === 1)).toBe(true);
    expect(f.buildsPerEvent().size).toBe(EVENTS);
    for (const q of queues) expect({ queue: q, left: (await drain(testStompPort(), q, { quietMs: 500 })).length }).toEqual({ queue: q, left: 0 });
  }, 240_000);
});
