import type { Notice, Notifier } from '../../listener/ports';

/** Slack's stand-in in the sandbox: the notice's plain-text fallback, one line each. */
export class ConsoleNotifier implements Notifier {
  readonly name = 'console';
  private n = 0;

  constructor(private readonly write: (line: string) => void) {}

  async post(notice: Notice): Promise<{ ts: string }> {
    this.n += 1;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(this.n).padStart(6, '0')}`;
    this.write(`${notice.threadTs ? `slack   ↳ ` : 'slack   '}${notice.text}`);
    return { ts };
  }

  /** The console keeps nothing to look in: a notice printed before a crash may be printed again. */
  async find(): Promise<null> {
    return null;
  }
}
