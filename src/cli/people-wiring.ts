import { dashboardRoute } from '../adapters/dashboard/dashboard-route';
import type { HttpRoute } from '../adapters/bus/http-intake';
import type { PrometheusMetricsOptions } from '../adapters/metrics/prometheus-metrics';
import { SlackApprovers } from '../adapters/slack/slack-approvers';
import { SlackInteractivity, slackUserId } from '../adapters/slack/slack-interactivity';
import { SlackWebPeopleApi } from '../adapters/slack/slack-people-api';
import type { JournalStore } from './open-journal';
import { durationMs, type LoadedConfig } from '../config/config';
import type { Core, CoreDeps } from '../listener/core';
import type { Source } from '../listener/daemon';
import type { WatchdogOptions } from '../listener/watchdog';
import type { Runtime } from './build-daemon';

export interface PeopleWiring {
  /** Buttons on notices when Slack can send the clicks back. */
  notices: { interactive?: boolean };
  allowed: CoreDeps['allowed'];
  watchdog?: WatchdogOptions;
  metrics: Pick<PrometheusMetricsOptions, 'agreement' | 'watchdog'>;
  routes: (onUnauthorized: (path: string) => void) => HttpRoute[];
  sources: Source[];
  /** What /readyz lists besides readiness: the watchdog's raised alarms. */
  readyDetail: () => Record<string, unknown>;
  interactivity?: SlackInteractivity;
}

/** The watchdog's bounds from the config: watchdog.silence, each rule's max_silence, each rule's timeout. */
export function watchdogOptions(loaded: LoadedConfig): WatchdogOptions | undefined {
  const { config } = loaded;
  const silence = new Map<string, number>();
  for (const [topic, d] of Object.entries(config.watchdog?.silence ?? {})) silence.set(topic, durationMs(d, 0));
  for (const r of config.rules) {
    if (r.max_silence !== undefined) silence.set(r.topic, Math.min(silence.get(r.topic) ?? Infinity, durationMs(r.max_silence, 0)));
  }
  if (!config.watchdog && !silence.size) return undefined;
  return {
    silence,
    runTimeouts: new Map(config.rules.map((r) => [r.name, durationMs(r.timeout, 4 * 3_600_000)])),
    graceMs: durationMs(config.watchdog?.run_grace, 15 * 60_000),
    intervalMs: durationMs(config.watchdog?.interval, 60_000),
    channel: config.watchdog?.channel,
  };
}

/** People in the loop, wired: Slack's buttons and who may press them, the dashboard, the watchdog and their metrics. */
export function peopleWiring(loaded: LoadedConfig, rt: Runtime, journal: JournalStore, core: () => Core | undefined): PeopleWiring {
  const { config } = loaded;
  const slack = config.slack;
  const watchdog = watchdogOptions(loaded);
  const watchState = watchdog ? () => core()?.watchdog?.state() ?? null : undefined;
  let interactivity: SlackInteractivity | undefined;
  let approvers: SlackApprovers | undefined;
  if (slack?.signing_secret && slack.token) {
    const api = new SlackWebPeopleApi({ token: slack.token, apiUrl: slack.api_url, requestTimeoutMs: durationMs(slack.request_timeout, 10_000), fetch: rt.fetch });
    approvers = new SlackApprovers({
      products: new Map((config.products ?? []).map((p) => [p.name, { users: p.approvers?.users ?? [], groups: p.approvers?.groups ?? [] }])),
      api, clock: rt.clock, log: rt.log,
    });
    const allows = approvers.allows.bind(approvers);
    interactivity = new SlackInteractivity({
      signingSecret: slack.signing_secret, api, allows, clock: rt.clock, log: rt.log,
      actions: { act: (req, actor) => core()!.actions.act(req, actor) },
    });
  }
  return {
    notices: interactivity ? { interactive: true } : {},
    // The CLI's user is trusted by their access to the journal; a Slack user must be one of the product's approvers.
    allowed: async (product, actor) => {
      if (actor.via !== 'slack') return true;
      const user = slackUserId(actor.who);
      return !!user && !!approvers && (await approvers.allows(product, user));
    },
    watchdog,
    metrics: { agreement: { queries: journal }, ...(watchState ? { watchdog: watchState } : {}) },
    routes: (onUnauthorized) => [
      dashboardRoute({ queries: journal, journal, clock: rt.clock, ...(watchState ? { watchdog: watchState } : {}) }),
      ...(interactivity ? [withUnauthorized(interactivity.route(), onUnauthorized)] : []),
    ],
    sources: interactivity ? [interactivity] : [],
    readyDetail: () => {
      const s = watchState?.();
      return s ? { watchdog: { checkedAt: new Date(s.checkedAt).toISOString(), alarms: s.alarms.filter((a) => a.raised).map((a) => ({ key: a.key, since: new Date(a.since).toISOString(), detail: a.detail })) } } : {};
    },
    ...(interactivity ? { interactivity } : {}),
  };
}

/** A refused Slack request counts where refused intake requests do. */
function withUnauthorized(route: HttpRoute, onUnauthorized: (path: string) => void): HttpRoute {
  return {
    ...route,
    async handle(req) {
      const reply = await route.handle(req);
      if (reply.status === 401) onUnauthorized(route.path);
      return reply;
    },
  };
}
