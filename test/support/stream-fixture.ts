import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../src/paths';
import { JenkinsStandIn } from '../stand-ins/jenkins-stand-in';
import { ResultsDbStandIn } from '../stand-ins/resultsdb-stand-in';
import { SlackStandIn } from '../stand-ins/slack-stand-in';
import { freePorts } from './activemq';
import { peersYaml } from './peers-yaml';
import { connectTestClient, disconnectTestClient, sendWithReceipt } from './stomp-client';

export const JOB = 'Pipelines/openshift-integration-pipeline';
export const TESTCASE = 'ansible-tower-35.default.integration';
const TOPIC = '/topic/VirtualTopic.eng.ci.redhat-container-group.test.queued';

/** Event n of a stream: a group of two images with NVRs of its own, so results can be counted per event. */
export function streamEvent(tag: string, n: number): Record<string, unknown> {
  const e = JSON.parse(readFileSync(join(packageRoot, 'examples/messages/redhat-container-group.test.queued.json'), 'utf8'));
  e.artifact.id = `${tag}-${n}`;
  e.artifact.images = e.artifact.images.slice(0, 2).map((img: Record<string, string>, i: number) => ({ ...img, nvr: `${img.component}-${tag}.${n}-${i}` }));
  return e;
}

export function itemsOf(tag: string, n: number): string[] {
  return (streamEvent(tag, n).artifact as { images: Array<{ nvr: string }> }).images.map((i) => i.nvr);
}

export async function publishStream(port: number, tag: string, from: number, to: number): Promise<void> {
  const client = await connectTestClient(port);
  try {
    for (let n = from; n < to; n++) await sendWithReceipt(client, TOPIC, JSON.stringify(streamEvent(tag, n)), { 'content-type': 'application/json' });
  } finally {
    await disconnectTestClient(client);
  }
}

/** Peers, a temp dir and a config for a daemon process on a broker. */
export class StreamFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'cvp-stream-'));
  readonly jenkins = new JenkinsStandIn({ user: 'cvp-bot', token: 'jenkins-token' });
  readonly resultsdb = new ResultsDbStandIn({ outcomes: ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'QUEUED', 'RUNNING', 'ERROR'] });
  readonly slack = new SlackStandIn({ token: 'xoxb-slack-token' });
  intakePort = 0;
  /** Daemon processes of this fixture, killed by stop() whatever the test did. */
  readonly daemons: Array<{ kill(): Promise<void> }> = [];
  readonly env = { JENKINS_TOKEN: 'jenkins-token', SLACK_TOKEN: 'xoxb-slack-token' };

  async start(jobMs = 20): Promise<void> {
    await Promise.all([this.jenkins.start(), this.resultsdb.start(), this.slack.start()]);
    this.jenkins.defineJob(JOB, { parameters: ['GROUP_ID', 'TOWER_CONTAINER_IMAGE', 'CVP_RUN_ID'], result: 'SUCCESS', runMs: jobMs });
    [this.intakePort] = await freePorts(1);
  }

  /**
   * `options.limits`: the daemon's parse limits (schemas/config.schema.json `limits`), its defaults
   * otherwise; `options.heartbeat`: bus.heartbeat (default 2s); `options.pipelineTopics`:
   * `pipeline_results.topics`; `options.journal`: the journal's file name in the fixture's dir;
   * `options.delivery`: `delivery` (default 100ms to 1s); `options.jenkinsExtra`: more `jenkins` keys.
   */
  writeConfig(stompPort: number, consumer: string, options: {
    limits?: { max_message_bytes?: number; max_depth?: number };
    heartbeat?: string;
    pipelineTopics?: string[];
    /** The journal's file name in the fixture's dir, or a path of its own (a small file system, say). */
    journal?: string;
    delivery?: { base_delay: string; max_delay: string };
    jenkinsExtra?: string[];
  } = {}): string {
    const file = join(this.dir, 'cvp.yaml');
    const limits = options.limits ? `limits: ${JSON.stringify(options.limits)}\n` : '';
    const pipeline = options.pipelineTopics ? `pipeline_results: { topics: [${options.pipelineTopics.join(', ')}] }\n` : '';
    const delivery = options.delivery ?? { base_delay: '100ms', max_delay: '1s' };
    writeFileSync(file, `
bus:
  brokers: [{ host: 127.0.0.1, port: ${stompPort} }]
  consumer: ${consumer}
  dead_letter: /queue/${consumer}.dead-letter
  heartbeat: ${options.heartbeat ?? '2s'}
  reconnect_delay: 200ms
  max_reconnect_delay: 1s
  prefetch: 200
intake: { host: 127.0.0.1, port: ${this.intakePort} }
journal: { path: ${resolve(this.dir, options.journal ?? 'journal.db')} }
${peersYaml({ jenkins: this.jenkins.url, resultsdb: this.resultsdb.url, slackApi: this.slack.apiUrl, channel: '#stream', jenkinsExtra: ['max_polls_per_second: 400', ...(options.jenkinsExtra ?? [])] })}delivery: { base_delay: ${delivery.base_delay}, max_delay: ${delivery.max_delay} }
${limits}${pipeline}rules:
  - name: stream
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    job: ${JOB}
    parameters:
      GROUP_ID: artifact.id
      TOWER_CONTAINER_IMAGE: artifact.images[0].full_name
    timeout: 10m
    report: { testcase: ${TESTCASE}, per: image, type: brew-build }
`);
    return file;
  }

  async ready(): Promise<boolean> {
    const r = await fetch(`http://127.0.0.1:${this.intakePort}/readyz`).catch(() => null);
    return r?.status === 200;
  }

  /** Builds per group id, from the Jenkins stand-in's own log. */
  buildsPerEvent(): Map<string, number> {
    const m = new Map<string, number>();
    for (const b of this.jenkins.builds(JOB)) m.set(b.parameters.GROUP_ID, (m.get(b.parameters.GROUP_ID) ?? 0) + 1);
    return m;
  }

  /** Final (not QUEUED/RUNNING) results per item, from the ResultsDB stand-in's own store. */
  finalResultsPerItem(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.resultsdb.results) {
      if (r.outcome === 'QUEUED' || r.outcome === 'RUNNING' || r.testcase.name !== TESTCASE) continue;
      const item = r.data.item[0];
      m.set(item, (m.get(item) ?? 0) + 1);
    }
    return m;
  }

  async stop(): Promise<void> {
    for (const d of this.daemons) await d.kill();
    await Promise.all([this.jenkins.stop(), this.resultsdb.stop(), this.slack.stop()]);
    if (!process.env.CVP_TEST_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Counts what is not exactly once: events without exactly one build, items without exactly one final result. */
export function countMistakes(f: StreamFixture, tag: string, events: number): { missingBuilds: number; extraBuilds: number; missingResults: number; extraResults: number } {
  const builds = f.buildsPerEvent();
  const results = f.finalResultsPerItem();
  const out = { missingBuilds: 0, extraBuilds: 0, missingResults: 0, extraResults: 0 };
  for (let n = 0; n < events; n++) {
    const b = builds.get(`${tag}-${n}`) ?? 0;
    if (b === 0) out.missingBuilds += 1;
    if (b > 1) out.extraBuilds += b - 1;
    for (const item of itemsOf(tag, n)) {
      const r = results.get(item) ?? 0;
      if (r === 0) out.missingResults += 1;
      if (r > 1) out.extraResults += r - 1;
    }
  }
  return out;
}
