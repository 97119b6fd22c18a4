/**
 * stompit helpers for the benchmark: a connection like StompBus makes (heart-beats on, so stompit
 * sets TCP_NODELAY), bulk and paced publishing, and the bare consumer the intake is compared with.
 */
import stompit from 'stompit';
import { HOST } from './broker';

export function connect(port: number, heartbeatMs = 10_000): Promise<stompit.Client> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no STOMP CONNECTED from port ${port} within 10 s`)), 10_000);
    const client = stompit.connect({
      host: HOST, port, timeout: 10_000,
      connectHeaders: { host: '/', 'accept-version': '1.1,1.2', 'heart-beat': `${heartbeatMs},${heartbeatMs}` },
    }, (err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(client);
    });
  });
}

export function disconnect(client: stompit.Client): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { client.destroy(new Error('disconnect timed out')); resolve(); }, 3_000);
    client.disconnect(() => { clearTimeout(timer); resolve(); });
  });
}

/** One persistent SEND; with `receipt`, resolves when the broker has it (and every earlier frame). */
export function send(client: stompit.Client, destination: string, body: string, receipt: boolean): Promise<void> {
  const headers = { destination, persistent: 'true', 'content-type': 'application/json' };
  if (!receipt) {
    const frame = client.send(headers);
    frame.end(body);
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const frame = client.send(headers, { onReceipt: () => resolve(), onError: (e: Error) => reject(e) } as stompit.Client.SendOptions);
    frame.end(body);
  });
}

/**
 * Puts `count` messages on `destination` as fast as the broker takes them: a receipt every 500
 * messages, at most 4 windows outstanding. Resolves when the broker has all of them.
 */
export async function publishMany(port: number, destination: string, count: number, body: (i: number) => string): Promise<number> {
  const client = await connect(port);
  const started = process.hrtime.bigint();
  try {
    const windows: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      const last = i === count - 1 || i % 500 === 499;
      const p = send(client, destination, body(i), last);
      if (last) {
        windows.push(p);
        if (windows.length >= 4) await windows.shift();
      }
    }
    await Promise.all(windows);
  } finally {
    await disconnect(client);
  }
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

export interface PacedStats { sent: number; seconds: number; rate: number; maxLagMs: number }

/**
 * Publishes `ratePerSecond` messages for `seconds`, each at its own due time (checked every ms);
 * `body(i, sentAtNs)` stamps the send time into the message. maxLagMs: worst delay behind schedule.
 */
export async function publishPaced(port: number, destination: string, ratePerSecond: number, seconds: number,
  body: (i: number, sentAtNs: bigint) => string): Promise<PacedStats> {
  const client = await connect(port);
  const total = Math.round(ratePerSecond * seconds);
  const startNs = process.hrtime.bigint();
  const stepNs = 1e9 / ratePerSecond;
  let i = 0;
  let maxLagMs = 0;
  let lastReceipt: Promise<void> = Promise.resolve();
  try {
    while (i < total) {
      const now = process.hrtime.bigint();
      while (i < total && Number(now - startNs) >= i * stepNs) {
        maxLagMs = Math.max(maxLagMs, (Number(now - startNs) - i * stepNs) / 1e6);
        const at = process.hrtime.bigint();
        const receipt = send(client, destination, body(i, at), i === total - 1);
        if (i === total - 1) lastReceipt = receipt;
        i += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // The last frame asked for a receipt: once it is in, every message is on the broker.
    await lastReceipt;
  } finally {
    await disconnect(client);
  }
  const secs = Number(process.hrtime.bigint() - startNs) / 1e9;
  return { sent: total, seconds: secs, rate: total / secs, maxLagMs };
}

export interface ConsumeStats { messages: number; seconds: number; rate: number; capped: boolean }

/**
 * The bare consumer: subscribe (client-individual, bounded prefetch), read each body, ack it.
 * Timed from the first message to the `count`-th ack, or to `maxSeconds` after the first message.
 */
export async function bareConsume(port: number, destination: string, count: number, prefetch: number, heartbeatMs: number,
  maxSeconds: number): Promise<ConsumeStats> {
  const client = await connect(port, heartbeatMs);
  let first = 0n;
  let acked = 0;
  let cap: NodeJS.Timeout | undefined;
  const [messages, elapsed] = await new Promise<[number, bigint]>((resolve, reject) => {
    client.on('error', reject);
    client.subscribe({ destination, ack: 'client-individual', 'activemq.prefetchSize': String(prefetch) }, (err, message) => {
      if (err) return reject(err);
      if (first === 0n) {
        first = process.hrtime.bigint();
        cap = setTimeout(() => resolve([acked, process.hrtime.bigint() - first]), maxSeconds * 1000);
      }
      message.readString('utf-8', (readErr) => {
        if (readErr) return reject(readErr);
        client.ack(message);
        acked += 1;
        if (acked === count) resolve([acked, process.hrtime.bigint() - first]);
      });
    });
  });
  clearTimeout(cap);
  await disconnect(client);
  const seconds = Number(elapsed) / 1e9;
  return { messages, seconds, rate: messages / seconds, capped: messages < count };
}
