/**
 * A loopback Jenkins: basic auth with an API token, CSRF crumbs, parameterised (folder) jobs that
 * keep only their declared parameters (SECURITY-170) and serve their parameter definitions, the
 * queue (items forgotten five minutes after they leave it), builds that progress with the clock,
 * `builds` (the 100 newest) and `allBuilds` with `{M,N}` ranges, the failure switches of
 * HttpStandIn, and a switch that accepts triggers and then loses the answer (a proxy's 504, or a
 * reset connection). Time is evaluated lazily on each request (no timers), so nothing keeps jest alive.
 */
import { randomBytes } from 'node:crypto';
import { AnswerLoss, HttpStandIn, type Reply, type StandInRequest, firstValues } from './http-stand-in';
import { type Build, type Job, type JobDefinition, type JenkinsResult, JenkinsJson, type QueueItem } from './jenkins-json';
import { jenkinsTreeFilter, treeNames } from './jenkins-tree-filter';

export { expectNoUnexpected } from './http-stand-in';
export type { JenkinsResult, JobDefinition, ParameterType } from './jenkins-json';

export interface JenkinsStandInOptions {
  user: string;
  token: string;
  /** Milliseconds since the epoch; defaults to Date.now. */
  clock?: () => number;
}

/** One triggered queue item, and its build once it has one. */
export interface TriggeredBuild {
  queueId: number;
  /** null while queued, or when cancelled in the queue. */
  number: number | null;
  /** The parameters Jenkins kept: every declared one, defaults filled in. */
  parameters: Record<string, string>;
  /** Names the client sent that the job does not declare (Jenkins drops them). */
  dropped: string[];
  cancelled: boolean;
  building: boolean;
  result: JenkinsResult | null;
  /** When the build started (its `timestamp`), null while queued. */
  startedAt: number | null;
  /** The trigger was accepted but its answer lost (loseTriggerAnswers). */
  answerLost: boolean;
  /** Started by triggerAsAnotherUser, not through the API under test. */
  byAnotherUser: boolean;
}

/** How a lost trigger answer looks to the client: a gateway's error page, a connection reset, or an answer held back. */
export type LostTriggerAnswer = 502 | 504 | 'reset' | { holdMs: number };

/** Queue.leftItems: a LeftItem is kept this long after it left the queue, then its URL is 404. */
export const LEFT_ITEM_TTL_MS = 5 * 60_000;

/** Request fields Jenkins itself consumes; never reported as dropped parameters. */
const RESERVED = new Set(['token', 'delay', 'cause', 'json', 'Jenkins-Crumb']);

export class JenkinsStandIn extends HttpStandIn {
  readonly crumb = randomBytes(16).toString('hex');
  private readonly jobs = new Map<string, Job>();
  private readonly items: QueueItem[] = [];
  private readonly triggers = new Map<string, number>();
  private readonly json: JenkinsJson;
  private readonly loss: AnswerLoss;
  private readonly now: () => number;

  constructor(private readonly options: JenkinsStandInOptions) {
    super();
    this.json = new JenkinsJson(() => this.url, options.user);
    this.now = options.clock ?? Date.now;
    this.loss = new AnswerLoss(this.now);
  }

  /** Trigger answers lost so far (loseTriggerAnswers). */
  get lostAnswers(): number {
    return this.loss.lost;
  }

  defineJob(fullName: string, def: JobDefinition): void {
    this.jobs.set(fullName, { fullName, def, nextNumber: 1 });
  }

  /** Ends a running build (e.g. one defined with neverFinishes). */
  finishBuild(job: string, number: number, result: JenkinsResult): void {
    this.advance();
    const build = this.buildsOf(job).find((b) => b.number === number);
    if (!build) throw new Error(`JenkinsStandIn: ${job} #${number} has not started`);
    if (build.result !== null) throw new Error(`JenkinsStandIn: ${job} #${number} already finished`);
    this.finish(build, result, this.now());
  }

