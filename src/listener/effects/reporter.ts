import { randomUUID } from 'node:crypto';
import { type Change, emptyChange, type NewResult, type ReportItem, resultItems, type Run } from '../domain';
import type { Notice, ResultRecord } from '../ports';
import type { CiMessages } from './ci-messages';
import { eventNotice, outcomeNotice, runStartNotice, supersededNotice, type NoticeOptions } from './notices';

export interface ReporterOptions extends NoticeOptions {
  /** Whether the results sink takes QUEUED (many ResultsDB deployments answer 400 to it). */
  writeQueued: boolean;
  hasResults: boolean;
  hasNotifier: boolean;
  /** CI messages on the bus for each image under test, when configured. */
  ciMessages?: CiMessages;
  /** A notice's own key (Slack metadata); random by default. */
  newKey?: () => string;
}

/** The keys Greenwave keeps results apart by (its DISTINCT_LATEST_RESULTS_ON), besides test case, item and type. */
export const DISTINCT_KEYS = ['scenario', 'system_architecture', 'system_variant'] as const;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * What the gate may count of a result CVP writes or takes in. Its `scenario` is the result's
 * distinct keys together (scenario, system architecture and variant), so that results in different
 * scenarios are kept apart as Greenwave keeps them.
 */
export function knownResult(result: ResultRecord, messageId: string | null): NewResult {
  const parts = DISTINCT_KEYS.map((k) => first(result.data[k]));
  const scenario = parts.some((p) => p !== undefined && p !== '') ? parts.map((p) => p ?? '').join('/').replace(/\/+$/, '') : null;
  return {
    item: String(first(result.data.item)),
    type: String(first(result.data.type)),
    testcase: result.testcase.name,
    scenario,
    outcome: result.outcome,
    refUrl: result.ref_url ?? null,
    messageId,
  };
}

/** A simulated run's results are typed apart, as scratch builds are: no real policy counts them. */
export function simulatedType(type: string): string {
  return type.endsWith('_simulated') ? type : `${type}_simulated`;
}

/** One thread per event and channel: its notices are delivered in the order they were recorded. */
export function threadOrderKey(messageId: string, channel: string | undefined): string {
  return `thread|${messageId}|${channel ?? ''}`;
}

/** What each run transition must tell the world, as one change for the journal. */
export class Reporter {
  private readonly newKey: () => string;

  constructor(private readonly opts: ReporterOptions) {
    this.newKey = opts.newKey ?? randomUUID;
  }

  private result(run: Run, item: ReportItem, outcome: string, buildUrl: string | undefined, note?: string, errorReason?: string): ResultRecord {
    const type = run.simulated ? simulatedType(item.type) : item.type;
    const data: Record<string, string | string[]> = { ...item.data, item: item.item, type, cvp_run_id: run.id, cvp_rule: run.rule };
    if (run.simulated) data.cvp_simulated = 'true';
    if (run.context.artifactType === 'redhat-container-group') data.group_id = run.context.artifactId;
    if (run.context.advisory) data.errata_id = run.context.advisory;
    if (item === run.groupItem && run.notRebuilt?.length) data.not_rebuilt = run.notRebuilt.map((i) => i.item);
    if (run.scenario) data.scenario = run.scenario;
    if (errorReason) data.error_reason = errorReason.slice(0, 256);
    return {
      testcase: { name: run.testcase, ...(run.testcaseDocs ? { ref_url: run.testcaseDocs } : {}) },
      outcome,
      ...(buildUrl ? { ref_url: buildUrl } : {}),
      ...(note ? { note } : {}),
      data,
    };
  }

  /** Results of a run's items (under test, and the group), as effects and as what the gate counts. */
  private results(run: Run, outcome: string, buildUrl: string | undefined, note?: string, errorReason?: string): Change {
    const change = emptyChange();
    for (const item of resultItems(run)) {
      const r = this.result(run, item, outcome, buildUrl, note, errorReason);
      if (this.opts.hasResults) change.effects.push({ peer: 'resultsdb', runId: run.id, orderKey: `run|${run.id}`, payload: { kind: 'result', result: r } });
      change.results.push(knownResult(r, run.messageId));
      change.touch.push({ item: item.item, type: String(r.data.type) });
    }
    return change;
  }

  private keyed(notice: Notice): Notice {
    return { ...notice, key: this.newKey() };
  }

  /** A notice in the event's thread; a run that never started may be the first to speak, so it may open the thread. */
  private reply(run: Run, notice: Notice): Change {
    const change = emptyChange();
    if (!this.opts.hasNotifier) return change;
    const keyed = this.keyed(notice);
    change.effects.push({
      peer: 'slack', runId: run.id, orderKey: threadOrderKey(run.messageId, notice.channel),
      payload: run.triggeredAt == null
        ? { kind: 'notice', role: 'open', thread: run.messageId, notice: keyed, reply: this.keyed(notice) }
        : { kind: 'notice', role: 'reply', thread: run.messageId, notice: keyed },
    });
    return change;
  }

  /**
   * The build was accepted: QUEUED for the items under test, CI messages, and the run's start
   * notice (the event's first opens its Slack thread; the others reply in it).
   */
  started(run: Run, buildUrl: string | undefined): Change {
    const change = this.opts.writeQueued ? this.results(run, 'QUEUED', buildUrl) : emptyChange();
    if (this.opts.ciMessages) change.effects.push(...this.opts.ciMessages.forRun(run, 'queued', buildUrl));
    if (this.opts.hasNotifier) {
      const root = this.keyed(eventNotice(run, buildUrl, this.opts));
      change.effects.push({
        peer: 'slack', runId: run.id, orderKey: threadOrderKey(run.messageId, root.channel),
        payload: { kind: 'notice', role: 'open', thread: run.messageId, notice: root, reply: this.keyed(runStartNotice(run, buildUrl, this.opts)) },
      });
    }
    return change;
  }

  running(run: Run, buildUrl: string | undefined): Change {
    const change = emptyChange();
    if (this.opts.ciMessages) change.effects.push(...this.opts.ciMessages.forRun(run, 'running', buildUrl));
    return change;
  }

  finished(run: Run, outcome: string, buildUrl: string | undefined, reason: string | null): Change {
    const errorReason = outcome === 'ERROR' ? reason ?? undefined : undefined;
    const change = this.results(run, outcome, buildUrl, reason ?? undefined, errorReason);
    if (this.opts.ciMessages) change.effects.push(...this.opts.ciMessages.forRun(run, outcome === 'ERROR' ? 'error' : 'complete', buildUrl, outcome, reason));
    const notice = this.reply(run, outcomeNotice(run, outcome, buildUrl, reason, this.opts));
    change.effects.push(...notice.effects);
    return change;
  }

  /**
   * A newer event for the same artifact superseded the run: no verdict is written (the items were
   * not tested to the end, and a result would stand for them), only a reply in the thread.
   */
  superseded(run: Run, by: string, buildUrl: string | undefined): Change {
    return this.reply(run, supersededNotice(run, by, buildUrl, this.opts));
  }
}
