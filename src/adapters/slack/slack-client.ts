import { LogLevel, WebClient } from '@slack/web-api';

/** What every CVP call on Slack's Web API needs. */
export interface SlackClientOptions {
  token: string;
  apiUrl?: string;
  requestTimeoutMs: number;
  fetch?: typeof fetch;
}

/**
 * A WebClient that never retries or waits on its own: a rate-limited or failed call comes back to
 * the caller at once, so the journal's outbox decides when to try again and a shutdown never waits
 * behind the client's own backoff.
 */
export function slackWebClient(opts: SlackClientOptions): WebClient {
  return new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: opts.requestTimeoutMs,
    logLevel: LogLevel.ERROR,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
}
