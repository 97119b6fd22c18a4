/**
 * A loopback Slack Web API (chat.postMessage, chat.update, auth.test) as @slack/web-api's WebClient
 * calls it: POST <slackApiUrl><method>, form-encoded with object arguments (blocks) as JSON strings,
 * `Authorization: Bearer <token>`. Slack answers API errors with HTTP 200 and `{ ok: false, error }`.
 * Point a WebClient at it with `{ slackApiUrl: standIn.url + '/api/' }`.
 */
import { type Reply, HttpStandIn, type StandInRequest } from './http-stand-in';

export { expectNoUnexpected } from './http-stand-in';

export interface SlackStandInOptions {
  token: string;
  /** Channel names ('#cvp' or 'cvp') mapped to ids ('C0CVP'); when given, no other channel exists. */
  channels?: Record<string, string>;
}

export interface SlackMessage {
  /** The channel argument as sent (a name or an id). */
  channel: string;
  /** The id Slack answered with. */
  channelId: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  ts: string;
}

export interface SlackUpdate {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
}

const ID = /^[CGD][A-Z0-9]{2,}$/;
const BOT = { user: 'U0CVPBOT', bot_id: 'B0CVPBOT', app_id: 'A0CVPAPP', team: 'T0STANDIN' };

export class SlackStandIn extends HttpStandIn {
  readonly messages: SlackMessage[] = [];
  readonly updates: SlackUpdate[] = [];
  private seq = 0;
  private limited = { count: 0, retryAfter: 0 };
  private readonly generatedIds = new Map<string, string>();

  constructor(private readonly options: SlackStandInOptions) {
    super();
  }

  /** The base URL for WebClient's `slackApiUrl` option. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** The next `count` requests get HTTP 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(count: number, retryAfterSeconds: number): void {
    this.limited = { count, retryAfter: retryAfterSeconds };
  }

  /** Replies posted in the thread of the message with this ts. */
  thread(ts: string): SlackMessage[] {
    return this.messages.filter((m) => m.thread_ts === ts);
  }

  protected handle(req: StandInRequest): Reply {
    if (this.limited.count > 0) {
      this.limited.count -= 1;
      return { status: 429, headers: { 'retry-after': String(this.limited.retryAfter) }, json: { ok: false, error: 'ratelimited' } };
    }
    const method = req.method === 'POST' ? /^\/api\/([a-zA-Z.]+)$/.exec(req.path)?.[1] : undefined;
    const known = ['chat.postMessage', 'chat.update', 'auth.test'];
    if (!method || !known.includes(method)) {
      return this.unrecognised(req, { status: 404, json: { ok: false, error: 'unknown_method', req_method: method ?? req.path } });
    }
    if (req.body === undefined) return this.answer({ ok: false, error: 'invalid_json' });
    const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
    const args: Record<string, unknown> = { ...req.query, ...body };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? (req.form ? (args.token as string | undefined) : undefined);
    if (!token) return this.answer({ ok: false, error: 'not_authed' });
    if (token !== this.options.token) return this.answer({ ok: false, error: 'invalid_auth' });
    if (method === 'auth.test') {
      return this.answer({ ok: true, url: 'https://stand-in.slack.com/', team: 'Stand-in', user: 'cvp', team_id: BOT.team, user_id: BOT.user, bot_id: BOT.bot_id });
    }
    return method === 'chat.postMessage' ? this.post(args) : this.update(args);
  }

