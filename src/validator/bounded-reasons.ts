import type { ErrorObject, ValidateFunction } from 'ajv';
import { readableErrors } from './readable-errors';

export interface ReasonBounds {
  /** The schema in every-error mode. */
  all: () => ValidateFunction;
  maxReasons: number;
  /** Items of each array kept in the copy that reasons are collected from. */
  keptItems: number;
}

/**
 * A copy of a message with every array cut to its first `keep` items. No event schema sets
 * minItems above 1 nor compares items, so the violations found in the copy are violations of the
 * message (array-length limits aside: the first-violation pass reports those).
 */
export function pruneArrays(value: unknown, keep: number): unknown {
  if (Array.isArray(value)) {
    const n = Math.min(value.length, keep);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = pruneArrays(value[i], keep);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const v = pruneArrays((value as Record<string, unknown>)[key], keep);
      // An own "__proto__" key (from a parser that kept it) stays a plain key, never a prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
    }
    return out;
  }
  return value;
}

/**
 * The reasons a message is invalid, bounded whatever its size: the first violation (found by the
 * verdict's own pass over the whole message), then every violation within the first items of each
 * array, at most `maxReasons` lines in all, the last saying that the list stops there.
 */
export function boundedReasons(body: unknown, firstErrors: ErrorObject[], b: ReasonBounds): string[] {
  const lines = new Set<string>(readableErrors(firstErrors, body));
  const all = b.all();
  const pruned = pruneArrays(body, b.keptItems);
  if (!all(pruned)) for (const line of readableErrors(all.errors, body)) lines.add(line);
  // A line names data keys and values: each is cut, as the whole list is.
  const list = [...lines].map((l) => (l.length > 1000 ? `${l.slice(0, 999)}…` : l));
  if (list.length <= b.maxReasons) return list;
  const shown = list.slice(0, b.maxReasons - 1);
  shown.push(`… and more: the listing stops at ${b.maxReasons} reasons (arrays are looked into ${b.keptItems} items deep)`);
  return shown;
}
