/**
 * What the three loopback stand-ins (Jenkins, ResultsDB, Slack) share: listening on 127.0.0.1,
 * reading and parsing bodies, a request log, failure switches, and the record of requests the
 * stand-in did not recognise (so a test fails on a call the real peer would not understand).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInRequest {
  method: string;
  /** Path without the query string, still percent-encoded as sent. */
  path: string;
  /** Query parameters, first value wins (as a servlet's getParameter does). */
  query: Record<string, string>;
  searchParams: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON, form fields (first value wins), or the raw text; undefined when JSON did not parse. */
  body: unknown;
  /** Set for form bodies, to keep repeated fields. */
  form?: URLSearchParams;
  /** Build parameters as the client sent them (Jenkins trigger requests only). */
  params?: Record<string, string>;
  /** The status the stand-in answered with; 0 when it reset the connection instead. */
  status?: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as-is, with headers['content-type'] or text/plain. */
  text?: string;
  /** No answer at all: the connection is reset (TCP RST) after the request was read, as a failing proxy would. */
  reset?: boolean;
}

export type FailureCount = number | 'forever';

/** Form fields as an object, first value wins. */
export function firstValues(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!(k in out)) out[k] = v;
  return out;
}

export abstract class HttpStandIn {
  readonly requests: StandInRequest[] = [];
  /** "METHOD /path?query" of each request the stand-in did not recognise. */
  readonly unexpected: string[] = [];
  private readonly server = http.createServer((req, res) => void this.dispatch(req, res));
  private port = 0;
  private failure?: { status: number; remaining: FailureCount };
  private listening = false;

  /** http://127.0.0.1:PORT, known once started. */
  get url(): string {
    if (!this.port) throw new Error(`${this.constructor.name} is not started`);
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<string> {
    await this.listen(0);
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  async stop(): Promise<void> {
    await this.close();
  }

  /** Answer every request with `status` (the next `count` requests, or until restore()). */
  failWith(status: number, count: FailureCount = 'forever'): void {
    this.failure = { status, remaining: count };
  }

  /** Clears the failure switch (connections refused stay refused until acceptConnections()). */
  restore(): void {
    this.failure = undefined;
  }

  /** Stop listening and drop open keep-alive sockets, so clients get ECONNREFUSED (not a stale socket). */
  async refuseConnections(): Promise<void> {
    await this.close();
  }

  /** Listen again on the same port, so a client configured with the old URL reconnects. */
  async acceptConnections(): Promise<void> {
    if (!this.port) throw new Error(`${this.constructor.name} was never started`);
    await this.listen(this.port);
  }

  protected abstract handle(req: StandInRequest): Reply | Promise<Reply>;

  /** The body of a forced failure; subclasses answer in their peer's style. */
  protected failureReply(status: number): Reply {
    return { status, text: `${http.STATUS_CODES[status] ?? 'Error'} (stand-in failWith)` };
  }

  /** A 404 that also records the request as unexpected. */
  protected unrecognised(req: StandInRequest, reply?: Reply): Reply {
    const search = req.searchParams.toString();
    this.unexpected.push(`${req.method} ${req.path}${search ? `?${search}` : ''}`);
    return reply ?? { status: 404, text: 'Not Found (not recognised by the stand-in)' };
  }

  private listen(port: number): Promise<void> {
    if (this.listening) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.listening = true;
        resolve();
      });
    });
  }

  private close(): Promise<void> {
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    let recorded: StandInRequest | undefined;
    try {
      recorded = await this.read(req);
      this.requests.push(recorded);
      reply = this.takeFailure() ?? (await this.handle(recorded));
    } catch (err) {
      // A bug in a stand-in must show up in the test, not as a hung request.
      reply = { status: 500, text: `stand-in error: ${(err as Error).stack ?? String(err)}` };
      this.unexpected.push(`stand-in error on ${req.method} ${req.url}: ${(err as Error).message}`);
    }
    if (recorded) recorded.status = reply.reset ? 0 : reply.status;
    if (reply.reset) {
      res.socket?.resetAndDestroy();
      return;
    }
    const headers: Record<string, string> = { ...reply.headers };
    let payload = '';
    if (reply.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = JSON.stringify(reply.json);
    } else if (reply.text !== undefined) {
      headers['content-type'] ??= 'text/plain;charset=utf-8';
      payload = reply.text;
    }
    if (reply.status !== 204 && reply.status !== 304) headers['content-length'] = String(Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(reply.status === 204 ? undefined : payload);
  }

  private takeFailure(): Reply | undefined {
    const f = this.failure;
    if (!f) return undefined;
    if (f.remaining !== 'forever') {
      if (f.remaining <= 0) return undefined;
      f.remaining -= 1;
    }
    return this.failureReply(f.status);
  }

  private async read(req: http.IncomingMessage): Promise<StandInRequest> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const recorded: StandInRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: firstValues(url.searchParams),
      searchParams: url.searchParams,
      headers: req.headers,
      rawBody,
      body: rawBody,
    };
    if (type === 'application/json') {
      try {
        recorded.body = JSON.parse(rawBody);
      } catch {
        recorded.body = undefined;
      }
    } else if (type === 'application/x-www-form-urlencoded') {
      recorded.form = new URLSearchParams(rawBody);
      recorded.body = firstValues(recorded.form);
    }
    return recorded;
  }
}

/** Throws, listing them, when any stand-in saw a request it did not recognise. */
export function expectNoUnexpected(...standIns: HttpStandIn[]): void {
  const lines = standIns.flatMap((s) => s.unexpected.map((u) => `${s.constructor.name}: ${u}`));
  if (lines.length) throw new Error(`Unexpected requests to stand-ins:\n  ${lines.join('\n  ')}`);
}

/** How an answer is lost after the stand-in did the work: a reset connection, an answer held back, or a gateway's error page. */
export type LostAnswer = { as: 'reset' } | { as: 'hold'; holdMs: number } | { as: 'gateway'; status: number };

/**
 * The switch a stand-in uses to lose the answers of requests it has carried out: for the next
 * `count`, or for `forMs` by its clock, or both; neither: until clear().
 */
export class AnswerLoss {
  /** Answers lost so far. */
  lost = 0;
  private state?: { how: LostAnswer; remaining: number; until: number };

  constructor(private readonly now: () => number) {}

  set(how: LostAnswer, bounds: { count?: number; forMs?: number } = {}): void {
    this.state = { how, remaining: bounds.count ?? Infinity, until: bounds.forMs === undefined ? Infinity : this.now() + bounds.forMs };
  }

  clear(): void {
    this.state = undefined;
  }

  /** Whether this request's answer is lost, and how (counts it). */
  take(): LostAnswer | undefined {
    const s = this.state;
    if (!s || s.remaining <= 0 || this.now() >= s.until) return undefined;
    s.remaining -= 1;
    this.lost += 1;
    return s.how;
  }

  /** The reply the client gets instead of `reply`: none (reset), `reply` late, or a gateway's page. */
  async apply(how: LostAnswer, reply: Reply): Promise<Reply> {
    if (how.as === 'reset') return { status: 0, reset: true };
    if (how.as === 'gateway') {
      return { status: how.status, headers: { 'content-type': 'text/html' }, text: `<html><body><h1>${how.status} ${http.STATUS_CODES[how.status] ?? 'Error'}</h1>The server didn't respond in time.</body></html>` };
    }
    await new Promise((r) => setTimeout(r, how.holdMs));
    return reply;
  }
}
