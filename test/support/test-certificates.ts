/**
 * Certificates for the TLS tests, made fresh in a temporary directory with `openssl` (PEM files for
 * the daemon) and the JDK's `keytool` (the broker's PKCS12 truststore):
 *
 * - a CA ("CVP Test CA") that signs the broker's certificate and the good client certificates;
 * - the broker's certificate: CN=localhost, SAN DNS:localhost and IP:127.0.0.1, in a PKCS12
 *   keystore with its key, and a PKCS12 truststore holding the CA (so the broker accepts clients
 *   signed by it);
 * - a client certificate signed by the CA, and another whose key is encrypted with a passphrase;
 * - a client certificate signed by another CA, which the broker does not know;
 * - an expired client certificate signed by the right CA (`openssl ca -startdate/-enddate`: OpenSSL
 *   3.0 has no `x509 -not_before/-not_after`, and no faketime is needed).
 *
 * About two seconds (keytool is a JVM). `remove()` deletes the directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findJava } from './activemq';

export interface ClientCertificate {
  /** PEM certificate file. */
  cert: string;
  /** PEM private key file (encrypted when `passphrase` is set). */
  key: string;
  passphrase?: string;
}

export interface TestCertificates {
  readonly dir: string;
  /** PEM of the CA that signed the broker's certificate (the daemon's tls.ca). */
  readonly ca: string;
  /** PEM of the other CA, which the broker does not trust. */
  readonly otherCa: string;
  /** The broker's stores, for startBroker({ systemProperties }) with test/broker/activemq-tls.xml. */
  readonly broker: { keystore: string; truststore: string; password: string; cert: string };
  readonly client: ClientCertificate;
  readonly encryptedClient: ClientCertificate & { passphrase: string };
  readonly unknownCaClient: ClientCertificate;
  readonly expiredClient: ClientCertificate;
  /** The -D system properties test/broker/activemq-tls.xml needs (the port apart). */
  brokerSystemProperties(stompSslPort: number): Record<string, string>;
  remove(): void;
}

/** keytool next to the java that test/support/activemq.ts runs the broker with. */
export function findKeytool(): string {
  return join(dirname(findJava()), 'keytool');
}

function run(program: string, args: string[], cwd: string): void {
  try {
    execFileSync(program, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

/** OpenSSL's ASN.1 GeneralizedTime, YYYYMMDDHHMMSSZ. */
function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** P-256 keys: much quicker to make than RSA ones, and Java and Node both take them. */
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

const CLIENT_EXT = [
  'basicConstraints = CA:FALSE',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = clientAuth',
].join('\n');

const SERVER_EXT = [
  'basicConstraints = CA:FALSE',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = serverAuth',
  'subjectAltName = DNS:localhost, IP:127.0.0.1',
].join('\n');

export function generateTestCertificates(parent: string = tmpdir()): TestCertificates {
  const dir = mkdtempSync(join(parent, 'cvp-certs-'));
  const openssl = (...args: string[]) => run('openssl', args, dir);
  const password = 'cvp-test-store';
  writeFileSync(join(dir, 'client.ext'), `${CLIENT_EXT}\n`);
  writeFileSync(join(dir, 'server.ext'), `${SERVER_EXT}\n`);

  const makeCa = (name: string, cn: string) => {
    openssl('req', '-x509', ...KEY, '-nodes', '-sha256', '-days', '3', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout', `${name}.key`, '-out', `${name}.pem`);
  };
  /** A key and a CSR; then signed by `ca` with the extensions in `ext`. */
  const makeSigned = (name: string, cn: string, ca: string, ext: string) => {
    openssl('req', '-new', ...KEY, '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
      '-sha256', '-days', '2', '-extfile', ext, '-out', `${name}.pem`);
  };

  makeCa('ca', 'CVP Test CA');
  makeCa('other-ca', 'Some Other CA');
  makeSigned('broker', 'localhost', 'ca', 'server.ext');
  makeSigned('client', 'cvp-client', 'ca', 'client.ext');
  makeSigned('client-encrypted', 'cvp-client-encrypted', 'ca', 'client.ext');
  makeSigned('client-unknown-ca', 'cvp-client-unknown-ca', 'other-ca', 'client.ext');

  // The passphrase-protected key: PKCS#8, AES-256 ("ENCRYPTED PRIVATE KEY").
  const passphrase = 'cvp-key-passphrase-7d41';
  openssl('pkey', '-in', 'client-encrypted.key', '-aes256', '-passout', `pass:${passphrase}`, '-out', 'client-encrypted.enc.key');

  // The expired one: valid for a day, ten days ago, signed by the right CA.
  mkdirSync(join(dir, 'ca-db', 'new'), { recursive: true });
  writeFileSync(join(dir, 'ca-db', 'index.txt'), '');
  writeFileSync(join(dir, 'ca-db', 'serial'), '1000\n');
  writeFileSync(join(dir, 'ca.cnf'), [
    '[ ca ]', 'default_ca = test_ca',
    '[ test_ca ]',
    `database = ${join(dir, 'ca-db', 'index.txt')}`,
    `new_certs_dir = ${join(dir, 'ca-db', 'new')}`,
    `serial = ${join(dir, 'ca-db', 'serial')}`,
    `certificate = ${join(dir, 'ca.pem')}`,
    `private_key = ${join(dir, 'ca.key')}`,
    'default_md = sha256', 'policy = policy_any', 'unique_subject = no', 'email_in_dn = no',
    'x509_extensions = client_ext',
    '[ policy_any ]', 'commonName = supplied',
    '[ client_ext ]', CLIENT_EXT, '',
  ].join('\n'));
  openssl('req', '-new', ...KEY, '-nodes', '-subj', '/CN=cvp-client-expired', '-keyout', 'client-expired.key', '-out', 'client-expired.csr');
  const day = 86_400_000;
  openssl('ca', '-batch', '-config', 'ca.cnf', '-notext', '-in', 'client-expired.csr', '-out', 'client-expired.pem',
    '-startdate', asn1Time(Date.now() - 10 * day), '-enddate', asn1Time(Date.now() - 9 * day));

  // The broker's stores: its key and chain (openssl, as keytool cannot import a PEM key), and the CA
  // as a trusted certificate entry (keytool: openssl 3.0 cannot mark an entry trusted for Java).
  openssl('pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem', '-name', 'broker',
    '-out', 'broker-keystore.p12', '-passout', `pass:${password}`);
  run(findKeytool(), ['-importcert', '-noprompt', '-alias', 'cvp-test-ca', '-file', 'ca.pem', '-keystore', 'broker-truststore.p12',
    '-storetype', 'PKCS12', '-storepass', password], dir);

  const f = (name: string) => join(dir, name);
  return {
    dir,
    ca: f('ca.pem'),
    otherCa: f('other-ca.pem'),
    broker: { keystore: f('broker-keystore.p12'), truststore: f('broker-truststore.p12'), password, cert: f('broker.pem') },
    client: { cert: f('client.pem'), key: f('client.key') },
    encryptedClient: { cert: f('client-encrypted.pem'), key: f('client-encrypted.enc.key'), passphrase },
    unknownCaClient: { cert: f('client-unknown-ca.pem'), key: f('client-unknown-ca.key') },
    expiredClient: { cert: f('client-expired.pem'), key: f('client-expired.key') },
    brokerSystemProperties: (port) => ({
      'cvp.stompssl.port': String(port),
      'cvp.tls.keystore': f('broker-keystore.p12'),
      'cvp.tls.truststore': f('broker-truststore.p12'),
      'cvp.tls.password': password,
    }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
