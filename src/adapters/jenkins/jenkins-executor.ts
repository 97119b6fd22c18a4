import { CvpError, permanentError, transientError } from '../../errors';
import type { BuildRef, BuildStatus, Executor } from '../../listener/ports';
import { JenkinsHttp, JenkinsNoAnswer, jobPath, parseJson, type JenkinsAnswer } from './jenkins-http';
import { checkWire, parameterOf, TREES, type JenkinsBuildRow } from './jenkins-wire';

export interface JenkinsExecutorOptions {
  url: string;
  user?: string;
  token?: string;
  requestTimeoutMs: number;
  /** The longest a whole lookup (locate) may take, paging back through a job's builds; default 60 s. */
  locateTimeoutMs?: number;
  fetch?: typeof fetch;
  /** Epoch ms; Date.now by default. */
  now?: () => number;
}

/** Builds per page when paging back through `allBuilds`. */
const PAGE = 100;
/**
 * Builds a little older than the run are still read: Jenkins' clock and ours may differ. A build
 * can never start before its run was created, on one clock.
 */
const CLOCK_SKEW_MS = 10 * 60_000;

/**
 * Jenkins' remote API: crumb, buildWithParameters (CVP_RUN_ID), queue items, builds. A lost answer
 * to a trigger is a transient PEER_OUTCOME_UNKNOWN, and the run is looked up by its CVP_RUN_ID
 * (locate) before it is triggered again. Every answer is checked against jenkins-wire's schemas.
 */
export class JenkinsExecutor implements Executor {
  readonly name = 'jenkins';
  private readonly http: JenkinsHttp;
  private readonly now: () => number;

  constructor(private readonly opts: JenkinsExecutorOptions) {
    this.http = new JenkinsHttp(opts);
    this.now = opts.now ?? Date.now;
  }

  private get where(): string {
    return this.http.where;
  }

  /** An answer's status, read where it was asked. */
  private statusError(answer: JenkinsAnswer, what: string, missing: string): CvpError {
    const s = answer.status;
    if (s === 404) return permanentError('JOB_NOT_FOUND', `${what}: Jenkins at ${this.where} has no ${missing} (404)`);
    if (s === 400) return permanentError('PEER_REJECTED', `${what}: Jenkins at ${this.where} refused the request (400: ${firstLine(answer.text)})`);
    if (s === 401 || s === 403) {
      return transientError('PEER_AUTH_FAILED', `${what}: Jenkins at ${this.where} answered ${s}: check jenkins.user and the token (retrying)`);
    }
    return transientError('PEER_UNAVAILABLE', `${what}: Jenkins at ${this.where} answered ${s}`);
  }

  private noAnswer(err: unknown, what: string): CvpError {
    if (err instanceof CvpError) return err;
    if (err instanceof JenkinsNoAnswer) {
      return err.sent === 'no'
        ? transientError('PEER_UNAVAILABLE', `${what}: ${err.message}`)
        : transientError('PEER_OUTCOME_UNKNOWN', `${what}: ${err.message}`);
    }
    return transientError('PEER_UNAVAILABLE', `${what}: ${(err as Error).message}`);
  }

  private async getJson<K extends Parameters<typeof checkWire>[0]>(kind: K, path: string, tree: string, what: string, missing: string, timeoutMs?: number) {
    let answer: JenkinsAnswer;
    try {
      answer = await this.http.get(path, { tree }, timeoutMs);
    } catch (err) {
      throw this.noAnswer(err, what);
    }
    if (answer.status !== 200) throw this.statusError(answer, what, missing);
    return checkWire(kind, parseJson(answer, `${this.where}${path}`), `${what} (${this.where}${path})`);
  }

  async trigger(job: string, parameters: Record<string, string>, runId: string, deadline?: number): Promise<BuildRef> {
    const what = `triggering ${job}`;
    // Past the deadline the request is not made at all; before it, it may take only the time left.
    const timeoutMs = deadline === undefined ? undefined : () => {
      const left = deadline - this.now();
      if (left <= 0) throw new JenkinsNoAnswer("not sent: the run's claim is ending, and another daemon may take it over", 'no');
      return Math.min(left, this.opts.requestTimeoutMs);
    };
    let answer: JenkinsAnswer;
    try {
      answer = await this.http.post(`${jobPath(job)}/buildWithParameters`, {}, { ...parameters, CVP_RUN_ID: runId }, timeoutMs);
    } catch (err) {
      throw this.noAnswer(err, what);
    }
    if (answer.status >= 200 && answer.status < 400) {
      // No Location: the build was queued but cannot be named; locate() finds it by CVP_RUN_ID.
      const id = /\/queue\/item\/(\d+)\/?$/.exec(answer.headers.get('location') ?? '')?.[1];
      return id ? { queueId: id } : {};
    }
    // A gateway's error may come after Jenkins queued the build: look before triggering again.
    if (answer.status === 502 || answer.status === 504) {
      throw transientError('PEER_OUTCOME_UNKNOWN', `${what}: ${this.where} answered ${answer.status}; the build may have been queued`);
    }
    throw this.statusError(answer, what, `job ${job}`);
  }

  async declaredParameters(job: string): Promise<string[] | null> {
    const info = await this.getJson('parameters', `${jobPath(job)}/api/json`, TREES.parameters, `reading the parameters of ${job}`, `job ${job}`);
    const names = (info.property ?? []).flatMap((p) => (p?.parameterDefinitions ?? []).map((d) => d.name));
    return [...new Set(names)];
  }

