import { describeError } from '../../errors';
import type { Clock, Logger } from '../../listener/ports';
import type { SlackPeopleApi } from './slack-people-api';

export interface ProductApprovers { users: string[]; groups: string[] }

export interface SlackApproversOptions {
  products: Map<string, ProductApprovers>;
  api: Pick<SlackPeopleApi, 'usergroupMembers'>;
  clock: Clock;
  log: Logger;
  /** How long a group's members are kept before Slack is asked again (default 5 min). */
  cacheMs?: number;
}

/**
 * Who may press a product's buttons: its users, and the members of its user groups (asked of
 * Slack, cached). A product without approvers allows nobody. When Slack cannot be asked, the last
 * members known are used; never known, nobody from that group is allowed.
 */
export class SlackApprovers {
  private readonly groups = new Map<string, { at: number; members: Set<string> }>();
  private readonly asking = new Map<string, Promise<Set<string> | null>>();

  constructor(private readonly opts: SlackApproversOptions) {}

  async allows(product: string, userId: string): Promise<boolean> {
    const a = this.opts.products.get(product);
    if (!a) return false;
    if (a.users.includes(userId)) return true;
    for (const group of a.groups) {
      const members = await this.members(group);
      if (members?.has(userId)) return true;
    }
    return false;
  }

  private async members(group: string): Promise<Set<string> | null> {
    const cached = this.groups.get(group);
    if (cached && this.opts.clock.now() - cached.at < (this.opts.cacheMs ?? 300_000)) return cached.members;
    let asking = this.asking.get(group);
    if (!asking) {
      asking = this.opts.api.usergroupMembers(group).then((users) => {
        const members = new Set(users);
        this.groups.set(group, { at: this.opts.clock.now(), members });
        return members;
      }, (err: unknown) => {
        this.opts.log.warn({ usergroup: group, err: describeError(err) }, 'cannot read a user group of approvers; using its last known members, if any');
        return cached?.members ?? null;
      }).finally(() => this.asking.delete(group));
      this.asking.set(group, asking);
    }
    return asking;
  }
}
