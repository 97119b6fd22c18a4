import * as http from 'node:http';
import * as https from 'node:https';

/**
 * `fetch` over node:http with keep-alive agents: what the adapters call their peers with. Node's
 * built-in fetch (undici, web streams) costs about four times the CPU per request, and a daemon
 * makes several requests per event (ResultsDB results, Slack notices, Jenkins triggers and polls).
 * It keeps fetch's contract where the adapters and @slack/web-api rely on it: a `TypeError('fetch
 * failed')` with the socket error as `cause`, the signal's reason on abort (TimeoutError for
 * AbortSignal.timeout), `redirect: 'manual' | 'error'`, and a standard Response.
 */
export function keepAliveFetch(opts: { maxSockets?: number } = {}): typeof fetch {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 32 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 32 }),
  };
  const impl = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (typeof input !== 'string' && !(input instanceof URL)) return fetch(input, init);
    const url = new URL(input);
    const agent = agents[url.protocol as 'http:' | 'https:'];
    if (!agent) return fetch(input, init);
    const body = bodyOf(init.body);
    if (body === undefined) return fetch(input, init);
    const headers = headersOf(init.headers);
    // As fetch does: a form or a text body says what it is unless the caller did.
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      if (init.body instanceof URLSearchParams) headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
      else if (typeof init.body === 'string') headers['content-type'] = 'text/plain;charset=UTF-8';
    }
    if (body.length && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = String(body.length);
    const signal = init.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) { reject(signal.reason); return; }
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail(err));
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400 && init.redirect === 'error') {
            reject(Object.assign(new TypeError('fetch failed'), { cause: new Error(`unexpected redirect (${status})`) }));
            return;
          }
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const x of v) out.append(k, x);
            else if (v !== undefined) out.set(k, v);
          }
          const noBody = status === 204 || status === 205 || status === 304 || init.method === 'HEAD';
          resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: out }));
        });
      });
      const fail = (err: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        reject(signal?.aborted ? signal.reason : Object.assign(new TypeError('fetch failed'), { cause: err }));
      };
      const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.end(body);
    });
  };
  return impl as typeof fetch;
}

/** What the adapters send: text, a form, bytes or nothing. Anything else is left to the built-in fetch (undefined). */
function bodyOf(body: RequestInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body);
  return undefined;
}

function headersOf(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers) h.forEach((v, k) => { out[k] = v; });
  else if (Array.isArray(h)) for (const [k, v] of h) out[k] = v;
  else Object.assign(out, h);
  return out;
}
