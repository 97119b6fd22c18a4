import { CvpError, permanentError, transientError } from '../../errors';
import type { ResultRecord, ResultSink } from '../../listener/ports';
import type { ResultsDbList, ResultsDbResult } from './resultsdb-wire';

export interface ResultsDbSinkOptions {
  /** The API root, e.g. https://resultsdb.example.com/api/v2.0 */
  url: string;
  requestTimeoutMs: number;
  fetch?: typeof fetch;
}

/** ResultsDB API v2.0: POST /results, and GET /results filtered by data keys to find earlier writes. */
export class ResultsDbSink implements ResultSink {
  readonly name = 'resultsdb';
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: ResultsDbSinkOptions) {
    this.base = opts.url.replace(/\/$/, '');
    this.fetch = opts.fetch ?? fetch;
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${path}`, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw transientError('PEER_UNAVAILABLE', `ResultsDB at ${this.base} unreachable (${cause === 'TimeoutError' ? `no answer within ${this.opts.requestTimeoutMs} ms` : cause})`);
    }
    const text = await res.text();
    let json: unknown = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    return { status: res.status, json, text };
  }

  private refused(status: number, json: unknown, text: string, what: string): CvpError {
    const detail = refusalDetail(json, text);
    if (status === 400 || status === 404 || status === 409 || status === 422) {
      return permanentError('PEER_REJECTED', `ResultsDB at ${this.base} refused ${what} (${status}): ${detail}. If it names the outcome, this deployment does not accept it: list only accepted outcomes in resultsdb.outcomes`);
    }
    return transientError('PEER_UNAVAILABLE', `ResultsDB at ${this.base} answered ${status} to ${what}`);
  }

  async submit(result: ResultRecord): Promise<{ id: string | number }> {
    const what = `the ${result.outcome} result of ${result.testcase.name} for ${String(result.data.item)}`;
    const { status, json, text } = await this.call('POST', '/results', result);
    if (status !== 201 && status !== 200) throw this.refused(status, json, text, what);
    const stored = json as ResultsDbResult | null;
    if (!stored || (typeof stored.id !== 'number' && typeof stored.id !== 'string')) {
      throw transientError('PEER_ANSWER_INVALID', `ResultsDB at ${this.base} answered ${status} to ${what} without a result id`);
    }
    return { id: stored.id };
  }

  async findByRun(runId: string, testcase: string, item: string): Promise<Array<{ id: string | number; outcome: string }>> {
    const q = new URLSearchParams({ testcases: testcase, item, cvp_run_id: runId });
    const { status, json, text } = await this.call('GET', `/results?${q.toString()}`);
    if (status !== 200) throw this.refused(status, json, text, `a lookup of run ${runId}`);
    const list = json as ResultsDbList | null;
    if (!list || !Array.isArray(list.data)) throw transientError('PEER_ANSWER_INVALID', `ResultsDB at ${this.base}: a result list without "data"`);
    return list.data.map((r) => ({ id: r.id, outcome: r.outcome }));
  }
}

type Issue = { loc?: unknown[]; msg?: string };

/**
 * ResultsDB answers `{message}`, or for field errors `{validation_error: [{loc, msg, ...}]}`
 * (pydantic 2, ResultsDB 2.2 and later) or `{validation_error: {body_params: [...]}}` (the
 * flask-pydantic shape of earlier releases); each issue becomes `where: what`.
 */
export function refusalDetail(json: unknown, text: string): string {
  const body = json as { message?: unknown; validation_error?: unknown } | null;
  const v = body?.validation_error;
  let issues: Issue[] = [];
  if (Array.isArray(v)) issues = v as Issue[];
  else if (v && typeof v === 'object') {
    for (const key of ['body_params', 'query_params', 'form_params', 'path_params']) {
      const list = (v as Record<string, unknown>)[key];
      if (Array.isArray(list)) issues.push(...(list as Issue[]));
    }
  }
  if (issues.length) {
    return issues.slice(0, 10).map((i) => `${(Array.isArray(i?.loc) ? i.loc : []).join('.') || 'body'}: ${i?.msg ?? 'invalid'}`).join('; ');
  }
  if (typeof body?.message === 'string') return body.message;
  return text.slice(0, 200) || '(empty answer)';
}
