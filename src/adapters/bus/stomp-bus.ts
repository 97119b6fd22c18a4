import stompit from 'stompit';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { backoff } from '../../listener/backoff';
import { transientError } from '../../errors';
import type { Bus, Delivery, DeliveryHandler, Logger } from '../../listener/ports';

export interface StompServer {
  host: string;
  port: number;
  /**
   * TLS options (cert, key, ca, passphrase, servername); plain TCP when absent. A function is called
   * at every attempt, so certificates renewed on disk are picked up without a restart.
   */
  tls?: TlsOptions | (() => TlsOptions);
}

export interface StompBusOptions {
  servers: StompServer[];
  login?: string;
  passcode?: string;
  /** Queue prefix: Consumer.<client>.<subscription>. */
  consumer: string;
  heartbeatMs: number;
  connectTimeoutMs: number;
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
  prefetch: number;
  log: Logger;
  random?: () => number;
  /** How long publish() waits for a connection before it fails (transiently). */
  publishWaitMs?: number;
}

interface Subscription {
  /** The SUBSCRIBE id, the same on every connection, so each subscription is told apart in ACKs. */
  id: string;
  topic: string;
  onDelivery: DeliveryHandler;
}

interface Handle {
  client: stompit.Client;
  message: stompit.Client.Message;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * STOMP on ActiveMQ with stompit. stompit's client is dead after any error, so this adapter owns
 * the connection: ONE connection at a time (an attempt under way or waiting to be retried counts),
 * carrying every subscription; failover over the broker list with backoff, its own limit on the
 * CONNECT handshake, and every subscription made again on each new connection.
 *
 * An ACK counts only on the connection that delivered the message, so each delivery remembers its
 * connection and is acked there; a delivery from a connection since lost is left alone, and the
 * broker redelivers it on the new one.
 */
export class StompBus implements Bus {
  private client: stompit.Client | null = null;
  /** A connection attempt is under way or scheduled: no other may start. */
  private connecting = false;
  private nextSubscriptionId = 1;
  /** True once the broker has confirmed the current client's subscriptions. */
  private subscribed = false;
  private subscribedWaiters: Array<() => void> = [];
  private readonly subs: Subscription[] = [];
  private closed = false;
  private failures = 0;
  private serverIndex = 0;
  private timer: NodeJS.Timeout | null = null;
  private waiters: Array<() => void> = [];
  reconnects = 0;

  constructor(private readonly opts: StompBusOptions) {}

  /** Starts connecting unless connected or connecting; returns at once (the daemon runs while the broker is away). */
  start(): void {
    if (this.closed || this.client || this.connecting) return;
    this.connecting = true;
    this.connectNext();
  }

  isConnected(): boolean {
    return this.client !== null;
  }

  queueFor(topic: string): string {
    return `/queue/${this.opts.consumer}.${topic}`;
  }

  private connectNext(): void {
    if (this.closed) { this.connecting = false; return; }
    const server = this.opts.servers[this.serverIndex % this.opts.servers.length];
    this.serverIndex += 1;
    const where = `${server.tls ? 'stomp+ssl' : 'stomp'}://${server.host}:${server.port}`;
    const hb = this.opts.heartbeatMs;
    let tls: (TlsOptions & { certificateProblem?: string }) | undefined;
    try {
      tls = typeof server.tls === 'function' ? server.tls() : server.tls;
    } catch (err) {
      this.failed(where, err as Error);
      return;
    }
    // A cause the certificate itself gives (it expired) says more than the broker's generic alert.
    const { certificateProblem, ...tlsOptions } = tls ?? {};
    const hint = certificateProblem;
    const connectOptions = {
      host: server.host,
      port: server.port,
      timeout: this.opts.connectTimeoutMs,
      ...(tls ? { ssl: true as const, ...tlsOptions } : {}),
      connectHeaders: {
        host: '/',
        'accept-version': '1.1,1.2',
        'heart-beat': `${hb},${hb}`,
        ...(this.opts.login ? { login: this.opts.login, passcode: this.opts.passcode ?? '' } : {}),
      },
    };
    let settled = false;
    // stompit's own timeout covers the TCP connect only; a broker that accepts and never answers CONNECT
    // would hang the daemon for good without this.
    const handshake = setTimeout(() => {
      if (settled) return;
      settled = true;
      client.destroy(new Error(`no CONNECTED frame within ${this.opts.connectTimeoutMs} ms`));
      this.failed(where, new Error(`no CONNECTED frame within ${this.opts.connectTimeoutMs} ms`), hint);
    }, this.opts.connectTimeoutMs);
    let client: stompit.Client;
    try {
      client = stompit.connect(connectOptions as stompit.connect.ConnectOptions, (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(handshake);
        if (err) return this.failed(where, err, hint);
        this.connected(client, where);
      });
    } catch (err) {
      // tls.connect throws at once on a key it cannot use (a wrong passphrase, say).
      settled = true;
      clearTimeout(handshake);
      this.failed(where, err as Error, hint);
    }
  }

