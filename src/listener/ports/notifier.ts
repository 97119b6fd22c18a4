export interface Notice {
  /** Plain-text fallback, also what a console notifier prints. */
  text: string;
  blocks: unknown[];
  channel?: string;
  threadTs?: string;
  /**
   * The notice's own identity (CVP's effect id), carried in Slack's message metadata so that a
   * post whose answer was lost can be found instead of posted again.
   */
  key?: string;
}

export interface PostedNotice { ts?: string; channel?: string }

export interface Notifier {
  readonly name: string;
  post(notice: Notice): Promise<PostedNotice>;
  /**
   * A notice posted earlier with this key: in the channel's history since `since` (epoch ms), or in
   * the replies of the thread `threadTs`. null when it is surely not there.
   */
  find(key: string, channel: string, opts: { threadTs?: string; since: number }): Promise<PostedNotice | null>;
}
