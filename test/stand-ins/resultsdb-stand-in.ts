/**
 * A loopback ResultsDB (API v2.0): create results, list them with ResultsDB's filters, the
 * latest result per test case, one result by id. Validation and stored shapes follow ResultsDB 2.2.
 * A switch stores results and then loses the answer (a reset, an answer held back, a gateway's error).
 */
import { AnswerLoss, type LostAnswer, type Reply, HttpStandIn, type StandInRequest } from './http-stand-in';
import { type ParsedResult, parseResultBody } from './parse-result-body';

export { expectNoUnexpected } from './http-stand-in';

export const PRESET_OUTCOMES = ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION'] as const;

export interface ResultsDbStandInOptions {
  /** Outcomes this deployment adds to the preset four, e.g. ['QUEUED', 'RUNNING', 'ERROR']. */
  outcomes?: string[];
  /** Milliseconds since the epoch, for results sent without submit_time; defaults to Date.now. */
  clock?: () => number;
}

/** A result as ResultsDB answers it. */
export interface ResultsDbResult {
  id: number;
  testcase: { name: string; ref_url: string | null; href: string };
  outcome: string;
  data: Record<string, string[]>;
  /** Naive UTC ISO 8601, microseconds only when non-zero (Python's isoformat()). */
  submit_time: string;
  ref_url: string | null;
  note: string | null;
  groups: string[];
  href: string;
}

interface Row {
  id: number;
  r: ParsedResult;
  submitUs: number;
}

interface Filters {
  outcomes?: string[];
  testcases?: string[];
  testcasesLike?: string[];
  groups?: string[];
  since: [number | undefined, number | undefined];
  data: { key: string; like: boolean; values: string[] }[];
}

const RESERVED = new Set(['_sort', 'limit', 'page', 'testcases', 'testcases:like', 'groups', '_distinct_on', 'outcome', 'since']);
const PREFIX = '/api/v2.0';