  private failed(where: string, err: Error, hint?: string): void {
    this.failures += 1;
    const delay = backoff(this.failures, this.opts.random ?? Math.random, this.opts.reconnectDelayMs, this.opts.maxReconnectDelayMs);
    const cause = hint ? `${hint}, so the broker refuses it (${brokerErrorText(err)})` : brokerErrorText(err);
    this.opts.log.error({ broker: where, err: cause, retryInMs: delay }, 'cannot connect to the broker');
    this.schedule(delay);
  }

  private schedule(delay: number): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.connectNext(); }, delay);
  }

  private connected(client: stompit.Client, where: string): void {
    if (this.closed) { client.on('error', () => undefined); client.disconnect(); return; }
    this.connecting = false;
    this.failures = 0;
    this.client = client;
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      this.subscribed = false;
      this.connecting = true;
      this.reconnects += 1;
      this.opts.log.warn({ broker: where, err: err ? brokerErrorText(err) : 'connection closed' }, 'lost the broker connection; reconnecting');
      this.schedule(backoff(1, this.opts.random ?? Math.random, this.opts.reconnectDelayMs, this.opts.maxReconnectDelayMs));
    };
    client.on('error', lost);
    client.on('end', () => lost());
    for (const sub of this.subs) this.subscribeOn(client, sub);
    this.confirmSubscriptions(client);
    this.opts.log.info({ broker: where, subscriptions: this.subs.length }, 'connected to the broker');
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private subscribeOn(client: stompit.Client, sub: Subscription): void {
    const destination = this.queueFor(sub.topic);
    client.subscribe({
      id: sub.id,
      destination,
      ack: 'client-individual',
      // Without a bounded prefetch an ActiveMQ consumer stalls for good after a few thousand messages.
      'activemq.prefetchSize': String(this.opts.prefetch),
    }, (err, message) => {
      if (err) {
        this.opts.log.error({ destination, err: brokerErrorText(err) }, 'subscription failed');
        return;
      }
      // Bytes first: a body that is not UTF-8 is not JSON, and decoding it leniently would hide that.
      const chunks: Buffer[] = [];
      message.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
      message.on('error', (readErr: Error) => this.opts.log.warn({ destination, err: readErr.message }, 'cannot read a message body; it will be redelivered'));
      message.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries((message as unknown as { headers: Record<string, unknown> }).headers)) headers[k] = String(v);
        let body: string;
        let encodingError: string | undefined;
        try {
          body = UTF8.decode(bytes);
        } catch {
          body = bytes.toString('utf8');
          encodingError = 'message body is not valid UTF-8';
        }
        const delivery: Delivery = {
          envelope: { id: headers['message-id'] ?? '', topic: sub.topic, headers, body, source: 'bus', ...(encodingError ? { encodingError } : {}) },
          handle: { client, message } satisfies Handle,
        };
        sub.onDelivery(delivery);
      });
    });
  }

  /**
   * The broker handles a connection's frames in order, so the receipt of an empty transaction sent
   * after the SUBSCRIBE frames says they are in place: messages published from then on reach us.
   */
  private confirmSubscriptions(client: stompit.Client): void {
    const tx = `cvp-subscribed-${Date.now()}`;
    client.sendFrame('BEGIN', { transaction: tx }).end();
    client.sendFrame('ABORT', { transaction: tx }, {
      onReceipt: () => {
        if (this.client !== client) return;
        this.subscribed = true;
        const waiters = this.subscribedWaiters;
        this.subscribedWaiters = [];
        for (const w of waiters) w();
      },
    } as stompit.Client.SendOptions).end();
  }

  /** Connected, and every subscription confirmed by the broker. */
  isSubscribed(): boolean {
    return this.client !== null && this.subscribed;
  }

  /** Resolves once the subscriptions are confirmed (at once if they are). */
  whenSubscribed(): Promise<void> {
    if (this.isSubscribed()) return Promise.resolve();
    return new Promise((resolve) => this.subscribedWaiters.push(resolve));
  }

  /** Adds a subscription to the one connection (made on it now if connected, else when it is). */
  async subscribe(topic: string, onDelivery: DeliveryHandler): Promise<void> {
    const sub = { id: `cvp-${this.nextSubscriptionId++}`, topic, onDelivery };
    this.subs.push(sub);
    if (this.client) {
      this.subscribed = false;
      this.subscribeOn(this.client, sub);
      this.confirmSubscriptions(this.client);
    }
    this.start();
  }

  private waitForConnection(): Promise<stompit.Client> {
    if (this.client) return Promise.resolve(this.client);
    const waitMs = this.opts.publishWaitMs ?? 5_000;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== onUp);
        reject(transientError('BUS_UNAVAILABLE', `not connected to any broker within ${waitMs} ms`));
      }, waitMs);
      const onUp = () => { clearTimeout(t); if (this.client) resolve(this.client); else reject(transientError('BUS_UNAVAILABLE', 'broker connection lost')); };
      this.waiters.push(onUp);
      this.start();
    });
  }

  /** Resolves once the broker has the message (a RECEIPT), so the outbox marks it sent only then. */
  async publish(destination: string, body: string, headers: Record<string, string>): Promise<void> {
    const client = await this.waitForConnection();
    const receiptMs = this.opts.publishWaitMs ?? 5_000;
    await new Promise<void>((resolve, reject) => {
      // A connection lost before the RECEIPT leaves the outcome unknown: retry; receivers de-duplicate.
      const t = setTimeout(() => reject(transientError('BUS_UNAVAILABLE', `no receipt for a message to ${destination} within ${receiptMs} ms`)), receiptMs);
      // content-length, so a body with a NUL byte in it is not cut there (STOMP ends a frame at NUL).
      const frame = client.send({ ...headers, destination, 'content-type': 'application/json', persistent: 'true', 'content-length': String(Buffer.byteLength(body)) }, {
        onReceipt: () => { clearTimeout(t); resolve(); },
        onError: (err: Error) => { clearTimeout(t); reject(transientError('BUS_UNAVAILABLE', `publish to ${destination} failed: ${err.message}`)); },
      } as stompit.Client.SendOptions);
      frame.write(body);
      frame.end();
    });
  }

  /** After a reconnect the old client's acks are void: the broker redelivers and the journal spots it. */
  async ack(delivery: Delivery): Promise<void> {
    const h = delivery.handle as Handle | null;
    if (h && h.client === this.client) h.client.ack(h.message);
  }

  async nack(delivery: Delivery): Promise<void> {
    const h = delivery.handle as Handle | null;
    if (h && h.client === this.client) h.client.nack(h.message);
  }

  /** DISCONNECT after the acks already written: the broker handles a connection's frames in order. */
  async close(): Promise<void> {
    this.closed = true;
    this.connecting = false;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const client = this.client;
    this.client = null;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { client.destroy(new Error('disconnect timed out')); resolve(); }, 3_000);
      client.disconnect(() => { clearTimeout(t); resolve(); });
    });
  }
}

