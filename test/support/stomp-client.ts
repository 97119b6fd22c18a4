/**
 * Small STOMP helpers for tests, on stompit 1.0.0 (the library the product uses).
 *
 * Per DESIGN.md's traps: every connection uses heart-beats (stompit only sets TCP_NODELAY when
 * they are on), every subscription sends a bounded `activemq.prefetchSize`, stompit's connect
 * `timeout` does not cover the CONNECT handshake (so connectTestClient has its own), and a
 * stompit client is dead after any error (these helpers never reuse one after an error).
 */
import * as stompit from 'stompit';

type Client = stompit.Client;
type Message = stompit.Client.Message;
type Headers = Record<string, string | number | boolean>;

export const DEFAULT_HEART_BEAT = '1000,1000';
export const DEFAULT_PREFETCH = 100;

/** The STOMP port of the run's broker (set by test/support/global-setup.ts). */
export function testStompPort(): number {
  const port = Number(process.env.CVP_TEST_STOMP_PORT);
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error('CVP_TEST_STOMP_PORT is not set: is jest running with test/support/global-setup.ts?');
  }
  return port;
}

/** The OpenWire port of the run's broker (set by test/support/global-setup.ts). */
export function testOpenwirePort(): number {
  const port = Number(process.env.CVP_TEST_OPENWIRE_PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('CVP_TEST_OPENWIRE_PORT is not set');
  return port;
}

export function testBrokerHost(): string {
  return process.env.CVP_TEST_BROKER_HOST || '127.0.0.1';
}

export interface TestClientOptions {
  host?: string;
  /** STOMP heart-beat header, default '1000,1000'. */
  heartBeat?: string;
  /** Covers TCP connect AND the STOMP handshake; default 10 s. */
  timeoutMs?: number;
  login?: string;
  passcode?: string;
}

/** Errors a connected client reported after connect (a client is unusable after one). */
const clientErrors = new WeakMap<Client, Error>();

export function lastClientError(client: Client): Error | undefined {
  return clientErrors.get(client);
}

/** A connected stompit client (STOMP 1.2, heart-beats on). Close it with disconnectTestClient. */
export function connectTestClient(port: number = testStompPort(), opts: TestClientOptions = {}): Promise<Client> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const connectHeaders: stompit.connect.ConnectHeaders = {
    host: 'localhost',
    'accept-version': '1.2',
    'heart-beat': opts.heartBeat ?? DEFAULT_HEART_BEAT,
  };
  if (opts.login !== undefined) connectHeaders.login = opts.login;
  if (opts.passcode !== undefined) connectHeaders.passcode = opts.passcode;
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    const client = stompit.connect(
      { host: opts.host ?? testBrokerHost(), port, timeout: timeoutMs, connectHeaders },
      (error: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          reject(error);
          return;
        }
        // Keep later errors (broker stopped, ERROR frame) from being unhandled 'error' events;
        // subscriptions and receipts still see them.
        client.on('error', (e: Error) => clientErrors.set(client, e));
        resolve(client);
      },
    );
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      client.on('error', () => undefined);
      client.destroy(new Error(`STOMP connect to port ${port} timed out after ${timeoutMs} ms`));
      reject(new Error(`STOMP connect to port ${port} timed out after ${timeoutMs} ms (handshake included)`));
    }, timeoutMs);
  });
}

