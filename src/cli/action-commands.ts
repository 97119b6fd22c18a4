/**
 * People's actions from a terminal: `cvp release`, `cvp hold`, `cvp rerun`, `cvp waive` (and
 * `--revoke`). Each is recorded in the journal in-process, as a Slack click is (Actions: once by
 * its id, with what it sets off, said in the event's thread); the running daemon's outbox
 * delivers the notice and the release action from the journal. The CLI's user is trusted by their
 * access to the journal: approvers are Slack's concern.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { JournalStore } from './open-journal';
import type { CvpConfig, LoadedConfig } from '../config/config';
import { GateKeeper, gateKey, type ProductPolicy } from '../listener/gate/gate-keeper';
import { Actions, type ActionRequest, type ActionResult } from '../listener/people/actions';
import { systemClock, type Logger } from '../listener/ports';
import type { EventValidator } from '../validator/event-validator';

export interface ActionIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
  log: Logger;
}

export interface ActorArgs {
  /** Who acts, as the thread and the journal name them (default: the OS user@host). */
  as?: string;
  /** The action's idempotency key: the same CLI call twice with the same --id acts once. */
  id?: string;
}

/** The products' policies, as the daemon reads them from the configuration. */
export function productPolicies(config: CvpConfig): Map<string, ProductPolicy> {
  return new Map((config.products ?? []).map((p) => [p.name, {
    name: p.name, required: p.required, release: p.release ?? 'off', channel: p.slack_channel,
    releaseAction: p.release_action ? {
      bus: p.release_action.bus,
      http: p.release_action.http ? { url: p.release_action.http.url, method: p.release_action.http.method ?? 'POST', token: p.release_action.http.token } : undefined,
    } : undefined,
  }]));
}

export function cliActor(args: ActorArgs): string {
  if (args.as !== undefined && !args.as.trim()) throw new Error('--as: a name is required');
  return `cli:${args.as?.trim() ?? `${userInfo().username}@${hostname()}`}`;
}

/**
 * A gate by its key (`product|type|artifact`), or the one gate holding an artifact id or an NVR.
 * Several: the person says which.
 */
export async function resolveGate(journal: JournalStore, arg: string): Promise<{ key: string } | { problem: string }> {
  if (await journal.gate(arg)) return { key: arg };
  const keys = new Set<string>();
  for (const id of await journal.messagesAbout(arg, 50)) {
    const status = await journal.eventStatus(id);
    for (const r of status?.runs ?? []) if (r.product) keys.add(gateKey(r.product, r.context.artifactType, r.context.artifactId));
  }
  const found: string[] = [];
  for (const k of keys) if (await journal.gate(k)) found.push(k);
  if (found.length === 1) return { key: found[0] };
  if (!found.length) return { problem: `no gate for ${arg}: give a gate key (product|type|artifact, as cvp decisions shows it), an artifact id or an NVR` };
  return { problem: `${arg} is in ${found.length} gates; say which: ${found.join(', ')}` };
}

/** Runs one action against the journal; exit 0 when done or done already, 1 when refused or not found. */
export async function runAction(
  loaded: LoadedConfig, journal: JournalStore, validator: EventValidator, io: ActionIo,
  actor: ActorArgs, request: (journal: JournalStore) => Promise<ActionRequest | { problem: string }>,
): Promise<number> {
  const { config } = loaded;
  const policies = productPolicies(config);
  const notices = { advisoryUrl: config.links?.advisory, channel: config.slack?.channel, ...(config.slack?.signing_secret ? { interactive: true } : {}) };
  const gate = policies.size ? new GateKeeper({
    journal, policies, clock: systemClock, log: io.log, validator, notices, hasNotifier: true, contact: config.ci_messages?.contact, owner: `cli/${process.pid}`, leaseMs: 0,
  }) : undefined;
  // The daemon always has a notifier (Slack, or its console): the thread hears of it.
  const actions = new Actions({ journal, policies, gate, clock: systemClock, log: io.log, notices, hasNotifier: true });
  const req = await request(journal);
  if ('problem' in req) {
    io.err(`cvp: ${req.problem}`);
    return 1;
  }
  const result: ActionResult = await actions.act(req, { who: cliActor(actor), via: 'cli', id: actor.id ?? `cli:${randomUUID()}` });
  if (result.status === 'done') {
    io.out(`${result.message} (action ${result.action.id}); the daemon says it in the event's thread${req.kind === 'release' ? ' and carries out the release action' : ''}`);
    return 0;
  }
  if (result.status === 'duplicate') {
    io.out(result.message);
    return 0;
  }
  io.err(`cvp: ${result.message}`);
  return 1;
}
