import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How many connections the daemon's port holds, and how long each may take. */
export interface ConnectionLimits {
  /** Open connections at most; past it, the one idle longest is closed to make room. */
  maxConnections: number;
  /** From the connection to the end of the request's headers. */
  headersTimeoutMs: number;
  /** From the connection to the end of the request's body. */
  bodyTimeoutMs: number;
  /** A kept-alive connection with no request, or a socket with no traffic at all. */
  idleTimeoutMs: number;
}

export const defaultConnectionLimits: ConnectionLimits = {
  maxConnections: 512,
  headersTimeoutMs: 5_000,
  bodyTimeoutMs: 15_000,
  idleTimeoutMs: 5_000,
};

/**
 * Bounds the connections of an HTTP server whatever the clients do. Node's own maxConnections
 * refuses every new connection once the limit is reached, so slow clients holding every slot would
 * keep a health probe out; here a new connection is always taken and the connection that has waited
 * longest without a request in progress (one still sending its headers, or kept alive with nothing
 * to do) is closed instead. Requests in progress are never cut short by newcomers; when every slot
 * holds one, the newcomer is closed. Timeouts end the slow ones (Node checks them every
 * `checkEveryMs`).
 */
export class ConnectionGuard {
  /** Sockets without a request in progress, oldest first (a Set keeps insertion order). */
  private readonly waiting = new Set<Socket>();
  private open = 0;
  evicted = 0;
  refused = 0;

  constructor(private readonly limits: ConnectionLimits) {}

  /** The options to give http.createServer. */
  serverOptions(): { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number } {
    const l = this.limits;
    return {
      headersTimeout: Math.min(l.headersTimeoutMs, l.bodyTimeoutMs),
      requestTimeout: l.bodyTimeoutMs,
      keepAliveTimeout: l.idleTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(l.headersTimeoutMs / 2))),
    };
  }

  attach(server: Server): void {
    // A socket with no traffic at all for this long is closed, whatever state its request is in.
    server.setTimeout(Math.max(this.limits.idleTimeoutMs, this.limits.bodyTimeoutMs), (socket) => socket.destroy());
    // Node's own limit stays as a backstop well above this one (it refuses, rather than evicts).
    server.maxConnections = this.limits.maxConnections * 2;
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket;
      this.waiting.delete(socket);
      res.once('finish', () => { if (!socket.destroyed) this.waiting.add(socket); });
    });
  }

  get connections(): number {
    return this.open;
  }

  private admit(socket: Socket): void {
    this.open += 1;
    socket.once('close', () => {
      this.open -= 1;
      this.waiting.delete(socket);
    });
    if (this.open > this.limits.maxConnections) {
      const oldest = this.waiting.values().next();
      if (oldest.done) {
        // Every slot holds a request in progress: the newcomer waits its turn elsewhere.
        this.refused += 1;
        socket.destroy();
        return;
      }
      this.waiting.delete(oldest.value);
      this.evicted += 1;
      oldest.value.destroy();
    }
    this.waiting.add(socket);
  }
}
