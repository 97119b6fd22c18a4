import { join } from 'node:path';
import { packageRoot } from '../../src/paths';
import { EventValidator } from '../../src/validator/event-validator';
import { safeParse } from '../../src/validator/safe-parse';
import { CvpError } from '../../src/listener/errors';
import { bodyAsRead, generateCorpus, preview } from '../support/malformed-corpus';

it('oracle', () => {
  const v = new EventValidator(join(packageRoot, 'schemas'));
  const seed = Number(process.env.SEED ?? 1);
  const t0 = Date.now();
  const corpus = generateCorpus({ seed, tag: `c${seed}`, malformed: 10000, valid: 1000, maxMessageBytes: 65536, maxDepth: 32 });
  console.log('gen ms', Date.now() - t0, 'bytes', corpus.reduce((a, m) => a + (typeof m.body === 'string' ? Buffer.byteLength(m.body) : m.body.length), 0));
  const bad: string[] = [];
  const stats = new Map<string, number>();
  for (const m of corpus) {
    let code: string | null = null; let reasons: string[] = [];
    try {
      const body = safeParse(bodyAsRead(m), { maxBytes: 65536, maxDepth: 32 });
      const r = v.validate('VirtualTopic.eng.ci.redhat-container-group.test.queued', body);
      if (!r.valid) { code = r.code; reasons = r.reasons; }
    } catch (e) { code = (e as CvpError).code; reasons = (e as CvpError).reasons ?? [String(e)]; }
    const got = code === null ? 'valid' : 'invalid';
    const k = `${m.kind}/${m.variant.split(':')[0]}/${m.expect}`;
    stats.set(k, (stats.get(k) ?? 0) + 1);
    let ok = got === m.expect;
    if (ok && m.expect === 'invalid') {
      if (m.code && m.code !== code) ok = false;
      for (const p of m.reasonPaths) if (!reasons.some((r) => r.startsWith(`${p}:`))) ok = false;
    }
    if (!ok) bad.push(`${m.kind} ${m.variant} expect ${m.expect} ${m.code} ${JSON.stringify(m.reasonPaths)} got ${code} ${JSON.stringify(reasons).slice(0, 400)} ${preview(m)}`);
  }
  console.log([...stats].sort().map(([k, n]) => `${k} ${n}`).join('\n'));
  console.log(bad.length, bad.slice(0, 40).join('\n'));
});
