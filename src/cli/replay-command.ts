import type { JournalQueries } from '../listener/ports/journal-queries';
import type { MessageRecord } from '../listener/domain';
import type { EventValidator } from '../validator/event-validator';
import { safeParse } from '../validator/safe-parse';
import { CvpError } from '../errors';

export interface ReplayArgs {
  ids: string[];
  rejected: boolean;
  since: number;
  to: string;
  dryRun: boolean;
  token?: string;
}

export interface ReplayIo {
  out: (line: string) => void;
  err: (line: string) => void;
  fetch: typeof fetch;
}

/**
 * Re-injects journaled messages (chosen ones, or the rejected ones) into a running daemon's intake,
 * after validating them again. Each goes in as `replay-<original id>`, so replaying twice starts nothing twice.
 */
export async function runReplay(args: ReplayArgs, journal: JournalQueries, validator: EventValidator, io: ReplayIo): Promise<number> {
  const chosen: MessageRecord[] = [];
  for (const id of args.ids) {
    const s = await journal.eventStatus(id);
    if (!s) { io.err(`no message with id ${id} in the journal`); return 1; }
    chosen.push(s.message);
  }
  if (args.rejected) chosen.push(...(await journal.rejectedMessages(args.since, 100_000)));
  if (!chosen.length) { io.out('nothing to replay'); return 0; }
  let stillInvalid = 0;
  let sent = 0;
  for (const m of chosen) {
    let reasons: string[] = [];
    try {
      const v = validator.validate(m.topic, safeParse(m.body));
      if (!v.valid) reasons = v.reasons;
    } catch (err) {
      reasons = err instanceof CvpError ? err.reasons : [(err as Error).message];
    }
    if (reasons.length) {
      stillInvalid += 1;
      io.out(`${m.messageId}: still invalid, not replayed`);
      for (const r of reasons) io.out(`  ${r}`);
      continue;
    }
    if (args.dryRun) { io.out(`${m.messageId}: valid now; would replay`); continue; }
    const res = await io.fetch(`${args.to.replace(/\/$/, '')}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(args.token ? { authorization: `Bearer ${args.token}` } : {}) },
      body: JSON.stringify({ id: `replay-${m.messageId}`.slice(0, 200), topic: m.topic, body: m.body }),
    });
    const answer = (await res.json()) as { status?: string; error?: string };
    io.out(`${m.messageId}: replayed as replay-${m.messageId}: ${answer.status ?? answer.error ?? res.status}`);
    sent += 1;
  }
  io.out(`${chosen.length} message(s): ${sent} replayed, ${stillInvalid} still invalid`);
  return stillInvalid ? 1 : 0;
}
