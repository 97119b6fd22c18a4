import { ErrorCode, type WebClient } from '@slack/web-api';
import { CvpError, permanentError, transientError } from '../../errors';
import type { Notice, Notifier, PostedNotice } from '../../listener/ports';
import { requestFailure } from '../request-failure';
import { type SlackClientOptions, slackWebClient } from './slack-client';
import {
  isChannelId, NOTICE_EVENT_TYPE, noticeKeyOf, slackTs, wireProblem,
  type SlackMessage, type SlackPostMessage,
} from './slack-wire';

export interface SlackNotifierOptions extends SlackClientOptions {
  channel: string;
  /** Pages of history or replies read by one find(), at most (200 messages a page); default 25. */
  maxLookupPages?: number;
}

/** Answers Slack gives while a token is being rotated or re-issued: retried for a bounded time by the core. */
const AUTH = new Set(['invalid_auth', 'token_revoked', 'not_authed', 'account_inactive', 'token_expired']);
/** Refused for the notice's size or blocks: render it shorter. */
const TOO_LONG = new Set(['msg_too_long', 'invalid_blocks']);
/** Slack failed on its side; the post may have happened. */
const SLACK_SIDE = new Set(['internal_error', 'fatal_error']);
/** Slack could not take the call now; nothing was done. */
const NOT_NOW = new Set(['service_unavailable', 'request_timeout', 'team_added_to_org', 'ratelimited']);

const PAGE = 200;

/**
 * Slack's Web API through WebClient. Each notice carries its key in message metadata, so find()
 * can tell whether a post whose answer was lost (or that was under way when the process died) is
 * in the channel or thread: looked up before posting again, never posted twice nor dropped.
 * WebClient's own retries (30 minutes by default) are off: the outbox retries with its own
 * backoff, and honours Retry-After on 429.
 */
export class SlackNotifier implements Notifier {
  readonly name = 'slack';
  private readonly client: WebClient;
  /** Channel name → id, from post answers and conversations.list: history and replies need the id. */
  private readonly ids = new Map<string, string>();

  constructor(private readonly opts: SlackNotifierOptions) {
    this.client = slackWebClient(opts);
  }

  async post(notice: Notice): Promise<PostedNotice> {
    const msg: SlackPostMessage = {
      channel: notice.channel ?? this.opts.channel,
      text: notice.text,
      blocks: notice.blocks,
      unfurl_links: false,
      unfurl_media: false,
      ...(notice.threadTs ? { thread_ts: notice.threadTs } : {}),
      ...(notice.key ? { metadata: { event_type: NOTICE_EVENT_TYPE, event_payload: { key: notice.key } } } : {}),
    };
    const what = `posting to ${msg.channel}`;
    let answer: unknown;
    try {
      answer = await this.client.chat.postMessage(msg as never);
    } catch (err) {
      throw this.classify(err, what, 'post');
    }
    const checked = wireProblem('posted', answer);
    // Slack said ok but not where: the message is likely there; look before posting again.
    if ('problem' in checked) throw transientError('PEER_OUTCOME_UNKNOWN', `${what}: Slack's answer is not as expected (${checked.problem})`);
    if (!isChannelId(msg.channel)) this.ids.set(bare(msg.channel), checked.ok.channel);
    return { ts: checked.ok.ts, channel: checked.ok.channel };
  }

