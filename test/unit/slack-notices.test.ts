/**
 * Slack text made from event data: escaped the same way in the top-level `text` as in the blocks,
 * stripped of CR, C1 and bidirectional controls, and within Slack's sizes whatever the event holds,
 * checked against the Slack stand-in (which refuses what Slack refuses) through the notifier CVP uses.
 */
import { LogLevel, WebClient } from '@slack/web-api';
import { SlackNotifier } from '../../src/adapters/slack/slack-notifier';
import { durationMs } from '../../src/config/config';
import { permanentError } from '../../src/errors';
import type { Run, RunPlan } from '../../src/listener/domain';
import { decisionNotice, eventNotice, fitList, outcomeNotice, SECTION_MAX, shortenNotice, TEXT_MAX } from '../../src/listener/effects/notices';
import { cutSlackText, slackEscape, slackLink, stripInvisible } from '../../src/listener/intake/sanitize';
import { Router } from '../../src/listener/intake/router';
import { compileRules } from '../../src/listener/intake/rules';
import type { Notice } from '../../src/listener/ports';
import { SlackStandIn, expectNoUnexpected } from '../stand-ins/slack-stand-in';
import { coreHarness, groupEvent, GROUP_TOPIC, towerRule } from '../support/core-harness';

const TOKEN = 'xoxb-notices';
const OPTS = { advisoryUrl: 'https://errata.example.com/advisory/{id}', channel: '#cvp' };

function runOf(plan: RunPlan): Run {
  return {
    ...plan, messageId: plan.context.messageId, state: 'pending', buildRef: null, buildResult: null, outcome: null, errorReason: null,
    createdAt: 0, updatedAt: 0, deadlineAt: null, nextPollAt: null, attempts: 0, triggeredAt: null, startedAt: null, finishedAt: null,
    reported: null, supersededBy: null,
  };
}

/** The event: 40 images with NVRs of about 250 characters (their list made a 9,916-character section). */
function fortyImageRun(edit: (e: ReturnType<typeof groupEvent>) => void = () => undefined): Run {
  const event = groupEvent((e) => {
    const image = e.artifact.images[0];
    e.artifact.images = Array.from({ length: 40 }, (_, i) => ({ ...image, name: `image-${i}`, nvr: `${'ansible-tower-container-with-a-long-name'.repeat(5)}-${i}.0-1` }));
    edit(e);
  });
  const rules = compileRules([{ ...towerRule, checks: [] }], { executor: 'jenkins', timeoutMs: 60_000, productChannels: new Map(), durationMs });
  const [plan] = new Router(rules, { maxParameterLength: 4096 }).route(GROUP_TOPIC, event, 'msg-40');
  return runOf(plan);
}

function texts(n: Notice): string[] {
  return [n.text, ...n.blocks.flatMap((b) => {
    const block = b as { text?: { text: string }; elements?: Array<{ text?: string }> };
    return [block.text?.text ?? '', ...(block.elements ?? []).map((e) => e.text ?? '')];
  })];
}

function withinSlackLimits(n: Notice): void {
  expect(n.blocks.length).toBeLessThanOrEqual(50);
  for (const b of n.blocks) {
    const block = b as { text?: { text: string }; elements?: Array<{ text?: string }> };
    if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(SECTION_MAX);
    for (const e of block.elements ?? []) expect((e.text ?? '').length).toBeLessThanOrEqual(SECTION_MAX);
  }
  expect(n.text.length).toBeLessThanOrEqual(TEXT_MAX);
}

describe('the Slack stand-in refuses what Slack refuses for size', () => {
  let slack: SlackStandIn;
  beforeEach(async () => { slack = new SlackStandIn({ token: TOKEN }); await slack.start(); });
  afterEach(async () => { await slack.stop(); });

  it('a section over 3,000 characters or 51 blocks: invalid_blocks; a text over 40,000: msg_too_long', async () => {
    const web = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
    const section = (n: number) => ({ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(n) } });
    await expect(web.chat.postMessage({ channel: '#cvp', text: 'ok', blocks: [section(3_001)] })).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    await expect(web.chat.postMessage({ channel: '#cvp', text: 'ok', blocks: Array.from({ length: 51 }, () => section(1)) })).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    await expect(web.chat.postMessage({ channel: '#cvp', text: 'x'.repeat(40_001) })).rejects.toMatchObject({ data: { error: 'msg_too_long' } });
    await web.chat.postMessage({ channel: '#cvp', text: 'x'.repeat(40_000), blocks: [...Array.from({ length: 49 }, () => section(1)), section(3_000)] });
    expect(slack.messages).toHaveLength(1);
    expectNoUnexpected(slack);
  });

  it('takes the first notice of a 40-image event, whose image list is cut with "and N more"', async () => {
    const notifier = new SlackNotifier({ token: TOKEN, channel: '#cvp', apiUrl: slack.apiUrl, requestTimeoutMs: 5_000 });
    const notice = eventNotice(fortyImageRun(), 'https://jenkins.example.com/job/x/1/', OPTS);
    withinSlackLimits(notice);
    const images = (notice.blocks[1] as { text: { text: string } }).text.text;
    expect(images).toMatch(/^Images: ansible-tower-container-with-a-long-name.* and \d+ more$/);
    const shown = images.split(', ').length;
    expect(Number(/and (\d+) more$/.exec(images)![1]) + shown).toBe(40);
    const posted = await notifier.post(notice);
    expect(posted.ts).toBeDefined();
    // The shorter forms the outbox falls back on are accepted too.
    await notifier.post(shortenNotice(notice, 1)!);
    await notifier.post(shortenNotice(notice, 2)!);
    expect(slack.messages).toHaveLength(3);
    expectNoUnexpected(slack);
  });
});

