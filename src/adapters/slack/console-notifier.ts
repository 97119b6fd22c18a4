import type { Notice, Notifier, PostedNotice } from '../../listener/ports';

/** How many printed notices find() remembers (the newest). */
const REMEMBERED = 10_000;

/** Slack's stand-in in the sandbox: the notice's plain-text fallback, one line each, as Slack shows it. */
export class ConsoleNotifier implements Notifier {
  readonly name = 'console';
  private n = 0;
  /** Keys printed by this process, and their ts. */
  private readonly printed = new Map<string, string>();

  constructor(private readonly write: (line: string) => void) {}

  async post(notice: Notice): Promise<{ ts: string }> {
    this.n += 1;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(this.n).padStart(6, '0')}`;
    this.write(`${notice.threadTs ? `slack   ↳ ` : 'slack   '}${shown(notice.text)}`);
    if (notice.key) {
      this.printed.set(notice.key, ts);
      if (this.printed.size > REMEMBERED) this.printed.delete(this.printed.keys().next().value!);
    }
    return { ts };
  }

  /**
   * A console cannot look back: only what this process printed is known. After a restart a notice
   * printed before a crash is not found, and may be printed again (the sandbox's console, not Slack).
   */
  async find(key: string): Promise<PostedNotice | null> {
    const ts = this.printed.get(key);
    return ts ? { ts } : null;
  }
}

/**
 * The text a person reads: Slack shows its three escapes as the characters they stand for. Notices
 * are escaped for Slack (so an event's text cannot ping a channel); a terminal has nothing to ping.
 */
function shown(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
