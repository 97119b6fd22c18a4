/**
 * A loopback Slack Web API as @slack/web-api's WebClient calls it: POST <slackApiUrl><method>,
 * form-encoded with object arguments (blocks, metadata) as JSON strings, `Authorization: Bearer
 * <token>`. Slack answers API errors with HTTP 200 and `{ ok: false, error }`.
 *
 * Methods: chat.postMessage (with message metadata), chat.update, auth.test, conversations.history
 * and conversations.replies (channel ids only, newest first / parent first, cursors, `oldest`,
 * metadata only with include_all_metadata), conversations.list. Switches: 429 with Retry-After,
 * and a post that is accepted (kept in the history) whose answer is then lost: the connection
 * reset, or the answer held back longer than a client waits. Point a WebClient at it with
 * `{ slackApiUrl: standIn.apiUrl }`.
 */
import { randomBytes } from 'node:crypto';
import { AnswerLoss, type LostAnswer, type Reply, HttpStandIn, type StandInRequest } from './http-stand-in';

export { expectNoUnexpected } from './http-stand-in';

export interface SlackStandInOptions {
  token: string;
  /** Channel names ('#cvp' or 'cvp') mapped to ids ('C0CVP'); when given, no other channel exists. */
  channels?: Record<string, string>;
  /** Milliseconds since the epoch, for message ts; defaults to Date.now. */
  clock?: () => number;
  /** User groups (S…) and their members (U…), for usergroups.users.list. */
  usergroups?: Record<string, string[]>;
}

export interface SlackMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
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
  metadata?: SlackMetadata;
  /** Accepted, with the answer lost on its way back (losePostAnswers). */
  answerLost?: boolean;
}

export interface SlackUpdate {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
}


const ID = /^[CGD][A-Z0-9]{2,}$/;
const BOT = { user: 'U0CVPBOT', bot_id: 'B0CVPBOT', app_id: 'A0CVPAPP', team: 'T0STANDIN' };
/** Slack's limits: a section block's text, a message's top-level text, blocks per message. */
const SECTION_TEXT_MAX = 3000;
const TEXT_MAX = 40_000;
const BLOCKS_MAX = 50;