  /**
   * The notice posted with this key: among the replies of `threadTs`, or in the channel's history
   * since `since` (epoch ms). null when it is surely not there; a lookup that cannot finish within
   * its page bound is a transient TIMEOUT, never a guess.
   */
  async find(key: string, channel: string, opts: { threadTs?: string; since: number }): Promise<PostedNotice | null> {
    const what = `looking up notice ${key} in ${channel}`;
    const id = await this.channelId(channel, what);
    // A channel this token cannot see holds nothing it posted.
    if (!id) return null;
    const method = opts.threadTs ? 'conversations.replies' : 'conversations.history';
    const base = {
      channel: id,
      include_all_metadata: true,
      limit: PAGE,
      ...(opts.threadTs ? { ts: opts.threadTs } : { oldest: slackTs(opts.since), inclusive: true }),
    };
    const maxPages = this.opts.maxLookupPages ?? 25;
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      let answer: unknown;
      try {
        answer = await this.client.apiCall(method, { ...base, ...(cursor ? { cursor } : {}) });
      } catch (err) {
        if (opts.threadTs && (err as { data?: { error?: string } }).data?.error === 'thread_not_found') return null;
        throw this.classify(err, what, 'read');
      }
      const checked = wireProblem('messages', answer);
      if ('problem' in checked) throw transientError('PEER_ANSWER_INVALID', `${what}: Slack's ${method} answer is not as expected (${checked.problem})`);
      const found = checked.ok.messages.find((m: SlackMessage) => noticeKeyOf(m) === key);
      if (found) return { ts: found.ts, channel: id };
      cursor = checked.ok.response_metadata?.next_cursor || undefined;
      if (!cursor) return null;
    }
    throw transientError('TIMEOUT', `${what}: read ${maxPages} pages of ${method} without reaching the end; will look again`);
  }

  /** The channel's id: as given, from an earlier post's answer, or from conversations.list. */
  private async channelId(channel: string, what: string): Promise<string | null> {
    if (isChannelId(channel)) return channel;
    const name = bare(channel);
    const known = this.ids.get(name);
    if (known) return known;
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      let answer: unknown;
      try {
        answer = await this.client.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: PAGE, ...(cursor ? { cursor } : {}) });
      } catch (err) {
        throw this.classify(err, what, 'read');
      }
      const checked = wireProblem('channels', answer);
      if ('problem' in checked) throw transientError('PEER_ANSWER_INVALID', `${what}: Slack's conversations.list answer is not as expected (${checked.problem})`);
      for (const c of checked.ok.channels) this.ids.set(c.name, c.id);
      if (this.ids.has(name)) return this.ids.get(name)!;
      cursor = checked.ok.response_metadata?.next_cursor || undefined;
      if (!cursor) return null;
    }
    throw transientError('TIMEOUT', `${what}: the channel ${channel} is not among the first ${50 * PAGE} channels Slack lists; will look again`);
  }

  /**
   * `post`: a request that may have reached Slack is PEER_OUTCOME_UNKNOWN (transient; the notice is
   * looked up before it is posted again). `read`: a lookup can always be repeated.
   */
  private classify(err: unknown, what: string, kind: 'post' | 'read'): CvpError {
    if (err instanceof CvpError) return err;
    const e = err as { code?: string; retryAfter?: number; data?: { error?: string; needed?: string }; statusCode?: number; original?: unknown };
    switch (e.code) {
      case ErrorCode.RateLimitedError: {
        const t = transientError('PEER_UNAVAILABLE', `${what}: Slack rate-limited the call; retry after ${e.retryAfter ?? '?'} s`);
        t.retryAfterMs = (e.retryAfter ?? 1) * 1000;
        return t;
      }
      case ErrorCode.PlatformError: {
        const code = e.data?.error ?? 'unknown_error';
        if (AUTH.has(code)) return transientError('PEER_AUTH_FAILED', `${what}: Slack refused the token (${code}): check slack.token; retrying`);
        if (TOO_LONG.has(code)) return permanentError('NOTICE_TOO_LONG', `${what}: Slack refused the notice for its size or blocks (${code})`);
        if (code === 'missing_scope') {
          return permanentError('PEER_REJECTED', `${what}: the Slack token lacks the scope ${e.data?.needed ?? '?'} (needed: chat:write, channels:history, groups:history, channels:read, groups:read)`);
        }
        if (SLACK_SIDE.has(code)) {
          return kind === 'post'
            ? transientError('PEER_OUTCOME_UNKNOWN', `${what}: Slack failed on its side (${code}); the message may have been posted`)
            : transientError('PEER_UNAVAILABLE', `${what}: Slack failed on its side (${code})`);
        }
        if (NOT_NOW.has(code)) return transientError('PEER_UNAVAILABLE', `${what}: Slack cannot take the call now (${code})`);
        // channel_not_found, not_in_channel, is_archived, invalid_arguments...: refused for good.
        return permanentError('PEER_REJECTED', `${what}: Slack refused it (${code})`);
      }
      case ErrorCode.HTTPError: {
        const status = e.statusCode ?? 0;
        if (status >= 500) {
          return kind === 'post'
            ? transientError('PEER_OUTCOME_UNKNOWN', `${what}: Slack answered HTTP ${status}; the message may have been posted`)
            : transientError('PEER_UNAVAILABLE', `${what}: Slack answered HTTP ${status}`);
        }
        return permanentError('PEER_REJECTED', `${what}: Slack answered HTTP ${status} (check slack.api_url)`);
      }
      case ErrorCode.RequestError: {
        const f = requestFailure(e.original ?? err);
        if (f.sent === 'no' || kind === 'read') return transientError('PEER_UNAVAILABLE', `${what}: Slack unreachable (${f.reason})`);
        return transientError('PEER_OUTCOME_UNKNOWN', `${what}: no answer from Slack (${f.reason}); the message may have been posted`);
      }
      default:
        return kind === 'post'
          ? transientError('PEER_OUTCOME_UNKNOWN', `${what}: ${(err as Error).message}`)
          : transientError('PEER_UNAVAILABLE', `${what}: ${(err as Error).message}`);
    }
  }
}

function bare(channel: string): string {
  return channel.replace(/^#/, '');
}
