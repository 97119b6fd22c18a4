/**
 * SlackNotifier against the Slack stand-in: each notice carries its key in message metadata and is
 * found again after a lost answer (in the channel's history or its thread); Slack's refusals and
 * lost answers are told apart, so the core retries, looks up, re-renders or gives up as each needs.
 */
import { ConsoleNotifier } from '../../../src/adapters/slack/console-notifier';
import { SlackNotifier } from '../../../src/adapters/slack/slack-notifier';
import { CvpError } from '../../../src/errors';
import { SlackStandIn, expectNoUnexpected } from '../../stand-ins/slack-stand-in';

const TOKEN = 'xoxb-stand-in-token';
const BLOCKS = [{ type: 'section', text: { type: 'mrkdwn', text: '*ansible-tower* passed' } }];

let slack: SlackStandIn;
let now: number;

/**
 * Node's fetch errors come from another realm than jest's, so WebClient (`instanceof Error`) would
 * rewrap them without their cause; in the daemon's one realm it keeps them. This keeps them here.
 */
const sameRealmFetch: typeof fetch = (input, init) => fetch(input, init).catch((e: { message: string; name: string; cause?: unknown }) => {
  throw Object.assign(new Error(e.message, { cause: e.cause }), { name: e.name });
});

function notifier(opts: { token?: string; timeoutMs?: number; maxLookupPages?: number; apiUrl?: string } = {}): SlackNotifier {
  return new SlackNotifier({
    token: opts.token ?? TOKEN, channel: '#cvp', apiUrl: opts.apiUrl ?? slack.apiUrl, requestTimeoutMs: opts.timeoutMs ?? 2_000,
    maxLookupPages: opts.maxLookupPages, fetch: sameRealmFetch,
  });
}

async function failure(p: Promise<unknown>): Promise<CvpError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(CvpError);
  return err as CvpError;
}

beforeEach(async () => {
  now = 1_750_000_000_000;
  slack = new SlackStandIn({ token: TOKEN, clock: () => now });
  await slack.start();
});

afterEach(async () => {
  await slack.stop();
});

describe('post and find', () => {
  it('posts the notice with its key in message metadata and answers the channel id and ts', async () => {
    const posted = await notifier().post({ text: 'passed', blocks: BLOCKS, key: 'effect-1' });
    expect(posted).toEqual({ ts: '1750000000.000000', channel: 'C00000001' });
    expect(slack.withKey('effect-1')).toEqual([expect.objectContaining({ channel: '#cvp', text: 'passed', metadata: { event_type: 'cvp_notice', event_payload: { key: 'effect-1' } } })]);
    expectNoUnexpected(slack);
  });

  it('finds a post whose answer was lost (reset) in the channel\'s history, resolving the name with conversations.list', async () => {
    const since = now;
    now += 1_000;
    slack.losePostAnswers({ as: 'reset' }, { count: 1 });
    const n = notifier();
    const err = await failure(n.post({ text: 'started', blocks: BLOCKS, key: 'effect-lost' }));
    expect(err).toMatchObject({ code: 'PEER_OUTCOME_UNKNOWN', permanent: false });
    expect(await n.find('effect-lost', '#cvp', { since })).toEqual({ ts: slack.withKey('effect-lost')[0].ts, channel: 'C00000001' });
    expect(await n.find('effect-never-posted', '#cvp', { since })).toBeNull();
    const asked = slack.requests.map((r) => r.path);
    expect(asked).toEqual(['/api/chat.postMessage', '/api/conversations.list', '/api/conversations.history', '/api/conversations.history']);
    const history = slack.requests.find((r) => r.path === '/api/conversations.history')!.body as Record<string, string>;
    expect(history).toEqual(expect.objectContaining({ channel: 'C00000001', include_all_metadata: 'true', oldest: '1750000000.000000', inclusive: 'true' }));
    expectNoUnexpected(slack);
  });

  it('finds a reply whose answer was held past the timeout in its thread, with conversations.replies', async () => {
    const n = notifier({ timeoutMs: 300 });
    const top = await n.post({ text: 'started', blocks: BLOCKS, key: 'start' });
    now += 1_000;
    slack.losePostAnswers({ as: 'hold', holdMs: 1_000 }, { count: 1 });
    const err = await failure(n.post({ text: 'finished', blocks: BLOCKS, threadTs: top.ts, channel: '#cvp', key: 'reply' }));
    expect(err).toMatchObject({ code: 'PEER_OUTCOME_UNKNOWN', permanent: false });
    expect(err.message).toMatch(/no answer from Slack \(no answer in time\)/);
    expect(await n.find('reply', '#cvp', { threadTs: top.ts, since: 0 })).toEqual({ ts: slack.thread(top.ts!)[0].ts, channel: 'C00000001' });
    expect(await n.find('other', 'C00000001', { threadTs: top.ts, since: 0 })).toBeNull();
    // The channel id came from the first post's answer: no conversations.list.
    expect(slack.requests.map((r) => r.path)).not.toContain('/api/conversations.list');
  });

  it('looks only since the notice\'s creation: an older message with the key is not read', async () => {
    const n = notifier();
    await n.post({ text: 'old', blocks: BLOCKS, key: 'k' });
    now += 60_000;
    expect(await n.find('k', 'C00000001', { since: now - 1_000 })).toBeNull();
    expect(await n.find('k', 'C00000001', { since: now - 120_000 })).toEqual(expect.objectContaining({ channel: 'C00000001' }));
  });

  it('answers null for a channel that does not exist or a thread that is not there', async () => {
    const strict = new SlackStandIn({ token: TOKEN, channels: { '#cvp': 'C0CVP' } });
    await strict.start();
    try {
      const n = notifier({ apiUrl: strict.apiUrl });
      expect(await n.find('k', '#elsewhere', { since: 0 })).toBeNull();
      expect(await n.find('k', '#cvp', { since: 0 })).toBeNull();
      expect(await n.find('k', 'C0CVP', { threadTs: '1.000000', since: 0 })).toBeNull();
    } finally {
      await strict.stop();
    }
  });

  it('pages through history with a bound: past it, a transient TIMEOUT rather than a guess', async () => {
    const n = notifier({ maxLookupPages: 2 });
    for (let i = 0; i < 450; i++) { await n.post({ text: `m${i}`, blocks: BLOCKS, key: `k${i}` }); now += 10; }
    expect(await n.find('k300', 'C00000001', { since: 0 })).toEqual(expect.objectContaining({ channel: 'C00000001' }));
    expect(await failure(n.find('k5', 'C00000001', { since: 0 }))).toMatchObject({ code: 'TIMEOUT', permanent: false });
    expect(await n.find('k5', 'C00000001', { since: now - 1_000 })).toBeNull();
  }, 30_000);
});