  builds(job: string): TriggeredBuild[] {
    this.advance();
    return this.items
      .filter((i) => i.job.fullName === job)
      .map((i) => ({
        queueId: i.id,
        number: i.build?.number ?? null,
        parameters: { ...i.params },
        dropped: [...i.dropped],
        cancelled: i.cancelled,
        building: i.build !== undefined && i.build.result === null,
        result: i.build?.result ?? null,
        startedAt: i.build?.timestamp ?? null,
        answerLost: i.answerLost === true,
        byAnotherUser: i.byAnotherUser === true,
      }));
  }

  /**
   * Accept triggers (the item is queued, the build will run) and lose the answer: a proxy's 504 or
   * a reset connection, for the next `count` triggers or until the clock passes `until` (both
   * bounds apply when both are given; neither: until restoreTriggerAnswers()).
   */
  loseTriggerAnswers(as: LostTriggerAnswer, bounds: { count?: number; forMs?: number } = {}): void {
    this.loss.set(as === 'reset' ? { as: 'reset' } : typeof as === 'object' ? { as: 'hold', holdMs: as.holdMs } : { as: 'gateway', status: as }, bounds);
  }

  restoreTriggerAnswers(): void {
    this.loss.clear();
  }

  /** Someone else (the web UI, another tool) triggers the job: an item, then a build, not through this API. */
  triggerAsAnotherUser(job: string, params: Record<string, string> = {}): number {
    this.advance();
    const j = this.jobs.get(job);
    if (!j) throw new Error(`JenkinsStandIn: no job ${job}`);
    const kept: Record<string, string> = {};
    for (const p of j.def.parameters) kept[p] = params[p] ?? j.def.defaults?.[p] ?? '';
    const now = this.now();
    const item: QueueItem = { id: this.items.length + 1, job: j, params: kept, dropped: [], inQueueSince: now, leaveAt: now + (j.def.queueMs ?? 0), cancelled: false, byAnotherUser: true };
    this.items.push(item);
    return item.id;
  }

  /** Trigger requests the stand-in accepted (201) for this job, including ones Jenkins folded into a queued item. */
  triggerCount(job: string): number {
    return this.triggers.get(job) ?? 0;
  }

  protected async handle(req: StandInRequest): Promise<Reply> {
    const reply = await this.route(req);
    // A gateway's page in place of Jenkins' answer does not come from Jenkins.
    if (reply.status < 500 || reply.headers?.['content-type'] !== 'text/html') reply.headers = { 'x-jenkins': '2.462.3', ...reply.headers };
    return reply;
  }

  private route(req: StandInRequest): Reply | Promise<Reply> {
    const auth = req.headers.authorization ?? '';
    const expected = Buffer.from(`${this.options.user}:${this.options.token}`).toString('base64');
    if (auth !== `Basic ${expected}`) {
      return { status: 401, headers: { 'www-authenticate': 'Basic realm="Jenkins"' }, text: 'Unauthorized' };
    }
    // Jenkins' CSRF filter runs before routing: any POST without the crumb is refused.
    if (req.method === 'POST' && req.headers['jenkins-crumb'] !== this.crumb) {
      return { status: 403, text: 'No valid crumb was included in the request' };
    }
    this.advance();
    const segs = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    const key = `${req.method} /${segs.join('/')}`;
    if (key === 'GET /' || key === 'GET /api/json') return this.root(req, segs.length === 0);
    if (key === 'GET /crumbIssuer/api/json') {
      return this.ok(req, {
        _class: 'hudson.security.csrf.DefaultCrumbIssuer',
        crumb: this.crumb,
        crumbRequestField: 'Jenkins-Crumb',
      });
    }
    if (key === 'GET /queue/api/json') {
      const waiting = this.items.filter((i) => !i.cancelled && !i.build);
      return this.ok(req, { _class: 'hudson.model.Queue', discoverableItems: [], items: waiting.map((i) => this.itemJson(i)) });
    }
    const m = /^GET \/queue\/item\/(\d+)\/api\/json$/.exec(key);
    if (m) {
      const item = this.remembered(Number(m[1]));
      return item ? this.ok(req, this.itemJson(item)) : { status: 404, text: 'Not Found' };
    }
    if (key === 'POST /queue/cancelItem') return this.cancelItem(req, Number(req.query.id));
    // Queue.Item#doCancelQueue (deprecated, what the npm client posts): 204 whether or not it could cancel.
    const c = /^POST \/queue\/item\/(\d+)\/cancelQueue$/.exec(key);
    if (c) {
      const item = this.remembered(Number(c[1]));
      if (!item) return { status: 404, text: 'Not Found' };
      this.cancelItem(req, item.id);
      return { status: 204 };
    }
    if (segs[0] === 'job') return this.routeJob(req, segs);
    return this.unrecognised(req);
  }

