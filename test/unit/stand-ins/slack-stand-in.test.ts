/**
 * The Slack stand-in driven by @slack/web-api's WebClient, the client CVP uses.
 */
import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import { SlackStandIn, expectNoUnexpected } from '../../stand-ins/slack-stand-in';

const TOKEN = 'xoxb-stand-in-token';
const BLOCKS = [{ type: 'section', text: { type: 'mrkdwn', text: '*ansible-tower* passed' } }];

let slack: SlackStandIn;

// logLevel ERROR: WebClient warns about a missing `text` and logs each rate-limit wait.
const client = (opts: { token?: string; retries?: number } = {}) =>
  new WebClient(opts.token ?? TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: opts.retries ?? 0 }, logLevel: LogLevel.ERROR });

let now: number;

beforeEach(async () => {
  now = 1_700_000_000_000;
  slack = new SlackStandIn({ token: TOKEN, clock: () => now });
  await slack.start();
});

afterEach(async () => {
  await slack.stop();
});

it('posts blocks and a thread reply, with unique increasing ts', async () => {
  const web = client();
  const top = await web.chat.postMessage({ channel: '#cvp', text: 'ansible-tower passed', blocks: BLOCKS });
  expect(top).toEqual(
    expect.objectContaining({ ok: true, channel: 'C00000001', ts: '1700000000.000000', message: expect.objectContaining({ blocks: BLOCKS }) }),
  );
  const reply = await web.chat.postMessage({ channel: '#cvp', text: 'details', thread_ts: top.ts });
  // Two posts in the same microsecond of the clock still get increasing ts.
  expect(reply.ts).toBe('1700000000.000100');
  now += 2_500;
  expect((await web.chat.postMessage({ channel: '#cvp', text: 'later' })).ts).toBe('1700000002.500000');
  expect(reply.message?.thread_ts).toBe(top.ts);
  expect(slack.messages.slice(0, 2)).toEqual([
    { channel: '#cvp', channelId: 'C00000001', text: 'ansible-tower passed', blocks: BLOCKS, thread_ts: undefined, ts: top.ts },
    { channel: '#cvp', channelId: 'C00000001', text: 'details', thread_ts: top.ts, ts: reply.ts },
  ]);
  expect(slack.thread(top.ts!)).toHaveLength(1);
  // WebClient posts a form with blocks JSON-encoded, and the token as a Bearer header.
  const sent = slack.requests[0];
  expect(sent.path).toBe('/api/chat.postMessage');
  expect(sent.headers['content-type']).toBe('application/x-www-form-urlencoded');
  expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect((sent.body as Record<string, string>).blocks).toBe(JSON.stringify(BLOCKS));
  expectNoUnexpected(slack);
});

it('updates a message by channel id and ts, not by channel name', async () => {
  const web = client();
  const top = await web.chat.postMessage({ channel: '#cvp', text: 'running' });
  const updated = await web.chat.update({ channel: top.channel!, ts: top.ts!, text: 'passed', blocks: BLOCKS });
  expect(updated).toEqual(expect.objectContaining({ ok: true, ts: top.ts, text: 'passed' }));
  expect(slack.messages[0]).toEqual(expect.objectContaining({ text: 'passed', blocks: BLOCKS }));
  expect(slack.updates).toEqual([{ channel: top.channel, ts: top.ts, text: 'passed', blocks: BLOCKS }]);
  await expect(web.chat.update({ channel: '#cvp', ts: top.ts!, text: 'x' })).rejects.toMatchObject({
    data: expect.objectContaining({ error: 'channel_not_found' }),
  });
  await expect(web.chat.update({ channel: top.channel!, ts: '1.000000', text: 'x' })).rejects.toMatchObject({
    data: expect.objectContaining({ error: 'message_not_found' }),
  });
});

it.each([
  ['a wrong token', { channel: '#cvp', text: 'x' }, 'invalid_auth', 'wrong'],
  ['no channel', { channel: '', text: 'x' }, 'channel_not_found', TOKEN],
  ['neither text nor blocks', { channel: '#cvp' }, 'no_text', TOKEN],
])('answers ok:false for %s', async (_name, args, error, token) => {
  const web = client({ token });
  await expect(web.chat.postMessage(args as never)).rejects.toMatchObject({
    code: ErrorCode.PlatformError,
    data: expect.objectContaining({ ok: false, error }),
  });
  expect(slack.messages).toEqual([]);
});