describe('what each failure means', () => {
  it.each([
    ['invalid_auth (a token being rotated)', () => notifier({ token: 'xoxb-old' }).post({ text: 'x', blocks: BLOCKS }), { code: 'PEER_AUTH_FAILED', permanent: false }],
    ['msg_too_long', () => notifier().post({ text: 'x'.repeat(40_001), blocks: [] }), { code: 'NOTICE_TOO_LONG', permanent: true }],
    ['invalid_blocks (a section over 3,000 characters)', () => notifier().post({ text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(3_001) } }] }), { code: 'NOTICE_TOO_LONG', permanent: true }],
    ['channel_not_found', () => notifier().post({ text: 'x', blocks: BLOCKS, channel: '' }), { code: 'PEER_REJECTED', permanent: true }],
  ])('%s', async (_name, call, expected) => {
    expect(await failure(call())).toMatchObject(expected);
    expect(slack.messages).toEqual([]);
  });

  it('a 429 is transient with Slack\'s Retry-After', async () => {
    slack.rateLimit(1, 7);
    expect(await failure(notifier().post({ text: 'x', blocks: BLOCKS }))).toMatchObject({ code: 'PEER_UNAVAILABLE', permanent: false, retryAfterMs: 7_000 });
  });

  it('a 503 to a post is an unknown outcome; to a lookup, plain unavailability', async () => {
    slack.failWith(503, 2);
    expect(await failure(notifier().post({ text: 'x', blocks: BLOCKS }))).toMatchObject({ code: 'PEER_OUTCOME_UNKNOWN', permanent: false });
    expect(await failure(notifier().find('k', 'C00000001', { since: 0 }))).toMatchObject({ code: 'PEER_UNAVAILABLE', permanent: false });
  });

  it('a refused connection surely did not post: transient, no lookup needed', async () => {
    await slack.refuseConnections();
    const err = await failure(notifier().post({ text: 'x', blocks: BLOCKS }));
    expect(err).toMatchObject({ code: 'PEER_UNAVAILABLE', permanent: false });
    expect(err.message).toMatch(/Slack unreachable \(ECONNREFUSED\)/);
  });

  it('a lookup with a token being rotated is transient too', async () => {
    expect(await failure(notifier({ token: 'xoxb-old' }).find('k', '#cvp', { since: 0 }))).toMatchObject({ code: 'PEER_AUTH_FAILED', permanent: false });
  });
});

describe('ConsoleNotifier', () => {
  it('finds what this process printed, and nothing else', async () => {
    const lines: string[] = [];
    const console = new ConsoleNotifier((l) => lines.push(l));
    const { ts } = await console.post({ text: 'hello', blocks: [], key: 'k1' });
    expect(await console.find('k1')).toEqual({ ts });
    expect(await console.find('k2')).toBeNull();
    expect(lines).toEqual(['slack   hello']);
  });
});
