/** chat.postMessage as this adapter sends it (Slack Web API). */
export interface SlackPostMessage {
  channel: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  unfurl_links?: boolean;
  unfurl_media?: boolean;
}

export interface SlackPostMessageAnswer {
  ok: boolean;
  channel?: string;
  ts?: string;
  error?: string;
}
