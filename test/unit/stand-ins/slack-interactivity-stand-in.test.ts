/**
 * The Slack stand-in's interactivity, driven by @slack/web-api's WebClient (the client CVP uses):
 * trigger ids valid once and for 3 s, modals checked before they open, user groups, response_urls.
 */
import { LogLevel, WebClient } from '@slack/web-api';
import { SlackStandIn, expectNoUnexpected } from '../../stand-ins/slack-stand-in';

const TOKEN = 'xoxb-stand-in-token';
const ADA = { id: 'U0ADA', name: 'ada' };
const BUTTONS = [
  { type: 'section', text: { type: 'mrkdwn', text: 'Gate FAILED' } },
  { type: 'actions', block_id: 'cvp.waive', elements: [{ type: 'button', action_id: 'cvp.waive.0', text: { type: 'plain_text', text: 'Waive' }, value: '{"k":"waive"}' }] },
];
const MODAL = {
  type: 'modal', callback_id: 'cvp.waive', title: { type: 'plain_text', text: 'Waive a result' }, submit: { type: 'plain_text', text: 'Waive' },
  private_metadata: '{"id":"x"}',
  blocks: [{ type: 'input', block_id: 'cvp.reason', label: { type: 'plain_text', text: 'Reason' }, element: { type: 'plain_text_input', action_id: 'cvp.reason' } }],
};

let slack: SlackStandIn;
// WebClient prints the warnings of an invalid_arguments answer even at ERROR: silenced, the test reads them.
const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => LogLevel.ERROR, setName() {} };
const client = () => new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, logger: quiet });

beforeEach(async () => {
  slack = new SlackStandIn({ token: TOKEN, usergroups: { S0QE: ['U0ADA', 'U0BOB'] } });
  await slack.start();
});

afterEach(async () => {
  await slack.stop();
});

async function posted() {
  await client().chat.postMessage({ channel: '#cvp', text: 'Gate FAILED', blocks: BUTTONS });
  return slack.messages[0];
}

it('makes a click payload from a button on a posted message, as Slack sends it', async () => {
  const message = await posted();
  const click = slack.click(message, 'cvp.waive.0', ADA);
  expect(click).toMatchObject({
    type: 'block_actions', user: { id: 'U0ADA', username: 'ada' }, container: { type: 'message', message_ts: message.ts, channel_id: message.channelId },
    channel: { id: message.channelId, name: 'cvp' }, trigger_id: expect.stringMatching(/^\d+\.\d+\.[0-9a-f]+$/), response_url: expect.stringMatching(/\/actions\/T0STANDIN\//),
    actions: [{ type: 'button', action_id: 'cvp.waive.0', block_id: 'cvp.waive', value: '{"k":"waive"}', action_ts: expect.stringMatching(/^\d+\.\d{6}$/) }],
  });
  expect(() => slack.click(message, 'cvp.release', ADA)).toThrow(/no button cvp.release on message/);
});

it('opens a modal once per trigger, within 3 s of the click, and checks the view as Slack does', async () => {
  const message = await posted();
  const web = client();
  const click = slack.click(message, 'cvp.waive.0', ADA);
  const opened = await web.views.open({ trigger_id: click.trigger_id as string, view: MODAL as never });
  expect(opened).toMatchObject({ ok: true, view: { id: 'V00000001', type: 'modal', callback_id: 'cvp.waive', private_metadata: '{"id":"x"}', state: { values: {} } } });
  await expect(web.views.open({ trigger_id: click.trigger_id as string, view: MODAL as never })).rejects.toMatchObject({ data: { error: 'exchanged_trigger_id' } });
  await expect(web.views.open({ trigger_id: '1.2.3', view: MODAL as never })).rejects.toMatchObject({ data: { error: 'invalid_trigger_id' } });
  const late = slack.click(message, 'cvp.waive.0', ADA);
  slack.expireTriggers();
  await expect(web.views.open({ trigger_id: late.trigger_id as string, view: MODAL as never })).rejects.toMatchObject({ data: { error: 'expired_trigger_id' } });
  const bad = slack.click(message, 'cvp.waive.0', ADA);
  await expect(web.views.open({ trigger_id: bad.trigger_id as string, view: { ...MODAL, title: { type: 'plain_text', text: 'A title far longer than twenty-four' }, submit: undefined } as never }))
    .rejects.toMatchObject({ data: { error: 'invalid_arguments', response_metadata: { messages: [expect.stringContaining('title'), expect.stringContaining('submit is required')] } } });

  const submitted = slack.submit('V00000001', { 'cvp.reason': 'flaky' });
  expect(submitted).toMatchObject({
    type: 'view_submission', user: { id: 'U0ADA' },
    view: { id: 'V00000001', callback_id: 'cvp.waive', private_metadata: '{"id":"x"}', state: { values: { 'cvp.reason': { 'cvp.reason': { type: 'plain_text_input', value: 'flaky' } } } } },
  });
  expectNoUnexpected(slack);
});

it('lists a user group\'s members, and refuses a group it does not know', async () => {
  const web = client();
  await expect(web.usergroups.users.list({ usergroup: 'S0QE' })).resolves.toMatchObject({ ok: true, users: ['U0ADA', 'U0BOB'] });
  await expect(web.usergroups.users.list({ usergroup: 'S0NONE' })).rejects.toMatchObject({ data: { error: 'no_such_subteam' } });
  await expect(new WebClient('xoxb-wrong', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR }).usergroups.users.list({ usergroup: 'S0QE' }))
    .rejects.toMatchObject({ data: { error: 'invalid_auth' } });
  expect(slack.usergroupReads).toEqual(['S0QE', 'S0NONE']);
});

it('takes up to 5 replies through a click\'s response_url, and refuses a URL it never gave', async () => {
  const click = slack.click(await posted(), 'cvp.waive.0', ADA);
  const reply = (url: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', text: 'done' }) });
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await reply(click.response_url as string)).status);
  expect(statuses).toEqual([200, 200, 200, 200, 200, 404]);
  expect(slack.responsesTo(click)).toHaveLength(5);
  expect((await reply(`${slack.url}/actions/T0STANDIN/1/nope`)).status).toBe(404);
  expect(slack.unexpected).toEqual(['POST /actions/T0STANDIN/1/nope']);
});
