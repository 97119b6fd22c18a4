import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDaemon, type Built } from '../../src/cli/build-daemon';
import { parseConfig } from '../../src/config/load-config';
import { systemClock } from '../../src/listener/ports';
import { schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';
import { expectNoUnexpected } from '../stand-ins/http-stand-in';
import { JenkinsStandIn } from '../stand-ins/jenkins-stand-in';
import { ResultsDbStandIn } from '../stand-ins/resultsdb-stand-in';
import { SlackStandIn } from '../stand-ins/slack-stand-in';
import { MemoryLogger } from './fakes';
import { peersYaml } from './peers-yaml';
import { testBrokerHost, testStompPort } from './stomp-client';

export const TOWER_JOB = 'Pipelines/openshift-integration-pipeline';
export const TOWER_PARAMETERS = ['TESTEXPR', 'TOWER_CONTAINER_IMAGE', 'MEMCACHED_CONTAINER_IMAGE', 'MESSAGING_CONTAINER_IMAGE', 'CVP_RUN_ID'];

/** A daemon on the real broker, with loopback stand-ins for Jenkins, ResultsDB and Slack. */
export class DaemonFixture {
  readonly id = randomUUID().slice(0, 8);
  readonly consumer = `Consumer.cvp-it.${this.id}`;
  readonly deadLetter = `/queue/cvp-it.${this.id}.dead-letter`;
  readonly jenkins = new JenkinsStandIn({ user: 'cvp-bot', token: 'jenkins-token' });
  readonly resultsdb = new ResultsDbStandIn({ outcomes: ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'QUEUED', 'RUNNING', 'ERROR'] });
  readonly slack = new SlackStandIn({ token: 'xoxb-slack-token' });
  readonly log = new MemoryLogger();
  readonly dir = mkdtempSync(join(tmpdir(), 'cvp-it-'));
  built?: Built;

  async startPeers(): Promise<void> {
    await Promise.all([this.jenkins.start(), this.resultsdb.start(), this.slack.start()]);
  }

  configYaml(extraRule = '', ruleTimeout = '1h'): string {
    return `
bus:
  brokers: [{ host: ${testBrokerHost()}, port: ${testStompPort()} }]
  consumer: ${this.consumer}
  dead_letter: ${this.deadLetter}
  heartbeat: 1s
  reconnect_delay: 200ms
  max_reconnect_delay: 1s
intake: { enabled: false }
journal: { path: ${join(this.dir, 'journal.db')} }
${peersYaml({ jenkins: this.jenkins.url, resultsdb: this.resultsdb.url, slackApi: this.slack.apiUrl, channel: '#tower-qe', jenkinsExtra: ['max_polls_per_second: 50'] })}links: { advisory: "https://errata.example.com/advisory/{id}" }
rules:
  - name: tower-group-testing
    topic: VirtualTopic.eng.ci.redhat-container-group.test.queued
    checks:
      - { field: $.artifact.component, expected: Ansible Tower }
      - { field: $.artifact.type, expected: redhat-container-group }
      - { field: "$.artifact.images[0].issuer", expected: freshmaker }
    job: ${TOWER_JOB}
    parameters:
      TESTEXPR: "'yolo or ansible_integration'"
      TOWER_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower'].full_name | [0]
      MEMCACHED_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower-memcached'].full_name | [0]
      MESSAGING_CONTAINER_IMAGE: artifact.images[?name=='ansible-tower-messaging'].full_name | [0]
    timeout: ${ruleTimeout}
    report: { testcase: ansible-tower-35.default.integration, per: image, type: brew-build }
${extraRule}`;
  }

  async startDaemon(yaml = this.configYaml()): Promise<Built> {
    const validator = new EventValidator(schemasDir);
    const loaded = parseConfig(yaml, join(this.dir, 'cvp.yaml'), { JENKINS_TOKEN: 'jenkins-token', SLACK_TOKEN: 'xoxb-slack-token', RELEASE_TOKEN: 'release-token' }, (t) => validator.knows(t));
    this.built = await buildDaemon(loaded, { env: {}, clock: systemClock, log: this.log, print: () => undefined }, validator);
    await this.built.daemon.start();
    await this.built.bus!.whenSubscribed();
    return this.built;
  }

  async stopDaemon(): Promise<void> {
    await this.built?.daemon.stop();
    this.built = undefined;
  }

  async stop(): Promise<void> {
    await this.stopDaemon();
    await Promise.all([this.jenkins.stop(), this.resultsdb.stop(), this.slack.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  expectNoUnexpected(): void {
    expectNoUnexpected(this.jenkins, this.resultsdb, this.slack);
  }
}
