import type { NewEffect, Run } from './journal';
import { outcomeNotice, startNotice, type NoticeOptions } from './notices';
import type { ResultRecord } from './ports';

export interface ReporterOptions extends NoticeOptions {
  /** Whether the results sink takes QUEUED (many ResultsDB deployments answer 400 to it). */
  writeQueued: boolean;
  hasResults: boolean;
  hasNotifier: boolean;
}

/** What each run transition must tell the world, as effects for the outbox. */
export class Reporter {
  constructor(private readonly opts: ReporterOptions) {}

  private results(run: Run, outcome: string, buildUrl: string | undefined, reason?: string): NewEffect[] {
    if (!this.opts.hasResults) return [];
    return run.items.map((item) => {
      const data: Record<string, string> = {
        item: item.item,
        type: item.type,
        cvp_run_id: run.id,
        cvp_rule: run.rule,
        ...item.data,
      };
      if (run.context.artifactType === 'redhat-container-group') data.group_id = run.context.artifactId;
      if (run.context.advisory) data.errata_id = run.context.advisory;
      if (reason) data.error_reason = reason.slice(0, 1000);
      const result: ResultRecord = {
        testcase: { name: run.testcase, ...(buildUrl ? { ref_url: buildUrl } : {}) },
        outcome,
        ...(buildUrl ? { ref_url: buildUrl } : {}),
        ...(reason ? { note: reason } : {}),
        data,
      };
      return { peer: 'resultsdb' as const, runId: run.id, payload: { kind: 'result' as const, result } };
    });
  }

  started(run: Run, buildUrl: string | undefined): NewEffect[] {
    const effects = this.opts.writeQueued ? this.results(run, 'QUEUED', buildUrl) : [];
    if (this.opts.hasNotifier) {
      effects.push({ peer: 'slack', runId: run.id, payload: { kind: 'notice', role: 'start', notice: startNotice(run, buildUrl, this.opts) } });
    }
    return effects;
  }

  finished(run: Run, outcome: string, buildUrl: string | undefined, reason: string | null): NewEffect[] {
    const effects = this.results(run, outcome, buildUrl, reason ?? undefined);
    if (this.opts.hasNotifier) {
      effects.push({ peer: 'slack', runId: run.id, payload: { kind: 'notice', role: 'reply', notice: outcomeNotice(run, outcome, buildUrl, reason, this.opts) } });
    }
    return effects;
  }
}
