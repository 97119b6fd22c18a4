/**
 * The Jenkins stand-in's state and how real Jenkins (2.4xx, Pipeline jobs) renders it as JSON.
 * Shapes follow /api/json of WorkflowJob, WorkflowRun and Queue$WaitingItem / Queue$LeftItem.
 */
export type JenkinsResult = 'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'ABORTED' | 'NOT_BUILT';

export interface JobDefinition {
  /** Declared parameter names; Jenkins drops anything else. An empty list makes the job unparameterised. */
  parameters: string[];
  /** Values for declared parameters the client leaves out (Jenkins fills in defaults); '' otherwise. */
  defaults?: Record<string, string>;
  result?: JenkinsResult | ((params: Record<string, string>) => JenkinsResult);
  /** How long the item waits in the queue before it gets a build number. */
  queueMs?: number;
  /** How long the build runs once started. */
  runMs?: number;
  /** The build runs until finishBuild() or a stop request. */
  neverFinishes?: boolean;
}

export interface Job {
  fullName: string;
  def: JobDefinition;
  nextNumber: number;
}

export interface QueueItem {
  id: number;
  job: Job;
  params: Record<string, string>;
  dropped: string[];
  inQueueSince: number;
  leaveAt: number;
  cancelled: boolean;
  build?: Build;
}

export interface Build {
  number: number;
  item: QueueItem;
  timestamp: number;
  finishAt?: number;
  result: JenkinsResult | null;
  duration: number;
}

const JOB_CLASS = 'org.jenkinsci.plugins.workflow.job.WorkflowJob';
const RUN_CLASS = 'org.jenkinsci.plugins.workflow.job.WorkflowRun';
const COLORS: Record<JenkinsResult, string> = {
  SUCCESS: 'blue',
  UNSTABLE: 'yellow',
  FAILURE: 'red',
  ABORTED: 'aborted',
  NOT_BUILT: 'notbuilt',
};

export class JenkinsJson {
  constructor(
    private readonly base: () => string,
    private readonly user: string,
  ) {}

  jobUrl(job: Job): string {
    return `${this.base()}/${job.fullName.split('/').map((p) => `job/${encodeURIComponent(p)}/`).join('')}`;
  }

  buildUrl(build: Build): string {
    return `${this.jobUrl(build.item.job)}${build.number}/`;
  }

  color(builds: Build[]): string {
    const last = builds[0];
    if (!last) return 'notbuilt';
    const done = builds.find((b) => b.result !== null);
    const base = done?.result ? COLORS[done.result] : 'notbuilt';
    return last.result === null ? `${base}_anime` : base;
  }

  shallowBuild(build: Build | undefined): unknown {
    return build ? { _class: RUN_CLASS, number: build.number, url: this.buildUrl(build) } : null;
  }

  actions(item: QueueItem): unknown[] {
    const cause = {
      _class: 'hudson.model.CauseAction',
      causes: [
        {
          _class: 'hudson.model.Cause$UserIdCause',
          shortDescription: `Started by user ${this.user}`,
          userId: this.user,
          userName: this.user,
        },
      ],
    };
    if (!item.job.def.parameters.length) return [cause];
    const parameters = Object.entries(item.params).map(([name, value]) => ({
      _class: 'hudson.model.StringParameterValue',
      name,
      value,
    }));
    return [{ _class: 'hudson.model.ParametersAction', parameters }, cause];
  }

  build(build: Build, builds: Build[]): unknown {
    const building = build.result === null;
    const idx = builds.indexOf(build);
    const [, display] = this.names(build.item.job);
    return {
      _class: RUN_CLASS,
      actions: this.actions(build.item),
      artifacts: [],
      building,
      description: null,
      displayName: `#${build.number}`,
      duration: build.duration,
      estimatedDuration: build.item.job.def.runMs ?? 0,
      executor: building ? { _class: 'hudson.model.OneOffExecutor' } : null,
      fullDisplayName: `${display} #${build.number}`,
      id: String(build.number),
      keepLog: false,
      number: build.number,
      queueId: build.item.id,
      result: build.result,
      timestamp: build.timestamp,
      url: this.buildUrl(build),
      changeSets: [],
      culprits: [],
      inProgress: building,
      nextBuild: idx > 0 ? this.shallowBuild(builds[idx - 1]) : null,
      previousBuild: this.shallowBuild(builds[idx + 1]),
    };
  }

  /** `builds` newest first, as Jenkins lists them. */
  job(job: Job, builds: Build[], waiting: QueueItem | undefined, now: number, deep: boolean): unknown {
    const [name, display] = this.names(job);
    const render = (b: Build | undefined) => (b && deep ? this.build(b, builds) : this.shallowBuild(b));
    const defs = job.def.parameters.map((p) => ({
      _class: 'hudson.model.StringParameterDefinition',
      defaultParameterValue: {
        _class: 'hudson.model.StringParameterValue',
        name: p,
        value: job.def.defaults?.[p] ?? '',
      },
      description: null,
      name: p,
      type: 'StringParameterDefinition',
    }));
    const property = defs.length
      ? [{ _class: 'hudson.model.ParametersDefinitionProperty', parameterDefinitions: defs }]
      : [];
    return {
      _class: JOB_CLASS,
      actions: property,
      description: null,
      displayName: name,
      fullDisplayName: display,
      fullName: job.fullName,
      name,
      url: this.jobUrl(job),
      buildable: true,
      builds: builds.map(render),
      color: this.color(builds),
      firstBuild: render(builds[builds.length - 1]),
      inQueue: waiting !== undefined,
      lastBuild: render(builds[0]),
      lastCompletedBuild: render(builds.find((b) => b.result !== null)),
      lastSuccessfulBuild: render(builds.find((b) => b.result === 'SUCCESS')),
      nextBuildNumber: job.nextNumber,
      property,
      queueItem: waiting ? this.queueItem(waiting, now, builds) : null,
    };
  }

  queueItem(item: QueueItem, now: number, jobBuilds: Build[]): unknown {
    const left = item.cancelled || item.build !== undefined;
    const [name] = this.names(item.job);
    const common = {
      actions: this.actions(item),
      blocked: false,
      buildable: false,
      id: item.id,
      inQueueSince: item.inQueueSince,
      params: Object.entries(item.params)
        .map(([k, v]) => `\n${k}='${v}'`)
        .join(''),
      stuck: false,
      task: { _class: JOB_CLASS, name, url: this.jobUrl(item.job), color: this.color(jobBuilds) },
      url: `queue/item/${item.id}/`,
    };
    if (!left) {
      const secs = Math.max(0, (item.leaveAt - now) / 1000).toFixed(1);
      return {
        _class: 'hudson.model.Queue$WaitingItem',
        ...common,
        why: `In the quiet period. Expires in ${secs} sec`,
        timestamp: item.leaveAt,
      };
    }
    // Only a LeftItem has `cancelled` and `executable` (null when cancelled before it started).
    return {
      _class: 'hudson.model.Queue$LeftItem',
      ...common,
      why: null,
      cancelled: item.cancelled,
      executable: this.shallowBuild(item.build),
    };
  }

  private names(job: Job): [string, string] {
    const parts = job.fullName.split('/');
    return [parts[parts.length - 1], parts.join(' » ')];
  }
}
