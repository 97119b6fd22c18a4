/**
 * A rule's lookups: job parameters computed from HTTP GETs made for the event (the product version
 * of an advisory from the errata service, say). In two steps, so that the event need not be kept:
 * - at routing, `planLookups` fills each URL template from the event (pure, never throws);
 * - before the trigger, `resolveLookups` makes the GETs and reads the parameters from the answers.
 * A failure is a coded error: transient ones are worth another attempt (`lookupVerdict`), a
 * permanent one, or the last attempt, ends the run as ERROR with the reason.
 */
import { compileExpression, expressionError } from '../intake/expression';
import { durationMs, type LookupConfig, type RuleConfig } from '../../config/config';
import { CvpError, describeError, isPermanent, permanentError } from '../../errors';
import { ciMessageSpec } from '../intake/ci-message';
import { boundParameter } from '../intake/sanitize';
import type { Lookup } from '../ports/lookup';

type Part = string | { expr: string };

export interface LookupSpec {
  name: string;
  url: string;
  template: Part[];
  parameters: Array<[name: string, expr: string]>;
  authorization?: string;
  timeoutMs: number;
  cacheTtlMs: number;
  attempts: number;
  maxBytes: number;
}

/** A lookup with its URL filled from the event, or why it could not be. */
export interface PlannedLookup { name: string; url?: string; problem?: string }

/** Parsed once per expression: lookups run per run, their expressions are few. */
const compiled = new Map<string, ReturnType<typeof compileExpression>>();
function search(data: unknown, expr: string): unknown {
  let c = compiled.get(expr);
  if (!c) { c = compileExpression(expr); compiled.set(expr, c); }
  return c.evaluate(data);
}

/**
 * Splits a URL template: `{expression}` is JMESPath over the event; `{{` and `}}` are braces.
 * Braces inside an expression (a multiselect hash) nest; quotes are respected. Throws Error.
 */
export function parseUrlTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c === '{' && template[i + 1] === '{') { text += '{'; i += 2; continue; }
    if (c === '}' && template[i + 1] === '}') { text += '}'; i += 2; continue; }
    if (c === '}') throw new Error(`a lone } at offset ${i} (write }} for a brace)`);
    if (c !== '{') { text += c; i++; continue; }
    let depth = 1;
    let j = i + 1;
    let quote = '';
    for (; j < template.length && depth > 0; j++) {
      const d = template[j];
      if (quote) { if (d === '\\') j++; else if (d === quote) quote = ''; continue; }
      if (d === "'" || d === '"' || d === '`') quote = d;
      else if (d === '{') depth++;
      else if (d === '}') depth--;
    }
    if (depth > 0) throw new Error(`the { at offset ${i} is not closed`);
    const expr = template.slice(i + 1, j - 1).trim();
    if (!expr) throw new Error(`an empty {} at offset ${i}`);
    const problem = expressionError(expr);
    if (problem) throw new Error(`JMESPath ${expr} does not parse: ${problem}`);
    if (text) parts.push(text);
    text = '';
    parts.push({ expr });
    i = j;
  }
  if (text) parts.push(text);
  return parts;
}

