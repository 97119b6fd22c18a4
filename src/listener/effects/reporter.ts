import type { NewEffect, ReportItem, Run } from '../domain';
import { eventNotice, outcomeNotice, runStartNotice, type NoticeOptions } from './notices';
import type { Notice, ResultRecord } from '../ports';
import type { CiMessages } from './ci-messages';

export interface ReporterOptions extends NoticeOptions {
  /** Whether the results sink takes QUEUED (many ResultsDB deployments answer 400 to it). */
  writeQueued: boolean;
  hasResults: boolean;
  hasNotifier: boolean;
  /** CI messages on the bus for each image under test, when configured. */
  ciMessages?: CiMessages;
}

/** What each run transition must tell the world, as effects for the outbox. */
export class Reporter {
  constructor(private readonly opts: ReporterOptions) {}

  private result(run: Run, item: ReportItem, outcome: string, buildUrl: string | undefined, note?: string, errorReason?: string): NewEffect {
    const data: Record<string, string> = { item: item.item, type: item.type, cvp_run_id: run.id, cvp_rule: run.rule, ...item.data };
    if (run.context.artifactType === 'redhat-container-group') data.group_id = run.context.artifactId;
    if (run.context.advisory) data.errata_id = run.context.advisory;
    if (errorReason) data.error_reason = errorReason.slice(0, 1000);
    const result: ResultRecord = {
      testcase: { name: run.testcase, ...(buildUrl ? { ref_url: buildUrl } : {}) },
      outcome,
      ...(buildUrl ? { ref_url: buildUrl } : {}),
      ...(note ? { note } : {}),
      data,
    };
    return { peer: 'resultsdb', runId: run.id, payload: { kind: 'result', result } };
  }

  private notice(run: Run, notice: Notice, role: 'start' | 'reply'): NewEffect {
    const channel = notice.channel ?? '';
    // One thread per event and channel: its notices are delivered in order.
    return { peer: 'slack', runId: run.id, orderKey: `${run.messageId}|${channel}`, payload: { kind: 'notice', role, thread: run.messageId, notice } };
  }

  /** The build was accepted: QUEUED for the images under test, not_applicable for the others, and notices. */
  started(run: Run, buildUrl: string | undefined, firstOfThread: boolean): NewEffect[] {
    const effects: NewEffect[] = [];
    if (this.opts.hasResults) {
      if (this.opts.writeQueued) {
        for (const item of run.items) effects.push(this.result(run, item, 'QUEUED', buildUrl));
        if (run.groupItem) effects.push(this.result(run, run.groupItem, 'QUEUED', buildUrl));
      }
      for (const item of run.notRebuilt ?? []) effects.push(this.result(run, item, 'INFO', undefined, 'not_applicable: this image was not rebuilt'));
    }
    if (this.opts.ciMessages) effects.push(...this.opts.ciMessages.forRun(run, 'queued', buildUrl));
    if (this.opts.hasNotifier) {
      effects.push(firstOfThread ? this.notice(run, eventNotice(run, buildUrl, this.opts), 'start') : this.notice(run, runStartNotice(run, buildUrl, this.opts), 'reply'));
    }
    return effects;
  }

  running(run: Run, buildUrl: string | undefined): NewEffect[] {
    return this.opts.ciMessages ? this.opts.ciMessages.forRun(run, 'running', buildUrl) : [];
  }

  finished(run: Run, outcome: string, buildUrl: string | undefined, reason: string | null): NewEffect[] {
    const effects: NewEffect[] = [];
    if (this.opts.hasResults) {
      const errorReason = outcome === 'ERROR' ? reason ?? undefined : undefined;
      for (const item of run.items) effects.push(this.result(run, item, outcome, buildUrl, reason ?? undefined, errorReason));
      if (run.groupItem) effects.push(this.result(run, run.groupItem, outcome, buildUrl, reason ?? undefined, errorReason));
    }
    if (this.opts.ciMessages) effects.push(...this.opts.ciMessages.forRun(run, outcome === 'ERROR' ? 'error' : 'complete', buildUrl, outcome, reason));
    if (this.opts.hasNotifier) effects.push(this.notice(run, outcomeNotice(run, outcome, buildUrl, reason, this.opts), 'reply'));
    return effects;
  }
}
