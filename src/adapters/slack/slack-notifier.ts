import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import { CvpError, permanentError, transientError } from '../../errors';
import type { Notice, Notifier } from '../../listener/ports';
import type { SlackPostMessage, SlackPostMessageAnswer } from './slack-wire';

export interface SlackNotifierOptions {
  token: string;
  channel: string;
  apiUrl?: string;
  requestTimeoutMs: number;
  fetch?: typeof fetch;
}

/** Connection errors where the request never reached Slack: retrying cannot post twice. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET']);

/**
 * Slack's chat.postMessage. The client's own retries (30 minutes by default) are off: the outbox
 * retries with its own backoff, and honours Retry-After on 429.
 */
export class SlackNotifier implements Notifier {
  readonly name = 'slack';
  private readonly client: WebClient;

  constructor(private readonly opts: SlackNotifierOptions) {
    this.client = new WebClient(opts.token, {
      slackApiUrl: opts.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: opts.requestTimeoutMs,
      logLevel: LogLevel.ERROR,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  }

  async post(notice: Notice): Promise<{ ts?: string; channel?: string }> {
    const msg: SlackPostMessage = {
      channel: notice.channel ?? this.opts.channel,
      text: notice.text,
      blocks: notice.blocks,
      unfurl_links: false,
      unfurl_media: false,
      ...(notice.threadTs ? { thread_ts: notice.threadTs } : {}),
    };
    try {
      const answer = (await this.client.chat.postMessage(msg as never)) as SlackPostMessageAnswer;
      return { ts: answer.ts, channel: answer.channel };
    } catch (err) {
      throw this.classify(err, msg.channel);
    }
  }

  async find(): Promise<null> {
    return null;
  }

  private classify(err: unknown, channel: string): CvpError {
    const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number; original?: { code?: string; cause?: { code?: string }; message?: string } };
    switch (e.code) {
      case ErrorCode.RateLimitedError: {
        const t = transientError('PEER_UNAVAILABLE', `Slack rate-limited the post to ${channel}; retry after ${e.retryAfter ?? '?'} s`);
        t.retryAfterMs = (e.retryAfter ?? 1) * 1000;
        return t;
      }
      case ErrorCode.PlatformError:
        return permanentError('PEER_REJECTED', `Slack refused the post to ${channel}: ${e.data?.error ?? 'unknown error'}`);
      case ErrorCode.HTTPError:
        return transientError('PEER_UNAVAILABLE', `Slack answered HTTP ${e.statusCode ?? '?'} to a post to ${channel}`);
      case ErrorCode.RequestError: {
        const code = e.original?.code ?? e.original?.cause?.code;
        if (code && NOT_SENT.has(code)) return transientError('PEER_UNAVAILABLE', `Slack unreachable (${code})`);
        // The request may have reached Slack: posting again could show the message twice.
        return permanentError('PEER_UNAVAILABLE', `no answer from Slack for a post to ${channel} (${code ?? e.original?.message ?? 'request error'}); not retried, so it is posted at most once`);
      }
      default:
        return transientError('PEER_UNAVAILABLE', `Slack post to ${channel} failed: ${(err as Error).message}`);
    }
  }
}
