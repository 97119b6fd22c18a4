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

export interface IntakeConfig { host?: string; port?: number; enabled?: boolean; max_body_bytes?: number; token?: string; hmac_secret?: string }

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
  lookback?: number;
}

export interface CommandConfig {
  jobs: Record<string, { run: string; args?: string[] }>;
  logs?: string;
  poll_interval?: Duration;
}

export interface ResultsDbConfig { url: string; outcomes?: string[]; request_timeout?: Duration }

export interface SlackConfig { token?: string; channel: string; api_url?: string; request_timeout?: Duration }

export interface CheckConfig { field: string; expected: string }

export interface RuleConfig {
  name: string;
  topic: string;
  checks?: CheckConfig[];
  executor?: 'jenkins' | 'command';
  job: string;
  parameters?: Record<string, string>;
  timeout?: Duration;
  report: { testcase: string; per?: 'image' | 'artifact'; type?: string; rebuilt?: string; group?: boolean };
  product?: string;
  slack_channel?: string;
  /** A newer event for the same artifact cancels this rule's older run: true (same type and component), or an expression naming the artifact. */
  supersede?: boolean | string;
  /** Builds this rule may hold at once (its job needs a whole test cluster); more wait in CVP, oldest first. */
  max_in_flight?: number;
}

export interface ProductConfig {
  name: string;
  /** Test cases that must be final before the gate decides, per artifact (item) type. */
  required: Record<string, string[]>;
  release?: 'off' | 'shadow' | 'on';
  release_action?: { bus?: string; http?: { url: string; method?: 'POST' | 'PUT'; token?: string } };
  slack_channel?: string;
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