export class SlackStandIn extends HttpStandIn {
  readonly messages: SlackMessage[] = [];
  readonly updates: SlackUpdate[] = [];
  private lastMicros = 0;
  private limited = { count: 0, retryAfter: 0 };
  private readonly loss: AnswerLoss;
  private readonly generatedIds = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly options: SlackStandInOptions) {
    super();
    this.now = options.clock ?? Date.now;
    this.loss = new AnswerLoss(this.now);
  }

  /** Post answers lost so far (losePostAnswers). */
  get lostAnswers(): number {
    return this.loss.lost;
  }

  /** The base URL for WebClient's `slackApiUrl` option. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** The next `count` requests get HTTP 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(count: number, retryAfterSeconds: number): void {
    this.limited = { count, retryAfter: retryAfterSeconds };
  }

  /**
   * Keep the next posts (they are in the channel, and in its history) but lose their answers: for
   * `count` posts, or for `forMs` by the clock, or both; neither: until restorePostAnswers().
   */
  losePostAnswers(how: LostAnswer, bounds: { count?: number; forMs?: number } = {}): void {
    this.loss.set(how, bounds);
  }

  restorePostAnswers(): void {
    this.loss.clear();
  }

  /** Replies posted in the thread of the message with this ts. */
  thread(ts: string): SlackMessage[] {
    return this.messages.filter((m) => m.thread_ts === ts && m.ts !== ts);
  }

  /** The messages posted with this metadata key (event_payload.key), as CVP tags its notices. */
  withKey(key: string): SlackMessage[] {
    return this.messages.filter((m) => m.metadata?.event_payload.key === key);
  }

  protected async handle(req: StandInRequest): Promise<Reply> {
    if (this.limited.count > 0) {
      this.limited.count -= 1;
      return { status: 429, headers: { 'retry-after': String(this.limited.retryAfter) }, json: { ok: false, error: 'ratelimited' } };
    }
    const interactive = this.interactive(req);
    if (interactive) return interactive;
    const method = req.method === 'POST' ? /^\/api\/([a-zA-Z.]+)$/.exec(req.path)?.[1] : undefined;
    const known = ['chat.postMessage', 'chat.update', 'auth.test', 'conversations.history', 'conversations.replies', 'conversations.list'];
    if (!method || !known.includes(method)) {
      return this.unrecognised(req, { status: 404, json: { ok: false, error: 'unknown_method', req_method: method ?? req.path } });
    }
    if (req.body === undefined) return this.answer({ ok: false, error: 'invalid_json' });
    const args = this.argsOf(req);
    const refused = this.authFailure(req, args);
    if (refused) return refused;
    switch (method) {
      case 'auth.test':
        return this.answer({ ok: true, url: 'https://stand-in.slack.com/', team: 'Stand-in', user: 'cvp', team_id: BOT.team, user_id: BOT.user, bot_id: BOT.bot_id });
      case 'chat.postMessage':
        return this.post(args);
      case 'chat.update':
        return this.update(args);
      case 'conversations.history':
        return this.history(args);
      case 'conversations.replies':
        return this.replies(args);
      default:
        return this.list(args);
    }
  }

  private async post(args: Record<string, unknown>): Promise<Reply> {
    const channel = typeof args.channel === 'string' ? args.channel : '';
    const channelId = this.resolve(channel);
    if (!channelId) return this.answer({ ok: false, error: 'channel_not_found' });
    const content = this.content(args);
    if ('error' in content) return this.answer({ ok: false, error: content.error });
    const metadata = this.metadata(args.metadata);
    if (typeof metadata === 'string') return this.answer({ ok: false, error: metadata });
    const thread_ts = typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : undefined;
    const ts = this.nextTs();
    const message: SlackMessage = { channel, channelId, ...content, thread_ts, ts, ...(metadata ? { metadata } : {}) };
    this.messages.push(message);
    const reply = this.answer({
      ok: true,
      channel: channelId,
      ts,
      message: { ...this.render(message, true), ...(thread_ts ? { parent_user_id: BOT.user } : {}) },
    });
    const lost = this.loss.take();
    if (!lost) return reply;
    message.answerLost = true;
    return this.loss.apply(lost, reply);
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

  /** A channel's messages (not thread replies), newest first; ids only, as Slack requires. */
  private history(args: Record<string, unknown>): Reply {
    const channelId = this.knownId(args.channel);
    if (!channelId) return this.answer({ ok: false, error: 'channel_not_found' });
    const inChannel = this.messages.filter((m) => m.channelId === channelId && (!m.thread_ts || m.thread_ts === m.ts)).reverse();
    return this.page(inChannel, args, 'messages', (m) => this.render(m, args.include_all_metadata === 'true' || args.include_all_metadata === true));
  }

  /** A thread: its parent first, then the replies, oldest first. */
  private replies(args: Record<string, unknown>): Reply {
    const channelId = this.knownId(args.channel);
    if (!channelId) return this.answer({ ok: false, error: 'channel_not_found' });
    if (typeof args.ts !== 'string' || !args.ts) return this.answer({ ok: false, error: 'invalid_arguments' });
    const parent = this.messages.find((m) => m.channelId === channelId && m.ts === args.ts);
    if (!parent) return this.answer({ ok: false, error: 'thread_not_found' });
    const thread = [parent, ...this.messages.filter((m) => m.channelId === channelId && m.thread_ts === parent.ts && m.ts !== parent.ts)];
    return this.page(thread, args, 'messages', (m) => this.render(m, args.include_all_metadata === 'true' || args.include_all_metadata === true));
  }

  private list(args: Record<string, unknown>): Reply {
    const named = this.options.channels
      ? Object.entries(this.options.channels).map(([name, id]) => ({ name: name.replace(/^#/, ''), id }))
      : [...this.generatedIds].map(([name, id]) => ({ name, id }));
    const unique = [...new Map(named.map((c) => [c.id, c])).values()];
    return this.page(unique, args, 'channels', (c) => ({
      id: c.id, name: c.name, is_channel: true, is_private: false, is_archived: false, is_member: true, created: 1_600_000_000,
    }));
  }

  /** Slack's cursor pagination: `limit` (default 100, at most 999 here), an opaque `next_cursor`; `oldest`/`latest` for messages. */
  private page<T>(all: T[], args: Record<string, unknown>, key: string, render: (x: T) => unknown): Reply {
    let list = all;
    const tsOf = (x: T) => Number((x as { ts?: string }).ts ?? NaN);
    const inclusive = args.inclusive === 'true' || args.inclusive === true;
    if (args.oldest !== undefined) {
      const oldest = Number(args.oldest);
      list = list.filter((x) => (inclusive ? tsOf(x) >= oldest : tsOf(x) > oldest));
    }
    if (args.latest !== undefined) {
      const latest = Number(args.latest);
      list = list.filter((x) => (inclusive ? tsOf(x) <= latest : tsOf(x) < latest));
    }
    const limit = Math.min(Math.max(Number(args.limit ?? 100) || 100, 1), 999);
    let from = 0;
    if (typeof args.cursor === 'string' && args.cursor) {
      const m = /^offset:(\d+)$/.exec(Buffer.from(args.cursor, 'base64').toString());
      if (!m) return this.answer({ ok: false, error: 'invalid_cursor' });
      from = Number(m[1]);
    }
    const slice = list.slice(from, from + limit);
    const more = from + limit < list.length;
    return this.answer({
      ok: true,
      [key]: slice.map(render),
      ...(key === 'messages' ? { has_more: more, pin_count: 0 } : {}),
      response_metadata: { next_cursor: more ? Buffer.from(`offset:${from + limit}`).toString('base64') : '' },
    });
  }

  private render(m: SlackMessage, withMetadata: boolean): Record<string, unknown> {
    const replies = m.thread_ts ? [] : this.thread(m.ts);
    return {
      ...BOT,
      type: 'message',
      text: m.text ?? '',
      ts: m.ts,
      ...(m.blocks ? { blocks: m.blocks } : {}),
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
      ...(replies.length ? { thread_ts: m.ts, reply_count: replies.length, latest_reply: replies[replies.length - 1].ts } : {}),
      ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
    };
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
    const sectionTooLong = (b: unknown) => {
      const t = (b as { type?: string; text?: { text?: unknown } }).text?.text;
      return (b as { type?: string }).type === 'section' && typeof t === 'string' && t.length > SECTION_TEXT_MAX;
    };
    if (list && (list.length > BLOCKS_MAX || !list.every(wellFormed) || list.some(sectionTooLong))) return { error: 'invalid_blocks' };
    if (text && text.length > TEXT_MAX) return { error: 'msg_too_long' };
    if (!text && !list?.length && !args.attachments) return { error: 'no_text' };
    return { ...(text !== undefined ? { text } : {}), ...(list?.length ? { blocks: list } : {}) };
  }

  /** Message metadata: `{event_type, event_payload}`, JSON-encoded in a form body. */
  private metadata(raw: unknown): SlackMetadata | undefined | string {
    if (raw === undefined || raw === '') return undefined;
    let value = raw;
    if (typeof raw === 'string') {
      try {
        value = JSON.parse(raw);
      } catch {
        return 'invalid_metadata_format';
      }
    }
    const m = value as { event_type?: unknown; event_payload?: unknown };
    if (typeof m !== 'object' || m === null || typeof m.event_type !== 'string' || !/^[a-z0-9_]+$/i.test(m.event_type)
      || typeof m.event_payload !== 'object' || m.event_payload === null || Array.isArray(m.event_payload)) {
      return 'invalid_metadata_schema';
    }
    return { event_type: m.event_type, event_payload: m.event_payload as Record<string, unknown> };
  }

  /** Unique, increasing ts from the clock (microseconds), as Slack's are within a channel. */
  private nextTs(): string {
    const micros = Math.max(Math.floor(this.now() * 1000), this.lastMicros + 100);
    this.lastMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  /** An id of a channel that exists; reading history needs an id, never a name. */
  private knownId(channel: unknown): string | undefined {
    if (typeof channel !== 'string' || !ID.test(channel)) return undefined;
    const known = this.options.channels ? Object.values(this.options.channels) : [...this.generatedIds.values()];
    return known.includes(channel) || this.messages.some((m) => m.channelId === channel) ? channel : undefined;
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

  /*
   * Interactivity, as Slack behaves: a click on a button of a posted message makes a block_actions
   * payload (with a trigger id valid for 3 s and once, and a response_url valid for 30 minutes and
   * 5 posts) for the test to sign and send to the app; views.open exchanges the trigger for a
   * modal, whose submission makes a view_submission payload; usergroups.users.list answers a
   * group's members; the response_url takes the app's replies to the clicking user.
   */

  /** Modals opened with views.open. */
  readonly views: SlackView[] = [];
  /** What the app posted to response_urls (only the clicking user sees these). */
  readonly responses: Array<{ url: string; body: Record<string, unknown> }> = [];
  /** usergroups.users.list calls, by group. */
  readonly usergroupReads: string[] = [];
  private readonly triggers = new Map<string, { issuedAt: number; used: boolean; user: SlackPerson }>();
  private readonly responseUrls = new Map<string, { issuedAt: number; uses: number }>();
  private viewSeq = 0;

  /** Every trigger id issued so far is now older than Slack's 3 seconds. */
  expireTriggers(): void {
    for (const t of this.triggers.values()) t.issuedAt -= 3_001;
  }

  /**
   * The payload Slack sends when `user` presses the button `actionId` on `message`: the button must
   * be on the message as posted (or updated), else this throws.
   */
  click(message: SlackMessage, actionId: string, user: SlackPerson): Record<string, unknown> {
    const found = findButton(message.blocks ?? [], actionId);
    if (!found) throw new Error(`SlackStandIn: no button ${actionId} on message ${message.ts} (${message.text ?? ''})`);
    const now = Date.now();
    const triggerId = `${Math.floor(now / 1000)}.${randomDigits(13)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(triggerId, { issuedAt: now, used: false, user });
    const hook = `/actions/${BOT.team}/${randomDigits(13)}/${randomBytes(12).toString('base64url')}`;
    this.responseUrls.set(hook, { issuedAt: now, uses: 0 });
    const channelName = Object.entries(this.options.channels ?? {}).find(([, id]) => id === message.channelId)?.[0]
      ?? [...this.generatedIds].find(([, id]) => id === message.channelId)?.[0] ?? message.channel;
    return {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: BOT.team },
      api_app_id: BOT.app_id,
      token: 'deprecated-verification-token',
      container: { type: 'message', message_ts: message.ts, channel_id: message.channelId, is_ephemeral: false, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) },
      trigger_id: triggerId,
      team: { id: BOT.team, domain: 'stand-in' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: message.channelId, name: channelName.replace(/^#/, '') },
      message: { ...BOT, type: 'message', ts: message.ts, text: message.text ?? '', ...(message.blocks ? { blocks: message.blocks } : {}), ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) },
      state: { values: {} },
      response_url: `${this.url}${hook}`,
      actions: [{ ...found.button, block_id: found.blockId, action_ts: (now / 1000).toFixed(6) }],
    };
  }

  /** The payload Slack sends when the user submits the open modal `viewId`, with these input values (by block id). */
  submit(viewId: string, values: Record<string, string>): Record<string, unknown> {
    const v = this.views.find((x) => x.id === viewId);
    if (!v) throw new Error(`SlackStandIn: no view ${viewId} was opened`);
    const state: Record<string, Record<string, { type: string; value: string | null }>> = {};
    for (const block of v.view.blocks as Array<{ type: string; block_id?: string; element?: { type: string; action_id: string } }>) {
      if (block.type !== 'input' || !block.block_id || !block.element) continue;
      state[block.block_id] = { [block.element.action_id]: { type: block.element.type, value: values[block.block_id] ?? null } };
    }
    return {
      type: 'view_submission',
      team: { id: BOT.team, domain: 'stand-in' },
      user: { id: v.user.id, username: v.user.name, name: v.user.name, team_id: BOT.team },
      api_app_id: BOT.app_id,
      token: 'deprecated-verification-token',
      trigger_id: `${Math.floor(Date.now() / 1000)}.${randomDigits(13)}.${randomBytes(16).toString('hex')}`,
      view: { ...v.view, id: v.id, team_id: BOT.team, state: { values: state }, hash: `${Math.floor(Date.now() / 1000)}.abc`, root_view_id: v.id, previous_view_id: null, app_id: BOT.app_id, bot_id: BOT.bot_id },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
  }

  /** The replies posted through the response_url of this click payload. */
  responsesTo(click: Record<string, unknown>): Array<Record<string, unknown>> {
    return this.responses.filter((r) => r.url === click.response_url).map((r) => r.body);
  }

  /** A Web API call's arguments: query string, then form or JSON body. */
  private argsOf(req: StandInRequest): Record<string, unknown> {
    const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
    return { ...req.query, ...body };
  }

  /** Slack reads the token from the Authorization header, or from a form body's `token` (never a JSON body's). */
  private authFailure(req: StandInRequest, args: Record<string, unknown>): Reply | undefined {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? (req.form ? (args.token as string | undefined) : undefined);
    if (!token) return this.answer({ ok: false, error: 'not_authed' });
    if (token !== this.options.token) return this.answer({ ok: false, error: 'invalid_auth' });
    return undefined;
  }

  private interactive(req: StandInRequest): Reply | undefined {
    if (req.method === 'POST' && req.path.startsWith('/actions/')) return this.respond(req);
    const method = req.method === 'POST' ? /^\/api\/(views\.open|usergroups\.users\.list)$/.exec(req.path)?.[1] : undefined;
    if (!method) return undefined;
    const args = this.argsOf(req);
    const refused = this.authFailure(req, args);
    if (refused) return refused;
    return method === 'views.open' ? this.openView(args) : this.usergroupUsers(args);
  }

  /** views.open: the trigger must be known, unused and at most 3 s old; the view must be a valid modal. */
  private openView(args: Record<string, unknown>): Reply {
    const triggerId = typeof args.trigger_id === 'string' ? args.trigger_id : '';
    if (!triggerId) return this.answer({ ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] } });
    const trigger = this.triggers.get(triggerId);
    if (!trigger) return this.answer({ ok: false, error: 'invalid_trigger_id' });
    if (trigger.used) return this.answer({ ok: false, error: 'exchanged_trigger_id' });
    if (Date.now() - trigger.issuedAt > 3_000) return this.answer({ ok: false, error: 'expired_trigger_id' });
    let view: unknown = args.view;
    if (typeof view === 'string') {
      try { view = JSON.parse(view); } catch { return this.answer({ ok: false, error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] failed to match all allowed schemas [json-pointer:/view]'] } }); }
    }
    const problems = modalProblems(view);
    if (problems.length) return this.answer({ ok: false, error: 'invalid_arguments', response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } });
    trigger.used = true;
    this.viewSeq += 1;
    const id = `V${String(this.viewSeq).padStart(8, '0')}`;
    const v = view as SlackView['view'];
    this.views.push({ id, view: v, user: trigger.user, triggerId });
    return this.answer({ ok: true, view: { ...v, id, team_id: BOT.team, state: { values: {} }, hash: `${Math.floor(Date.now() / 1000)}.abc`, private_metadata: v.private_metadata ?? '', callback_id: v.callback_id ?? '', root_view_id: id, app_id: BOT.app_id, bot_id: BOT.bot_id } });
  }

  private usergroupUsers(args: Record<string, unknown>): Reply {
    const group = typeof args.usergroup === 'string' ? args.usergroup : '';
    if (!group) return this.answer({ ok: false, error: 'invalid_arguments' });
    this.usergroupReads.push(group);
    const members = this.options.usergroups?.[group];
    if (!members) return this.answer({ ok: false, error: 'no_such_subteam' });
    return this.answer({ ok: true, users: [...members] });
  }

  /** A response_url takes JSON, at most 5 times within 30 minutes of the click. */
  private respond(req: StandInRequest): Reply {
    const hook = this.responseUrls.get(req.path);
    if (!hook) return this.unrecognised(req, { status: 404, text: 'no_active_hooks' });
    if (hook.uses >= 5 || Date.now() - hook.issuedAt > 30 * 60_000) return { status: 404, text: 'expired_url' };
    if (!req.body || typeof req.body !== 'object' || (typeof (req.body as { text?: unknown }).text !== 'string' && !(req.body as { blocks?: unknown }).blocks)) {
      return { status: 400, text: 'no_text' };
    }
    hook.uses += 1;
    this.responses.push({ url: `${this.url}${req.path}`, body: req.body as Record<string, unknown> });
    return { status: 200, headers: { 'content-type': 'application/json' }, json: { ok: true } };
  }
}

export interface SlackPerson { id: string; name: string }

export interface SlackView {
  id: string;
  view: { type: string; callback_id?: string; private_metadata?: string; title: { text: string }; blocks: unknown[]; submit?: { text: string } };
  user: SlackPerson;
  triggerId: string;
}

function randomDigits(n: number): string {
  let out = '';
  while (out.length < n) out += String(randomBytes(4).readUInt32BE(0));
  return out.slice(0, n);
}

/** A button by action id, in an actions block or as a section's accessory. */
function findButton(blocks: unknown[], actionId: string): { button: Record<string, unknown>; blockId: string } | null {
  for (const [i, b] of (blocks as Array<{ type: string; block_id?: string; elements?: Array<Record<string, unknown>>; accessory?: Record<string, unknown> }>).entries()) {
    const candidates = [...(b.type === 'actions' ? b.elements ?? [] : []), ...(b.accessory ? [b.accessory] : [])];
    const button = candidates.find((e) => e.type === 'button' && e.action_id === actionId);
    if (button) return { button, blockId: b.block_id ?? `stand-in-block-${i}` };
  }
  return null;
}

/** What Slack checks of a modal before it opens it (the parts CVP uses). */
function modalProblems(view: unknown): string[] {
  const v = view as { type?: unknown; title?: { type?: unknown; text?: unknown }; submit?: { text?: unknown }; close?: { text?: unknown }; blocks?: unknown; callback_id?: unknown; private_metadata?: unknown };
  if (!v || typeof v !== 'object') return ['view: must be an object'];
  const problems: string[] = [];
  if (v.type !== 'modal') problems.push('must be a modal [json-pointer:/view/type]');
  if (v.title?.type !== 'plain_text' || typeof v.title.text !== 'string' || !v.title.text || v.title.text.length > 24) problems.push('title must be plain_text of at most 24 characters [json-pointer:/view/title]');
  for (const k of ['submit', 'close'] as const) {
    const t = v[k]?.text;
    if (v[k] !== undefined && (typeof t !== 'string' || t.length > 24)) problems.push(`${k} must be plain_text of at most 24 characters [json-pointer:/view/${k}]`);
  }
  if (typeof v.callback_id === 'string' && v.callback_id.length > 255) problems.push('callback_id: at most 255 characters');
  if (typeof v.private_metadata === 'string' && v.private_metadata.length > 3000) problems.push('private_metadata: at most 3000 characters');
  const blocks = Array.isArray(v.blocks) ? (v.blocks as Array<{ type?: unknown; block_id?: unknown; label?: { text?: unknown }; element?: { type?: unknown; action_id?: unknown } }>) : null;
  if (!blocks || blocks.length > 100) problems.push('blocks: required, at most 100 [json-pointer:/view/blocks]');
  const inputs = (blocks ?? []).filter((b) => b.type === 'input');
  if (inputs.length && !v.submit) problems.push('submit is required when the view has input blocks [json-pointer:/view/submit]');
  for (const b of inputs) {
    if (typeof b.label?.text !== 'string' || b.label.text.length > 2000) problems.push('an input block needs a plain_text label');
    if (!b.element || typeof b.element.type !== 'string' || typeof b.element.action_id !== 'string') problems.push('an input block needs an element with an action_id');
  }
  const ids = (blocks ?? []).map((b) => b.block_id).filter((id) => id !== undefined);
  if (new Set(ids).size !== ids.length) problems.push('block_id must be unique within the view');
  return problems;
}
