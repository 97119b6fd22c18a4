/**
 * Packaging: the files under deploy/ agree with each other and with the daemon.
 *
 * No container engine is available where the tests run, so `docker build` / `podman build` cannot
 * run here: the Containerfile is checked by reading it, instruction by instruction. The embedded
 * configurations are checked with the daemon's own config loader.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { isScalar, LineCounter, parseAllDocuments, parseDocument } from 'yaml';
import { parseConfig } from '../../src/config/load-config';
import { CvpError } from '../../src/errors';
import { packageRoot, schemasDir } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';

const deployDir = join(packageRoot, 'deploy');
const rel = (abs: string): string => relative(packageRoot, abs);
const read = (relPath: string): string => readFileSync(join(packageRoot, relPath), 'utf8');

/** ${VAR}, as the config loader substitutes it. */
const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** The documented place of the bus client certificate in a container. */
const TLS_FILES = ['/etc/cvp/tls/tls.crt', '/etc/cvp/tls/tls.key', '/etc/cvp/tls/ca.crt'];
/** cvp gives itself this long to stop after SIGTERM (src/cli/main.ts). */
const STOP_BOUND_S = 20;
const SECRET_NAME = /TOKEN|PASSWORD|PASSCODE|PASSPHRASE|SECRET|PRIVATE|CREDENTIAL|_KEY$/i;

type Obj = Record<string, unknown>;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

// ---------------------------------------------------------------------------------------------
// YAML

interface YamlFile { rel: string; text: string; docs: unknown[]; errors: string[] }

function parseYamlFile(abs: string): YamlFile {
  const text = readFileSync(abs, 'utf8');
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const errors: string[] = [];
  const docs: unknown[] = [];
  for (const doc of parsed) {
    for (const e of doc.errors) {
      const pos = lineCounter.linePos(e.pos[0]);
      errors.push(`${rel(abs)}:${pos.line}:${pos.col}: ${e.code}: ${e.message.split('\n')[0]}`);
    }
    if (!doc.errors.length && doc.contents !== null) docs.push(doc.toJS({ maxAliasCount: 100 }));
  }
  return { rel: rel(abs), text, docs, errors };
}

const yamlFiles = filesUnder(deployDir).filter((f) => /\.ya?ml$/.test(f)).map(parseYamlFile);

// ---------------------------------------------------------------------------------------------
// Kubernetes objects

interface Meta { name?: unknown; labels?: Record<string, string> }
interface K8sObject { apiVersion?: unknown; kind?: unknown; metadata?: Meta; file: string }
interface KeyToPath { key: string; path: string }
interface Volume {
  name: string;
  configMap?: { name: string; items?: KeyToPath[] };
  secret?: { secretName: string; items?: KeyToPath[] };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  emptyDir?: Obj;
  projected?: { sources: Array<{ secret?: { name: string; items?: KeyToPath[] }; configMap?: { name: string; items?: KeyToPath[] } }> };
}
interface VolumeMount { name: string; mountPath: string; subPath?: string; readOnly?: boolean }
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface EnvFrom { prefix?: string; secretRef?: { name: string }; configMapRef?: { name: string } }
interface Probe { httpGet?: { path?: string; port?: number | string } }
interface SecurityContext {
  runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; fsGroup?: number;
  readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean;
}
interface Container {
  name: string; image?: string; command?: string[]; args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[]; envFrom?: EnvFrom[]; volumeMounts?: VolumeMount[];
  livenessProbe?: Probe; readinessProbe?: Probe; startupProbe?: Probe;
  resources?: { limits?: { memory?: string | number } };
  securityContext?: SecurityContext;
}
interface PodSpec {
  containers: Container[]; volumes?: Volume[]; securityContext?: SecurityContext; terminationGracePeriodSeconds?: number;
}
interface Deployment extends K8sObject {
  spec: { replicas?: number; strategy?: { type?: string }; selector?: { matchLabels?: Record<string, string> }; template: { metadata?: Meta; spec: PodSpec } };
}
interface ConfigMap extends K8sObject { data?: Record<string, string>; binaryData?: Record<string, string> }
interface Secret extends K8sObject { data?: Record<string, string>; stringData?: Record<string, string> }
interface Service extends K8sObject {
  metadata?: Meta;
  spec: { selector?: Record<string, string>; ports: Array<{ name?: string; port: number; targetPort?: number | string }> };
}
interface ServiceMonitor extends K8sObject {
  spec: { selector?: { matchLabels?: Record<string, string> }; endpoints: Array<{ port?: string; path?: string }> };
}
interface Kustomization extends K8sObject { resources?: string[] }

const k8sDir = join(deployDir, 'kubernetes');
const k8sObjects: K8sObject[] = yamlFiles
  .filter((f) => f.rel.startsWith(rel(k8sDir) + '/'))
  .flatMap((f) => f.docs.map((d) => ({ ...(d as Obj), file: f.rel } as K8sObject)));

const ofKind = <T extends K8sObject>(kind: string): T[] => k8sObjects.filter((o) => o.kind === kind) as T[];
const named = <T extends K8sObject>(kind: string, name: string): T | undefined => ofKind<T>(kind).find((o) => o.metadata?.name === name);

function theOne<T extends K8sObject>(kind: string): T {
  const all = ofKind<T>(kind);
  if (all.length !== 1) throw new Error(`expected exactly one ${kind} under deploy/kubernetes, found ${all.length}`);
  return all[0];
}

