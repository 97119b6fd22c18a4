/**
 * A loopback TCP proxy in front of the broker: it counts the connections a client opens (what the
 * broker would count), and can cut them all at once, as a network failure would (no DISCONNECT).
 */
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export class TcpProxy {
  /** Connections accepted since start, in order. */
  accepted = 0;
  /** While true, new connections are accepted and held, never forwarded: a broker that does not answer. */
  hold = false;
  private readonly open = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private readonly held = new Set<net.Socket>();
  private readonly server = net.createServer((client) => this.accept(client));

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Connections open right now. */
  get openConnections(): number {
    return this.open.size;
  }

  /** Drops every open connection with a reset, both ways. */
  cut(): void {
    for (const socket of this.held) socket.resetAndDestroy();
    this.held.clear();
    for (const pair of this.open) {
      pair.client.resetAndDestroy();
      pair.upstream.resetAndDestroy();
    }
    this.open.clear();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.accepted += 1;
    if (this.hold) {
      client.on('error', () => undefined);
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = { client, upstream };
    this.open.add(pair);
    const end = () => {
      this.open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
