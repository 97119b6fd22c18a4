import { createHash } from 'node:crypto';
import { permanentError, transientError, type CvpError } from '../../errors';
import type { Lookup, LookupOptions } from '../../listener/ports';

export interface HttpLookupOptions {
  /** Node's built-in fetch unless told otherwise. */
  fetch?: typeof fetch;
  now?: () => number;
  /** Answers kept at most (the least recently used go first). */
  maxEntries?: number;
}

interface Entry { expires: number; value: unknown }

/**
 * Lookups over HTTP: GET, JSON answers, a timeout, a bounded answer, a cache with a TTL and a
 * bounded size. Redirects are not followed, so the Authorization header goes only where the
 * configuration says; it is never logged nor put in an error.
 */
export class HttpLookup implements Lookup {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, Entry>();
  /** Concurrent lookups of one URL share one request. */
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(opts: HttpLookupOptions = {}) {
    this.fetch = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.maxEntries = opts.maxEntries ?? 1000;
  }

  async get(url: string, opts: LookupOptions): Promise<unknown> {
    // The key holds a digest of the credentials: two tokens may see two different answers.
    const key = createHash('sha256').update(opts.authorization ?? '').update('\n').update(url).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.value;
    }
    if (hit) this.cache.delete(key);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const request = this.request(url, opts).finally(() => this.inflight.delete(key));
    this.inflight.set(key, request);
    const value = await request;
    if (opts.cacheTtlMs > 0) {
      this.cache.set(key, { expires: this.now() + opts.cacheTtlMs, value });
      while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    }
    return value;
  }

  /** Answers held now (for tests and metrics). */
  cached(): number {
    return this.cache.size;
  }

  private async request(url: string, opts: LookupOptions): Promise<unknown> {
    let res: Response;
    try {
      res = await this.fetch(url, {
        method: 'GET',
        redirect: 'manual',
        headers: { accept: 'application/json', ...(opts.authorization ? { authorization: opts.authorization } : {}) },
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw transientError('TIMEOUT', `lookup GET ${url}: no answer within ${opts.timeoutMs} ms`);
      throw transientError('PEER_UNAVAILABLE', `lookup GET ${url} failed: ${(err as { cause?: { code?: string } }).cause?.code ?? name}`);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw permanentError('PEER_ANSWER_INVALID', `lookup GET ${url} was redirected (${res.status}${res.headers.get('location') ? ` to ${res.headers.get('location')}` : ''}): configure the final URL`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      if (res.status >= 400 && res.status < 500 && ![408, 425, 429].includes(res.status)) {
        throw permanentError('PEER_REJECTED', `lookup GET ${url} was refused (${res.status})`);
      }
      const err: CvpError = transientError('PEER_UNAVAILABLE', `lookup GET ${url} answered ${res.status}`);
      const retryAfter = Number(res.headers.get('retry-after'));
      if (Number.isFinite(retryAfter) && retryAfter > 0) err.retryAfterMs = retryAfter * 1000;
      throw err;
    }
    const text = await this.readBounded(res, url, opts);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw permanentError('PEER_ANSWER_INVALID', `lookup GET ${url}: the answer is not JSON (${(err as Error).message})`);
    }
  }

  private async readBounded(res: Response, url: string, opts: LookupOptions): Promise<string> {
    const tooLarge = (): CvpError => permanentError('PEER_ANSWER_INVALID', `lookup GET ${url}: the answer is over ${opts.maxBytes} bytes`);
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      await res.body?.cancel();
      throw tooLarge();
    }
    if (!res.body) return '';
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > opts.maxBytes) {
          await reader.cancel();
          throw tooLarge();
        }
        chunks.push(Buffer.from(value));
      }
    } catch (err) {
      if ((err as CvpError).code === 'PEER_ANSWER_INVALID') throw err;
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw transientError('TIMEOUT', `lookup GET ${url}: the answer did not arrive within ${opts.timeoutMs} ms`);
      throw transientError('PEER_UNAVAILABLE', `lookup GET ${url}: the answer was cut (${name})`);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
