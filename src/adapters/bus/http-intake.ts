import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventView } from '../../listener/views/event-view';
import type { IntakeOutcome } from '../../listener/intake/intake';
import type { Delivery, Logger } from '../../listener/ports';
import { permanentError } from '../../errors';
import { jsonDepth } from '../../validator/safe-parse';
import { ConnectionGuard, defaultConnectionLimits, type ConnectionLimits } from './connection-guard';
import { LoopbackOrigin } from './loopback-origin';

/** Refuses new events while the journal's backlog (runs waiting to start) is deeper than `maxBacklog`. */
export interface Admission {
  /** Runs pending or being triggered; read at most every `refreshMs`, never per request. */
  backlog: () => Promise<number>;
  maxBacklog: number;
  refreshMs?: number;
  /** What Retry-After says. */
  retryAfterSeconds?: number;
}

export interface HttpIntakeOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  /** Nesting allowed in the event (the wrapper adds one level). */
  maxDepth?: number;
  handle: (delivery: Delivery) => Promise<IntakeOutcome>;
  status: (messageId: string) => Promise<EventView | null>;
  /** `detail` is listed in the body as it is (the watchdog's alarms, say), whether ready or not. */
  ready: () => { ready: boolean; why: string[]; detail?: Record<string, unknown> };
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Required on the event endpoints when set: a bearer token, or an HMAC-SHA256 of the body. */
  auth?: { token?: string; hmacSecret?: string };
  onUnauthorized?: (path: string) => void;
  connections?: Partial<ConnectionLimits>;
  /** Host header values a loopback intake answers to besides its loopback names (a reverse proxy's). */
  allowedHosts?: string[];
  admission?: Admission;
  log: Logger;
  now?: () => number;
  /** More endpoints on the daemon's port (the dashboard, Slack's interactivity). */
  routes?: HttpRoute[];
}

/** An endpoint mounted on the intake's port by another adapter. */
export interface HttpRoute {
  method: 'GET' | 'POST';
  path: string;
  /**
   * intake: the intake's token is required when one is set (Bearer, or HTTP Basic with the token as
   * the password, so that a browser can ask for it); own: the route checks the request itself.
   */
  auth: 'intake' | 'own';
  handle(req: RouteRequest): Promise<RouteReply>;
}

export interface RouteRequest {
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The raw body, as received (a signature may be over it). */
  body: string;
}

export interface RouteReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

