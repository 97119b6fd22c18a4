import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import type { TlsConfig } from '../config/config';
import { permanentError } from '../listener/errors';
import type { Logger } from '../listener/ports';

/**
 * Reads a broker's TLS files at start-up, so a missing or unreadable file is one clear error then,
 * not a failure at every reconnect. An expired or not-yet-valid client certificate is reported
 * too (the broker will refuse it), but the daemon starts: the file may be renewed in place.
 */
export function tlsOptions(tls: TlsConfig, where: string, baseDir: string, host: string, log: Logger | null, now: number): ConnectionOptions {
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
  if (cert) {
    try {
      const x = new X509Certificate(cert);
      const from = Date.parse(x.validFrom);
      const to = Date.parse(x.validTo);
      if (now > to) log?.error({ broker: where, certificate: tls.cert, validTo: x.validTo }, 'the client certificate has expired; the broker will refuse it');
      else if (now < from) log?.error({ broker: where, certificate: tls.cert, validFrom: x.validFrom }, 'the client certificate is not valid yet');
    } catch (err) {
      throw permanentError('CONFIG_INVALID', `${where}.cert: ${tls.cert} is not a PEM certificate (${(err as Error).message})`);
    }
  }
  const options: ConnectionOptions = {
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
  return options;
}
