/**
 * Every failure CVP handles carries a stable code and says whether retrying can help.
 * That flag, not scattered conditions, decides ack vs. retry and dead-letter vs. backoff.
 */
export type ErrorCode =
  | 'MESSAGE_TOO_LARGE'
  | 'MESSAGE_TOO_DEEP'
  | 'MESSAGE_NOT_JSON'
  | 'MESSAGE_INVALID'
  | 'UNKNOWN_TOPIC'
  | 'UNKNOWN_VERSION'
  | 'CONFIG_INVALID'
  | 'JOB_NOT_FOUND'
  | 'PEER_REJECTED'
  | 'PEER_UNAVAILABLE'
  /** The request may have reached the peer and its answer was lost: look before doing it again. */
  | 'PEER_OUTCOME_UNKNOWN'
  /** Slack refused a notice for its size: it is posted shorter. */
  | 'NOTICE_TOO_LONG'
  | 'PEER_ANSWER_INVALID'
  /**
   * The request may have reached the peer and its answer was lost (a reset after sending, a
   * timeout, a proxy's 502/504): transient, and what it asked for must be looked up before it is
   * asked again (a Jenkins build by CVP_RUN_ID, a Slack notice by its key).
   */
  | 'PEER_OUTCOME_UNKNOWN'
  /** The peer refused the credentials (Slack's invalid_auth during a token rotation, say): transient, for a bounded time. */
  | 'PEER_AUTH_FAILED'
  /** Slack refused a notice for its size or its blocks (msg_too_long, invalid_blocks): permanent; render it shorter. */
  | 'NOTICE_TOO_LONG'
  | 'BUS_UNAVAILABLE'
  | 'JOURNAL_FAILED'
  /** The journal cannot commit at all (a full disk, a database away): readiness says so until it can. */
  | 'JOURNAL_UNAVAILABLE'
  | 'TIMEOUT';

export class CvpError extends Error {
  readonly code: ErrorCode;
  readonly permanent: boolean;
  readonly reasons: string[];
  /** A peer's own word on when to try again (Retry-After). */
  retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, opts: { permanent: boolean; reasons?: string[]; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CvpError';
    this.code = code;
    this.permanent = opts.permanent;
    this.reasons = opts.reasons ?? [message];
  }
}

export function permanentError(code: ErrorCode, message: string, reasons?: string[], cause?: unknown): CvpError {
  return new CvpError(code, message, { permanent: true, reasons, cause });
}

export function transientError(code: ErrorCode, message: string, cause?: unknown): CvpError {
  return new CvpError(code, message, { permanent: false, cause });
}

/** Anything that is not a CvpError is unknown, and unknown failures are retried: losing work is worse. */
export function isPermanent(err: unknown): boolean {
  return err instanceof CvpError && err.permanent;
}

export function describeError(err: unknown): string {
  if (err instanceof CvpError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