/** Names the cause in words a person on call can act on. */
export function brokerErrorText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message.trim();
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the broker running on this port?)',
    ENOTFOUND: 'host not found',
    ETIMEDOUT: 'connection timed out',
    ECONNRESET: 'connection reset by the broker',
    CERT_HAS_EXPIRED: 'the broker\'s certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'the broker\'s certificate is self-signed and not trusted (check tls.ca)',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the broker\'s certificate is not signed by a trusted CA (check tls.ca)',
    ERR_TLS_CERT_ALTNAME_INVALID: 'the broker\'s certificate does not match its host name',
    SELF_SIGNED_CERT_IN_CHAIN: 'the broker\'s certificate chain is not trusted (check tls.ca)',
    ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the broker refused our client certificate (bad certificate)',
    ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'the broker does not trust our client certificate (certificate unknown: signed by a CA it does not know, or expired)',
    ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the broker does not trust the CA of our client certificate',
    ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'the broker refused our client certificate: it has expired',
    ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the broker requires a client certificate (set tls.cert and tls.key)',
    ERR_SSL_BAD_DECRYPT: 'cannot decrypt the client key (wrong tls.passphrase?)',
  };
  if (code && known[code]) return `${known[code]}: ${message}`;
  // Some refusals arrive only as an SSL alert in the message text.
  if (/alert (bad certificate|certificate unknown|unknown ca|certificate expired)/i.test(message)) return `the broker refused our client certificate: ${message}`;
  return message;
}