/** Graceful DISCONNECT (waits for the receipt, at most timeoutMs), then the socket is closed. */
export function disconnectTestClient(client: Client, timeoutMs = 5_000): Promise<void> {
  // Already closed or failed: stompit would never answer a DISCONNECT.
  if (client.getTransportSocket().destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      client.destroy(new Error('disconnect timed out'));
      resolve();
    }, timeoutMs);
    try {
      client.disconnect(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

export type Body = string | Buffer | object;

function encodeBody(body: Body, headers: Headers): { bytes: Buffer | string; headers: Headers } {
  if (typeof body === 'string' || Buffer.isBuffer(body)) return { bytes: body, headers };
  return { bytes: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } };
}

/**
 * SEND on an open client and wait for the broker's RECEIPT (the message is then surely on the
 * broker). Messages are persistent unless headers say otherwise.
 */
export function sendWithReceipt(client: Client, destination: string, body: Body, headers: Headers = {}): Promise<void> {
  const encoded = encodeBody(body, headers);
  return new Promise<void>((resolve, reject) => {
    const frame = client.send(
      { persistent: 'true', ...encoded.headers, destination },
      { onReceipt: () => resolve(), onError: (error: Error) => reject(error) },
    );
    frame.on('error', reject);
    frame.end(encoded.bytes);
  });
}

/** Connect, SEND with a receipt, disconnect. Body objects are sent as JSON. */
export async function publish(
  port: number,
  destination: string,
  body: Body,
  headers: Headers = {},
): Promise<void> {
  const client = await connectTestClient(port);
  try {
    await sendWithReceipt(client, destination, body, headers);
  } finally {
    await disconnectTestClient(client);
  }
}

export interface ReceivedMessage {
  headers: Record<string, string>;
  body: string;
  /** The underlying frame, for ack/nack on an open TestSubscription. */
  raw: Message;
}

export interface SubscribeOptions {
  /** Default 'client-individual'. */
  ack?: stompit.Client.Ack;
  /** activemq.prefetchSize, default 100. */
  prefetch?: number;
  selector?: string;
  /** More SUBSCRIBE headers. */
  headers?: Headers;
}

// Far above stompit's own subscription ids (1, 2, ...), so both can share a client.
let nextSubscriptionId = 1_000_000;

/** A live subscription: messages are collected as they arrive; nothing is acked by itself. */
export class TestSubscription {
  readonly messages: ReceivedMessage[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;
  private failure: Error | undefined;
  private readonly subscription: { unsubscribe(headers?: unknown): void };

  private constructor(
    readonly client: Client,
    readonly destination: string,
    readonly ack: stompit.Client.Ack,
    private readonly ownsClient: boolean,
    subscribeHeaders: Headers,
    onSubscribed: (error?: Error) => void,
  ) {
    const id = nextSubscriptionId++;
    this.subscription = client.setImplicitSubscription(id, ack, (error, message) => this.onMessage(error, message));
    const frame = client.sendFrame(
      'SUBSCRIBE',
      { ...subscribeHeaders, destination, id, ack },
      {
        onReceipt: () => onSubscribed(),
        onError: (e: Error) => onSubscribed(e),
      } as stompit.Client.SendOptions,
    );
    frame.end();
  }

  /**
   * Subscribe and wait for the broker's RECEIPT, so the queue exists (a virtual topic consumer
   * queue only gets messages published after this). Opens its own client unless one is given.
   */
  static async open(
    portOrClient: number | Client,
    destination: string,
    opts: SubscribeOptions = {},
  ): Promise<TestSubscription> {
    const ownsClient = typeof portOrClient === 'number';
    const client = typeof portOrClient === 'number' ? await connectTestClient(portOrClient) : portOrClient;
    const headers: Headers = {
      'activemq.prefetchSize': opts.prefetch ?? DEFAULT_PREFETCH,
      ...(opts.selector !== undefined ? { selector: opts.selector } : {}),
      ...opts.headers,
    };
    try {
      let sub: TestSubscription | undefined;
      await new Promise<void>((resolve, reject) => {
        sub = new TestSubscription(client, destination, opts.ack ?? 'client-individual', ownsClient, headers, (e) =>
          e ? reject(e) : resolve(),
        );
      });
      return sub as TestSubscription;
    } catch (error) {
      if (ownsClient) client.destroy(error as Error);
      throw error;
    }
  }

  private onMessage(error: Error | null, message: Message): void {
    if (error) {
      this.failure = error;
      this.wake();
      return;
    }
    message.readString('utf-8', (readError, body) => {
      if (readError) {
        this.failure = readError;
      } else {
        // @types/stompit leaves `headers` out of the frame type; stompit sets it.
        const headers = (message as unknown as { headers: Record<string, string> }).headers;
        this.messages.push({ headers: { ...headers }, body: body ?? '', raw: message });
      }
      this.wake();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /**
   * Wait until at least `count` messages were collected (or the timeout passes) and return the
   * collected ones (possibly fewer: assert on the length). Rejects if the connection failed.
   */
  async take(count: number, timeoutMs: number): Promise<ReceivedMessage[]> {
    await this.waitUntil(() => this.messages.length >= count, timeoutMs);
    return this.messages.slice(0, Math.max(count, 0));
  }

  /** The first collected message matching the predicate, or undefined after the timeout. */
  async waitFor(predicate: (m: ReceivedMessage) => boolean, timeoutMs: number): Promise<ReceivedMessage | undefined> {
    await this.waitUntil(() => this.messages.some(predicate), timeoutMs);
    return this.messages.find(predicate);
  }

  private async waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** ACK one message and wait for the receipt. */
  ackMessage(message: ReceivedMessage): Promise<void> {
    return this.acknowledge('ack', message);
  }

  /** NACK one message and wait for the receipt. */
  nackMessage(message: ReceivedMessage): Promise<void> {
    return this.acknowledge('nack', message);
  }

  private acknowledge(kind: 'ack' | 'nack', message: ReceivedMessage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const options = { onReceipt: () => resolve(), onError: (e: Error) => reject(e) } as stompit.Client.SendOptions;
      const done = (error?: Error | null): void => {
        if (error) reject(error);
      };
      if (kind === 'ack') this.client.ack(message.raw, {}, options, done);
      else this.client.nack(message.raw, {}, options, done);
    });
  }

  /** Graceful DISCONNECT of its own client (unacked messages go back to the broker). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await disconnectTestClient(this.client);
    else this.subscription.unsubscribe();
  }

  /** Drop the connection without DISCONNECT, as a crashed consumer would. */
  abort(): void {
    this.closed = true;
    this.client.destroy(new Error('aborted by test'));
  }
}

export interface ConsumeOptions extends SubscribeOptions {
  /** Stop after this many messages. */
  count: number;
  /** Return what was collected by then (possibly nothing). */
  timeoutMs: number;
}

/**
 * Subscribe (client-individual by default), collect up to `count` messages within `timeoutMs`,
 * ACK them (with receipts) and disconnect. Resolves with what was collected, possibly fewer than
 * `count`: assert on the length. E.g. read a dead-letter queue:
 *   const dead = await consume(port, '/queue/DLQ.Consumer.x.y.VirtualTopic...', { count: 1, timeoutMs: 5000 });
 */
export async function consume(port: number, destination: string, opts: ConsumeOptions): Promise<ReceivedMessage[]> {
  const sub = await TestSubscription.open(port, destination, {
    ...opts,
    // No more in flight than asked for, so nothing extra is dispatched and then sent back.
    prefetch: opts.prefetch ?? Math.max(1, Math.min(opts.count, 500)),
  });
  try {
    const messages = await sub.take(opts.count, opts.timeoutMs);
    if (sub.ack !== 'auto') {
      for (const m of messages) await sub.ackMessage(m);
    }
    return messages;
  } finally {
    await sub.close();
  }
}

/**
 * Takes everything left on a queue with a client of its own: collects until nothing new arrives
 * for `quietMs`, ACKs it all (with receipts), disconnects. An empty result means an empty queue.
 */
export async function drain(port: number, destination: string, opts: { quietMs?: number; prefetch?: number } = {}): Promise<ReceivedMessage[]> {
  const quietMs = opts.quietMs ?? 1_000;
  const sub = await TestSubscription.open(port, destination, { prefetch: opts.prefetch ?? 500 });
  try {
    let seen = -1;
    while (sub.messages.length !== seen) {
      seen = sub.messages.length;
      await sub.take(seen + 1, quietMs);
    }
    for (const m of sub.messages) await sub.ackMessage(m);
    return [...sub.messages];
  } finally {
    await sub.close();
  }
}

/**
 * What a queue holds, read with ActiveMQ's queue browser (SUBSCRIBE `browser:true`): nothing is
 * consumed. The broker ends the browse with a message whose `browser` header is `end`.
 */
export async function browse(port: number, destination: string, timeoutMs = 10_000): Promise<ReceivedMessage[]> {
  const sub = await TestSubscription.open(port, destination, { ack: 'auto', prefetch: 1000, headers: { browser: 'true' } });
  try {
    const end = await sub.waitFor((m) => m.headers.browser === 'end', timeoutMs);
    if (!end) throw new Error(`browsing ${destination}: no end of browse within ${timeoutMs} ms`);
    return sub.messages.filter((m) => m.headers.browser !== 'end');
  } finally {
    await sub.close();
  }
}
