/**
 * The project's loopback stand-ins of Jenkins, ResultsDB and Slack (test/stand-ins), in a process
 * of their own so that their work does not count as the daemon's. Forked by bench/run.ts; each
 * phase asks for fresh ones (`start`), reads what they saw (`stats`), and stops them.
 *
 * The Jenkins stand-in is observed, not changed: every trigger request it accepted is timed on
 * arrival, so publish → trigger is measured where Jenkins would see it.
 */
import { JenkinsStandIn } from '../test/stand-ins/jenkins-stand-in';
import type { Reply, StandInRequest } from '../test/stand-ins/http-stand-in';
import { ResultsDbStandIn } from '../test/stand-ins/resultsdb-stand-in';
import { SlackStandIn } from '../test/stand-ins/slack-stand-in';
import { BENCH_JOB, BENCH_JOB_PARAMETERS, PEER_CREDENTIALS, sentAtOf } from './fixtures';

export interface PeerUrls { jenkins: string; resultsdb: string; slackApi: string }

export type ToPeers =
  | { type: 'start'; builds: 'finish-at-once' | 'run-for-ever' }
  | { type: 'stats'; latencies?: boolean }
  | { type: 'stop' };

export interface PeerStats {
  /** Trigger requests Jenkins accepted (201), and how many distinct CVP_RUN_IDs they carried. */
  triggers: number;
  distinctRuns: number;
  firstTriggerNs: string | null;
  lastTriggerNs: string | null;
  jenkinsRequests: number;
  results: number;
  slackMessages: number;
  /** Requests a stand-in did not recognise: a bug in the bench or the daemon, shown in the report. */
  unexpected: string[];
  /** CPU time of this process since the stand-ins were started. */
  cpuMs: number;
  /** [publish time, ms from publish to the trigger's arrival], for stamped events. */
  latencies?: Array<[string, number]>;
}

export type FromPeers =
  | { type: 'started'; urls: PeerUrls }
  | { type: 'stats'; stats: PeerStats }
  | { type: 'stopped' }
  | { type: 'error'; error: string };

/** A Jenkins stand-in that notes when each trigger arrived (and which event it was for). */
class TimedJenkins extends JenkinsStandIn {
  readonly arrivals: Array<{ at: bigint; runId: string; artifact: string }> = [];

  protected override async handle(req: StandInRequest): Promise<Reply> {
    const at = process.hrtime.bigint();
    const reply = await super.handle(req);
    if (reply.status === 201 && req.method === 'POST' && req.path.endsWith('/buildWithParameters')) {
      this.arrivals.push({ at, runId: req.params?.CVP_RUN_ID ?? '', artifact: req.params?.BENCH_ARTIFACT ?? '' });
    }
    return reply;
  }
}

interface Peers { jenkins: TimedJenkins; resultsdb: ResultsDbStandIn; slack: SlackStandIn; cpu0: NodeJS.CpuUsage }
let current: Peers | undefined;

async function stop(): Promise<void> {
  if (!current) return;
  const { jenkins, resultsdb, slack } = current;
  current = undefined;
  await Promise.all([jenkins.stop(), resultsdb.stop(), slack.stop()]);
}

async function start(builds: 'finish-at-once' | 'run-for-ever'): Promise<PeerUrls> {
  await stop();
  const jenkins = new TimedJenkins({ user: PEER_CREDENTIALS.jenkinsUser, token: PEER_CREDENTIALS.jenkinsToken });
  // Answering at once: the item leaves the queue at the next request; the build ends at once or never.
  jenkins.defineJob(BENCH_JOB, {
    parameters: BENCH_JOB_PARAMETERS, queueMs: 0, ...(builds === 'finish-at-once' ? { runMs: 0, result: 'SUCCESS' } : { neverFinishes: true }),
  });
  const resultsdb = new ResultsDbStandIn({ outcomes: ['QUEUED', 'RUNNING', 'ERROR'] });
  const slack = new SlackStandIn({ token: PEER_CREDENTIALS.slackToken });
  await Promise.all([jenkins.start(), resultsdb.start(), slack.start()]);
  current = { jenkins, resultsdb, slack, cpu0: process.cpuUsage() };
  return { jenkins: jenkins.url, resultsdb: resultsdb.url, slackApi: slack.apiUrl };
}

function stats(latencies: boolean): PeerStats {
  if (!current) throw new Error('the stand-ins are not started');
  const { jenkins, resultsdb, slack, cpu0 } = current;
  const a = jenkins.arrivals;
  const cpu = process.cpuUsage(cpu0);
  const out: PeerStats = {
    triggers: a.length,
    distinctRuns: new Set(a.map((x) => x.runId)).size,
    firstTriggerNs: a.length ? String(a[0].at) : null,
    lastTriggerNs: a.length ? String(a[a.length - 1].at) : null,
    jenkinsRequests: jenkins.requests.length,
    results: resultsdb.requests.filter((r) => r.method === 'POST' && r.status === 201).length,
    slackMessages: slack.messages.length,
    unexpected: [...jenkins.unexpected, ...resultsdb.unexpected, ...slack.unexpected].slice(0, 10),
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
  if (latencies) {
    out.latencies = [];
    for (const x of a) {
      const sent = sentAtOf(x.artifact);
      if (sent !== null) out.latencies.push([String(sent), Number(x.at - sent) / 1e6]);
    }
  }
  return out;
}

const send = (m: FromPeers): void => { process.send?.(m); };

process.on('message', (m: ToPeers) => {
  const reply = async (): Promise<FromPeers> => {
    switch (m.type) {
      case 'start': return { type: 'started', urls: await start(m.builds) };
      case 'stats': return { type: 'stats', stats: stats(m.latencies ?? false) };
      case 'stop': await stop(); return { type: 'stopped' };
    }
  };
  reply().then(send, (err: unknown) => send({ type: 'error', error: err instanceof Error ? err.stack ?? err.message : String(err) }));
});
process.on('disconnect', () => { void stop().finally(() => process.exit(0)); });
