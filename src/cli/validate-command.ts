import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CvpError } from '../errors';
import type { EventValidator } from '../validator/event-validator';
import { safeParse } from '../validator/safe-parse';

export interface FileVerdict { file: string; valid: boolean; reasons: string[] }

/**
 * The files to check: each file named, and every .json file in a named folder and its sub-folders
 * (sorted, each folder's files before its sub-folders'). A folder reached twice (a link) is read once.
 */
function expand(paths: string[]): string[] {
  const seen = new Set<string>();
  const walk = (dir: string): string[] => {
    const real = realpathSync(dir);
    if (seen.has(real)) return [];
    seen.add(real);
    const names = readdirSync(dir).sort();
    const isDir = (n: string) => { try { return statSync(join(dir, n)).isDirectory(); } catch { return false; } };
    return [
      ...names.filter((n) => n.endsWith('.json') && !isDir(n)).map((n) => join(dir, n)),
      ...names.filter(isDir).flatMap((n) => walk(join(dir, n))),
    ];
  };
  return paths.flatMap((p) => {
    let st;
    try { st = statSync(p); } catch { return [p]; }
    return st.isDirectory() ? walk(p) : [p];
  });
}

/** The topic a file is for: --topic, or the kind its name starts with (brew-build.test.complete.json). */
function topicFor(file: string, topic: string | undefined, validator: EventValidator): string | null {
  if (topic) return topic.replace(/^\/topic\//, '');
  const name = basename(file);
  const kind = validator.knownKinds().filter((k) => name.startsWith(`${k}.`)).sort((a, b) => b.length - a.length)[0];
  return kind ? `VirtualTopic.eng.ci.${kind}` : null;
}

export function validateFiles(paths: string[], topic: string | undefined, validator: EventValidator): FileVerdict[] {
  return expand(paths).map((file) => {
    let raw: string;
    try { raw = readFileSync(file, 'utf8'); } catch (err) {
      return { file, valid: false, reasons: [`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
    }
    const t = topicFor(file, topic, validator);
    if (!t) return { file, valid: false, reasons: [`cannot tell which message this is: name it <kind>.json (e.g. ${validator.knownKinds()[0]}.json) or pass --topic`] };
    try {
      const v = validator.validate(t, safeParse(raw));
      return v.valid ? { file, valid: true, reasons: [] } : { file, valid: false, reasons: v.reasons };
    } catch (err) {
      return { file, valid: false, reasons: err instanceof CvpError ? err.reasons : [(err as Error).message] };
    }
  });
}

/** A table whose columns stay aligned however long the file names are; a reason per line. */
export function printVerdicts(verdicts: FileVerdict[], out: (line: string) => void): void {
  const width = Math.max(4, ...verdicts.map((v) => v.file.length));
  const row = (file: string, verdict: string, reason: string) => `${file.padEnd(width)}  ${verdict.padEnd(7)}  ${reason}`.trimEnd();
  out(row('FILE', 'VERDICT', 'REASONS'));
  for (const v of verdicts) {
    const [first, ...rest] = v.reasons;
    out(row(v.file, v.valid ? 'valid' : 'INVALID', first ?? ''));
    for (const r of rest) out(row('', '', r));
  }
  const bad = verdicts.filter((v) => !v.valid).length;
  out(`${verdicts.length} file(s): ${verdicts.length - bad} valid, ${bad} invalid`);
}
