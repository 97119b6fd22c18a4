import { randomUUID } from 'node:crypto';
import { startBroker, type Broker } from '../support/activemq';
import { DaemonProcess } from '../support/daemon-process';
import { eventually } from '../support/eventually';
import { connectTestClient, disconnectTestClient, sendWithReceipt } from '../support/stomp-client';
import { countMistakes, streamEvent, StreamFixture } from '../support/stream-fixture';

const TOPIC = 'VirtualTopic.eng.ci.redhat-container-group.test.queued';

/** `name{a="b",...} 12` lines of the Prometheus text format, as a lookup. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries((m[2] ?? '').split(',').filter(Boolean).map((kv) => { const [k, v] = kv.split('='); return [k, v.replace(/"/g, '')]; }));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return 0;
}

describe('health and metrics', () => {
  let f: StreamFixture;
  let broker: Broker;
  beforeEach(async () => { f = new StreamFixture(); await f.start(); broker = await startBroker(); });
  afterEach(async () => { await f.stop(); await broker.stop(); });

  it('/readyz follows the broker; /metrics counts a stream of valid and invalid events', async () => {
    const tag = `m${randomUUID().slice(0, 6)}`;
    const daemon = new DaemonProcess(f.writeConfig(broker.stompPort, `Consumer.cvp-metrics.${tag}`), f.dir, f.env);
    f.daemons.push(daemon);
    const base = `http://127.0.0.1:${f.intakePort}`;
    try {
      daemon.start();
      await eventually('ready', () => { daemon.assertAlive(); return f.ready(); }, 30_000);
      const client = await connectTestClient(broker.stompPort);
      for (let n = 0; n < 30; n++) {
        await sendWithReceipt(client, `/topic/${TOPIC}`, JSON.stringify(streamEvent(tag, n)));
        if (n % 3 === 0) await sendWithReceipt(client, `/topic/${TOPIC}`, '{"not": "an event"');
        if (n % 3 === 1) await sendWithReceipt(client, `/topic/${TOPIC}`, JSON.stringify({ ...streamEvent(tag, 1000 + n), version: '9.0.0' }));
      }
      await disconnectTestClient(client);
      await eventually('all results', () => countMistakes(f, tag, 30).missingResults === 0, 60_000);
      const text = await eventually('the metrics', async () => {
        const t = await (await fetch(`${base}/metrics`)).text();
        // 30 runs × (2 images + the group) × (QUEUED + final), and 20 dead letters.
        // The journal's gauges are read at most every 5 s, however often /metrics is scraped.
        const done = metric(t, 'cvp_runs_finished_total', { outcome: 'PASSED' }) === 30
          && metric(t, 'cvp_effect_delivery_seconds_count', { peer: 'resultsdb' }) === 180
          && metric(t, 'cvp_effect_delivery_seconds_count', { peer: 'bus' }) === 20
          && metric(t, 'cvp_effects_pending', { peer: 'resultsdb' }) === 0 && metric(t, 'cvp_runs', { state: 'finished' }) === 30;
        return done ? t : undefined;
      }, 20_000);
      expect(metric(text, 'cvp_messages_received_total', { topic: TOPIC })).toBe(50);
      expect(metric(text, 'cvp_messages_valid_total', { topic: TOPIC })).toBe(30);
      expect(metric(text, 'cvp_messages_rejected_total', { topic: TOPIC, code: 'MESSAGE_NOT_JSON' })).toBe(10);
      expect(metric(text, 'cvp_messages_rejected_total', { topic: TOPIC, code: 'UNKNOWN_VERSION' })).toBe(10);
      expect(metric(text, 'cvp_messages_dead_lettered_total', { topic: TOPIC })).toBe(20);
      expect(metric(text, 'cvp_runs_triggered_total')).toBe(30);
      expect(metric(text, 'cvp_runs', { state: 'finished' })).toBe(30);
      expect(metric(text, 'cvp_effects_pending', { peer: 'resultsdb' })).toBe(0);
      expect(metric(text, 'cvp_oldest_unfinished_run_age_seconds')).toBe(0);
      expect(text).toContain('process_resident_memory_bytes');

      // The broker goes away: not ready (alive all the same), and ready again once it is back.
      await broker.stopProcess();
      const down = await eventually('unready', async () => {
        const r = await fetch(`${base}/readyz`);
        return r.status === 503 ? (await r.json()) as { why: string[] } : undefined;
      }, 15_000);
      expect(down.why.join(' ')).toMatch(/broker/);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      await broker.startProcess();
      await eventually('ready again', async () => (await fetch(`${base}/readyz`)).status === 200, 30_000);
      const after = await (await fetch(`${base}/metrics`)).text();
      expect(metric(after, 'cvp_broker_reconnects')).toBeGreaterThanOrEqual(1);
      expect((await daemon.terminate()).code).toBe(0);
    } finally {
      await daemon.kill();
    }
  }, 180_000);
});
