import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventView } from '../../listener/views/event-view';
import type { IntakeOutcome } from '../../listener/intake/intake';
import type { Delivery, Logger } from '../../listener/ports';
import { permanentError } from '../../errors';

export interface HttpIntakeOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  handle: (delivery: Delivery) => Promise<IntakeOutcome>;
  status: (messageId: string) => Promise<EventView | null>;
  /** `detail` is listed in the body as it is (the watchdog's alarms, say), whether ready or not. */
  ready: () => { ready: boolean; why: string[]; detail?: Record<string, unknown> };
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Required on the event endpoints when set: a bearer token, or an HMAC-SHA256 of the body. */
  auth?: { token?: string; hmacSecret?: string };
  onUnauthorized?: (path: string) => void;
  log: Logger;
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

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly reasons: string[] = []) { super(message); }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) { reject(new HttpError(413, `body of ${declared} bytes is over the limit of ${limit}`)); req.resume(); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { reject(new HttpError(413, `body is over the limit of ${limit} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Why the intake cannot listen, naming the setting to change (the original error is the cause). */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const at = `${host}:${port}`;
  if (err.code === 'EADDRINUSE') return permanentError('CONFIG_INVALID', `intake.port: ${at} is already in use by another process (another cvp?)`, undefined, err);
  if (err.code === 'EACCES') return permanentError('CONFIG_INVALID', `intake.port: not allowed to listen on ${at} (ports below 1024 need privileges)`, undefined, err);
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') return permanentError('CONFIG_INVALID', `intake.host: ${host} is not an address of this machine`, undefined, err);
  return err;
}

/**
 * The loopback HTTP intake: events arrive as POST /events {topic, body}, go through the same core
 * entry point as bus messages, and the answer says what became of them. Also the daemon's
 * health, readiness and status endpoints.
 */
export class HttpIntake {
  private server: Server | null = null;

  constructor(private readonly opts: HttpIntakeOptions) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (err instanceof HttpError) send(res, err.status, { error: err.message, reasons: err.reasons });
        else {
          this.opts.log.error({ err: (err as Error).message, path: req.url }, 'intake request failed');
          send(res, 500, { error: 'internal error; see the daemon log' });
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, this.opts.host, this.opts.port)));
      this.server!.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.opts.log.info({ url: this.url() }, 'HTTP intake listening');
  }

  url(): string {
    const addr = this.server?.address() as AddressInfo;
    return `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  }

  /** A token, compared in constant time; or a signature over the raw body. Probes and metrics stay open. */
  private authorized(req: IncomingMessage, body: string | null): boolean {
    const auth = this.opts.auth;
    if (!auth || (!auth.token && !auth.hmacSecret)) return true;
    const header = String(req.headers.authorization ?? '');
    if (auth.token && header.startsWith('Bearer ') && safeEqual(header.slice(7), auth.token)) return true;
    if (auth.hmacSecret && body !== null) {
      const sig = String(req.headers['x-cvp-signature'] ?? '');
      const expected = `sha256=${createHmac('sha256', auth.hmacSecret).update(body).digest('hex')}`;
      if (safeEqual(sig, expected)) return true;
    }
    return false;
  }

  private refuse(res: ServerResponse, path: string): void {
    this.opts.onUnauthorized?.(path);
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="cvp"' });
    res.end(JSON.stringify({ error: 'unauthorized: send Authorization: Bearer <intake token> or X-CVP-Signature: sha256=<hmac of the body>' }) + '\n');
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://intake');
    if (req.method === 'POST' && url.pathname === '/events') return this.postEvent(req, res);
    const m = /^\/events\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && m) {
      if (!this.authorized(req, null)) return this.refuse(res, '/events/:id');
      const view = await this.opts.status(decodeURIComponent(m[1]));
      if (!view) throw new HttpError(404, `no event with id ${decodeURIComponent(m[1])}`);
      return send(res, 200, view);
    }
    if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, { status: 'alive' });
    if (req.method === 'GET' && url.pathname === '/readyz') {
      const r = this.opts.ready();
      return send(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', why: r.why, ...r.detail });
    }
    if (req.method === 'GET' && url.pathname === '/metrics' && this.opts.metrics) {
      const m2 = await this.opts.metrics();
      res.writeHead(200, { 'content-type': m2.contentType });
      res.end(m2.body);
      return;
    }
    const route = this.opts.routes?.find((x) => x.method === req.method && x.path === url.pathname);
    if (route) return this.serveRoute(route, req, res, url);
    throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname}`);
  }

  private async serveRoute(route: HttpRoute, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = req.method === 'POST' ? await readBody(req, this.opts.maxBodyBytes) : '';
    if (route.auth === 'intake' && !this.authorized(req, null) && !this.basicAuthorized(req)) {
      this.opts.onUnauthorized?.(route.path);
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Basic realm="cvp", charset="UTF-8"' });
      res.end('unauthorized: the intake token is required (Authorization: Bearer <token>, or any user name with the token as password)\n');
      return;
    }
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

  private async postEvent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, this.opts.maxBodyBytes);
    if (!this.authorized(req, raw)) return this.refuse(res, '/events');
    let wrapper: unknown;
    try {
      wrapper = JSON.parse(raw);
    } catch (err) {
      throw new HttpError(400, `request body is not JSON: ${(err as Error).message}`);
    }
    if (!wrapper || typeof wrapper !== 'object' || Array.isArray(wrapper)) throw new HttpError(400, 'expected {"topic": "...", "body": {...}}');
    const { topic, body, id } = wrapper as { topic?: unknown; body?: unknown; id?: unknown };
    if (typeof topic !== 'string' || !topic) throw new HttpError(400, '$.topic: required string, e.g. VirtualTopic.eng.ci.redhat-container-group.test.queued');
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
