/**
 * A rule's checks as the JMS Messaging plugin's CI-event trigger evaluates its msgChecks
 * (JMSMessagingProvider.verify, plugin 1.1.x and 2.0.x alike):
 * - no checks: every message passes; a blank body, or one that is not JSON, fails them all;
 * - `field` gets "$." in front unless it starts with "$." (StringUtils.prependIfMissing / startsWith);
 * - the path is read by Jayway JsonPath; its value becomes text with Objects.toString(value, "");
 * - `expected` is a java.util.regex pattern, and it must be found in that text (Matcher.find());
 * - a path that is not found, or anything else that throws, fails that check (never the message).
 * Bounds, so that no check can hold the daemon up: the regular expression runs on RE2 (linear
 * time), and a value whose text is longer than `maxChars` (65,536 characters, less for a large
 * pattern: 2,097,152 ÷ its RE2 program size) fails the check instead of being searched.
 */
import { compilePath, PathError, type JaywayPath } from './jayway-path';
import { fromJs, objectsToString, parseJava, type JavaValue } from './java-json';
import { compileJavaRegex, RegexError, type JavaRegex } from './java-regex';

export const MAX_VALUE_CHARS = 65_536;
/** Text length × RE2 program size a check may cost: about 0.1 to 0.3 s in the worst case measured here. */
export const MATCH_BUDGET = 2 ** 21;

export interface CheckSpec { field: string; expected?: string | null }

export interface CompiledCheck {
  readonly field: string;
  readonly expected: string;
  /** The path as Jayway reads it, after the "$." rule. */
  readonly path: string;
  readonly compiledPath: JaywayPath | PathError;
  readonly regex: JavaRegex | RegexError;
  readonly maxChars: number;
}

/** The path the plugin hands to Jayway for a check's field. */
export function pluginPath(field: string): string {
  return field.startsWith('$.') ? field : `$.${field}`;
}

/** Never throws: a check whose path or pattern does not compile fails on every message, as in the plugin. */
export function compileCheck(spec: CheckSpec): CompiledCheck {
  const expected = spec.expected ?? '';
  const path = pluginPath(spec.field);
  let compiledPath: JaywayPath | PathError;
  try { compiledPath = compilePath(path); } catch (err) {
    if (!(err instanceof PathError)) throw err;
    compiledPath = err;
  }
  let regex: JavaRegex | RegexError;
  try { regex = compileJavaRegex(expected, 'find'); } catch (err) {
    if (!(err instanceof RegexError || err instanceof PathError)) throw err;
    regex = err instanceof RegexError ? err : new RegexError(err.message, 'untranslatable');
  }
  const size = regex instanceof RegexError ? 1 : Math.max(1, regex.programSize);
  return { field: spec.field, expected, path, compiledPath, regex, maxChars: Math.min(MAX_VALUE_CHARS, Math.floor(MATCH_BUDGET / size)) };
}

/** What `cvp config check` says about a check: a problem per key, or nothing. */
export function checkProblems(spec: CheckSpec): { field?: string; expected?: string } {
  const c = compileCheck(spec);
  const out: { field?: string; expected?: string } = {};
  if (c.compiledPath instanceof PathError) {
    out.field = c.compiledPath.unsupported
      ? `JSONPath ${c.path}: CVP cannot evaluate ${c.compiledPath.message} as the plugin (Jayway) does`
      : `JSONPath ${c.path} does not parse in Jayway (the plugin's check would always fail): ${c.compiledPath.message}`;
  }
  if (c.regex instanceof RegexError) {
    out.expected = c.regex.kind === 'invalid'
      ? `regular expression ${JSON.stringify(c.expected)} ${c.regex.message} (the plugin's check would always fail)`
      : `regular expression ${JSON.stringify(c.expected)}: ${c.regex.message}`;
  }
  return out;
}

/** The event as the checks read it: parsed once, lazily, from the body's text when there is one. */
export class CheckDocument {
  private parsed?: { value: JavaValue } | { error: string };

  constructor(private readonly raw?: string, private readonly js?: unknown) {}

  /** The Java model of the body; an error when the body is blank or not JSON. */
  value(): { value: JavaValue } | { error: string } {
    if (!this.parsed) {
      if (this.raw === undefined) this.parsed = { value: fromJs(this.js) };
      else if (!this.raw.trim()) this.parsed = { error: 'the body is blank' };
      else {
        try { this.parsed = { value: parseJava(this.raw) }; } catch (err) { this.parsed = { error: (err as Error).message }; }
      }
    }
    return this.parsed;
  }
}

export interface CheckVerdict { holds: boolean; reason?: string }

export function evaluateCheck(check: CompiledCheck, doc: CheckDocument): CheckVerdict {
  try {
    const parsed = doc.value();
    if ('error' in parsed) return { holds: false, reason: parsed.error };
    if (check.compiledPath instanceof PathError) return { holds: false, reason: check.compiledPath.message };
    if (check.regex instanceof RegexError) return { holds: false, reason: check.regex.message };
    const text = objectsToString(check.compiledPath.read(parsed.value));
    if (text.length > check.maxChars) return { holds: false, reason: `the value of ${check.path} is ${text.length} characters, over the limit of ${check.maxChars}` };
    return check.regex.find(text) ? { holds: true } : { holds: false, reason: `${JSON.stringify(check.expected)} not found in the value of ${check.path}` };
  } catch (err) {
    return { holds: false, reason: (err as Error).message };
  }
}

/** All checks of a rule (AND); none: the message passes. */
export function checksHold(checks: readonly CompiledCheck[], doc: CheckDocument): boolean {
  return checks.every((c) => evaluateCheck(c, doc).holds);
}