const secretKeys = (s: Secret): string[] => [...Object.keys(s.stringData ?? {}), ...Object.keys(s.data ?? {})];
const configMapKeys = (c: ConfigMap): string[] => [...Object.keys(c.data ?? {}), ...Object.keys(c.binaryData ?? {})];

/** Every label of `want` is on `have`. */
const labelsMatch = (want: Record<string, string> | undefined, have: Record<string, string> | undefined): boolean =>
  !!want && Object.keys(want).length > 0 && Object.entries(want).every(([k, v]) => have?.[k] === v);

const deployment = (): Deployment => theOne<Deployment>('Deployment');
const pod = (): PodSpec => deployment().spec.template.spec;
/** The cvp container: the one running the image's entry point. */
const container = (): Container => {
  const cs = pod().containers;
  return cs.find((c) => c.name === 'cvp') ?? cs[0];
};

function containerPort(port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container().ports?.find((p) => p.name === port)?.containerPort;
}

/** What sits at `path` in the container, going by its volume mounts (the deepest mount wins). */
type Found =
  | { kind: 'file'; from: 'configMap' | 'secret'; name: string; key: string; mount: VolumeMount }
  | { kind: 'dir'; volume: Volume; mount: VolumeMount }
  | { kind: 'missing'; why: string };

function lookup(path: string): Found {
  const mounts = (container().volumeMounts ?? [])
    .filter((m) => path === m.mountPath || path.startsWith(m.mountPath.replace(/\/$/, '') + '/'))
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  const mount = mounts[0];
  if (!mount) return { kind: 'missing', why: `${path}: no volume mount covers it` };
  const volume = (pod().volumes ?? []).find((v) => v.name === mount.name);
  if (!volume) return { kind: 'missing', why: `${path}: volume mount ${mount.name} names no volume` };
  if (volume.persistentVolumeClaim || volume.emptyDir) return { kind: 'dir', volume, mount };
  const sources: Array<{ from: 'configMap' | 'secret'; name: string; items?: KeyToPath[] }> = [];
  if (volume.configMap) sources.push({ from: 'configMap', ...volume.configMap });
  if (volume.secret) sources.push({ from: 'secret', name: volume.secret.secretName, items: volume.secret.items });
  for (const s of volume.projected?.sources ?? []) {
    if (s.configMap) sources.push({ from: 'configMap', ...s.configMap });
    if (s.secret) sources.push({ from: 'secret', ...s.secret });
  }
  for (const s of sources) {
    const obj = s.from === 'secret' ? named<Secret>('Secret', s.name) : named<ConfigMap>('ConfigMap', s.name);
    const keys = obj ? (s.from === 'secret' ? secretKeys(obj as Secret) : configMapKeys(obj as ConfigMap)) : [];
    const files = s.items ?? keys.map((k) => ({ key: k, path: k }));
    const hit = mount.subPath !== undefined
      ? (path === mount.mountPath ? files.find((f) => f.path === mount.subPath) : undefined)
      : files.find((f) => posix.join(mount.mountPath, f.path) === path);
    if (hit) return { kind: 'file', from: s.from, name: s.name, key: hit.key, mount };
  }
  return { kind: 'missing', why: `${path}: the volume ${volume.name} mounted at ${mount.mountPath} has no such file` };
}

// ---------------------------------------------------------------------------------------------
// Configurations

let validator: EventValidator | undefined;
/** Made on first use: a broken event schema then fails the config tests only, not every test here. */
const knowsTopic = (t: string): boolean => (validator ??= new EventValidator(schemasDir)).knows(t);

function varsIn(text: string): string[] {
  return [...new Set([...text.matchAll(VAR)].map((m) => m[1]))].sort();
}

/** ${VAR}s in the values of a parsed config (not in its comments), as the loader sees them. */
function varsInValues(value: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(VAR)) out.add(m[1]);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return [...out].sort();
}

/** The loader's verdict on a config text, every ${VAR} set to a dummy value; `fix` maps positions back. */
function configProblems(text: string, name: string, fix: (reason: string) => string = (r) => r): string[] {
  const env = Object.fromEntries(varsIn(text).map((v) => [v, `dummy-${v.toLowerCase()}`]));
  try {
    parseConfig(text, name, env, knowsTopic);
    return [];
  } catch (err) {
    if (err instanceof CvpError) return err.reasons.map(fix);
    throw err;
  }
}

interface ConfigShape {
  intake?: { host?: string; port?: number; enabled?: boolean };
  journal?: { path?: string };
  bus?: Obj;
}

/** TLS file paths named anywhere under bus (bus.tls or bus.brokers[].tls). */
function tlsPaths(config: ConfigShape): string[] {
  const out: string[] = [];
  const walk = (v: unknown, underTls: boolean): void => {
    if (typeof v === 'string') { if (underTls) out.push(v); return; }
    if (Array.isArray(v)) { v.forEach((x) => walk(x, underTls)); return; }
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, underTls || k === 'tls');
  };
  walk(config.bus, false);
  return out.filter((p) => p.startsWith('/') || p.includes('${'));
}

// ---------------------------------------------------------------------------------------------
// Containerfile

interface Instr { op: string; args: string; line: number; stage: number }

