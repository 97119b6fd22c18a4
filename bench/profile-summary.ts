/**
 * Reads V8 CPU profiles (BENCH_CPU_PROF=<dir> writes one per process and thread) and prints where
 * the time went: self time by function, and total time by package or project folder.
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile | dir> [top=25]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmt, table } from './report';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** Where a frame's code lives: a package, a folder of the project, or Node itself. */
function area(url: string): string {
  if (!url) return '(native, GC, idle)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /\/dist\/((?:src|bench|test)\/(?:[^/]+\/){0,2})/.exec(url);
  return own ? own[1] : url;
}

function summarize(file: string, top: number): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs.entries()].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);

  const nameOf = (f: Node['callFrame']): string => `${f.functionName || '(anonymous)'} ${f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : ''}`.trim();
  const fn = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') continue;
    fn.set(nameOf(f), (fn.get(nameOf(f)) ?? 0) + us);
    // Inclusive: each sample counts once for every distinct function and area on its stack.
    const seenArea = new Set<string>();
    const seenFn = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (frame.url && !seenFn.has(nameOf(frame))) { seenFn.add(nameOf(frame)); inclusive.set(nameOf(frame), (inclusive.get(nameOf(frame)) ?? 0) + us); }
      if (!frame.url) continue;
      const a = area(frame.url);
      if (!seenArea.has(a)) { seenArea.add(a); areas.set(a, (areas.get(a) ?? 0) + us); }
    }
    if (!seenArea.size) areas.set('(native, GC)', (areas.get('(native, GC)') ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number): string => `${fmt(us / busy * 100, 1)} %`;
  const rows = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => [k, fmt(us / 1000), pct(us)]);
  return [
    `${file}: ${fmt(total / 1e6, 1)} s sampled, ${fmt(busy / 1e6, 1)} s not idle`,
    table('self time by function', ['function', 'ms', 'of busy'], rows(fn)),
    table('time by package or folder (inclusive)', ['where', 'ms', 'of busy'], rows(areas)),
    table('time by function (inclusive)', ['function', 'ms', 'of busy'], rows(inclusive)),
  ].join('\n\n');
}

const [target, topArg] = process.argv.slice(2);
if (!target) {
  console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile | dir> [top]');
  process.exit(2);
}
const files = fs.statSync(target).isDirectory()
  ? fs.readdirSync(target, { recursive: true }).map(String).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(target, f))
  : [target];
for (const f of files) console.log(`${summarize(f, Number(topArg) || 25)}\n`);