it('knows only the configured channels when given a list', async () => {
  const strict = new SlackStandIn({ token: TOKEN, channels: { '#cvp': 'C0CVP' } });
  await strict.start();
  try {
    const web = new WebClient(TOKEN, { slackApiUrl: strict.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
    expect((await web.chat.postMessage({ channel: 'cvp', text: 'x' })).channel).toBe('C0CVP');
    await expect(web.chat.postMessage({ channel: '#other', text: 'x' })).rejects.toMatchObject({
      data: expect.objectContaining({ error: 'channel_not_found' }),
    });
  } finally {
    await strict.stop();
  }
});

it('accepts a JSON body with blocks as an array', async () => {
  const res = await fetch(`${slack.apiUrl}chat.postMessage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ channel: 'C0123ABC', blocks: BLOCKS }),
  });
  expect(await res.json()).toEqual(expect.objectContaining({ ok: true, channel: 'C0123ABC' }));
  expect(slack.messages[0].blocks).toEqual(BLOCKS);
});

it('rate-limits with 429 and Retry-After; a client allowed one retry succeeds after waiting', async () => {
  slack.rateLimit(1, 1);
  const started = Date.now();
  const res = await client({ retries: 1 }).chat.postMessage({ channel: '#cvp', text: 'after the limit' });
  expect(res.ok).toBe(true);
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  expect(slack.requests.map((r) => r.status)).toEqual([429, 200]);
  expect(slack.messages).toHaveLength(1);
});

it('lets a client that rejects rate-limited calls see the Retry-After at once', async () => {
  slack.rateLimit(1, 30);
  const web = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logLevel: LogLevel.ERROR });
  await expect(web.chat.postMessage({ channel: '#cvp', text: 'x' })).rejects.toMatchObject({
    code: ErrorCode.RateLimitedError,
    retryAfter: 30,
  });
});

it('records unknown methods as unexpected', async () => {
  await expect(client().reactions.add({ channel: 'C1', timestamp: '1.0', name: 'x' })).rejects.toMatchObject({ code: ErrorCode.HTTPError, statusCode: 404 });
  expect(slack.unexpected).toEqual(['POST /api/reactions.add']);
  expect(() => expectNoUnexpected(slack)).toThrow(/SlackStandIn: POST \/api\/reactions.add/);
});

const META = (key: string) => ({ event_type: 'cvp_notice', event_payload: { key } });

describe('history with message metadata', () => {
  it('keeps metadata, and returns it from conversations.history only with include_all_metadata, newest first', async () => {
    const web = client();
    const first = await web.chat.postMessage({ channel: '#cvp', text: 'one', metadata: META('k1') });
    now += 1_000;
    await web.chat.postMessage({ channel: '#cvp', text: 'reply', thread_ts: first.ts, metadata: META('k2') });
    now += 1_000;
    const second = await web.chat.postMessage({ channel: '#cvp', text: 'two', metadata: META('k3') });
    // Metadata arrives JSON-encoded in WebClient's form body.
    expect((slack.requests[0].body as Record<string, string>).metadata).toBe(JSON.stringify(META('k1')));
    const all = await web.conversations.history({ channel: first.channel!, include_all_metadata: true });
    // Thread replies are not in the channel's history; the parent says it has one.
    expect(all.messages!.map((m) => [m.ts, m.text, m.metadata])).toEqual([
      [second.ts, 'two', META('k3')],
      [first.ts, 'one', META('k1')],
    ]);
    expect(all.messages![1]).toEqual(expect.objectContaining({ thread_ts: first.ts, reply_count: 1 }));
    const plain = await web.conversations.history({ channel: first.channel! });
    expect(plain.messages!.every((m) => m.metadata === undefined)).toBe(true);
    const since = await web.conversations.history({ channel: first.channel!, oldest: '1700000001.500000', include_all_metadata: true });
    expect(since.messages!.map((m) => m.text)).toEqual(['two']);
    expect(slack.withKey('k2')).toEqual([expect.objectContaining({ text: 'reply', thread_ts: first.ts })]);
    expectNoUnexpected(slack);
  });

  it('needs a channel id to read history: a name is channel_not_found, as in Slack', async () => {
    const web = client();
    await web.chat.postMessage({ channel: '#cvp', text: 'one' });
    await expect(web.conversations.history({ channel: '#cvp' })).rejects.toMatchObject({ data: expect.objectContaining({ error: 'channel_not_found' }) });
    await expect(web.conversations.history({ channel: 'cvp' })).rejects.toMatchObject({ data: expect.objectContaining({ error: 'channel_not_found' }) });
    await expect(web.conversations.history({ channel: 'C99999999' })).rejects.toMatchObject({ data: expect.objectContaining({ error: 'channel_not_found' }) });
  });

  it('pages with limit and next_cursor, as WebClient.paginate follows them', async () => {
    const web = client();
    let channel = '';
    for (let i = 0; i < 7; i++) {
      channel = (await web.chat.postMessage({ channel: '#cvp', text: `m${i}`, metadata: META(`k${i}`) })).channel!;
      now += 10;
    }
    const first = await web.conversations.history({ channel, limit: 3 });
    expect(first.messages!.map((m) => m.text)).toEqual(['m6', 'm5', 'm4']);
    expect(first.has_more).toBe(true);
    const texts: string[] = [];
    for await (const page of web.paginate('conversations.history', { channel, limit: 3 })) {
      texts.push(...((page as unknown as { messages: Array<{ text: string }> }).messages.map((m) => m.text)));
    }
    expect(texts).toEqual(['m6', 'm5', 'm4', 'm3', 'm2', 'm1', 'm0']);
    await expect(web.conversations.history({ channel, cursor: 'bm9wZQ==' })).rejects.toMatchObject({ data: expect.objectContaining({ error: 'invalid_cursor' }) });
  });

  it('reads a thread with conversations.replies: the parent first, then the replies oldest first', async () => {
    const web = client();
    const top = await web.chat.postMessage({ channel: '#cvp', text: 'start', metadata: META('s') });
    for (const k of ['r1', 'r2']) { now += 5; await web.chat.postMessage({ channel: '#cvp', text: k, thread_ts: top.ts, metadata: META(k) }); }
    await web.chat.postMessage({ channel: '#cvp', text: 'elsewhere' });
    const thread = await web.conversations.replies({ channel: top.channel!, ts: top.ts!, include_all_metadata: true });
    expect(thread.messages!.map((m) => [m.text, (m.metadata?.event_payload as { key?: string } | undefined)?.key])).toEqual([['start', 's'], ['r1', 'r1'], ['r2', 'r2']]);
    await expect(web.conversations.replies({ channel: top.channel!, ts: '1.000001' })).rejects.toMatchObject({ data: expect.objectContaining({ error: 'thread_not_found' }) });
  });

  it('lists channels (names to ids) with conversations.list', async () => {
    const strict = new SlackStandIn({ token: TOKEN, channels: { '#cvp': 'C0CVP', '#tower': 'C0TOWER' } });
    await strict.start();
    try {
      const web = new WebClient(TOKEN, { slackApiUrl: strict.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
      const list = await web.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 1 });
      expect(list.channels!.map((c) => [c.name, c.id])).toEqual([['cvp', 'C0CVP']]);
      expect(list.response_metadata?.next_cursor).not.toBe('');
      const rest = await web.conversations.list({ limit: 5, cursor: list.response_metadata!.next_cursor });
      expect(rest.channels!.map((c) => c.name)).toEqual(['tower']);
    } finally {
      await strict.stop();
    }
  });

  it('refuses malformed metadata, text over 40,000 characters and a section over 3,000', async () => {
    const web = client();
    await expect(web.chat.postMessage({ channel: '#cvp', text: 'x', metadata: { event_type: 'cvp notice', event_payload: {} } } as never))
      .rejects.toMatchObject({ data: expect.objectContaining({ error: 'invalid_metadata_schema' }) });
    await expect(web.chat.postMessage({ channel: '#cvp', text: 'x'.repeat(40_001) })).rejects.toMatchObject({ data: expect.objectContaining({ error: 'msg_too_long' }) });
    await expect(web.chat.postMessage({ channel: '#cvp', text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(3_001) } }] }))
      .rejects.toMatchObject({ data: expect.objectContaining({ error: 'invalid_blocks' }) });
    expect(slack.messages).toEqual([]);
  });
});

describe('lost answers to posts', () => {
  it('keeps a post and resets the connection: the client sees a request error, the message is in the history', async () => {
    slack.losePostAnswers({ as: 'reset' }, { count: 1 });
    const web = client();
    const err = await web.chat.postMessage({ channel: '#cvp', text: 'kept', metadata: META('lost-1') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.RequestError });
    expect(slack.lostAnswers).toBe(1);
    const [kept] = slack.withKey('lost-1');
    expect(kept).toEqual(expect.objectContaining({ text: 'kept', answerLost: true }));
    const history = await web.conversations.history({ channel: kept.channelId, include_all_metadata: true });
    expect(history.messages!.map((m) => (m.metadata?.event_payload as { key?: string } | undefined)?.key)).toEqual(['lost-1']);
    expect((await web.chat.postMessage({ channel: '#cvp', text: 'answered' })).ok).toBe(true);
  });

  it('keeps a post and holds its answer past the client\'s timeout, for a time window', async () => {
    slack.losePostAnswers({ as: 'hold', holdMs: 1_000 }, { forMs: 60_000 });
    const web = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, timeout: 200, logLevel: LogLevel.ERROR });
    const err = await web.chat.postMessage({ channel: '#cvp', text: 'slow' }).catch((e: unknown) => e);
    // WebClient wraps the DOMException of AbortSignal.timeout (in jest's realm, as a plain Error).
    expect(err).toMatchObject({ code: ErrorCode.RequestError, original: expect.objectContaining({ message: expect.stringMatching(/TimeoutError|timeout/) }) });
    expect(slack.messages).toEqual([expect.objectContaining({ text: 'slow', answerLost: true })]);
    now += 60_000;
    expect((await web.chat.postMessage({ channel: '#cvp', text: 'quick' })).ok).toBe(true);
  });
});