  private routeJob(req: StandInRequest, segs: string[]): Reply | Promise<Reply> {
    const names: string[] = [];
    let i = 0;
    while (segs[i] === 'job' && segs[i + 1] !== undefined) {
      names.push(segs[i + 1]);
      i += 2;
    }
    const rest = segs.slice(i).join('/');
    const job = this.jobs.get(names.join('/'));
    if (!job) return { status: 404, text: `Not Found: no job ${names.join('/')}` };
    const builds = this.buildsOf(job.fullName);
    const route = `${req.method} ${rest}`;
    if (route === 'GET ') return { status: 200, headers: { 'content-type': 'text/html' }, text: '<html/>' };
    if (route === 'GET api/json') {
      const waiting = this.items.find((it) => it.job === job && !it.cancelled && !it.build);
      const deep = Number(req.query.depth ?? 0) >= 1 || req.query.tree !== undefined;
      const withAllBuilds = req.query.tree !== undefined && treeNames(req.query.tree).has('allBuilds');
      return this.ok(req, this.json.job(job, builds, waiting, this.now(), deep, withAllBuilds));
    }
    if (route === 'POST buildWithParameters' || route === 'POST build') return this.trigger(req, job, rest);
    const b = /^(GET|POST) (\d+|lastBuild)(\/api\/json|\/stop)?$/.exec(route);
    const build = b && (b[2] === 'lastBuild' ? builds[0] : builds.find((x) => x.number === Number(b[2])));
    if (b && !build) return { status: 404, text: 'Not Found: no such build' };
    if (b && build) {
      if (b[1] === 'GET' && !b[3]) return { status: 200, headers: { 'content-type': 'text/html' }, text: '<html/>' };
      if (b[1] === 'GET' && b[3] === '/api/json') return this.ok(req, this.json.build(build, builds));
      if (b[1] === 'POST' && b[3] === '/stop') {
        if (build.result === null) this.finish(build, 'ABORTED', this.now());
        // Jenkins answers stop with a redirect to the previous page (the Referer) or the build.
        return { status: 302, headers: { location: req.headers.referer ?? this.json.buildUrl(build) }, text: '' };
      }
    }
    return this.unrecognised(req);
  }

  private async trigger(req: StandInRequest, job: Job, endpoint: string): Promise<Reply> {
    const declared = job.def.parameters;
    if (req.rawBody && !req.form) return this.unrecognised(req); // multipart (file parameters) is not modelled
    // Like a servlet's getParameter: query string first, then the form body.
    const sent = { ...firstValues(req.form ?? new URLSearchParams()), ...req.query };
    req.params = sent;
    if (endpoint === 'buildWithParameters' && !declared.length) {
      return { status: 500, text: 'java.lang.IllegalStateException: This build is not parameterized!' };
    }
    // POST /build on a parameterised job expects the HTML form's `json` field (Stapler's getSubmittedForm).
    if (endpoint === 'build' && declared.length && sent.json === undefined) {
      return { status: 400, text: Object.keys(sent).length ? 'This page expects a form submission' : 'Nothing is submitted' };
    }
    const params: Record<string, string> = {};
    for (const p of declared) params[p] = sent[p] ?? job.def.defaults?.[p] ?? '';
    const dropped = Object.keys(sent).filter((k) => !declared.includes(k) && !RESERVED.has(k));
    this.triggers.set(job.fullName, this.triggerCount(job.fullName) + 1);
    // Jenkins folds a trigger into an identical item still waiting in the queue.
    const same = this.items.find(
      (it) => it.job === job && !it.cancelled && !it.build && JSON.stringify(it.params) === JSON.stringify(params),
    );
    const now = this.now();
    const item = same ?? {
      id: this.items.length + 1,
      job,
      params,
      dropped,
      inQueueSince: now,
      leaveAt: now + (job.def.queueMs ?? 0),
      cancelled: false,
    };
    if (!same) this.items.push(item);
    const reply: Reply = { status: 201, headers: { location: `${this.url}/queue/item/${item.id}/` }, text: '' };
    const lost = this.loss.take();
    if (!lost) return reply;
    item.answerLost = true;
    return this.loss.apply(lost, reply);
  }