/** What `cvp config check` says about a lookup: a problem per key. */
export function lookupProblems(config: LookupConfig): Array<{ key: Array<string>; problem: string }> {
  const out: Array<{ key: Array<string>; problem: string }> = [];
  try {
    const parts = parseUrlTemplate(config.url);
    const first = parts[0];
    if (typeof first !== 'string' || !/^https?:\/\/[^/{}?#]+/.test(first)) out.push({ key: ['url'], problem: 'the scheme and host must be written out, not taken from the event' });
    else new URL(first.replace(/[?#].*$/, ''));
  } catch (err) {
    out.push({ key: ['url'], problem: `URL template ${config.url}: ${(err as Error).message}` });
  }
  for (const [name, expr] of Object.entries(config.parameters)) {
    const problem = expressionError(expr);
    if (problem) out.push({ key: ['parameters', name], problem: `JMESPath ${expr} does not parse: ${problem}` });
  }
  return out;
}

export function compileLookup(config: LookupConfig): LookupSpec {
  return {
    name: config.name,
    url: config.url,
    template: parseUrlTemplate(config.url),
    parameters: Object.entries(config.parameters),
    ...(config.token ? { authorization: `${config.token_scheme ?? 'Bearer'} ${config.token}` } : {}),
    timeoutMs: durationMs(config.timeout, 10_000),
    cacheTtlMs: durationMs(config.cache, 300_000),
    attempts: config.attempts ?? 5,
    maxBytes: config.max_bytes ?? 1024 * 1024,
  };
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Fills each lookup's URL from the event (at routing: pure, never throws). */
export function planLookups(specs: readonly LookupSpec[], event: unknown): PlannedLookup[] {
  return specs.map((spec) => {
    let url = '';
    for (const part of spec.template) {
      if (typeof part === 'string') { url += part; continue; }
      let value: string;
      try { value = text(search(event, part.expr)); } catch (err) {
        return { name: spec.name, problem: `lookup ${spec.name}: {${part.expr}} failed on the event: ${(err as Error).message}` };
      }
      if (!value) return { name: spec.name, problem: `lookup ${spec.name}: {${part.expr}} is empty for this event, so ${spec.url} cannot be filled` };
      url += encodeURIComponent(value);
    }
    return { name: spec.name, url };
  });
}

/**
 * Makes the planned GETs and computes the parameters from their answers. Throws a CvpError:
 * transient (try again: lookupVerdict) or permanent (the run ends as ERROR with its message).
 */
export async function resolveLookups(
  specs: readonly LookupSpec[], planned: readonly PlannedLookup[], lookup: Lookup, opts: { maxParameterLength: number },
): Promise<Record<string, string>> {
  const parameters: Record<string, string> = {};
  const answers = await Promise.all(planned.map(async (p) => {
    const spec = specs.find((s) => s.name === p.name);
    if (!spec) throw permanentError('CONFIG_INVALID', `lookup ${p.name} is no longer in the rule's configuration`);
    if (!p.url) throw permanentError('MESSAGE_INVALID', p.problem ?? `lookup ${p.name} has no URL`);
    const answer = await lookup.get(p.url, { ...(spec.authorization ? { authorization: spec.authorization } : {}), timeoutMs: spec.timeoutMs, cacheTtlMs: spec.cacheTtlMs, maxBytes: spec.maxBytes });
    return { spec, answer };
  }));
  for (const { spec, answer } of answers) {
    for (const [name, expr] of spec.parameters) {
      let value: unknown;
      try { value = search(answer, expr); } catch (err) {
        throw permanentError('PEER_ANSWER_INVALID', `lookup ${spec.name}: ${expr} failed on the answer: ${(err as Error).message}`);
      }
      parameters[name] = boundParameter(text(value), opts.maxParameterLength);
    }
  }
  return parameters;
}

/** Plan and resolve in one go, for a caller that has the event at hand. */
export function computeLookupParameters(
  specs: readonly LookupSpec[], event: unknown, lookup: Lookup, opts: { maxParameterLength: number },
): Promise<Record<string, string>> {
  return resolveLookups(specs, planLookups(specs, event), lookup, opts);
}

/**
 * The parameters a run is triggered with: its own, the whole event within the rule's ci_message
 * limit (else a permanent error), and its lookups' (which win over a same-named parameter).
 */
export async function prepareParameters(
  rule: Pick<RuleConfig, 'ci_message'>, parameters: Record<string, string>, specs: readonly LookupSpec[],
  planned: readonly PlannedLookup[], lookup: Lookup | undefined, opts: { maxParameterLength: number },
): Promise<Record<string, string>> {
  const ci = ciMessageSpec(rule.ci_message);
  if (ci && parameters[ci.name] !== undefined) {
    const bytes = Buffer.byteLength(parameters[ci.name], 'utf8');
    if (bytes > ci.maxBytes) throw permanentError('MESSAGE_TOO_LARGE', `${ci.name}: the event is ${bytes} bytes, over this rule's ci_message.max_bytes of ${ci.maxBytes}`);
  }
  if (!planned.length) return parameters;
  if (!lookup) throw permanentError('CONFIG_INVALID', 'the rule has lookups but no lookup client is wired');
  return { ...parameters, ...(await resolveLookups(specs, planned, lookup, opts)) };
}

/** After a failed attempt (1-based): try again, or end the run as ERROR with this reason. */
export function lookupVerdict(err: unknown, attempt: number, maxAttempts: number): { retry: boolean; reason: string; retryAfterMs?: number } {
  const reason = describeError(err);
  if (isPermanent(err) || attempt >= maxAttempts) {
    return { retry: false, reason: isPermanent(err) ? reason : `${reason} (gave up after ${attempt} attempts)` };
  }
  return { retry: true, reason, ...(err instanceof CvpError && err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
}
