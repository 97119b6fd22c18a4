/**
 * ResultsDB 2.2's validation of `POST /api/v2.0/results` (resultsdb/parsers/api_v2.py, pydantic 2,
 * then controllers/api_v2.py create_result_any_data), reproduced closely enough that a client gets
 * the same 400 bodies and the same stored values as from the real service.
 */
import { randomUUID } from 'node:crypto';

export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
}

export interface ParsedResult {
  outcome: string;
  testcase: { name: string; ref_url?: string | null };
  groups: string[];
  note: string | null;
  ref_url: string | null;
  /** Every value already turned into strings, as ResultsDB stores one row per value. */
  data: Record<string, string[]>;
  /** Microseconds since the epoch (naive UTC, as ResultsDB stores it), undefined for "now". */
  submitUs?: number;
}

export type ParseOutcome =
  | { ok: true; result: ParsedResult }
  | { ok: false; status: 400 | 500; body: unknown };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Python's str() of a JSON value, which is what ResultsDB stores for a non-string data value. */
function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

function pyRepr(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isObject(v)) return `{${Object.entries(v).map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(', ')}}`;
  return String(v);
}

/**
 * `%Y-%m-%dT%H:%M:%S.%f` followed by Z, nothing, a %z offset or "+00"; a %z offset is dropped (the
 * column has no time zone, so the wall-clock time is kept). Fractional seconds are mandatory.
 */
function parseIso(v: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{1,6})(Z|\+00|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (Number.isNaN(ms)) return undefined;
  return ms * 1000 + Number(m[7].padEnd(6, '0'));
}

/** Returns microseconds, null for "now", or an issue; 'crash' where ResultsDB itself raises a TypeError (HTTP 500). */
function parseSubmitTime(v: unknown): number | null | ValidationIssue | 'crash' {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'boolean') {
    // datetime.replace(microsecond=<float>) raises TypeError, which pydantic does not turn into a 400.
    if (typeof v === 'number' && !Number.isInteger(v)) return 'crash';
    return Number(v) * 1000;
  }
  if (typeof v === 'string') {
    const iso = parseIso(v);
    if (iso !== undefined) return iso;
    if (/^\s*[+-]?\d+\s*$/.test(v)) return Number(v) * 1000;
  }
  return {
    type: 'value_error',
    loc: ['submit_time'],
    msg: `Value error, Expected timestamp in milliseconds or datetime (in format YYYY-MM-DDTHH:MM:SS.ffffff), got ${pyRepr(v)}`,
    input: v,
  };
}

function optionalString(body: Record<string, unknown>, key: string, issues: ValidationIssue[]): string | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') issues.push({ type: 'string_type', loc: [key], msg: 'Input should be a valid string', input: v });
  return typeof v === 'string' ? v : null;
}

export function parseResultBody(body: unknown, outcomes: readonly string[]): ParseOutcome {
  if (!isObject(body)) {
    return { ok: false, status: 400, body: { validation_error: [{ type: 'model_type', loc: [], msg: 'Input should be a valid dictionary', input: body }] } };
  }
  const issues: ValidationIssue[] = [];
  const missing = (key: string) => issues.push({ type: 'missing', loc: [key], msg: 'Field required', input: body });

  let outcome = '';
  if (body.outcome === undefined) missing('outcome');
  else if (typeof body.outcome !== 'string') issues.push({ type: 'string_type', loc: ['outcome'], msg: 'Input should be a valid string', input: body.outcome });
  else if (!body.outcome.trim()) issues.push({ type: 'string_too_short', loc: ['outcome'], msg: 'String should have at least 1 character', input: body.outcome });
  else {
    outcome = body.outcome.trim().toUpperCase();
    if (!outcomes.includes(outcome)) {
      issues.push({ type: 'value_error', loc: ['outcome'], msg: `Value error, must be one of: ${outcomes.join(', ')}`, input: body.outcome });
    }
  }

  let testcase: ParsedResult['testcase'] = { name: '' };
  const tc = body.testcase;
  if (tc === undefined) missing('testcase');
  else if (!tc || (isObject(tc) && !tc.name)) issues.push({ type: 'value_error', loc: ['testcase'], msg: 'Value error, testcase name must be non-empty', input: tc });
  else if (typeof tc === 'string') testcase = { name: tc };
  else if (!isObject(tc)) issues.push({ type: 'dict_type', loc: ['testcase'], msg: 'Input should be a valid dictionary', input: tc });
  else if (typeof tc.name !== 'string') issues.push({ type: 'string_type', loc: ['testcase', 'name'], msg: 'Input should be a valid string', input: tc.name });
  else testcase = { name: tc.name, ...('ref_url' in tc ? { ref_url: tc.ref_url as string | null } : {}) };

  if (body.groups !== undefined && body.groups !== null && !Array.isArray(body.groups)) {
    issues.push({ type: 'list_type', loc: ['groups'], msg: 'Input should be a valid list', input: body.groups });
  }
  if (body.data !== undefined && body.data !== null && !isObject(body.data)) {
    issues.push({ type: 'dict_type', loc: ['data'], msg: 'Input should be a valid dictionary', input: body.data });
  }
  const note = optionalString(body, 'note', issues);
  const refUrl = optionalString(body, 'ref_url', issues);
  const submit = parseSubmitTime(body.submit_time);
  if (submit === 'crash') return { ok: false, status: 500, body: { message: 'Internal Server Error' } };
  if (submit !== null && typeof submit === 'object') issues.push(submit);
  if (issues.length) return { ok: false, status: 400, body: { validation_error: issues } };

  const rawData = isObject(body.data) ? body.data : {};
  const colon = Object.keys(rawData).filter((k) => k.includes(':'));
  if (colon.length) return { ok: false, status: 400, body: { message: `Colon not allowed in key name: ${pyRepr(colon)}` } };
  const data: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(rawData)) data[k] = Array.isArray(v) ? v.map(pyStr) : [pyStr(v)];

  const groups: string[] = [];
  for (const g of (body.groups as unknown[] | null | undefined) ?? []) {
    if (typeof g === 'string') groups.push(g);
    else if (isObject(g)) groups.push(typeof g.uuid === 'string' ? g.uuid : randomUUID());
    else return { ok: false, status: 500, body: { message: 'Internal Server Error' } }; // grp["uuid"] on a non-dict
  }
  return {
    ok: true,
    result: { outcome, testcase, groups, note, ref_url: refUrl, data, submitUs: typeof submit === 'number' ? submit : undefined },
  };
}
