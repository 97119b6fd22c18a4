/**
 * StompBus on the real broker: one connection per bus carrying every subscription, each message
 * acked on the connection that delivered it, and a lost connection's deliveries redelivered by
 * the broker rather than acked on the next connection. Connections are counted by a TCP proxy in
 * front of the broker (what the broker itself would count); queues are drained by a client of
 * their own.
 */
import { randomUUID } from 'node:crypto';
import { StompBus } from '../../src/adapters/bus/stomp-bus';
import type { Delivery } from '../../src/listener/ports';
import { eventually } from '../support/eventually';
import { MemoryLogger } from '../support/fakes';
import { connectTestClient, disconnectTestClient, drain, sendWithReceipt, testBrokerHost, testStompPort } from '../support/stomp-client';
import { TcpProxy } from '../support/tcp-proxy';

const TOPICS = [
  'VirtualTopic.eng.ci.redhat-container-group.test.queued',
  'VirtualTopic.eng.ci.redhat-container-image.test.complete',
  'VirtualTopic.eng.ci.redhat-container-image.test.error',
  'VirtualTopic.eng.ci.brew-build.test.complete',
  'VirtualTopic.eng.ci.brew-build.test.error',
];

let proxy: TcpProxy;
let bus: StompBus | undefined;
let log: MemoryLogger;

function newBus(port: number, consumer: string, connectTimeoutMs = 5_000): StompBus {
  log = new MemoryLogger();
  return new StompBus({
    servers: [{ host: '127.0.0.1', port }],
    consumer,
    heartbeatMs: 1_000,
    connectTimeoutMs,
    reconnectDelayMs: 100,
    maxReconnectDelayMs: 500,
    prefetch: 100,
    log,
  });
}

async function publishEach(topics: string[], perTopic: number, tag: string): Promise<void> {
  const client = await connectTestClient(testStompPort());
  try {
    for (const topic of topics) {
      for (let n = 0; n < perTopic; n++) await sendWithReceipt(client, `/topic/${topic}`, `{"n":${n}}`, { 'cvp-test': `${tag}-${n}` });
    }
  } finally {
    await disconnectTestClient(client);
  }
}

beforeEach(async () => {
  proxy = new TcpProxy({ host: testBrokerHost(), port: testStompPort() });
});

afterEach(async () => {
  await bus?.close();
  bus = undefined;
  await proxy.stop();
});

it('carries every subscription on one connection, acks each message there, and leaves the queues empty after a clean close', async () => {
  const port = await proxy.start();
  const consumer = `Consumer.cvp-bus.${randomUUID().slice(0, 8)}`;
  bus = newBus(port, consumer);
  const received = new Map<string, number>();
  // Every subscribe() before the connection is up: each used to start a connection of its own.
  for (const topic of TOPICS) {
    await bus.subscribe(topic, (d) => {
      received.set(topic, (received.get(topic) ?? 0) + 1);
      void bus!.ack(d);
    });
  }
  await bus.whenSubscribed();
  expect(bus.isSubscribed()).toBe(true);
  expect(proxy.accepted).toBe(1);

  // A subscription added later goes on the same connection.
  const late = 'VirtualTopic.eng.ci.redhat-container-group.test.complete';
  await bus.subscribe(late, (d) => { received.set(late, (received.get(late) ?? 0) + 1); void bus!.ack(d); });
  await bus.whenSubscribed();

  const all = [...TOPICS, late];
  await publishEach(all, 40, 'one');
  await eventually('every message to arrive', () => all.every((t) => received.get(t) === 40), 30_000);
  expect(proxy.accepted).toBe(1);
  expect(proxy.openConnections).toBe(1);
  await bus.close();
  bus = undefined;

  for (const topic of all) expect(await drain(testStompPort(), `/queue/${consumer}.${topic}`, { quietMs: 500 })).toEqual([]);
});

it('leaves a lost connection\'s deliveries to the broker: redelivered on the new connection, never acked on it', async () => {
  const port = await proxy.start();
  const consumer = `Consumer.cvp-bus.${randomUUID().slice(0, 8)}`;
  const topic = TOPICS[0];
  bus = newBus(port, consumer);
  const deliveries: Delivery[] = [];
  await bus.subscribe(topic, (d) => deliveries.push(d));
  await bus.whenSubscribed();
  await publishEach([topic], 5, 'lost');
  await eventually('the first deliveries', () => deliveries.length === 5);
  const first = deliveries.splice(0);
  expect(first.every((d) => d.envelope.headers.redelivered !== 'true')).toBe(true);

  proxy.cut();
  await eventually('a new connection with the subscription remade', () => proxy.accepted === 2 && bus!.isSubscribed(), 15_000);
  await eventually('the broker to redeliver', () => deliveries.length === 5, 15_000);
  expect(deliveries.map((d) => d.envelope.id).sort()).toEqual(first.map((d) => d.envelope.id).sort());
  expect(deliveries.every((d) => d.envelope.headers.redelivered === 'true')).toBe(true);
  expect(log.lines.some((l) => l.msg?.includes('lost the broker connection'))).toBe(true);

  // Acks of the lost connection's deliveries are dropped, not sent on the new connection (where
  // the same message ids would match): the messages are still on the queue after a clean close.
  for (const d of first) await bus.ack(d);
  await bus.close();
  bus = undefined;
  const left = await drain(testStompPort(), `/queue/${consumer}.${topic}`, { quietMs: 500 });
  expect(left.map((m) => m.headers['message-id']).sort()).toEqual(first.map((d) => d.envelope.id).sort());
});

it('acks the redelivered messages on the connection that redelivered them', async () => {
  const port = await proxy.start();
  const consumer = `Consumer.cvp-bus.${randomUUID().slice(0, 8)}`;
  const topic = TOPICS[1];
  bus = newBus(port, consumer);
  const deliveries: Delivery[] = [];
  await bus.subscribe(topic, (d) => deliveries.push(d));
  await bus.whenSubscribed();
  await publishEach([topic], 3, 'again');
  await eventually('the first deliveries', () => deliveries.length === 3);
  deliveries.splice(0);
  proxy.cut();
  await eventually('the redeliveries', () => deliveries.length === 3, 15_000);
  for (const d of deliveries) await bus.ack(d);
  await bus.close();
  bus = undefined;
  expect(proxy.accepted).toBe(2);
  expect(await drain(testStompPort(), `/queue/${consumer}.${topic}`, { quietMs: 500 })).toEqual([]);
});

it('opens no second connection while the first attempt is under way', async () => {
  const port = await proxy.start();
  // The broker accepts the TCP connection and never answers CONNECT: the attempt stays under way.
  proxy.hold = true;
  bus = newBus(port, `Consumer.cvp-bus.${randomUUID().slice(0, 8)}`, 1_000);
  for (const topic of TOPICS) await bus.subscribe(topic, () => undefined);
  await new Promise((r) => setTimeout(r, 300));
  expect(proxy.accepted).toBe(1);
  // Once the handshake limit gives up on it, the next attempt gets through and carries all five.
  proxy.hold = false;
  await bus.whenSubscribed();
  expect(proxy.accepted).toBe(2);
  expect(log.lines.filter((l) => l.msg === 'cannot connect to the broker')).toHaveLength(1);
  expect(log.lines.find((l) => l.msg === 'connected to the broker')?.obj).toEqual(expect.objectContaining({ subscriptions: 5 }));
});
