import { permanentError, transientError } from '../../errors';
import type { ReleaseHook } from '../../listener/ports';

export interface HttpReleaseHookOptions {
  /** Bearer tokens by URL, from the products' release_action.http.token. */
  tokens: Map<string, string>;
  requestTimeoutMs: number;
  fetch?: typeof fetch;
}

/**
 * The release action as an HTTP call. It carries an Idempotency-Key (the gate), so a call repeated
 * after a lost answer can be recognised by the receiver.
 */
export class HttpReleaseHook implements ReleaseHook {
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: HttpReleaseHookOptions) {
    this.fetch = opts.fetch ?? fetch;
  }

  async call(url: string, method: 'POST' | 'PUT', body: string, idempotencyKey: string): Promise<void> {
    const token = this.opts.tokens.get(url);
    let res: Response;
    try {
      res = await this.fetch(url, {
        method,
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body,
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
      });
    } catch (err) {
      throw transientError('PEER_UNAVAILABLE', `release action ${method} ${url} failed: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name}`);
    }
    await res.text().catch(() => '');
    if (res.ok) return;
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      throw permanentError('PEER_REJECTED', `release action ${method} ${url} was refused (${res.status})`);
    }
    throw transientError('PEER_UNAVAILABLE', `release action ${method} ${url} answered ${res.status}`);
  }
}
