import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import type { TlsConfig } from '../config/config';
import { keyPath, type LocatedConfig } from '../config/load-config';
import { CvpError, permanentError } from '../errors';

/** Why the broker will refuse the certificate, if the certificate itself says so (it expired). */
export type TlsAttempt = ConnectionOptions & { certificateProblem?: string };

type TlsKey = 'cert' | 'key' | 'ca' | 'passphrase';

/**
 * Where a TLS setting is written: `file:line:col: bus.tls.cert` when the configuration can say, else
 * the key path alone (`bus.tls.cert`, at a reconnect).
 */
export type TlsLocator = (key?: TlsKey) => string;

/**
 * Reads a broker's TLS files at start-up, so a missing or unreadable file is one clear error then,
 * not a failure at every reconnect. An expired or not-yet-valid client certificate does not stop
 * the start (the file may be renewed in place): it is named as the cause of each refused attempt.
 */
export function tlsOptions(tls: TlsConfig, where: string, baseDir: string, host: string, now: number,
  locate: TlsLocator = (key) => (key ? `${where}.${key}` : where)): TlsAttempt {
  const problem = (key: TlsKey | undefined, what: string) => permanentError('CONFIG_INVALID', `${locate(key)}: ${what}`);
  const unreadable: string[] = [];
  const read = (key: 'cert' | 'key' | 'ca'): Buffer | undefined => {
    const path = tls[key];
    if (!path) return undefined;
    const file = resolve(baseDir, path);
    try {
      return readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      unreadable.push(`${locate(key)}: cannot read ${file} (${why})`);
      return undefined;
    }
  };
  const cert = read('cert');
  const key = read('key');
  const ca = read('ca');
  // Every file that cannot be read at once: they are usually missing together.
  if (unreadable.length) throw permanentError('CONFIG_INVALID', unreadable[0], unreadable);
  if (cert && !key) throw problem(undefined, 'a client certificate needs both cert and key: key is missing');
  if (key && !cert) throw problem(undefined, 'a client certificate needs both cert and key: cert is missing');
  let certificateProblem: string | undefined;
  if (cert) {
    try {
      const x = new X509Certificate(cert);
      const from = Date.parse(x.validFrom);
      const to = Date.parse(x.validTo);
      if (now > to) certificateProblem = `our client certificate ${tls.cert} expired on ${x.validTo}`;
      else if (now < from) certificateProblem = `our client certificate ${tls.cert} is not valid before ${x.validFrom}`;
    } catch (err) {
      throw problem('cert', `${tls.cert} is not a PEM certificate (${(err as Error).message})`);
    }
  }
  if (ca) {
    // The TLS library takes a CA file that holds no certificate without a word, and then trusts nothing.
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw problem('ca', `${tls.ca} is not a PEM certificate (${(err as Error).message})`);
    }
  }
  if (key) {
    try {
      createPrivateKey({ key, ...(tls.passphrase ? { passphrase: tls.passphrase } : {}) });
    } catch (err) {
      const code = String((err as NodeJS.ErrnoException).code ?? '');
      if (!tls.passphrase && /INTERRUPTED|MISSING_PASSPHRASE|BAD_DECRYPT/.test(code)) {
        throw problem('key', `${tls.key} is encrypted and no passphrase is set (passphrase: \${CVP_TLS_PASSPHRASE})`);
      }
      if (/BAD_DECRYPT|BAD_PASSWORD/.test(code)) throw problem('passphrase', `the key ${tls.key} cannot be decrypted with this passphrase`);
      throw problem('key', `${tls.key} is not a PEM private key (${(err as Error).message})`);
    }
  }
  const options: TlsAttempt = {
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(ca ? { ca } : {}),
    ...(tls.passphrase ? { passphrase: tls.passphrase } : {}),
    servername: tls.servername ?? host,
    rejectUnauthorized: true,
  };
  try {
    createSecureContext(options);
  } catch (err) {
    const message = (err as Error).message;
    if (/key values mismatch/i.test(message)) throw problem('key', `the key ${tls.key} does not belong to the certificate ${tls.cert}`);
    throw problem(undefined, message);
  }
  return certificateProblem ? { ...options, certificateProblem } : options;
}

/**
 * Every broker's TLS files, checked as the daemon would at start-up (`cvp config check`, and
 * `cvp listen` before it starts), each problem as `file:line:col: key: what`.
 */
export function checkTlsFiles(loaded: LocatedConfig, now: number): void {
  const bus = loaded.config.bus;
  const problems: string[] = [];
  bus?.brokers.forEach((b, i) => {
    const path = b.tls ? ['bus', 'brokers', i, 'tls'] : ['bus', 'tls'];
    const tls = b.tls ?? bus.tls;
    if (!tls) return;
    try {
      tlsOptions(tls, keyPath(path), loaded.dir, b.host, now, (key) => loaded.at(key ? [...path, key] : path));
    } catch (err) {
      for (const line of err instanceof CvpError ? err.reasons : [String(err)]) if (!problems.includes(line)) problems.push(line);
    }
  });
  if (problems.length) {
    throw permanentError('CONFIG_INVALID', `${loaded.file}: the configuration has ${problems.length} problem(s)`, problems);
  }
}
