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

beforeEach(async () => {
  slack = new SlackStandIn({ token: TOKEN });
  await slack.start();
});

afterEach(async () => {
  await slack.stop();
});

it('posts blocks and a thread reply, with unique increasing ts', async () => {
  const web = client();
  const top = await web.chat.postMessage({ channel: '#cvp', text: 'ansible-tower passed', blocks: BLOCKS });
  expect(top).toEqual(
    expect.objectContaining({ ok: true, channel: 'C00000001', ts: '1700000000.000100', message: expect.objectContaining({ blocks: BLOCKS }) }),
  );
  const reply = await web.chat.postMessage({ channel: '#cvp', text: 'details', thread_ts: top.ts });
  expect(reply.ts).toBe('1700000000.000200');
  expect(reply.message?.thread_ts).toBe(top.ts);
  expect(slack.messages).toEqual([
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
  await expect(client().conversations.list()).rejects.toMatchObject({ code: ErrorCode.HTTPError, statusCode: 404 });
  expect(slack.unexpected).toEqual(['POST /api/conversations.list']);
  expect(() => expectNoUnexpected(slack)).toThrow(/SlackStandIn: POST \/api\/conversations.list/);
});