function parseContainerfile(text: string): Instr[] {
  const out: Instr[] = [];
  let stage = -1;
  let pending: { text: string; line: number } | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line)) return; // comments (also inside a continued instruction)
    if (!pending && !line.trim()) return;
    const continued = line.endsWith('\\');
    const piece = continued ? line.slice(0, -1) : line;
    pending = pending ? { text: `${pending.text} ${piece.trim()}`, line: pending.line } : { text: piece.trim(), line: i + 1 };
    if (continued) return;
    const m = /^(\S+)\s*(.*)$/.exec(pending.text);
    if (m) {
      const op = m[1].toUpperCase();
      if (op === 'FROM') stage++;
      out.push({ op, args: m[2].trim(), line: pending.line, stage });
    }
    pending = null;
  });
  return out;
}

/** The argv of an exec-form (JSON array) instruction; null for the shell form. */
function execForm(args: string): string[] | null {
  if (!args.startsWith('[')) return null;
  const v = JSON.parse(args) as unknown;
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
}

/** Paths after the flags of a COPY/ADD: every one but the last is a source. */
function copyParts(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = execForm(args) ?? words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
}

const containerfile = (): Instr[] => parseContainerfile(read('deploy/Containerfile'));

/** The config path in an argv: `--config X`, `-c X` or `--config=X`. */
function configArg(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config' || argv[i] === '-c') return argv[i + 1];
    if (argv[i].startsWith('--config=')) return argv[i].slice('--config='.length);
  }
  return undefined;
}

function imageArgv(): string[] {
  const instrs = containerfile();
  const last = Math.max(...instrs.map((i) => i.stage));
  const final = instrs.filter((i) => i.stage === last);
  const entry = final.filter((i) => i.op === 'ENTRYPOINT').pop();
  const cmd = final.filter((i) => i.op === 'CMD').pop();
  return [...(entry ? execForm(entry.args) ?? [entry.args] : []), ...(cmd ? execForm(cmd.args) ?? [cmd.args] : [])];
}

/** The config file the container reads: the Deployment's args, else the image's CMD. */
function podConfigPath(): string {
  const c = container();
  const argv = c.args ?? c.command ?? imageArgv();
  const path = configArg(argv);
  if (!path) throw new Error(`the cvp container's arguments name no --config file: ${JSON.stringify(argv)}`);
  return path;
}

/** The config the Deployment mounts, its text, and where it sits in its ConfigMap file. */
function embedded(): { text: string; file: string; config: ConfigShape; fix: (r: string) => string } {
  const found = lookup(podConfigPath());
  if (found.kind !== 'file' || found.from !== 'configMap') {
    throw new Error(`the config file ${podConfigPath()} is not mounted from a ConfigMap key (${found.kind === 'missing' ? found.why : found.kind})`);
  }
  const cm = named<ConfigMap>('ConfigMap', found.name);
  const text = cm?.data?.[found.key];
  if (!cm || text === undefined) throw new Error(`ConfigMap ${found.name} has no data.${found.key}`);
  // Map the loader's line:col inside the block scalar back to the ConfigMap's file.
  const fileText = read(cm.file);
  const lc = new LineCounter();
  const doc = parseDocument(fileText, { lineCounter: lc });
  const node = doc.getIn(['data', found.key], true);
  const startLine = isScalar(node) && node.range ? lc.linePos(node.range[0]).line : 0;
  const firstContent = fileText.split('\n').slice(startLine).find((l) => l.trim()) ?? '';
  const indent = firstContent.length - firstContent.trimStart().length;
  const label = `${cm.file}#data.${found.key}`;
  const fix = (r: string): string => r.replace(new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+):`),
    (_all, l: string, c: string) => `${cm.file}:${Number(l) + startLine}:${Number(c) + indent}:`);
  return { text, file: label, config: parseDocument(text).toJS() as ConfigShape, fix };
}

// ---------------------------------------------------------------------------------------------
// systemd unit (INI-style)

interface UnitEntry { section: string; key: string; value: string; line: number }

function parseUnit(text: string): UnitEntry[] {
  const out: UnitEntry[] = [];
  let section = '';
  let pending: { text: string; line: number } | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (!line || line.startsWith('#') || line.startsWith(';'))) return;
    const continued = line.endsWith('\\');
    const piece = continued ? line.slice(0, -1).trim() : line;
    pending = pending ? { text: `${pending.text} ${piece}`, line: pending.line } : { text: piece, line: i + 1 };
    if (continued) return;
    const sec = /^\[(.+)\]$/.exec(pending.text);
    if (sec) section = sec[1];
    else {
      const m = /^([A-Za-z0-9]+)\s*=\s*(.*)$/.exec(pending.text);
      if (!m) throw new Error(`deploy/systemd/cvp.service:${pending.line}: not a key=value line: ${pending.text}`);
      out.push({ section, key: m[1], value: m[2], line: pending.line });
    }
    pending = null;
  });
  return out;
}

const unit = (): UnitEntry[] => parseUnit(read('deploy/systemd/cvp.service'));
const unitValues = (key: string, section = 'Service'): string[] =>
  unit().filter((e) => e.section === section && e.key === key).map((e) => e.value);

/** Environment= assignments: `A=b "C=d e"`. */
function unitEnvironment(): Map<string, string> {
  const env = new Map<string, string>();
  for (const v of unitValues('Environment')) {
    for (const m of v.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
      const word = m[1] ?? m[2] ?? m[3];
      const eq = word.indexOf('=');
      if (eq > 0) env.set(word.slice(0, eq), word.slice(eq + 1));
    }
  }
  return env;
}

function seconds(value: string): number {
  const m = /^(\d+)\s*(ms|s|sec|min|m)?$/.exec(value.trim());
  if (!m) throw new Error(`not a systemd time span this test reads: ${value}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'min' || m[2] === 'm' ? n * 60 : n;
}

