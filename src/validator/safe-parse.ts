import { permanentError } from '../errors';

export interface ParseLimits {
  maxBytes: number;
  maxDepth: number;
}

export const defaultParseLimits: ParseLimits = { maxBytes: 1024 * 1024, maxDepth: 32 };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Any of them as a key, also written with escapes (\u005f...), which JSON.parse would decode. */
const FORBIDDEN_KEY_TEXT = /__proto__|constructor|prototype|\\u/;

/** Nesting depth of raw JSON text, found without parsing it, so a deep document costs nothing to refuse. */
export function jsonDepth(raw: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) { depth++; if (depth > max) max = depth; }
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/**
 * Parses an event body within limits. Keys that could reach object prototypes are dropped while
 * parsing, so no later copy or merge can be steered by them.
 */
export function safeParse(raw: string, limits: ParseLimits = defaultParseLimits): unknown {
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > limits.maxBytes) {
    throw permanentError('MESSAGE_TOO_LARGE', `message is ${bytes} bytes, over the limit of ${limits.maxBytes}`);
  }
  const depth = jsonDepth(raw);
  if (depth > limits.maxDepth) {
    throw permanentError('MESSAGE_TOO_DEEP', `message nests ${depth} levels deep, over the limit of ${limits.maxDepth}`);
  }
  try {
    // The reviver doubles the cost of parsing: only texts that name such a key need it.
    if (!FORBIDDEN_KEY_TEXT.test(raw)) return JSON.parse(raw);
    return JSON.parse(raw, (key, value) => (FORBIDDEN_KEYS.has(key) ? undefined : value));
  } catch (err) {
    throw permanentError('MESSAGE_NOT_JSON', `message body is not JSON: ${(err as Error).message}`);
  }
}
