/**
 * The SQLite journal's tables. Immutable payloads (a run's plan, an effect's payload, a message's
 * body) are kept apart from the mutable state, so a state change rewrites a short row; every
 * "due" query has an index that serves it without a sort.
 */

/** Bumped with every change of the tables below; an older file is refused, not misread. */
export const SCHEMA_VERSION = 4;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  pk INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  source TEXT NOT NULL,
  status TEXT NOT NULL,
  reasons TEXT NOT NULL,
  headers TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_received ON messages(received_at);
CREATE INDEX IF NOT EXISTS messages_topic ON messages(topic, received_at);
CREATE INDEX IF NOT EXISTS messages_rejected ON messages(received_at) WHERE status = 'rejected';

CREATE TABLE IF NOT EXISTS run_plans (
  id TEXT PRIMARY KEY,
  plan TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS runs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL,
  rule TEXT NOT NULL,
  executor TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  supersede_key TEXT,
  state TEXT NOT NULL,
  phase TEXT,
  due_at INTEGER,
  owner TEXT,
  lease_until INTEGER,
  build_ref TEXT,
  build_result TEXT,
  outcome TEXT,
  error_reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deadline_at INTEGER,
  triggered_at INTEGER,
  started_at INTEGER,
  finished_at INTEGER,
  reported TEXT,
  superseded_by TEXT,
  UNIQUE (content_hash, rule)
);
CREATE INDEX IF NOT EXISTS runs_due ON runs(executor, phase, due_at, seq) WHERE phase IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_message ON runs(message_id);
CREATE INDEX IF NOT EXISTS runs_in_flight ON runs(rule) WHERE state IN ('triggering', 'queued', 'running');
CREATE INDEX IF NOT EXISTS runs_supersede ON runs(rule, supersede_key) WHERE supersede_key IS NOT NULL AND state != 'finished';
CREATE INDEX IF NOT EXISTS runs_finished ON runs(finished_at) WHERE state = 'finished';
CREATE INDEX IF NOT EXISTS runs_owner ON runs(owner) WHERE owner IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_state ON runs(state);

CREATE TABLE IF NOT EXISTS run_subjects (
  subject TEXT NOT NULL,
  run_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (subject, run_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS run_subjects_run ON run_subjects(run_id);

CREATE TABLE IF NOT EXISTS effect_payloads (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS effects (
  id INTEGER PRIMARY KEY,
  run_id TEXT,
  message_id TEXT,
  peer TEXT NOT NULL,
  order_key TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  in_flight INTEGER NOT NULL DEFAULT 0,
  owner TEXT,
  lease_until INTEGER,
  created_at INTEGER NOT NULL,
  done_at INTEGER
);
CREATE INDEX IF NOT EXISTS effects_due ON effects(peer, next_at, id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS effects_order ON effects(order_key, peer, id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS effects_settled ON effects(done_at) WHERE state != 'pending';
CREATE INDEX IF NOT EXISTS effects_run ON effects(run_id);
CREATE INDEX IF NOT EXISTS effects_message ON effects(message_id);
CREATE INDEX IF NOT EXISTS effects_owner ON effects(owner) WHERE owner IS NOT NULL;

CREATE TABLE IF NOT EXISTS threads (
  thread TEXT NOT NULL,
  channel TEXT NOT NULL,
  opener INTEGER,
  ts TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (thread, channel)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS results (
  seq INTEGER PRIMARY KEY,
  item TEXT NOT NULL,
  type TEXT NOT NULL,
  testcase TEXT NOT NULL,
  scenario TEXT,
  outcome TEXT NOT NULL,
  ref_url TEXT,
  message_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS results_item ON results(item, type);
CREATE INDEX IF NOT EXISTS results_created ON results(created_at);

CREATE TABLE IF NOT EXISTS gates (
  key TEXT PRIMARY KEY,
  product TEXT NOT NULL,
  subject TEXT NOT NULL,
  decision TEXT,
  reasons TEXT NOT NULL DEFAULT '[]',
  released INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  evaluated INTEGER NOT NULL DEFAULT 0,
  owner TEXT,
  lease_until INTEGER,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gates_due ON gates(updated_at) WHERE version > evaluated;
CREATE INDEX IF NOT EXISTS gates_updated ON gates(updated_at);
CREATE TABLE IF NOT EXISTS gate_items (
  gate_key TEXT NOT NULL,
  item TEXT NOT NULL,
  type TEXT NOT NULL,
  PRIMARY KEY (item, type, gate_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gate_items_gate ON gate_items(gate_key);
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY,
  gate_key TEXT NOT NULL,
  product TEXT NOT NULL,
  decision TEXT NOT NULL,
  mode TEXT NOT NULL,
  action TEXT NOT NULL,
  reasons TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_gate ON decisions(gate_key, id);
CREATE INDEX IF NOT EXISTS decisions_product ON decisions(product, id);

CREATE TABLE IF NOT EXISTS actions (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  product TEXT NOT NULL,
  gate_key TEXT,
  run_id TEXT,
  waiver_id TEXT,
  reason TEXT,
  who TEXT NOT NULL,
  via TEXT NOT NULL,
  at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS actions_at ON actions(at);
CREATE INDEX IF NOT EXISTS actions_gate ON actions(gate_key);
CREATE TABLE IF NOT EXISTS waivers (
  id TEXT PRIMARY KEY,
  product TEXT NOT NULL,
  item TEXT NOT NULL,
  type TEXT NOT NULL,
  testcase TEXT NOT NULL,
  scenario TEXT,
  reason TEXT NOT NULL,
  who TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoked_by TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS waivers_item ON waivers(item, type);
CREATE TABLE IF NOT EXISTS alarms (
  key TEXT PRIMARY KEY,
  raised INTEGER NOT NULL,
  since INTEGER NOT NULL,
  detail TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS buckets (
  key TEXT PRIMARY KEY,
  tokens REAL NOT NULL,
  at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at INTEGER NOT NULL
);
`;
