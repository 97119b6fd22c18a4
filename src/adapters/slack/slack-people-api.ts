import type { WebClient } from '@slack/web-api';
import { permanentError, transientError } from '../../errors';
import { interactionWire } from './slack-interaction-wire';
import { type SlackClientOptions, slackWebClient } from './slack-client';

export type SlackPeopleApiOptions = SlackClientOptions;

/** What the interactivity endpoint calls on Slack. */
export interface SlackPeopleApi {
  /** Opens a modal for the user whose click gave `triggerId` (valid for 3 s, once). */
  openView(triggerId: string, view: object): Promise<string>;
  /** The user ids of a user group (scope usergroups:read). */
  usergroupMembers(usergroup: string): Promise<string[]>;
  /** A reply only the clicking user sees, through the click's response_url (30 minutes, 5 uses). */
  respond(responseUrl: string, text: string): Promise<void>;
}

/**
 * views.open and usergroups.users.list with Slack's own client (no retries of its own: a trigger
 * id is gone after 3 s anyway, and a group's members are asked again at the next click), and the
 * click's response_url with fetch.
 */
export class SlackWebPeopleApi implements SlackPeopleApi {
  private readonly client: WebClient;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: SlackPeopleApiOptions) {
    this.client = slackWebClient(opts);
    this.fetch = opts.fetch ?? fetch;
  }

  async openView(triggerId: string, view: object): Promise<string> {
    const answer = await this.call('views.open', () => this.client.views.open({ trigger_id: triggerId, view: view as never }));
    const checked = interactionWire('views_open', answer);
    if ('problem' in checked) throw permanentError('PEER_REJECTED', `Slack's answer to views.open is not as expected: ${checked.problem}`);
    return checked.ok.view.id;
  }

  async usergroupMembers(usergroup: string): Promise<string[]> {
    const answer = await this.call(`usergroups.users.list ${usergroup}`, () => this.client.usergroups.users.list({ usergroup }));
    const checked = interactionWire('usergroup_users', answer);
    if ('problem' in checked) throw permanentError('PEER_REJECTED', `Slack's answer to usergroups.users.list is not as expected: ${checked.problem}`);
    return checked.ok.users;
  }

  async respond(responseUrl: string, text: string): Promise<void> {
    const res = await this.fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
      signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
    });
    await res.arrayBuffer();
    if (!res.ok) throw transientError('PEER_UNAVAILABLE', `Slack answered HTTP ${res.status} to a reply through a response_url`);
  }

  private async call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const e = err as { code?: string; data?: { error?: string }; statusCode?: number; message?: string };
      if (e.data?.error) throw permanentError('PEER_REJECTED', `Slack refused ${what}: ${e.data.error}`);
      throw transientError('PEER_UNAVAILABLE', `Slack did not answer ${what}: ${e.statusCode ? `HTTP ${e.statusCode}` : e.message ?? String(err)}`);
    }
  }
}
