/** An HTTP GET made for an event (a rule's lookups), whose JSON answer gives job parameters. */
export interface LookupOptions {
  /** The Authorization header's value (scheme and secret). Never logged, never in an error. */
  authorization?: string;
  timeoutMs: number;
  /** An answer to the same URL (and credentials) is reused for this long; 0: never. */
  cacheTtlMs: number;
  /** A longer answer is refused. */
  maxBytes: number;
}

export interface Lookup {
  /**
   * The parsed JSON answer. Throws a CvpError: transient (PEER_UNAVAILABLE, TIMEOUT: try again
   * later) or permanent (PEER_REJECTED: a 4xx; PEER_ANSWER_INVALID: not JSON, too large, a redirect).
   */
  get(url: string, opts: LookupOptions): Promise<unknown>;
}