// =============================================================================================

describe('deploy/: YAML', () => {
  it('finds the manifests', () => {
    expect(yamlFiles.map((f) => f.rel)).toEqual(expect.arrayContaining([
      'deploy/kubernetes/configmap.yaml', 'deploy/kubernetes/secret.yaml', 'deploy/kubernetes/deployment.yaml',
      'deploy/kubernetes/pvc.yaml', 'deploy/kubernetes/service.yaml', 'deploy/systemd/cvp.yaml',
      'deploy/kubernetes-postgres/kustomization.yaml', 'deploy/kubernetes-postgres/deployment-patch.yaml',
      'deploy/kubernetes-postgres/configmap-patch.yaml', 'deploy/kubernetes-postgres/pdb.yaml', 'deploy/kubernetes-postgres/pvc-delete.yaml',
    ]));
  });

  it('parses every YAML file under deploy/ (problems as file:line:col)', () => {
    expect(yamlFiles.flatMap((f) => f.errors)).toEqual([]);
  });

  it('gives every Kubernetes object apiVersion, kind and metadata.name', () => {
    expect(k8sObjects.length).toBeGreaterThan(0);
    const problems = k8sObjects.flatMap((o) => {
      const p: string[] = [];
      if (typeof o.apiVersion !== 'string' || !o.apiVersion) p.push(`${o.file}: an object without apiVersion`);
      if (typeof o.kind !== 'string' || !o.kind) p.push(`${o.file}: an object without kind`);
      // A Kustomization is kustomize's file, not an object sent to the cluster.
      if (o.kind !== 'Kustomization' && (typeof o.metadata?.name !== 'string' || !o.metadata.name)) {
        p.push(`${o.file}: ${String(o.kind)} without metadata.name`);
      }
      return p;
    });
    expect(problems).toEqual([]);
  });
});

