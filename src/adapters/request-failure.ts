/**
 * Whether a request that failed without an answer may have reached the peer. fetch (undici) wraps
 * the cause: `TypeError: fetch failed` with `cause.code`, an AggregateError for several addresses,
 * or a DOMException `TimeoutError` from AbortSignal.timeout.
 */

/** The connection was never made, so nothing was sent: retrying cannot do anything twice. */
const NOT_SENT = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  // TLS refused before any request byte went out.
  'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

export interface RequestFailure {
  /** 'no': surely not sent; 'maybe': it may have reached the peer (reset, timeout, unknown). */
  sent: 'no' | 'maybe';
  /** A short cause for messages: the error code, or the message. */
  reason: string;
}

function codesOf(err: unknown, depth = 0): string[] {
  if (!err || typeof err !== 'object' || depth > 4) return [];
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  // System and undici codes only (ECONNRESET, UND_ERR_SOCKET): a client's own wrapper code says nothing here.
  const own = typeof e.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(e.code) ? [e.code] : [];
  // AbortSignal.timeout's DOMException; a client that wraps one from another realm keeps only its text.
  const message = typeof e.message === 'string' ? e.message : '';
  const aborted = ['TimeoutError', 'AbortError'].find((n) => e.name === n || message.startsWith(`${n}:`));
  if (aborted) own.push(aborted);
  const nested = Array.isArray(e.errors) ? e.errors.flatMap((x) => codesOf(x, depth + 1)) : [];
  return [...own, ...codesOf(e.cause, depth + 1), ...nested];
}

export function requestFailure(err: unknown): RequestFailure {
  const codes = codesOf(err);
  const known = codes.find((c) => NOT_SENT.has(c));
  const other = codes.find((c) => !NOT_SENT.has(c));
  // A code that says "maybe sent" wins over one that says "not sent" (several addresses tried, one reset).
  if (other) return { sent: 'maybe', reason: other === 'TimeoutError' ? 'no answer in time' : other };
  if (known) return { sent: 'no', reason: known };
  return { sent: 'maybe', reason: err instanceof Error ? err.message : String(err) };
}