  private post(args: Record<string, unknown>): Reply {
    const channel = typeof args.channel === 'string' ? args.channel : '';
    const channelId = this.resolve(channel);
    if (!channelId) return this.answer({ ok: false, error: 'channel_not_found' });
    const content = this.content(args);
    if ('error' in content) return this.answer({ ok: false, error: content.error });
    const thread_ts = typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : undefined;
    this.seq += 1;
    const micros = this.seq * 100; // 1700000000.000100, .000200, ... unique and increasing
    const ts = `${1_700_000_000 + Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
    this.messages.push({ channel, channelId, ...content, thread_ts, ts });
    return this.answer({
      ok: true,
      channel: channelId,
      ts,
      message: { ...BOT, type: 'message', text: content.text ?? '', ts, ...(content.blocks ? { blocks: content.blocks } : {}), ...(thread_ts ? { thread_ts, parent_user_id: BOT.user } : {}) },
    });
  }

  /** chat.update needs the channel id postMessage answered with; a channel name is not found. */
  private update(args: Record<string, unknown>): Reply {
    const channel = typeof args.channel === 'string' ? args.channel : '';
    if (!ID.test(channel) || !this.messages.some((m) => m.channelId === channel)) {
      return this.answer({ ok: false, error: 'channel_not_found' });
    }
    const msg = this.messages.find((m) => m.channelId === channel && m.ts === args.ts);
    if (!msg) return this.answer({ ok: false, error: 'message_not_found' });
    const content = this.content(args);
    if ('error' in content) return this.answer({ ok: false, error: content.error });
    msg.text = content.text;
    msg.blocks = content.blocks;
    this.updates.push({ channel, ts: msg.ts, ...content });
    return this.answer({
      ok: true,
      channel,
      ts: msg.ts,
      text: content.text ?? '',
      message: { ...BOT, type: 'message', text: content.text ?? '', ...(content.blocks ? { blocks: content.blocks } : {}), edited: { user: BOT.user, ts: msg.ts } },
    });
  }

  /** text and blocks; blocks arrive JSON-encoded in a form body, as an array in a JSON body. */
  private content(args: Record<string, unknown>): { text?: string; blocks?: unknown[] } | { error: string } {
    const text = typeof args.text === 'string' && args.text !== '' ? args.text : undefined;
    let blocks = args.blocks;
    if (typeof blocks === 'string') {
      try {
        blocks = JSON.parse(blocks);
      } catch {
        return { error: 'invalid_blocks_format' };
      }
    }
    if (blocks !== undefined && !Array.isArray(blocks)) return { error: 'invalid_blocks_format' };
    const list = blocks as unknown[] | undefined;
    const wellFormed = (b: unknown) => typeof b === 'object' && b !== null && typeof (b as { type?: unknown }).type === 'string';
    if (list && (list.length > 50 || !list.every(wellFormed))) return { error: 'invalid_blocks' };
    const refusal = sizeRefusal(text, list);
    if (refusal) return { error: refusal };
    if (!text && !list?.length && !args.attachments) return { error: 'no_text' };
    return { ...(text !== undefined ? { text } : {}), ...(list?.length ? { blocks: list } : {}) };
  }

  private resolve(channel: string): string | undefined {
    if (!channel) return undefined;
    const known = this.options.channels;
    if (known) {
      const byName = known[channel] ?? known[`#${channel.replace(/^#/, '')}`] ?? known[channel.replace(/^#/, '')];
      return byName ?? (Object.values(known).includes(channel) ? channel : undefined);
    }
    if (ID.test(channel)) return channel;
    const name = channel.replace(/^#/, '');
    if (!this.generatedIds.has(name)) this.generatedIds.set(name, `C${String(this.generatedIds.size + 1).padStart(8, '0')}`);
    return this.generatedIds.get(name);
  }

  private answer(body: Record<string, unknown>): Reply {
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, json: body };
  }
}

/**
 * What Slack refuses for its size, for good (Block Kit reference, chat.postMessage docs): a section
 * block's text over 3,000 characters or more than 50 blocks (invalid_blocks), a top-level text over
 * 40,000 characters (msg_too_long).
 */
export function sizeRefusal(text: string | undefined, blocks: unknown[] | undefined): 'invalid_blocks' | 'msg_too_long' | null {
  if (blocks && blocks.length > 50) return 'invalid_blocks';
  const sectionText = (b: unknown) => (b as { type?: unknown; text?: { text?: unknown } }).type === 'section' ? (b as { text?: { text?: unknown } }).text?.text : undefined;
  if (blocks?.some((b) => { const t = sectionText(b); return typeof t === 'string' && t.length > 3000; })) return 'invalid_blocks';
  if (text !== undefined && text.length > 40_000) return 'msg_too_long';
  return null;
}