describe('deploy/kubernetes', () => {
  it('runs ONE replica, replaced not rolled (the SQLite journal)', () => {
    const d = deployment();
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy?.type).toBe('Recreate');
    expect(labelsMatch(d.spec.selector?.matchLabels, d.spec.template.metadata?.labels)).toBe(true);
  });

  it('probes /healthz and /readyz on the port the embedded config listens on, on all interfaces', () => {
    const { config } = embedded();
    const port = config.intake?.port ?? 8080;
    const c = container();
    expect(config.intake?.enabled).not.toBe(false);
    expect(['0.0.0.0', '::']).toContain(config.intake?.host);
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(containerPort(c.livenessProbe?.httpGet?.port)).toBe(port);
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(containerPort(c.readinessProbe?.httpGet?.port)).toBe(port);
    if (c.startupProbe) {
      expect(c.startupProbe.httpGet?.path).toBe('/healthz');
      expect(containerPort(c.startupProbe.httpGet?.port)).toBe(port);
    }
  });

  it('serves that port from the Service (and the ServiceMonitor scrapes a port of it)', () => {
    const port = embedded().config.intake?.port ?? 8080;
    const svc = theOne<Service>('Service');
    expect(labelsMatch(svc.spec.selector, deployment().spec.template.metadata?.labels)).toBe(true);
    expect(svc.spec.ports.map((p) => containerPort(p.targetPort ?? p.port))).toContain(port);
    for (const sm of ofKind<ServiceMonitor>('ServiceMonitor')) {
      expect(labelsMatch(sm.spec.selector?.matchLabels, svc.metadata?.labels)).toBe(true);
      for (const e of sm.spec.endpoints) {
        expect(svc.spec.ports.map((p) => p.name)).toContain(e.port);
        expect(e.path).toBe('/metrics');
      }
    }
  });

  it('finds every Secret and ConfigMap key the Deployment reads', () => {
    const problems: string[] = [];
    const need = (kind: 'Secret' | 'ConfigMap', name: string, key: string | undefined, where: string): void => {
      const obj = named<Secret & ConfigMap>(kind, name);
      if (!obj) { problems.push(`${where}: no ${kind} ${name} under deploy/kubernetes`); return; }
      const keys = kind === 'Secret' ? secretKeys(obj) : configMapKeys(obj);
      if (key !== undefined && !keys.includes(key)) problems.push(`${where}: ${kind} ${name} has no key ${key}`);
    };
    for (const c of pod().containers) {
      for (const e of c.env ?? []) {
        const s = e.valueFrom?.secretKeyRef;
        if (s) need('Secret', s.name, s.key, `env ${e.name}`);
        const cm = e.valueFrom?.configMapKeyRef;
        if (cm) need('ConfigMap', cm.name, cm.key, `env ${e.name}`);
      }
      for (const e of c.envFrom ?? []) {
        if (e.secretRef) need('Secret', e.secretRef.name, undefined, 'envFrom');
        if (e.configMapRef) need('ConfigMap', e.configMapRef.name, undefined, 'envFrom');
      }
    }
    for (const v of pod().volumes ?? []) {
      if (v.secret) for (const it of v.secret.items ?? [{ key: undefined }]) need('Secret', v.secret.secretName, it.key, `volume ${v.name}`);
      if (v.configMap) for (const it of v.configMap.items ?? [{ key: undefined }]) need('ConfigMap', v.configMap.name, it.key, `volume ${v.name}`);
      for (const s of v.projected?.sources ?? []) {
        if (s.secret) for (const it of s.secret.items ?? [{ key: undefined }]) need('Secret', s.secret.name, it.key, `volume ${v.name}`);
        if (s.configMap) for (const it of s.configMap.items ?? [{ key: undefined }]) need('ConfigMap', s.configMap.name, it.key, `volume ${v.name}`);
      }
      if (v.persistentVolumeClaim && !named('PersistentVolumeClaim', v.persistentVolumeClaim.claimName)) {
        problems.push(`volume ${v.name}: no PersistentVolumeClaim ${v.persistentVolumeClaim.claimName} under deploy/kubernetes`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('sets every ${VAR} of the embedded config, directly or as VAR_FILE naming a mounted file', () => {
    const { config } = embedded();
    const vars = varsInValues(config);
    expect(vars.length).toBeGreaterThan(0);
    const c = container();
    const env = new Map((c.env ?? []).map((e) => [e.name, e]));
    const fromEnvFrom = new Set((c.envFrom ?? []).flatMap((e) => {
      const obj = e.secretRef ? named<Secret>('Secret', e.secretRef.name) : e.configMapRef ? named<ConfigMap>('ConfigMap', e.configMapRef.name) : undefined;
      const keys = !obj ? [] : e.secretRef ? secretKeys(obj as Secret) : configMapKeys(obj as ConfigMap);
      return keys.map((k) => `${e.prefix ?? ''}${k}`);
    }));
    const problems = vars.flatMap((v) => {
      if (env.has(v) || fromEnvFrom.has(v)) return [];
      const file = env.get(`${v}_FILE`);
      if (!file) return [`\${${v}}: the cvp container sets neither ${v} nor ${v}_FILE`];
      if (file.value === undefined) return [`${v}_FILE: expected a path as its value`];
      const found = lookup(file.value);
      return found.kind === 'file' ? [] : [`${v}_FILE: ${found.kind === 'missing' ? found.why : `${file.value} is a directory`}`];
    });
    expect(problems).toEqual([]);
  });

  it('mounts the config, the journal\'s folder (from the PVC, writable) and the TLS files', () => {
    const { config } = embedded();
    const configPath = podConfigPath();
    const journal = posix.resolve(posix.dirname(configPath), config.journal?.path ?? 'var/cvp.db');
    const problems: string[] = [];
    const journalDir = lookup(posix.dirname(journal));
    if (journalDir.kind !== 'dir' || !journalDir.volume.persistentVolumeClaim) {
      problems.push(`journal ${journal}: its folder is not on a PersistentVolumeClaim (${journalDir.kind === 'missing' ? journalDir.why : journalDir.kind})`);
    } else if (journalDir.mount.readOnly || journalDir.volume.persistentVolumeClaim.readOnly) {
      problems.push(`journal ${journal}: mounted read-only`);
    }
    for (const p of [...TLS_FILES, ...tlsPaths(config)]) {
      const found = lookup(p);
      if (found.kind !== 'file' || found.from !== 'secret') problems.push(`TLS ${p}: ${found.kind === 'missing' ? found.why : 'not a file from a Secret'}`);
    }
    expect(problems).toEqual([]);
  });

  it('validates the embedded cvp.yaml with the daemon\'s own loader', () => {
    const { text, file, fix } = embedded();
    expect(configProblems(text, file, fix)).toEqual([]);
  });

  it('runs non-root on a read-only root, no fixed UID (OpenShift), with memory bounded and time to stop', () => {
    const p = pod();
    const c = container();
    // The container's setting wins over the pod's.
    expect(c.securityContext?.runAsNonRoot ?? p.securityContext?.runAsNonRoot).toBe(true);
    for (const sc of [p.securityContext, c.securityContext]) {
      expect(sc?.runAsUser).toBeUndefined();
      expect(sc?.runAsGroup).toBeUndefined();
      expect(sc?.fsGroup).toBeUndefined();
    }
    expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    const tmp = lookup('/tmp/x');
    expect(tmp.kind === 'dir' && tmp.mount.mountPath === '/tmp' && !!tmp.volume.emptyDir).toBe(true);
    expect(c.resources?.limits?.memory).toBeDefined();
    expect(p.terminationGracePeriodSeconds).toBeGreaterThan(STOP_BOUND_S);
  });

  it('ships an example Secret of placeholders only, left out of the kustomization', () => {
    const s = named<Secret>('Secret', 'cvp');
    expect(s).toBeDefined();
    const values = s?.stringData ?? {};
    expect(Object.keys(values)).toEqual(expect.arrayContaining(['jenkins-token', 'slack-token', 'tls.crt', 'tls.key', 'ca.crt']));
    expect(Object.entries(values).filter(([, v]) => !/REPLACE/.test(v)).map(([k]) => k)).toEqual([]);
    expect(s?.data).toBeUndefined();
    for (const k of ofKind<Kustomization>('Kustomization')) {
      const resources = k.resources ?? [];
      expect(resources.filter((r) => !existsSync(join(packageRoot, posix.dirname(k.file), r)))).toEqual([]);
      const listedSecrets = k8sObjects.filter((o) => o.kind === 'Secret' && resources.some((r) => posix.join(posix.dirname(k.file), r) === o.file));
      expect(listedSecrets.map((o) => o.file)).toEqual([]);
    }
  });
});

describe('deploy/Containerfile (read, not built: no container engine here)', () => {
  it('builds in stages on Node 20 images', () => {
    const froms = containerfile().filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) {
      const image = f.args.split(/\s+/).find((w) => !w.startsWith('--')) ?? '';
      expect(`${f.line}: ${image}`).toMatch(/^\d+: (\S+\/)?(node:20([.-]\S*)?|nodejs-20(-minimal)?(:\S+)?)$/);
    }
  });

  it('runs npm ci, npm run build and npm prune --omit=dev, in that order, before the final stage', () => {
    const instrs = containerfile();
    const last = Math.max(...instrs.map((i) => i.stage));
    const runs = instrs.filter((i) => i.op === 'RUN' && i.stage < last).map((i) => i.args).join(' && ');
    const at = (re: RegExp): number => runs.search(re);
    expect(at(/\bnpm ci\b/)).toBeGreaterThanOrEqual(0);
    expect(at(/\bnpm run build\b/)).toBeGreaterThan(at(/\bnpm ci\b/));
    expect(at(/\bnpm prune --omit=dev\b/)).toBeGreaterThan(at(/\bnpm run build\b/));
  });

  it('copies what the daemon needs at run time into the final stage, from files that exist', () => {
    const instrs = containerfile();
    const last = Math.max(...instrs.map((i) => i.stage));
    const copies = instrs.filter((i) => i.op === 'COPY' || i.op === 'ADD').map((i) => ({ ...copyParts(i.args), stage: i.stage }));
    const finalSources = copies.filter((c) => c.stage === last && c.from !== undefined).flatMap((c) => c.sources.map((s) => posix.basename(s)));
    // src/paths.ts finds the package root by package.json + schemas/; templates/ is for `cvp trigger`.
    expect(finalSources).toEqual(expect.arrayContaining(['package.json', 'node_modules', 'dist', 'schemas', 'templates']));
    const contextSources = copies.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    expect(contextSources.filter((s) => !existsSync(join(packageRoot, s)))).toEqual([]);
  });

  it('runs as a numeric non-root USER, and its entry point is `node dist/src/cli/main.js listen --config`', () => {
    const instrs = containerfile();
    const last = Math.max(...instrs.map((i) => i.stage));
    const user = instrs.filter((i) => i.op === 'USER' && i.stage === last).pop()?.args ?? 'root';
    const uid = user.split(':')[0];
    // Numeric, so that Kubernetes can check runAsNonRoot against the image.
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    const argv = imageArgv();
    const main = argv.findIndex((a) => /(^|\/)dist\/src\/cli\/main\.js$/.test(a));
    expect(main).toBeGreaterThanOrEqual(0);
    expect(argv[0]).toMatch(/(^|\/)node$/);
    expect(argv[main + 1]).toBe('listen');
    expect(configArg(argv)).toBe(podConfigPath());
  });

  it('exposes the intake port, asks /healthz without curl, and keeps the journal on a volume', () => {
    const instrs = containerfile();
    const last = Math.max(...instrs.map((i) => i.stage));
    const final = instrs.filter((i) => i.stage === last);
    const { config } = embedded();
    const port = config.intake?.port ?? 8080;
    expect(final.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => Number(p.split('/')[0]))).toContain(port);
    const health = final.filter((i) => i.op === 'HEALTHCHECK').map((i) => i.args).join(' ');
    expect(health).toContain(`:${port}/healthz`);
    expect(health).not.toMatch(/\b(curl|wget)\b/);
    const volumes = final.filter((i) => i.op === 'VOLUME').flatMap((i) => execForm(i.args) ?? i.args.split(/\s+/));
    const journal = posix.resolve(posix.dirname(podConfigPath()), config.journal?.path ?? 'var/cvp.db');
    expect(volumes).toContain(posix.dirname(journal));
  });

  it('has a .dockerignore that leaves out local state but none of what the build copies', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
      .map((l) => l.replace(/^\.?\//, '').replace(/\/$/, ''));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'var', '.git']));
    const sources = containerfile().filter((i) => i.op === 'COPY' && !/--from=/.test(i.args)).flatMap((i) => copyParts(i.args).sources)
      .map((s) => s.replace(/^\.?\//, '').split('/')[0]);
    expect(sources.filter((s) => ignored.includes(s))).toEqual([]);
  });
});

describe('deploy/systemd', () => {
  it('starts `node .../dist/src/cli/main.js listen --config`, restarts on failure, and has time to stop', () => {
    const exec = unitValues('ExecStart');
    expect(exec).toHaveLength(1);
    const argv = exec[0].split(/\s+/);
    expect(argv[0]).toMatch(/^\/\S*\/node$/);
    const main = argv.findIndex((a) => /\/dist\/src\/cli\/main\.js$/.test(a));
    expect(main).toBeGreaterThan(0);
    expect(argv[main + 1]).toBe('listen');
    expect(posix.basename(configArg(argv) ?? '')).toBe('cvp.yaml');
    expect(['on-failure', 'on-abnormal', 'always']).toContain(unitValues('Restart').pop());
    expect(seconds(unitValues('TimeoutStopSec').pop() ?? '90')).toBeGreaterThan(STOP_BOUND_S);
    expect(unitValues('KillSignal').pop() ?? 'SIGTERM').toBe('SIGTERM');
  });

  it('is hardened', () => {
    expect(unitValues('NoNewPrivileges').pop()).toBe('yes');
    expect(unitValues('ProtectSystem').pop()).toBe('strict');
    const user = unitValues('DynamicUser').pop() === 'yes' || !!unitValues('User').pop();
    expect(user).toBe(true);
    expect(unitValues('User').pop()).not.toBe('root');
    // V8's JIT needs writable+executable memory: MemoryDenyWriteExecute=yes kills node.
    expect(unitValues('MemoryDenyWriteExecute').pop()).not.toBe('yes');
  });

  it('writes no secret inline: secrets are credentials read through *_FILE', () => {
    const env = unitEnvironment();
    const credentials = new Set(unitValues('LoadCredential').concat(unitValues('LoadCredentialEncrypted')).map((v) => v.split(':')[0]));
    const problems: string[] = [];
    for (const [name, value] of env) {
      if (!SECRET_NAME.test(name.replace(/_FILE$/, ''))) continue;
      if (!name.endsWith('_FILE')) { problems.push(`Environment=${name}=...: a secret value in the unit; use LoadCredential= and ${name}_FILE`); continue; }
      const m = /^(?:%d|\$\{?CREDENTIALS_DIRECTORY\}?)\/(.+)$/.exec(value);
      if (!m) problems.push(`Environment=${name}=${value}: expected %d/<credential>`);
      else if (!credentials.has(m[1])) problems.push(`Environment=${name}=${value}: no LoadCredential=${m[1]}:...`);
    }
    if (unitValues('SetCredential').length) problems.push('SetCredential= holds a secret value in the unit');
    const envFile = 'deploy/systemd/cvp.env';
    if (existsSync(join(packageRoot, envFile))) {
      read(envFile).split('\n').forEach((l, i) => {
        const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(l);
        if (m && SECRET_NAME.test(m[1]) && !m[1].endsWith('_FILE')) problems.push(`${envFile}:${i + 1}: ${m[1]}: a secret in the environment file`);
      });
    }
    expect(problems).toEqual([]);
  });

  it('sets every ${VAR} of deploy/systemd/cvp.yaml, and the journal is in a folder the unit may write', () => {
    const text = read('deploy/systemd/cvp.yaml');
    const config = parseDocument(text).toJS() as ConfigShape;
    const env = unitEnvironment();
    const vars = varsInValues(config);
    expect(vars.length).toBeGreaterThan(0);
    expect(vars.filter((v) => !env.has(v) && !env.has(`${v}_FILE`))).toEqual([]);
    const configPath = configArg(unitValues('ExecStart')[0].split(/\s+/)) ?? '/etc/cvp/cvp.yaml';
    const journalDir = posix.dirname(posix.resolve(posix.dirname(configPath), config.journal?.path ?? 'var/cvp.db'));
    const writable = [
      ...unitValues('StateDirectory').flatMap((v) => v.split(/\s+/)).map((d) => posix.join('/var/lib', d.split(':')[0])),
      ...unitValues('ReadWritePaths').flatMap((v) => v.split(/\s+/)).map((d) => d.replace(/^[-+]/, '')),
    ];
    expect(writable.filter((w) => journalDir === w || journalDir.startsWith(`${w}/`))).not.toEqual([]);
  });

  it('validates deploy/systemd/cvp.yaml with the daemon\'s own loader', () => {
    expect(configProblems(read('deploy/systemd/cvp.yaml'), 'deploy/systemd/cvp.yaml')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The PostgreSQL overlay, rendered as kustomize would (no kustomize binary here): its resources,
// then its strategic-merge patches, lists of named things merged by their key.

const MERGE_KEYS: Record<string, string> = { containers: 'name', env: 'name', volumes: 'name', volumeMounts: 'mountPath', ports: 'containerPort' };

function strategicMerge(base: unknown, patch: unknown, key?: string): unknown {
  if (Array.isArray(patch)) {
    const mergeKey = key ? MERGE_KEYS[key] : undefined;
    if (!mergeKey || !Array.isArray(base)) return patch.filter((p) => (p as Obj)?.$patch !== 'delete');
    let out = [...base] as Obj[];
    for (const p of patch as Obj[]) {
      const i = out.findIndex((b) => b[mergeKey] === p[mergeKey]);
      if (p.$patch === 'delete') { out = out.filter((b) => b[mergeKey] !== p[mergeKey]); continue; }
      if (i < 0) out.push(p);
      else out[i] = strategicMerge(out[i], p) as Obj;
    }
    return out;
  }
  if (patch && typeof patch === 'object') {
    const out: Obj = { ...((base && typeof base === 'object' ? base : {}) as Obj) };
    for (const [k, v] of Object.entries(patch as Obj)) {
      if (k === '$patch') continue;
      out[k] = strategicMerge(out[k], v, k);
    }
    return out;
  }
  return patch;
}

const overlayDir = 'deploy/kubernetes-postgres';

function kustomize(dir: string): K8sObject[] {
  const k = parseDocument(read(posix.join(dir, 'kustomization.yaml'))).toJS() as { resources?: string[]; patches?: Array<{ path: string }> };
  let objects: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const p = posix.join(dir, r);
    if (statSync(join(packageRoot, p)).isDirectory()) objects.push(...kustomize(p));
    else objects.push(...parseYamlFile(join(packageRoot, p)).docs.map((d) => ({ ...(d as Obj), file: p } as K8sObject)));
  }
  for (const { path } of k.patches ?? []) {
    for (const doc of parseYamlFile(join(packageRoot, dir, path)).docs as Array<Obj & K8sObject>) {
      const target = objects.findIndex((o) => o.kind === doc.kind && o.metadata?.name === doc.metadata?.name);
      if (target < 0) throw new Error(`${dir}/${path}: patches ${String(doc.kind)} ${String(doc.metadata?.name)}, which the resources do not have`);
      if (doc.$patch === 'delete') objects = objects.filter((_, i) => i !== target);
      else objects[target] = strategicMerge(objects[target], doc) as K8sObject;
    }
  }
  return objects;
}

describe('deploy/kubernetes-postgres: several replicas on one PostgreSQL journal', () => {
  const objects = (): K8sObject[] => kustomize(overlayDir);
  const find = <T extends K8sObject>(kind: string): T[] => objects().filter((o) => o.kind === kind) as T[];
  const dep = (): Deployment => find<Deployment>('Deployment')[0];
  const cvp = (): Container => dep().spec.template.spec.containers.find((c) => c.name === 'cvp')!;
  const config = (): { text: string; parsed: ConfigShape & { journal?: { url?: string; password?: string } } } => {
    const cm = objects().find((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'cvp-config') as ConfigMap;
    const text = cm.data!['cvp.yaml'];
    return { text, parsed: parseDocument(text).toJS() };
  };

  it('renders the base with its patches: one Deployment, no PVC, a PodDisruptionBudget, no Secret', () => {
    const kinds = objects().map((o) => `${String(o.kind)}/${String(o.metadata?.name)}`).sort();
    expect(kinds).toEqual(['ConfigMap/cvp-config', 'Deployment/cvp', 'PodDisruptionBudget/cvp', 'Service/cvp']);
  });

  it('runs three replicas, rolled one at a time, spread over nodes, with nothing of SQLite mounted', () => {
    const d = dep();
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } });
    const p = d.spec.template.spec as PodSpec & { topologySpreadConstraints?: Array<{ topologyKey: string; labelSelector?: { matchLabels?: Record<string, string> } }> };
    expect(p.topologySpreadConstraints?.map((t) => t.topologyKey)).toEqual(['kubernetes.io/hostname']);
    expect(labelsMatch(p.topologySpreadConstraints?.[0].labelSelector?.matchLabels, d.spec.template.metadata?.labels)).toBe(true);
    expect((p.volumes ?? []).filter((v) => v.persistentVolumeClaim)).toEqual([]);
    expect((cvp().volumeMounts ?? []).map((m) => m.mountPath).sort()).toEqual(['/etc/cvp', '/etc/cvp/tls', '/tmp']);
    // What the base checks still holds: read-only root, non-root, probes.
    expect(cvp().securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false });
  });

  it('keeps at most one replica down for a disruption, and lets a not-ready one go', () => {
    const pdbs = find<K8sObject & { spec: { maxUnavailable?: number; minAvailable?: number; unhealthyPodEvictionPolicy?: string; selector?: { matchLabels?: Record<string, string> } } }>('PodDisruptionBudget');
    expect(pdbs).toHaveLength(1);
    const pdb = pdbs[0];
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    expect(labelsMatch(pdb.spec.selector?.matchLabels, dep().spec.template.metadata?.labels)).toBe(true);
  });

  it('is ready only while the journal commits (/readyz), alive regardless of the database (/healthz)', () => {
    const c = cvp();
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const r = c.readinessProbe as Probe & { periodSeconds?: number; failureThreshold?: number };
    // Not ready within about 10 s of the database going away.
    expect((r.periodSeconds ?? 10) * (r.failureThreshold ?? 3)).toBeLessThanOrEqual(10);
  });

  it('names the journal by url (not path), with the password from the Secret, and validates with the daemon\'s loader', () => {
    const { text, parsed } = config();
    expect(parsed.journal?.url).toMatch(/^postgres:\/\/cvp@[^:/]+:5432\/cvp$/);
    expect(parsed.journal?.path).toBeUndefined();
    expect(parsed.journal?.password).toBe('${CVP_JOURNAL_PASSWORD}');
    expect(configProblems(text, `${overlayDir}/configmap-patch.yaml#data.cvp.yaml`)).toEqual([]);
    const env = new Map((cvp().env ?? []).map((e) => [e.name, e]));
    const secret = named<Secret>('Secret', 'cvp')!;
    const problems = varsInValues(parsed).flatMap((v) => {
      const ref = env.get(v)?.valueFrom?.secretKeyRef;
      if (!env.has(v)) return [`\${${v}}: not set by the cvp container`];
      if (ref && (ref.name !== 'cvp' || !secretKeys(secret).includes(ref.key))) return [`\${${v}}: the example Secret cvp has no key ${ref.key}`];
      return [];
    });
    expect(problems).toEqual([]);
  });
});
