import Jenkins from 'jenkins';
import { CvpError, permanentError, transientError } from '../../errors';
import type { BuildRef, BuildStatus, Executor } from '../../listener/ports';
import { parameterOf, type JenkinsBuild, type JenkinsJob, type JenkinsQueueItem } from './jenkins-wire';

export interface JenkinsExecutorOptions {
  url: string;
  user?: string;
  token?: string;
  requestTimeoutMs: number;
  /** How many recent builds locate() looks through for a CVP_RUN_ID. */
  lookback?: number;
}

interface JenkinsClient {
  job: { build(opts: { name: string; parameters: Record<string, string> }): Promise<number | undefined>; get(opts: { name: string; tree?: string }): Promise<JenkinsJob> };
  queue: { item(n: number): Promise<JenkinsQueueItem>; list(opts?: { tree?: string }): Promise<JenkinsQueueItem[]>; cancel(n: number): Promise<void> };
  build: { get(name: string, n: number): Promise<JenkinsBuild>; stop(name: string, n: number): Promise<void> };
}

/**
 * Jenkins through the `jenkins` package: crumb, buildWithParameters, queue item, build. Always the
 * object form of job.build: the positional form in @types/jenkins drops the parameters.
 */
export class JenkinsExecutor implements Executor {
  readonly name = 'jenkins';
  private readonly client: JenkinsClient;
  private readonly where: string;

  constructor(private readonly opts: JenkinsExecutorOptions) {
    const base = new URL(opts.url);
    this.where = `${base.origin}${base.pathname.replace(/\/$/, '')}`;
    if (opts.user) {
      base.username = encodeURIComponent(opts.user);
      base.password = encodeURIComponent(opts.token ?? '');
    }
    // The library sets Referer to its base URL when none is given: with the token in it, that would
    // put the token in every access log. Our own, without credentials, keeps it out.
    this.client = new Jenkins({
      baseUrl: base.toString().replace(/\/$/, ''), crumbIssuer: true, timeout: opts.requestTimeoutMs,
      headers: { referer: `${this.where}/` },
    } as never) as unknown as JenkinsClient;
  }

  /** The client's errors carry the token in the URL; every message here is rebuilt without it. */
  private classify(err: unknown, what: string, job?: string): CvpError {
    if (err instanceof CvpError) return err;
    const e = err as { statusCode?: number; notFound?: boolean; code?: string; message?: string };
    const status = e.statusCode ?? (e.notFound ? 404 : undefined);
    if (status === 404) return permanentError('JOB_NOT_FOUND', `${what}: Jenkins at ${this.where} has no ${job ? `job ${job}` : 'such item'} (404)`);
    if (status === 400) return permanentError('PEER_REJECTED', `${what}: Jenkins at ${this.where} refused the request (400)`);
    if (status === 401 || status === 403) {
      return transientError('PEER_REJECTED', `${what}: Jenkins at ${this.where} answered ${status}: check jenkins.user and the token (retrying)`);
    }
    if (status) return transientError('PEER_UNAVAILABLE', `${what}: Jenkins at ${this.where} answered ${status}`);
    const reason = e.code === 'ECONNREFUSED' ? 'connection refused' : e.code ?? (e.message ?? 'unknown error').replace(/\/\/[^@/]*@/g, '//');
    return transientError('PEER_UNAVAILABLE', `${what}: Jenkins at ${this.where} unreachable: ${reason}`);
  }

  async trigger(job: string, parameters: Record<string, string>, runId: string): Promise<BuildRef> {
    let queueId: number | undefined;
    try {
      queueId = await this.client.job.build({ name: job, parameters: { ...parameters, CVP_RUN_ID: runId } });
    } catch (err) {
      throw this.classify(err, `triggering ${job}`, job);
    }
    // No Location header: the build was queued but we cannot name it; locate() finds it by CVP_RUN_ID.
    return Number.isInteger(queueId) ? { queueId: String(queueId) } : {};
  }

  async declaredParameters(job: string): Promise<string[] | null> {
    try {
      const info = await this.client.job.get({ name: job, tree: 'property[parameterDefinitions[name]]' }) as unknown as { property?: Array<{ parameterDefinitions?: Array<{ name?: string }> }> };
      return (info.property ?? []).flatMap((p) => (p?.parameterDefinitions ?? []).map((d) => String(d?.name ?? ''))).filter(Boolean);
    } catch (err) {
      throw this.classify(err, `reading the parameters of ${job}`, job);
    }
  }

  async locate(job: string, runId: string, _since: number): Promise<BuildRef | null> {
    try {
      const items = await this.client.queue.list();
      const waiting = (items ?? []).find((i) => parameterOf(i.actions, 'CVP_RUN_ID') === runId);
      if (waiting) return { queueId: String(waiting.id) };
      const n = this.opts.lookback ?? 100;
      const info = await this.client.job.get({ name: job, tree: `builds[number,url,building,result,actions[parameters[name,value]]]{0,${n}}` });
      const build = (info.builds ?? []).find((b) => parameterOf(b.actions, 'CVP_RUN_ID') === runId);
      return build ? { number: build.number, url: build.url } : null;
    } catch (err) {
      throw this.classify(err, `looking up run ${runId}`, job);
    }
  }

  async status(job: string, ref: BuildRef, runId: string): Promise<BuildStatus> {
    let current = ref;
    if (current.number === undefined) {
      if (current.queueId === undefined) {
        const found = await this.locate(job, runId, 0);
        if (!found) return { state: 'queued', ref };
        current = found;
      } else {
        let item: JenkinsQueueItem;
        try {
          item = await this.client.queue.item(Number(current.queueId));
        } catch (err) {
          throw this.classify(err, `reading queue item ${current.queueId}`);
        }
        if (!item || typeof item !== 'object') throw transientError('PEER_ANSWER_INVALID', `queue item ${current.queueId}: Jenkins answered something that is not a queue item`);
        if (item.cancelled) return { state: 'cancelled', ref: current };
        if (!item.executable) return { state: 'queued', ref: current };
        current = { ...current, number: item.executable.number, url: item.executable.url };
      }
    }
    let build: JenkinsBuild;
    try {
      build = await this.client.build.get(job, current.number!);
    } catch (err) {
      throw this.classify(err, `reading build ${job} #${current.number}`, `${job} #${current.number}`);
    }
    if (!build || typeof build.building !== 'boolean') {
      throw transientError('PEER_ANSWER_INVALID', `build ${job} #${current.number}: Jenkins' answer has no "building" flag`);
    }
    const next = { ...current, url: build.url ?? current.url };
    if (build.building || build.result == null) return { state: 'running', ref: next };
    // A result outside Jenkins' five is passed on as it is; the outcome table makes it an ERROR.
    return { state: 'finished', ref: next, result: build.result };
  }

  async cancel(job: string, ref: BuildRef): Promise<void> {
    try {
      if (ref.number !== undefined) await this.client.build.stop(job, ref.number);
      else if (ref.queueId !== undefined) await this.client.queue.cancel(Number(ref.queueId));
    } catch (err) {
      throw this.classify(err, `cancelling ${job}`, job);
    }
  }
}
