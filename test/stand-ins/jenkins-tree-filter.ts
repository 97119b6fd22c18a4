/**
 * Jenkins' `?tree=` filter (e.g. `builds[number,url,actions[parameters[name,value]]]{0,10}`), so a
 * client asking for too little sees the same missing fields it would see on a real Jenkins.
 * Objects keep their `_class`; an object named without a sub-tree keeps only `_class`.
 * A range `{M,N}` is M (inclusive) to N (exclusive), `{M,}` from M on, `{,N}` the first N, `{N}`
 * the element N alone (Stapler's Range).
 */
interface Node {
  sub?: Tree;
  range?: [number | undefined, number | undefined];
}
type Tree = Map<string, Node>;

/**
 * A list rendered only as far as a range asks (a job's thousands of builds), so a page costs what
 * it holds. Serialises in full when no tree applies.
 */
export class LazyList {
  constructor(
    readonly length: number,
    private readonly render: (i: number) => unknown,
  ) {}

  slice(from = 0, to = this.length): unknown[] {
    const out: unknown[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, this.length); i++) out.push(this.render(i));
    return out;
  }

  toJSON(): unknown[] {
    return this.slice();
  }
}

function parseList(s: string, pos: { i: number }): Tree {
  const tree: Tree = new Map();
  while (pos.i < s.length && s[pos.i] !== ']') {
    const name = /^[^,[\]{}]*/.exec(s.slice(pos.i))![0];
    pos.i += name.length;
    const node: Node = {};
    if (s[pos.i] === '[') {
      pos.i += 1;
      node.sub = parseList(s, pos);
      pos.i += 1; // the closing ]
    }
    if (s[pos.i] === '{') {
      const end = s.indexOf('}', pos.i);
      const [from, to] = s.slice(pos.i + 1, end).split(',');
      const num = (x: string | undefined) => (x === undefined || x === '' ? undefined : Number(x));
      node.range = to === undefined ? [num(from), num(from)! + 1] : [num(from), num(to)];
      pos.i = end + 1;
    }
    if (name.trim()) tree.set(name.trim(), node);
    if (s[pos.i] === ',') pos.i += 1;
  }
  return tree;
}

function apply(value: unknown, tree: Tree): unknown {
  if (value instanceof LazyList) return value.slice().map((v) => apply(v, tree));
  if (Array.isArray(value)) return value.map((v) => apply(v, tree));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if ('_class' in obj) out._class = obj._class;
  for (const [key, node] of tree) {
    if (!(key in obj)) continue;
    let v = obj[key];
    if (node.range && (Array.isArray(v) || v instanceof LazyList)) v = v.slice(node.range[0] ?? 0, node.range[1]);
    out[key] = apply(v, node.sub ?? new Map());
  }
  return out;
}

/** The top-level names a tree asks for (e.g. to render `allBuilds` only when asked, as Jenkins does). */
export function treeNames(tree: string): Set<string> {
  return new Set(parseList(tree, { i: 0 }).keys());
}

export function jenkinsTreeFilter(value: unknown, tree: string): unknown {
  return apply(value, parseList(tree, { i: 0 }));
}
