import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import type { CvpConfig, TlsConfig } from '../config/config';
import { permanentError } from '../errors';

/**
 * Reads a broker's TLS files at start-up, so a missing or unreadable file is one clear error then,
 * not a failure at every reconnect. An expired or not-yet-valid client certificate does not stop
 * the start (the file may be renewed in place): it is named as the cause of each refused attempt.
 */
/** Why the broker will refuse the certificate, if the certificate itself says so (it expired). */
export type TlsAttempt = ConnectionOptions & { certificateProblem?: string };

export function tlsOptions(tls: TlsConfig, where: string, baseDir: string, host: string, now: number): TlsAttempt {
  const read = (key: 'cert' | 'key' | 'ca'): Buffer | undefined => {
    const path = tls[key];
    if (!path) return undefined;
    const file = resolve(baseDir, path);
    try {
      return readFileSync(file);
    } catch (err) {
      throw permanentError('CONFIG_INVALID', `${where}.${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const cert = read('cert');
  const key = read('key');
  const ca = read('ca');
  if ((cert && !key) || (key && !cert)) throw permanentError('CONFIG_INVALID', `${where}: a client certificate needs both cert and key`);
  let certificateProblem: string | undefined;
  if (cert) {
    try {
      const x = new X509Certificate(cert);
      const from = Date.parse(x.validFrom);
      const to = Date.parse(x.validTo);
      if (now > to) certificateProblem = `our client certificate ${tls.cert} expired on ${x.validTo}`;
      else if (now < from) certificateProblem = `our client certificate ${tls.cert} is not valid before ${x.validFrom}`;
    } catch (err) {
      throw permanentError('CONFIG_INVALID', `${where}.cert: ${tls.cert} is not a PEM certificate (${(err as Error).message})`);
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
    const why = /bad decrypt|bad password/i.test((err as Error).message) ? 'the key cannot be decrypted: wrong or missing passphrase'
      : /key values mismatch/i.test((err as Error).message) ? 'the key does not belong to the certificate' : (err as Error).message;
    throw permanentError('CONFIG_INVALID', `${where}: ${why}`);
  }
  return certificateProblem ? { ...options, certificateProblem } : options;
}

/** Every broker's TLS files, checked as the daemon would at start-up (for `cvp config check`). */
export function checkTlsFiles(config: CvpConfig, baseDir: string, now: number): void {
  config.bus?.brokers.forEach((b, i) => {
    const tls = b.tls ?? config.bus!.tls;
    if (tls) tlsOptions(tls, b.tls ? `bus.brokers[${i}].tls` : 'bus.tls', baseDir, b.host, now);
  });
}
