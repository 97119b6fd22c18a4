import { Client, type ClientConfig } from 'pg';

export type ChangeKind = 'runs' | 'effects' | 'gates';

export const CHANGE_CHANNEL = 'cvp_journal';

const KINDS: readonly ChangeKind[] = ['runs', 'effects', 'gates'];

/**
 * LISTEN on its own connection (a pooled one would be handed to other work): tells this process
 * when another committed work it may claim. The connection is made again when it drops, with a
 * growing delay; once back, every kind is reported, since notices sent meanwhile were lost.
 */
export class PgNotifications {
  private client: Client | null = null;
  private readonly listeners: Array<(what: ChangeKind) => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;
  private connectedOnce = false;

  constructor(private readonly config: ClientConfig, private readonly onTrouble: (err: Error) => void = () => undefined) {}

  add(listener: (what: ChangeKind) => void): void {
    this.listeners.push(listener);
    if (!this.client && !this.timer) void this.connect();
  }

  private emit(what: ChangeKind): void {
    for (const l of this.listeners) l(what);
  }

  private async connect(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    const client = new Client(this.config);
    this.client = client;
    let dropped = false;
    const drop = (err?: Error) => {
      if (dropped) return;
      dropped = true;
      if (err) this.onTrouble(err);
      client.end().catch(() => undefined);
      if (this.client === client) this.client = null;
      this.retry();
    };
    client.on('error', (err) => drop(err));
    client.on('end', () => drop());
    client.on('notification', (n) => {
      if (n.channel === CHANGE_CHANNEL && KINDS.includes(n.payload as ChangeKind)) this.emit(n.payload as ChangeKind);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      drop(err as Error);
      return;
    }
    if (this.closed) { await client.end().catch(() => undefined); return; }
    this.failures = 0;
    // Work committed while no one listened was not announced: look now.
    if (this.connectedOnce) for (const k of KINDS) this.emit(k);
    this.connectedOnce = true;
  }

  private retry(): void {
    if (this.closed || this.timer) return;
    this.failures += 1;
    const delay = Math.min(10_000, 250 * 2 ** Math.min(this.failures - 1, 6));
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => undefined);
  }
}
