import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CvpError } from '../errors';
import type { EventValidator } from '../validator/event-validator';
import { safeParse } from '../validator/safe-parse';

export interface FileVerdict { file: string; valid: boolean; reasons: string[] }

function expand(paths: string[]): string[] {
  return paths.flatMap((p) => {
    let st;
    try { st = statSync(p); } catch { return [p]; }
    if (!st.isDirectory()) return [p];
    return readdirSync(p).filter((n) => n.endsWith('.json')).sort().map((n) => join(p, n));
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

export function printVerdicts(verdicts: FileVerdict[], out: (line: string) => void): void {
  const width = Math.min(60, Math.max(4, ...verdicts.map((v) => v.file.length)));
  out(`${'FILE'.padEnd(width)}  VERDICT  REASONS`);
  for (const v of verdicts) {
    const [first, ...rest] = v.reasons;
    out(`${v.file.padEnd(width)}  ${(v.valid ? 'valid' : 'INVALID').padEnd(7)}  ${first ?? ''}`);
    for (const r of rest) out(`${''.padEnd(width)}           ${r}`);
  }
  const bad = verdicts.filter((v) => !v.valid).length;
  out(`${verdicts.length} file(s): ${verdicts.length - bad} valid, ${bad} invalid`);
}