describe('event text in notices', () => {
  const hostile = '<!channel> <https://evil.example|click here> & \u202egnp.exe\r\u0085\u200f\u2066x\u2069';

  it('is escaped in the top-level text as in the blocks, with CR, C1 and bidi controls taken out', () => {
    const run = fortyImageRun((e) => { e.artifact.component = hostile; e.artifact.id = hostile; e.artifact.images[0].nvr = `${hostile.replace(/\s/g, '')}-1-1`; });
    const notices = [
      eventNotice(run, 'https://jenkins.example.com/job/x/1/', OPTS),
      outcomeNotice(run, 'FAILED', 'https://jenkins.example.com/job/x/1/', hostile, OPTS),
      decisionNotice({ context: run.context, product: hostile, decision: 'fail', mode: 'off', action: 'none', changed: false,
        reasons: [{ testcase: hostile, item: hostile, type: 'brew-build', outcome: 'FAILED', why: hostile, ref_url: 'https://r.example/x|<!here>' }] }, OPTS),
    ];
    for (const n of notices) {
      for (const t of texts(n)) {
        expect(t).not.toMatch(/<!channel>|<!here>|<https:\/\/evil/);
        expect(t).not.toMatch(/[\r\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
      }
      expect(n.text).toContain('&lt;!channel&gt; &lt;https://evil.example|click here&gt; &amp; gnp.exe');
    }
    // The link CVP makes itself stays one link, its URL unable to close it or start markup.
    const decision = texts(notices[2]).join('\n');
    expect(decision).toContain('<https://r.example/x%7C%3C!here%3E|results>');
  });

  it('keeps every section under 3,000 characters after escaping, whatever the event holds', () => {
    const amps = '&'.repeat(5_000);
    const run = fortyImageRun((e) => { e.artifact.component = amps; e.artifact.id = amps; e.artifact.images[0].nvr = `${amps}-1-1`; });
    withinSlackLimits(eventNotice(run, undefined, OPTS));
    withinSlackLimits(outcomeNotice(run, 'ERROR', undefined, amps, OPTS));
    const reasons = Array.from({ length: 200 }, (_, i) => ({ testcase: amps, item: `item-${i}`, type: 'brew-build', outcome: 'FAILED', why: amps, ref_url: `https://r.example/${i}` }));
    const decision = decisionNotice({ context: run.context, product: amps, decision: 'fail', mode: 'on', action: 'none', changed: true, reasons }, OPTS);
    withinSlackLimits(decision);
    expect((decision.blocks[1] as { text: { text: string } }).text.text).toMatch(/ and \d+ more$/);
  });

  it('cuts escaped text without leaving half an entity or half a link', () => {
    expect(cutSlackText('ab&amp;cd', 5)).toBe('ab…');
    expect(cutSlackText('see <https://x.example/a|build> now', 20)).toBe('see …');
    expect(cutSlackText('short', 10)).toBe('short');
    expect(slackEscape('a\tb\nc\rd\u0000e')).toBe('a b cde');
    expect(stripInvisible('a\nb', false)).toBe('a\nb');
    expect(slackLink('javascript:alert(1)', 'build')).toBe('build javascript:alert(1)');
    expect(slackLink('https://ok.example/a?b=1&c=2', 'build')).toBe('<https://ok.example/a?b=1&amp;c=2|build>');
    expect(fitList(['aaaa', 'bbbb', 'cccc'], 15)).toBe('aaaa and 2 more');
    expect(fitList(['aaaa', 'bbbb', 'cccc'], 14)).toBe('3 more');
    expect(fitList(['aaaa', 'bbbb'], 100)).toBe('aaaa, bbbb');
    expect(fitList(['a'.repeat(50)], 10)).toBe('1 more');
  });
});

describe('a notice Slack refuses for its size', () => {
  it('is posted shorter, never dropped (the outbox falls back on shortenNotice)', async () => {
    const h = coreHarness();
    const post = h.notifier.post.bind(h.notifier);
    const refused: Notice[] = [];
    // A Slack that refuses any notice with blocks (as if they were too long): only the text-only form passes.
    h.notifier.post = async (n: Notice) => {
      if (n.blocks.length) { refused.push(n); throw permanentError('NOTICE_TOO_LONG', 'Slack refused the notice for its size (invalid_blocks)'); }
      return post(n);
    };
    await h.intake.processEvent({ envelope: { id: 'm-long', topic: GROUP_TOPIC, headers: {}, body: JSON.stringify(groupEvent()), source: 'bus' }, handle: null });
    await h.settle();
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(h.notifier.notices.length).toBeGreaterThanOrEqual(1);
    expect(h.notifier.notices[0].blocks).toEqual([]);
    expect(h.notifier.notices[0].text).toMatch(/^Rebuilt: /);
    await h.journal.close();
  });
});
