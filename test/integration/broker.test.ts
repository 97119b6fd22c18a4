/**
 * The test harness against the real broker started by test/support/global-setup.ts: the
 * broker configuration (virtual topics as the company bus names them), client-individual acks,
 * redelivery, and the stomp-client helpers themselves.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import { Broker, probeStomp, startBroker } from '../support/activemq';
import { browse, connectTestClient, consume, drain, lastClientError, publish, TestSubscription, testStompPort } from '../support/stomp-client';

const TOPIC = '/topic/VirtualTopic.eng.ci.redhat-container-group.test.queued';
const CONSUMER_QUEUE = '/queue/Consumer.cvp-test.sub1.VirtualTopic.eng.ci.redhat-container-group.test.queued';

describe('test broker', () => {
  const port = testStompPort();
  const open: TestSubscription[] = [];
  const subscribe = async (...args: Parameters<typeof TestSubscription.open>): Promise<TestSubscription> => {
    const sub = await TestSubscription.open(...args);
    open.push(sub);
    return sub;
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close().catch(() => undefined)));
  });

  test('a consumer queue with two segments before VirtualTopic receives what is published on the topic', async () => {
    const sub1 = await subscribe(port, CONSUMER_QUEUE, { ack: 'client-individual', prefetch: 10 });
    // A second subscription name on the same topic gets its own copy.
    const sub2Queue = CONSUMER_QUEUE.replace('.sub1.', '.sub2.');
    const sub2 = await subscribe(port, sub2Queue, { ack: 'client-individual', prefetch: 10 });

    const id = randomUUID();
    await publish(port, TOPIC, { id, artifact: { type: 'redhat-container-group' } }, { 'cvp-test-id': id });

    const got1 = await sub1.waitFor((m) => m.headers['cvp-test-id'] === id, 10_000);
    expect(got1).toBeDefined();
    expect(JSON.parse(got1!.body)).toEqual({ id, artifact: { type: 'redhat-container-group' } });
    expect(got1!.headers.destination).toBe(CONSUMER_QUEUE);
    expect(got1!.headers['content-type']).toBe('application/json');
    expect(got1!.headers.ack).toBeTruthy(); // client-individual: the broker asks for an ACK
    await sub1.ackMessage(got1!);

    const got2 = await sub2.waitFor((m) => m.headers['cvp-test-id'] === id, 10_000);
    expect(got2?.headers.destination).toBe(sub2Queue);
    await sub2.ackMessage(got2!);

    // Acked: nothing of ours is left on the queue.
    await sub1.close();
    const left = await consume(port, CONSUMER_QUEUE, { count: 10, timeoutMs: 500 });
    expect(left.filter((m) => m.headers['cvp-test-id'] === id)).toEqual([]);
  });

  test('a consumer queue receives only what is published after it first exists', async () => {
    const queue = `/queue/Consumer.cvp-test.late-${randomUUID()}.VirtualTopic.eng.ci.redhat-container-group.test.queued`;
    const before = randomUUID();
    await publish(port, TOPIC, 'before', { 'cvp-test-id': before });

    const sub = await subscribe(port, queue, { prefetch: 10 });
    const after = randomUUID();
    await publish(port, TOPIC, 'after', { 'cvp-test-id': after });

    const got = await sub.waitFor((m) => m.headers['cvp-test-id'] === after, 10_000);
    expect(got?.body).toBe('after');
    expect(sub.messages.map((m) => m.headers['cvp-test-id'])).not.toContain(before);
  });

  test.each([
    ['disconnects', (s: TestSubscription) => s.close()],
    ['drops the connection', (s: TestSubscription) => s.abort()],
  ])('an unacked message is redelivered to the next subscriber after the first %s', async (_how, leave) => {
    const queue = `/queue/cvp-test.redelivery.${randomUUID()}`;
    const first = await subscribe(port, queue, { ack: 'client-individual', prefetch: 1 });
    await publish(port, queue, 'work item', { 'cvp-test-id': 'r1' });

    const [delivered] = await first.take(1, 10_000);
    expect(delivered?.body).toBe('work item');
    expect(delivered?.headers.redelivered).not.toBe('true');
    await leave(first); // no ACK

    const second = await subscribe(port, queue, { ack: 'client-individual', prefetch: 1 });
    const [again] = await second.take(1, 10_000);
    expect(again).toBeDefined();
    expect(again!.body).toBe('work item');
    expect(again!.headers['message-id']).toBe(delivered!.headers['message-id']);
    expect(again!.headers.redelivered).toBe('true');
    await second.ackMessage(again!);
    await second.close();

    // Acked now: the queue is empty.
    expect(await consume(port, queue, { count: 1, timeoutMs: 500 })).toEqual([]);
  });

  test('a NACKed persistent message goes to the queue\'s own dead-letter queue, DLQ.<queue>', async () => {
    const name = `cvp-test.nack.${randomUUID()}`;
    const sub = await subscribe(port, `/queue/${name}`, { ack: 'client-individual', prefetch: 1 });
    await publish(port, `/queue/${name}`, 'poison', { 'cvp-test-id': 'n1' });
    const [got] = await sub.take(1, 10_000);
    expect(got?.body).toBe('poison');
    await sub.nackMessage(got!);
    await sub.close();

    const dead = await consume(port, `/queue/DLQ.${name}`, { count: 2, timeoutMs: 1_000 });
    expect(dead.map((m) => [m.body, m.headers['cvp-test-id']])).toEqual([['poison', 'n1']]);
    expect(dead[0]?.headers['original-destination']).toBe(`/queue/${name}`);
    expect(await consume(port, `/queue/${name}`, { count: 1, timeoutMs: 500 })).toEqual([]);
  });

  test('a plain queue round-trip keeps body, headers and order', async () => {
    const queue = `/queue/cvp-test.roundtrip.${randomUUID()}`;
    const bodies = ['one', 'twö ✓', JSON.stringify({ n: 3 })];
    for (const [i, body] of bodies.entries()) {
      await publish(port, queue, body, { 'cvp-seq': i, 'content-type': 'text/plain' });
    }

    const got = await consume(port, queue, { count: bodies.length, timeoutMs: 10_000 });
    expect(got.map((m) => m.body)).toEqual(bodies);
    expect(got.map((m) => m.headers['cvp-seq'])).toEqual(['0', '1', '2']);
    expect(got.every((m) => m.headers.persistent === 'true')).toBe(true);

    // consume() acked them all.
    expect(await consume(port, queue, { count: 1, timeoutMs: 500 })).toEqual([]);
  });
});

describe('reading what a queue holds', () => {
  test('browse() looks without consuming; drain() takes everything and leaves the queue empty', async () => {
    const port = testStompPort();
    const queue = `/queue/cvp-test.browse.${randomUUID()}`;
    expect(await browse(port, queue)).toEqual([]);
    for (let i = 0; i < 3; i++) await publish(port, queue, `m${i}`);
    expect((await browse(port, queue)).map((m) => m.body)).toEqual(['m0', 'm1', 'm2']);
    expect((await browse(port, queue)).map((m) => m.body)).toEqual(['m0', 'm1', 'm2']);
    expect((await drain(port, queue, { quietMs: 300 })).map((m) => m.body)).toEqual(['m0', 'm1', 'm2']);
    expect(await browse(port, queue)).toEqual([]);
    expect(await drain(port, queue, { quietMs: 300 })).toEqual([]);
  });
});

describe('a broker of its own', () => {
  let broker: Broker | undefined;

  afterAll(async () => {
    await broker?.stop();
  });

  test('restart keeps the ports and the persistent messages; stop removes everything', async () => {
    broker = await startBroker();
    const { stompPort, openwirePort, dataDir } = broker;
    expect(broker.host).toBe('127.0.0.1');
    expect(stompPort).not.toBe(testStompPort());
    expect(openwirePort).not.toBe(stompPort);
    const pid = broker.pid;
    expect(pid).toEqual(expect.any(Number));

    const queue = `/queue/cvp-test.restart.${randomUUID()}`;
    await publish(stompPort, queue, 'survives', { 'cvp-test-id': 'p1' });
    await publish(stompPort, queue, 'lost', { 'cvp-test-id': 'np1', persistent: 'false' });
    const connected = await connectTestClient(stompPort);

    await broker.stopProcess();
    expect(broker.running).toBe(false);
    expect(() => process.kill(pid!, 0)).toThrow(); // the JVM is gone
    await expect(probeStomp(stompPort)).rejects.toThrow();
    // A client of the stopped broker sees its connection fail.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lastClientError(connected)).toBeDefined();

    await broker.startProcess();
    expect([broker.stompPort, broker.openwirePort, broker.dataDir]).toEqual([stompPort, openwirePort, dataDir]);
    expect(broker.pid).not.toBe(pid);
    const got = await consume(stompPort, queue, { count: 2, timeoutMs: 1_000 });
    expect(got.map((m) => m.body)).toEqual(['survives']);

    await broker.restart();
    await probeStomp(stompPort);

    const lastPid = broker.pid;
    await broker.stop();
    broker = undefined;
    expect(() => process.kill(lastPid!, 0)).toThrow();
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});
