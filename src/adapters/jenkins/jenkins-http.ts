/**
 * Jenkins' remote API over fetch: basic auth with the API token in a header (never in a URL, so no
 * error message or access log carries it), the CSRF crumb with the session cookie it belongs to,
 * a timeout per request, and folder paths. Answers are returned with their status; the executor
 * decides what a status means where it asked.
 */
import { permanentError, transientError } from '../../errors';
import { requestFailure } from '../request-failure';
import { checkWire, TREES } from './jenkins-wire';

export interface JenkinsHttpOptions {
  url: string;
  user?: string;
  token?: string;
  requestTimeoutMs: number;
  fetch?: typeof fetch;
}

export interface JenkinsAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Thrown when no answer came: `sent` says whether the request may have reached Jenkins. */
export class JenkinsNoAnswer extends Error {
  constructor(message: string, readonly sent: 'no' | 'maybe') {
    super(message);
    this.name = 'JenkinsNoAnswer';
  }
}

/** `Folder/sub/job` → `/job/Folder/job/sub/job/job`. */
export function jobPath(job: string): string {
  const parts = job.split('/').filter(Boolean);
  if (!parts.length) throw permanentError('JOB_NOT_FOUND', `no Jenkins job is named "${job}" (an empty name)`);
  return parts.map((p) => `/job/${encodeURIComponent(p)}`).join('');
}

export class JenkinsHttp {
  /** Base URL without a trailing slash and without credentials, for messages. */
  readonly where: string;
  private readonly auth?: string;
  private readonly fetchFn: typeof fetch;
  private crumb: { field: string; value: string } | null | undefined;
  private cookies = new Map<string, string>();

  constructor(private readonly opts: JenkinsHttpOptions) {
    const base = new URL(opts.url);
    base.username = '';
    base.password = '';
    this.where = `${base.origin}${base.pathname.replace(/\/$/, '')}`;
    if (opts.user) this.auth = `Basic ${Buffer.from(`${opts.user}:${opts.token ?? ''}`).toString('base64')}`;
    this.fetchFn = opts.fetch ?? fetch;
  }

  /** GET `path?tree=...`: the answer whatever its status. */
  get(path: string, query: Record<string, string> = {}, timeoutMs?: number): Promise<JenkinsAnswer> {
    return this.request('GET', path, query, undefined, timeoutMs);
  }

  /**
   * POST with a form body (and the crumb); redirects are not followed, so a Location stays readable.
   * `timeoutMs` is asked just before each request is made (the time left to a deadline).
   */
  async post(path: string, query: Record<string, string> = {}, form?: Record<string, string>, timeoutMs?: () => number): Promise<JenkinsAnswer> {
    await this.ensureCrumb();
    let answer = await this.request('POST', path, query, form, timeoutMs?.());
    // A crumb from an expired session is refused before Jenkins does anything: fetch a new one, once.
    if (answer.status === 403 && /crumb/i.test(answer.text) && this.crumb !== null) {
      this.crumb = undefined;
      this.cookies.clear();
      await this.ensureCrumb();
      answer = await this.request('POST', path, query, form, timeoutMs?.());
    }
    return answer;
  }

  private async ensureCrumb(): Promise<void> {
    if (this.crumb !== undefined) return;
    const answer = await this.request('GET', '/crumbIssuer/api/json', { tree: TREES.crumb });
    // 404: CSRF protection is off on this Jenkins.
    if (answer.status === 404) { this.crumb = null; return; }
    if (answer.status !== 200) return; // the POST gets its own (clear) status
    const crumb = checkWire('crumb', parseJson(answer, `${this.where}/crumbIssuer/api/json`), `reading a CSRF crumb from ${this.where}`);
    this.crumb = { field: crumb.crumbRequestField, value: crumb.crumb };
  }

  private async request(method: 'GET' | 'POST', path: string, query: Record<string, string>, form?: Record<string, string>, timeoutMs?: number): Promise<JenkinsAnswer> {
    const qs = new URLSearchParams(query).toString();
    const url = `${this.where}${path}${qs ? `?${qs}` : ''}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.auth) headers.authorization = this.auth;
    if (method === 'POST') {
      if (this.crumb) headers[this.crumb.field] = this.crumb.value;
      headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
    }
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers,
        body: method === 'POST' ? new URLSearchParams(form ?? {}).toString() : undefined,
        redirect: method === 'POST' ? 'manual' : 'follow',
        signal: AbortSignal.timeout(Math.max(1, timeoutMs ?? this.opts.requestTimeoutMs)),
      });
    } catch (err) {
      const f = requestFailure(err);
      throw new JenkinsNoAnswer(`${method} ${this.where}${path}: ${f.sent === 'no' ? 'unreachable' : 'no answer'} (${f.reason})`, f.sent);
    }
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      // The status arrived, the body did not: for a POST the request surely reached Jenkins.
      throw new JenkinsNoAnswer(`${method} ${this.where}${path}: answer cut off (${requestFailure(err).reason})`, 'maybe');
    }
    return { status: res.status, headers: res.headers, text };
  }
}

/** The JSON of a 200 answer; anything else (an HTML login page) is a transient PEER_ANSWER_INVALID. */
export function parseJson(answer: JenkinsAnswer, url: string): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    const type = answer.headers.get('content-type') ?? 'no content type';
    throw transientError('PEER_ANSWER_INVALID', `${url}: Jenkins answered ${answer.status} with something that is not JSON (${type})`);
  }
}