  async locate(job: string, runId: string, since: number): Promise<BuildRef | null> {
    const deadline = this.now() + (this.opts.locateTimeoutMs ?? 60_000);
    const what = `looking up run ${runId} in ${job}`;
    // The queue first: an item that leaves it is a build before it is gone from the queue's list.
    const queue = await this.getJson('queue', '/queue/api/json', TREES.queue, what, 'queue', this.left(deadline, what));
    const waiting = queue.items.find((i) => parameterOf(i.actions, 'CVP_RUN_ID') === runId);
    if (waiting) return { queueId: String(waiting.id) };
    const build = await this.pageBack(job, since, deadline, what, (b) => parameterOf(b.actions, 'CVP_RUN_ID') === runId);
    return build ? { number: build.number, url: build.url } : null;
  }

  /**
   * Pages back through the job's builds, newest first, until one matches or the builds are older
   * than `since`: as many pages as that takes, within the deadline (then a transient TIMEOUT).
   */
  private async pageBack(job: string, since: number, deadline: number, what: string, match: (b: JenkinsBuildRow) => boolean): Promise<JenkinsBuildRow | null> {
    for (let from = 0; ; from += PAGE) {
      const page = await this.getJson('buildPage', `${jobPath(job)}/api/json`, TREES.buildPage(from, from + PAGE), what, `job ${job}`, this.left(deadline, what, from));
      const found = page.allBuilds.find(match);
      if (found) return found;
      const oldest = page.allBuilds[page.allBuilds.length - 1];
      if (page.allBuilds.length < PAGE || !oldest || oldest.timestamp < since - CLOCK_SKEW_MS) return null;
    }
  }

  /** What is left of the lookup's time, for the next request; a transient TIMEOUT when nothing is. */
  private left(deadline: number, what: string, from = 0): number {
    const ms = deadline - this.now();
    if (ms <= 0) {
      throw transientError('TIMEOUT', `${what}: gave up after ${this.opts.locateTimeoutMs ?? 60_000} ms (jenkins.locate_timeout) with ${from} builds read; will look again`);
    }
    return Math.min(ms, this.opts.requestTimeoutMs);
  }

  async status(job: string, ref: BuildRef, runId: string): Promise<BuildStatus> {
    let current = ref;
    if (current.number === undefined) {
      if (current.queueId === undefined) {
        const found = await this.locate(job, runId, 0);
        if (!found) return { state: 'queued', ref };
        current = { ...found };
        if (current.number === undefined) return { state: 'queued', ref: current };
      } else {
        const path = `/queue/item/${encodeURIComponent(current.queueId)}/api/json`;
        const what = `reading queue item ${current.queueId} of ${job}`;
        let answer: JenkinsAnswer;
        try {
          answer = await this.http.get(path, { tree: TREES.queueItem });
        } catch (err) {
          throw this.noAnswer(err, what);
        }
        if (answer.status === 404) {
          // Jenkins forgets an item a few minutes after it left the queue: find its build instead.
          const queueId = Number(current.queueId);
          const build = await this.pageBack(job, 0, this.now() + (this.opts.locateTimeoutMs ?? 60_000), what,
            (b) => b.queueId === queueId || parameterOf(b.actions, 'CVP_RUN_ID') === runId);
          if (!build) return { state: 'cancelled', ref: current };
          current = { ...current, number: build.number, url: build.url };
        } else {
          if (answer.status !== 200) throw this.statusError(answer, what, `queue item ${current.queueId}`);
          const item = checkWire('queueItem', parseJson(answer, `${this.where}${path}`), what);
          if (item.cancelled) return { state: 'cancelled', ref: current };
          if (!item.executable) return { state: 'queued', ref: current };
          current = { ...current, number: item.executable.number, url: item.executable.url };
        }
      }
    }
    const build = await this.getJson('build', `${jobPath(job)}/${current.number}/api/json`, TREES.build,
      `reading build ${job} #${current.number}`, `build ${job} #${current.number}`);
    const next = { ...current, url: build.url };
    if (build.building || build.result === null) return { state: 'running', ref: next };
    // A result outside Jenkins' five is passed on as it is; the outcome table makes it an ERROR.
    return { state: 'finished', ref: next, result: build.result };
  }

  async cancel(job: string, ref: BuildRef): Promise<void> {
    const what = `cancelling ${job}`;
    try {
      if (ref.number !== undefined) {
        const answer = await this.http.post(`${jobPath(job)}/${ref.number}/stop`);
        // Jenkins answers stop with a redirect (or 200); a build that is gone needs no stopping.
        if (answer.status >= 400 && answer.status !== 404) throw this.statusError(answer, what, `build #${ref.number}`);
        return;
      }
      if (ref.queueId === undefined) return;
      const answer = await this.http.post('/queue/cancelItem', { id: ref.queueId });
      if (answer.status < 400) return;
      // Already left the queue (500 "Could not cancel"), or forgotten (404): stop its build, if it has one.
      if (answer.status !== 404 && answer.status !== 500) throw this.statusError(answer, what, `queue item ${ref.queueId}`);
      const queueId = Number(ref.queueId);
      const build = await this.pageBack(job, 0, this.now() + (this.opts.locateTimeoutMs ?? 60_000), what, (b) => b.queueId === queueId);
      if (build) await this.cancel(job, { number: build.number });
    } catch (err) {
      throw this.noAnswer(err, what);
    }
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0].slice(0, 200);
}
