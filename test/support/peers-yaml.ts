/**
 * The jenkins / resultsdb / slack sections of a test config pointing at the loopback stand-ins
 * (tokens as ${JENKINS_TOKEN} and ${SLACK_TOKEN}, so the daemon reads them from its environment).
 */
export function peersYaml(p: { jenkins: string; resultsdb: string; slackApi: string; channel: string; jenkinsExtra?: string[] }): string {
  return [
    'jenkins:',
    `  url: ${p.jenkins}`,
    '  user: cvp-bot',
    '  token: ${JENKINS_TOKEN}',
    '  poll_interval: 100ms',
    ...(p.jenkinsExtra ?? []).map((l) => `  ${l}`),
    'resultsdb:',
    `  url: ${p.resultsdb}/api/v2.0`,
    '  outcomes: [PASSED, INFO, FAILED, NEEDS_INSPECTION, QUEUED, RUNNING, ERROR]',
    'slack:',
    '  token: ${SLACK_TOKEN}',
    `  channel: "${p.channel}"`,
    `  api_url: ${p.slackApi}`,
    '',
  ].join('\n');
}