  /** The item, unless Jenkins has forgotten it (LEFT_ITEM_TTL_MS after it left the queue). */
  private remembered(id: number): QueueItem | undefined {
    const item = this.items.find((i) => i.id === id);
    if (!item) return undefined;
    const leftAt = item.cancelled ? item.cancelledAt : item.build?.timestamp;
    return leftAt !== undefined && this.now() - leftAt >= LEFT_ITEM_TTL_MS ? undefined : item;
  }

  private cancelItem(req: StandInRequest, id: number): Reply {
    const item = this.remembered(id);
    if (!item) return { status: 404, text: `Provided id (${req.query.id ?? id}) not found` };
    // A LeftItem (started or already cancelled) is still found, but Queue.cancel() refuses it.
    if (item.cancelled || item.build) return { status: 500, text: `Could not cancel run for id ${item.id}` };
    item.cancelled = true;
    item.cancelledAt = this.now();
    return { status: 204 };
  }

  private root(req: StandInRequest, html: boolean): Reply {
    if (html) return { status: 200, headers: { 'content-type': 'text/html' }, text: '<html/>' };
    const top = new Map<string, unknown>();
    for (const job of this.jobs.values()) {
      const [first, ...more] = job.fullName.split('/');
      const url = `${this.url}/job/${encodeURIComponent(first)}/`;
      if (more.length) top.set(first, { _class: 'com.cloudbees.hudson.plugins.folder.Folder', name: first, url });
      else top.set(first, { _class: 'org.jenkinsci.plugins.workflow.job.WorkflowJob', name: first, url });
    }
    return this.ok(req, {
      _class: 'hudson.model.Hudson',
      mode: 'NORMAL',
      nodeDescription: 'the Jenkins stand-in',
      useCrumbs: true,
      useSecurity: true,
      jobs: [...top.values()],
    });
  }

  private ok(req: StandInRequest, body: unknown): Reply {
    const tree = req.query.tree;
    return { status: 200, headers: { 'content-type': 'application/json;charset=utf-8' }, json: tree ? jenkinsTreeFilter(body, tree) : body };
  }

  private itemJson(item: QueueItem): unknown {
    return this.json.queueItem(item, this.now(), this.buildsOf(item.job.fullName));
  }

  /** Newest first. */
  private buildsOf(job: string): Build[] {
    return this.items
      .filter((i) => i.job.fullName === job && i.build)
      .map((i) => i.build!)
      .sort((a, b) => b.number - a.number);
  }

  /** Moves queue items and builds along to the current time, in the order Jenkins would. */
  private advance(): void {
    const now = this.now();
    const due = this.items
      .filter((i) => !i.cancelled && !i.build && i.leaveAt <= now)
      .sort((a, b) => a.leaveAt - b.leaveAt || a.id - b.id);
    for (const item of due) {
      const def = item.job.def;
      const start = item.leaveAt;
      item.build = {
        number: item.job.nextNumber++,
        item,
        timestamp: start,
        finishAt: def.neverFinishes ? undefined : start + (def.runMs ?? 0),
        result: null,
        duration: 0,
      };
    }
    for (const item of this.items) {
      const b = item.build;
      if (b && b.result === null && b.finishAt !== undefined && b.finishAt <= now) {
        const r = item.job.def.result ?? 'SUCCESS';
        this.finish(b, typeof r === 'function' ? r({ ...item.params }) : r, b.finishAt);
      }
    }
  }

  private finish(build: Build, result: JenkinsResult, at: number): void {
    build.result = result;
    build.duration = Math.max(0, at - build.timestamp);
    build.finishAt = at;
  }
}