function safeEqual(a: Buffer | string, b: Buffer | string): boolean {
  const x = Buffer.isBuffer(a) ? a : Buffer.from(a);
  const y = Buffer.isBuffer(b) ? b : Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly reasons: string[] = [], readonly headers: Record<string, string> = {}) { super(message); }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** The body as bytes, at most `limit` of them (Node's requestTimeout bounds how long it may take). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) { reject(new HttpError(413, `body of ${declared} bytes is over the limit of ${limit}`, [], { connection: 'close' })); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { reject(new HttpError(413, `body is over the limit of ${limit} bytes`, [], { connection: 'close' })); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why the intake cannot listen, naming the setting to change (the original error is the cause). */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const at = `${host}:${port}`;
  if (err.code === 'EADDRINUSE') return permanentError('CONFIG_INVALID', `intake.port: ${at} is already in use by another process (another cvp?)`, undefined, err);
  if (err.code === 'EACCES') return permanentError('CONFIG_INVALID', `intake.port: not allowed to listen on ${at} (ports below 1024 need privileges)`, undefined, err);
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') return permanentError('CONFIG_INVALID', `intake.host: ${host} is not an address of this machine`, undefined, err);
  return err;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The last value read, read again at most every `maxAgeMs` (in the background once there is one). */
class Cached {
  private value: number | null = null;
  private at = -Infinity;
  private reading: Promise<void> | null = null;

  constructor(private readonly read: () => Promise<number>, private readonly maxAgeMs: number, private readonly now: () => number) {}

  async current(): Promise<number | null> {
    const now = this.now();
    if (now - this.at >= this.maxAgeMs && !this.reading) {
      this.reading = this.read()
        .then((v) => { this.value = v; this.at = now; }, () => { this.at = now; })
        .finally(() => { this.reading = null; });
    }
    if (this.value === null && this.reading) await this.reading;
    return this.value;
  }
}

/**
 * The loopback HTTP intake: events arrive as POST /events {topic, body}, go through the same core
 * entry point as bus messages, and the answer says what became of them. Also the daemon's
 * health, readiness and status endpoints.
 *
 * What a client can make it spend is bounded: connections (the one idle longest makes room for a
 * newcomer), the time to send headers and body, the body's size and nesting; a request is
 * authenticated from its headers before its body is read, and refused (429) while the journal's
 * backlog is too deep. On a loopback address, Host must name the loopback and a web page's Origin is
 * refused, so a browser cannot be made to post events or read answers (DNS rebinding).
 */
export class HttpIntake {
  private server: Server | null = null;
  private origin: LoopbackOrigin | null = null;
  readonly guard: ConnectionGuard;
  private readonly backlog: Cached | null;
  private readonly maxDepth: number;

  constructor(private readonly opts: HttpIntakeOptions) {
    this.guard = new ConnectionGuard({ ...defaultConnectionLimits, ...opts.connections });
    const a = opts.admission;
    this.backlog = a ? new Cached(a.backlog, a.refreshMs ?? 2_000, opts.now ?? Date.now) : null;
    this.maxDepth = (opts.maxDepth ?? 32) + 1;
  }

  async start(): Promise<void> {
    // "" would listen on every interface: never by accident (an unset ${VAR}).
    if (!this.opts.host.trim()) throw permanentError('CONFIG_INVALID', 'intake.host: empty; write 127.0.0.1 for this machine only, or an address of this machine (with intake.token)');
    const server = createServer(this.guard.serverOptions(), (req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (res.headersSent) { res.destroy(); return; }
        if (err instanceof HttpError) send(res, err.status, { error: err.message, reasons: err.reasons }, err.headers);
        else {
          this.opts.log.error({ err: (err as Error).message, path: printablePath(req.url) }, 'intake request failed');
          send(res, 500, { error: 'internal error; see the daemon log' });
        }
      });
    });
    this.guard.attach(server);
    // A malformed request line or header: 400 and close, without a word to the log per attacker.
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable || err.code === 'ECONNRESET') { socket.destroy(); return; }
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      // Written, then closed at once (as Node's own handler does): a client that never reads would
      // otherwise hold a half-closed socket, and its file descriptor, for as long as it likes.
      socket.write(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      socket.destroy();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, this.opts.host, this.opts.port)));
      server.listen({ port: this.opts.port, host: this.opts.host, backlog: 511 }, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.origin = new LoopbackOrigin(port, [this.opts.host, ...(this.opts.allowedHosts ?? [])]);
    this.opts.log.info({ url: this.url() }, 'HTTP intake listening');
  }

  url(): string {
    const addr = this.server?.address() as AddressInfo;
    return `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  }

  /** Whether a token or signature is needed on the event endpoints. */
  private get guarded(): boolean {
    return !!(this.opts.auth?.token || this.opts.auth?.hmacSecret);
  }

  /** The bearer token, compared in constant time. */
  private hasToken(req: IncomingMessage): boolean {
    const token = this.opts.auth?.token;
    const header = String(req.headers.authorization ?? '');
    return !!token && header.startsWith('Bearer ') && safeEqual(header.slice(7), token);
  }

  /** The signature header, well-formed: `sha256=` and 64 hex digits. Checked against the body once read. */
  private signature(req: IncomingMessage): Buffer | null {
    if (!this.opts.auth?.hmacSecret) return null;
    const m = /^sha256=([0-9a-f]{64})$/i.exec(String(req.headers['x-cvp-signature'] ?? ''));
    return m ? Buffer.from(m[1].toLowerCase(), 'utf8') : null;
  }

  private refuse(res: ServerResponse, path: string): void {
    this.opts.onUnauthorized?.(path);
    send(res, 401, { error: 'unauthorized: send Authorization: Bearer <intake token> or X-CVP-Signature: sha256=<hmac of the body>' },
      { 'www-authenticate': 'Bearer realm="cvp"', connection: 'close' });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    let path: string;
    try {
      if (!target.startsWith('/')) throw new Error('not a path');
      path = new URL(target, 'http://intake').pathname;
    } catch {
      throw new HttpError(400, `malformed request target ${printablePath(target)}`);
    }
    const foreign = this.origin?.problem(req.headers, isLoopbackHost(this.opts.host)) ?? null;
    if (foreign) throw new HttpError(403, `forbidden: ${foreign}`, [], { connection: 'close' });
    if (req.method === 'POST' && path === '/events') return this.postEvent(req, res);
    const m = /^\/events\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && m) {
      if (this.guarded && !this.hasToken(req)) return this.refuse(res, '/events/:id');
      let id: string;
      try {
        id = decodeURIComponent(m[1]);
      } catch {
        throw new HttpError(400, `malformed event id in ${printablePath(target)}: not a valid percent-encoding`);
      }
      const view = await this.opts.status(id);
      if (!view) throw new HttpError(404, `no event with id ${printablePath(id)}`);
      return send(res, 200, view);
    }
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { status: 'alive' });
    if (req.method === 'GET' && path === '/readyz') {
      const r = this.opts.ready();
      return send(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', why: r.why, ...r.detail });
    }
    if (req.method === 'GET' && path === '/metrics' && this.opts.metrics) {
      const m2 = await this.opts.metrics();
      res.writeHead(200, { 'content-type': m2.contentType });
      res.end(m2.body);
      return;
    }
    const route = this.opts.routes?.find((x) => x.method === req.method && x.path === path);
    if (route) return this.serveRoute(route, req, res, target);
    throw new HttpError(404, `no such endpoint: ${printablePath(req.method ?? '?')} ${printablePath(path)}`);
  }

  /** A mounted endpoint: the intake's token checked before any body is read, the body strict UTF-8. */
  private async serveRoute(route: HttpRoute, req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
    if (route.auth === 'intake' && this.guarded && !this.hasToken(req) && !this.basicAuthorized(req)) {
      this.opts.onUnauthorized?.(route.path);
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Basic realm="cvp", charset="UTF-8"', connection: 'close' });
      res.end('unauthorized: the intake token is required (Authorization: Bearer <token>, or any user name with the token as password)\n');
      return;
    }
    let body = '';
    if (req.method === 'POST') {
      const raw = await readBody(req, this.opts.maxBodyBytes);
      try {
        body = utf8.decode(raw);
      } catch {
        throw new HttpError(400, 'request body is not valid UTF-8', [], { connection: 'close' });
      }
    }
    const url = new URL(target, 'http://intake');
    const reply = await route.handle({ path: url.pathname, query: url.searchParams, headers: req.headers, body });
    res.writeHead(reply.status, { 'content-length': String(Buffer.byteLength(reply.body)), ...reply.headers });
    res.end(reply.body);
  }

  /** HTTP Basic with the intake's token as the password: what a browser can send. */
  private basicAuthorized(req: IncomingMessage): boolean {
    const token = this.opts.auth?.token;
    const header = String(req.headers.authorization ?? '');
    if (!token || !header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && safeEqual(decoded.slice(colon + 1), token);
  }

  /** Everything that can be decided from the headers is, before a byte of the body is read. */
  private async postEvent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const signature = this.signature(req);
    if (this.guarded && !this.hasToken(req) && !signature) return this.refuse(res, '/events');
    const type = String(req.headers['content-type'] ?? '');
    const media = /^\s*application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
    if (!media.test(type)) {
      throw new HttpError(415, `POST /events takes Content-Type: application/json (UTF-8), found ${type ? printablePath(type) : 'none'}`, [], { connection: 'close' });
    }
    await this.admit();
    const raw = await readBody(req, this.opts.maxBodyBytes);
    if (signature && !this.hasToken(req)) {
      const expected = Buffer.from(createHmac('sha256', this.opts.auth!.hmacSecret!).update(raw).digest('hex'), 'utf8');
      if (!safeEqual(signature, expected)) return this.refuse(res, '/events');
    }
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      throw new HttpError(400, 'request body is not valid UTF-8');
    }
    const depth = jsonDepth(text);
    if (depth > this.maxDepth) throw new HttpError(400, `request body nests ${depth} levels deep, over the limit of ${this.maxDepth} (limits.max_depth and the wrapper)`);
    let wrapper: unknown;
    try {
      wrapper = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, `request body is not JSON: ${(err as Error).message.slice(0, 200)}`);
    }
    if (!wrapper || typeof wrapper !== 'object' || Array.isArray(wrapper)) throw new HttpError(400, 'expected {"topic": "...", "body": {...}}');
    const { topic, body, id } = wrapper as { topic?: unknown; body?: unknown; id?: unknown };
    if (typeof topic !== 'string' || !topic || topic.length > 500) throw new HttpError(400, '$.topic: required string (at most 500 characters), e.g. VirtualTopic.eng.ci.redhat-container-group.test.queued');
    if (body === undefined) throw new HttpError(400, '$.body: required (the event, as an object or a JSON string)');
    if (id !== undefined && (typeof id !== 'string' || !/^[\w.:-]{1,200}$/.test(id))) throw new HttpError(400, '$.id: expected a string of letters, digits and .:-_');
    const delivery: Delivery = {
      envelope: {
        id: (id as string | undefined) ?? `intake-${randomUUID()}`,
        topic: topic.replace(/^\/topic\//, ''),
        headers: {},
        body: typeof body === 'string' ? body : JSON.stringify(body),
        source: 'intake',
      },
      handle: null,
    };
    const outcome = await this.opts.handle(delivery);
    const status = outcome.status === 'rejected' ? 400 : outcome.status === 'duplicate' ? 200 : 202;
    send(res, status, outcome);
  }

  /** 429 while the journal holds more runs waiting to start than the configured depth. */
  private async admit(): Promise<void> {
    const a = this.opts.admission;
    if (!a || !this.backlog) return;
    const depth = await this.backlog.current();
    if (depth !== null && depth > a.maxBacklog) {
      const retry = String(a.retryAfterSeconds ?? 30);
      throw new HttpError(429, `busy: ${depth} runs are waiting to start, over intake.max_backlog (${a.maxBacklog}); try again later`, [], { 'retry-after': retry, connection: 'close' });
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** A request target or header as it can be shown in an answer or a log: bounded, printable. */
function printablePath(value: string | undefined): string {
  const clean = (value ?? '').replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