/** SQL LIKE, after ResultsDB has turned `*` into `%`. */
function like(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/\*/g, '%')
    .split('')
    .map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`, 's').test(value);
}

function isoFromUs(us: number): string {
  const micro = us % 1_000_000;
  const base = new Date((us - micro) / 1000).toISOString().slice(0, 19);
  return micro ? `${base}.${String(micro).padStart(6, '0')}` : base;
}

/** iso8601.parse_date, time zone dropped; undefined when it does not parse. */
function parseSince(v: string): number | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(v.trim());
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  return ms * 1000 + Number((m[7] ?? '').padEnd(6, '0'));
}

export class ResultsDbStandIn extends HttpStandIn {
  readonly outcomes: readonly string[];
  private readonly rows: Row[] = [];
  /** ResultsDB keeps one testcase row per name; its ref_url is whatever the last result said. */
  private readonly testcases = new Map<string, string | null>();
  private readonly now: () => number;
  private readonly loss: AnswerLoss;

  constructor(options: ResultsDbStandInOptions = {}) {
    super();
    this.outcomes = [...PRESET_OUTCOMES, ...(options.outcomes ?? []).filter((o) => !(PRESET_OUTCOMES as readonly string[]).includes(o))];
    this.now = options.clock ?? Date.now;
    this.loss = new AnswerLoss(this.now);
  }

  /**
   * Store the next results (201) but lose their answers: for `count` of them, or for `forMs` by the
   * clock, or both; neither: until restoreResultAnswers().
   */
  loseResultAnswers(how: LostAnswer, bounds: { count?: number; forMs?: number } = {}): void {
    this.loss.set(how, bounds);
  }

  restoreResultAnswers(): void {
    this.loss.clear();
  }

  /** Result answers lost so far. */
  get lostAnswers(): number {
    return this.loss.lost;
  }

  /** Every stored result, oldest first, as ResultsDB would answer it. */
  get results(): ResultsDbResult[] {
    return this.rows.map((row) => this.serialize(row));
  }

  /** Stores a result as if POSTed (e.g. to set up existing state); throws what ResultsDB would answer. */
  addResult(body: unknown): ResultsDbResult {
    const reply = this.create(body);
    if (reply.status !== 201) throw new Error(`ResultsDbStandIn: ${reply.status} ${JSON.stringify(reply.json)}`);
    return reply.json as ResultsDbResult;
  }

  protected handle(req: StandInRequest): Reply | Promise<Reply> {
    const route = `${req.method} ${req.path.replace(/\/+$/, '')}`;
    if (route === `POST ${PREFIX}/results`) {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
      if (type !== 'application/json') {
        return { status: 415, json: { detail: `Unsupported media type '${type}' in request. 'application/json' is required.` } };
      }
      if (req.body === undefined) return { status: 400, json: { message: 'Bad request' } };
      const created = this.create(req.body);
      const lost = created.status === 201 ? this.loss.take() : undefined;
      return lost ? this.loss.apply(lost, created) : created;
    }
    if (route === `GET ${PREFIX}/results` || route === `GET ${PREFIX}/results/latest`) {
      const filters = this.filters(req.searchParams);
      if ('status' in filters) return filters;
      if (!route.endsWith('/latest')) return this.list(req, filters);
      const distinctOn = req.searchParams.getAll('_distinct_on').flatMap((v) => v.split(',').map((s) => s.trim()).filter(Boolean));
      return distinctOn.length ? this.latestDistinct(filters, distinctOn) : this.latest(filters);
    }
    const m = new RegExp(`^GET ${PREFIX.replace('.', '\\.')}/results/([^/]+)$`).exec(route);
    if (m) {
      const row = this.rows.find((r) => String(r.id) === m[1]);
      return row ? { status: 200, json: this.serialize(row) } : { status: 404, json: { message: 'Result not found' } };
    }
    return this.unrecognised(req, { status: 404, json: { message: 'Not found' } });
  }

  /**
   * The next `count` results that create a new test case answer 500, as ResultsDB does when two
   * requests create the same new test case at once (a unique-key race; nothing is stored).
   */
  raceOnNewTestcase(count: number): void {
    this.races = count;
  }

  private races = 0;

  private create(body: unknown): Reply {
    const parsed = parseResultBody(body, this.outcomes);
    if (!parsed.ok) return { status: parsed.status, json: parsed.body };
    const r = parsed.result;
    if (this.races > 0 && !this.testcases.has(r.testcase.name)) {
      this.races -= 1;
      return { status: 500, json: { message: 'Internal Server Error' } };
    }
    if (!this.testcases.has(r.testcase.name) || r.testcase.ref_url !== undefined) {
      this.testcases.set(r.testcase.name, r.testcase.ref_url ?? this.testcases.get(r.testcase.name) ?? null);
    }
    const row = { id: this.rows.length + 1, r, submitUs: r.submitUs ?? this.now() * 1000 };
    this.rows.push(row);
    return { status: 201, json: this.serialize(row) };
  }

  private serialize(row: Row): ResultsDbResult {
    const name = row.r.testcase.name;
    return {
      id: row.id,
      groups: [...row.r.groups],
      testcase: { name, ref_url: this.testcases.get(name) ?? null, href: `${this.url}${PREFIX}/testcases/${encodeURI(name)}` },
      submit_time: isoFromUs(row.submitUs),
      outcome: row.r.outcome,
      note: row.r.note,
      ref_url: row.r.ref_url,
      data: Object.fromEntries(Object.entries(row.r.data).map(([k, v]) => [k, [...v]])),
      href: `${this.url}${PREFIX}/results/${row.id}`,
    };
  }

  private filters(sp: URLSearchParams): Filters | Reply {
    const list = (key: string) => {
      const all = sp.getAll(key).flatMap((v) => v.split(',').map((s) => s.trim()).filter(Boolean));
      return sp.has(key) ? all : undefined;
    };
    const bad = (loc: string, type: string, msg: string, input: unknown): Reply => ({
      status: 400,
      json: { validation_error: [{ type, loc: [loc], msg, input }] },
    });
    const outcomes = list('outcome')?.map((o) => o.toUpperCase());
    if (outcomes?.some((o) => !this.outcomes.includes(o))) {
      return bad('outcome', 'value_error', `Value error, must be one of: ${this.outcomes.join(', ')}`, sp.getAll('outcome'));
    }
    for (const key of ['limit', 'page']) {
      const v = sp.get(key);
      if (v !== null && !/^\s*[+-]?\d+\s*$/.test(v)) {
        return bad(key, 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer', v);
      }
    }
    let since: Filters['since'] = [undefined, undefined];
    const s = sp.get('since');
    if (s !== null) {
      const [from, to] = s.split(',');
      since = [parseSince(from), to === undefined ? undefined : parseSince(to)];
      if (since[0] === undefined || (to !== undefined && since[1] === undefined)) {
        return bad('since', 'value_error', 'Value error, must be in ISO8601 format', s);
      }
    }
    const data: Filters['data'] = [];
    for (const key of new Set(sp.keys())) {
      if (RESERVED.has(key)) continue;
      const parts = key.split(':');
      // ResultsDB: "key:like" is a LIKE filter, another single modifier is ignored, two colons mean a literal key.
      const [name, modifier] = parts.length === 2 ? parts : [key, undefined];
      data.push({ key: name, like: modifier === 'like', values: sp.getAll(key).flatMap((v) => v.split(',')) });
    }
    return { outcomes, testcases: list('testcases'), testcasesLike: list('testcases:like'), groups: list('groups'), since, data };
  }

  private matches(row: Row, f: Filters, scope: { outcome: boolean; testcase: boolean }): boolean {
    const r = row.r;
    if (f.since[0] !== undefined && row.submitUs < f.since[0]) return false;
    if (f.since[1] !== undefined && row.submitUs > f.since[1]) return false;
    if (scope.outcome && f.outcomes?.length && !f.outcomes.includes(r.outcome)) return false;
    if (f.groups?.length && !r.groups.some((g) => f.groups!.includes(g))) return false;
    if (scope.testcase && (f.testcases?.length || f.testcasesLike?.length)) {
      const name = r.testcase.name;
      if (!f.testcases?.includes(name) && !f.testcasesLike?.some((p) => like(p, name))) return false;
    }
    return f.data.every(({ key, like: isLike, values }) =>
      (r.data[key] ?? []).some((v) => (isLike ? values.some((p) => like(p, v)) : values.includes(v))),
    );
  }

  /** Newest submit_time first (ResultsDB's default order); id breaks ties. */
  private sorted(rows: Row[], asc = false): Row[] {
    const sign = asc ? -1 : 1;
    return [...rows].sort((a, b) => sign * (b.submitUs - a.submitUs || b.id - a.id));
  }

  private list(req: StandInRequest, f: Filters): Reply {
    const limit = Number(req.searchParams.get('limit') ?? 20);
    const page = Math.max(0, Number(req.searchParams.get('page') ?? 0));
    const asc = req.searchParams.get('_sort') === 'asc:submit_time';
    const all = this.sorted(this.rows.filter((r) => this.matches(r, f, { outcome: true, testcase: true })), asc);
    const slice = all.slice(page * limit, page * limit + limit);
    const pageUrl = (n: number) => {
      const sp = new URLSearchParams(req.searchParams);
      sp.set('page', String(n));
      return `${this.url}${req.path}?${sp.toString()}`;
    };
    return {
      status: 200,
      json: {
        prev: page > 0 ? pageUrl(page - 1) : null,
        next: all.length > page * limit + limit ? pageUrl(page + 1) : null,
        data: slice.map((r) => this.serialize(r)),
      },
    };
  }

  /**
   * `_distinct_on=k1,k2`: the newest result per test case and values of those data keys (a result
   * without a key counts as one with none), as ResultsDB's DISTINCT ON does. It needs another filter.
   */
  private latestDistinct(f: Filters, keys: string[]): Reply {
    if (!f.testcases?.length && !f.testcasesLike?.length && f.since[0] === undefined && !f.groups?.length && !f.data.length) {
      return { status: 400, json: { message: "Please, provide at least one filter beside '_distinct_on'" } };
    }
    const newest = new Map<string, Row>();
    for (const row of this.rows) {
      if (!this.matches(row, f, { outcome: false, testcase: true })) continue;
      const key = JSON.stringify([row.r.testcase.name, ...keys.map((k) => row.r.data[k]?.[0] ?? null)]);
      const seen = newest.get(key);
      if (!seen || row.submitUs > seen.submitUs || (row.submitUs === seen.submitUs && row.id > seen.id)) newest.set(key, row);
    }
    return { status: 200, json: { data: this.sorted([...newest.values()]).map((r) => this.serialize(r)) } };
  }

  /** Per test case, the results with the newest submit_time; ResultsDB ignores `outcome` here. */
  private latest(f: Filters): Reply {
    const newest = new Map<string, number>();
    for (const row of this.rows) {
      if (!this.matches(row, f, { outcome: false, testcase: false })) continue;
      const name = row.r.testcase.name;
      newest.set(name, Math.max(newest.get(name) ?? -Infinity, row.submitUs));
    }
    const rows = this.rows.filter(
      (row) => this.matches(row, f, { outcome: false, testcase: true }) && newest.get(row.r.testcase.name) === row.submitUs,
    );
    return { status: 200, json: { data: this.sorted(rows).map((r) => this.serialize(r)) } };
  }
}
