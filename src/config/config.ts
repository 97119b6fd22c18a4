/** The configuration as the YAML file states it (schemas/config.schema.json is the authority). */
export type Duration = number | string;

export interface TlsConfig { cert?: string; key?: string; ca?: string; passphrase?: string; servername?: string }

export interface BrokerConfig { host: string; port: number; tls?: TlsConfig }

export interface BusConfig {
  brokers: BrokerConfig[];
  login?: string;
  passcode?: string;
  consumer: string;
  tls?: TlsConfig;
  dead_letter?: string;
  heartbeat?: Duration;
  connect_timeout?: Duration;
  reconnect_delay?: Duration;
  max_reconnect_delay?: Duration;
  prefetch?: number;
}

export interface IntakeConfig {
  host?: string;
  port?: number;
  enabled?: boolean;
  max_body_bytes?: number;
  token?: string;
  hmac_secret?: string;
  /** Connections held at once; past it, the one idle longest makes room. */
  max_connections?: number;
  headers_timeout?: Duration;
  body_timeout?: Duration;
  idle_timeout?: Duration;
  /** POST /events answers 429 while more runs than this wait to start. */
  max_backlog?: number;
  /** Host header values a loopback intake answers to besides 127.0.0.1, localhost and [::1] (a reverse proxy's). */
  allowed_hosts?: string[];
}

export interface JournalConfig {
  /** The SQLite file (the embedded default). Not together with `url`. */
  path?: string;
  /** A PostgreSQL journal shared by several daemons: postgres://user@host:port/database. */
  url?: string;
  /** The PostgreSQL password (a secret: from the environment). */
  password?: string;
  /** PostgreSQL connections per daemon. */
  pool_size?: number;
  connect_timeout?: Duration;
  statement_timeout?: Duration;
  /** How long a claim on a run, an effect or a gate holds before another daemon may take it over. */
  lease?: Duration;
  /** Finished runs, delivered effects and messages older than this are deleted; 0 keeps everything. */
  retention?: Duration;
}

export interface JenkinsConfig {
  url: string;
  user?: string;
  token?: string;
  request_timeout?: Duration;
  poll_interval?: Duration;
  max_polls_per_second?: number;
  max_triggers_per_second?: number;
  /** The longest a lookup of a run's build may take (paging back through the job's builds). */
  locate_timeout?: Duration;
  /** Deprecated and ignored: a run's build is looked for back to the run's creation, bounded by locate_timeout. */
  lookback?: number;
}

export interface CommandConfig {
  jobs: Record<string, { run: string; args?: string[] }>;
  logs?: string;
  poll_interval?: Duration;
}

export interface ResultsDbConfig { url: string; outcomes?: string[]; request_timeout?: Duration }

export interface SlackConfig {
  token?: string; channel: string; api_url?: string; request_timeout?: Duration;
  /** The Slack app's signing secret: with it, notices carry buttons and POST /slack/actions takes their clicks. */
  signing_secret?: string;
}

/** Who may press a product's buttons in Slack: user ids, and user groups (resolved with usergroups.users.list). */
export interface ApproversConfig { users?: string[]; groups?: string[] }

/** The watchdog: the longest silence expected per topic, and where its notices go. */
export interface WatchdogConfig {
  silence?: Record<string, Duration>;
  channel?: string;
  /** A rule's oldest unfinished run is stuck once older than the rule's timeout plus this (default 15m). */
  run_grace?: Duration;
  /** How often the watchdog looks (default 1m). */
  interval?: Duration;
}

export interface CheckConfig { field: string; expected: string }

/** The whole event as one job parameter, as the JMS Messaging plugin's trigger passes it. */
export type CiMessageConfig = boolean | { name?: string; max_bytes?: number };

/** An HTTP GET made for the event, whose JSON answer gives job parameters. */
export interface LookupConfig {
  name: string;
  /** URL template: each {expression} is JMESPath over the event, percent-encoded into the URL. */
  url: string;
  /** Job parameter → JMESPath over the JSON answer. */
  parameters: Record<string, string>;
  /** Secret for the Authorization header: ${VAR} or VAR_FILE, like every token. */
  token?: string;
  /** Authorization scheme put before the token (default Bearer). */
  token_scheme?: string;
  timeout?: Duration;
  /** How long an answer is reused for the same URL (default 5m; 0: never). */
  cache?: Duration;
  /** Attempts before a failing lookup ends the run as ERROR (default 5). */
  attempts?: number;
  /** Largest answer taken, in bytes (default 1 MiB). */
  max_bytes?: number;
}

export interface RuleConfig {
  name: string;
  topic: string;
  checks?: CheckConfig[];
  executor?: 'jenkins' | 'command';
  job: string;
  /** The jobs a job expression (`job: "=..."`) may choose. */
  jobs?: string[];
  /** Or a regular expression the whole chosen name must match. */
  job_pattern?: string;
  parameters?: Record<string, string>;
  ci_message?: CiMessageConfig;
  lookups?: LookupConfig[];
  timeout?: Duration;
  report: { testcase: string; per?: 'image' | 'artifact'; type?: string; rebuilt?: string; group?: boolean; docs?: string; scenario?: string };
  product?: string;
  slack_channel?: string;
  /** A newer event for the same artifact cancels this rule's older run: true (same type and component), or an expression naming the artifact. */
  supersede?: boolean | string;
  /** Builds this rule may hold at once (its job needs a whole test cluster); more wait in CVP, oldest first. */
  max_in_flight?: number;
  /** The longest silence expected on this rule's topic (the watchdog's alarm past it). */
  max_silence?: Duration;
}

export interface ProductConfig {
  name: string;
  /** Test cases that must be final before the gate decides, per artifact (item) type. */
  required: Record<string, string[]>;
  release?: 'off' | 'shadow' | 'on';
  release_action?: { bus?: string; http?: { url: string; method?: 'POST' | 'PUT'; token?: string } };
  slack_channel?: string;
  /** Who may release, hold, rerun and waive from Slack; nobody when unset. */
  approvers?: ApproversConfig;
}

export interface CvpConfig {
  bus?: BusConfig;
  intake?: IntakeConfig;
  journal?: JournalConfig;
  jenkins?: JenkinsConfig;
  command?: CommandConfig;
  resultsdb?: ResultsDbConfig;
  slack?: SlackConfig;
  outcomes?: Partial<Record<'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'ABORTED' | 'NOT_BUILT' | 'TIMEOUT', string>>;
  limits?: { max_message_bytes?: number; max_depth?: number; max_parameter_length?: number };
  links?: { advisory?: string };
  delivery?: { base_delay?: Duration; max_delay?: Duration };
  rules: RuleConfig[];
  products?: ProductConfig[];
  ci_messages?: { contact: Record<string, string>; topic_prefix?: string; run_url?: string };
  pipeline_results?: { topics: string[] };
  watchdog?: WatchdogConfig;
  allow_inline_secrets?: boolean;
}

/** A loaded config plus where it came from, so relative paths resolve against the file's folder. */
export interface LoadedConfig {
  config: CvpConfig;
  file: string;
  dir: string;
  /** Every secret's value, so that logs and outputs can blank it out. */
  secrets: string[];
}

export function durationMs(value: Duration | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}
