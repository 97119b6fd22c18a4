import type { IncomingHttpHeaders } from 'node:http';

/**
 * Who may talk to an intake that listens on a loopback address. A web page the person browses can
 * reach 127.0.0.1 too: by a cross-site POST (its Origin is the page's) or, after DNS rebinding,
 * with its own host name in Host. Programs on the machine (curl, cvp, probes) send a loopback Host
 * and no Origin, or a loopback one.
 */
export class LoopbackOrigin {
  private readonly hosts: Set<string>;

  /**
   * `names`: what else Host may say (a reverse proxy's own name): `name:port` as it is, a bare name
   * with or without the intake's port.
   */
  constructor(port: number, names: string[] = []) {
    const loopback = ['127.0.0.1', 'localhost', '[::1]'];
    const bracket = (n: string) => (n.split(':').length > 2 && !n.startsWith('[') ? `[${n}]` : n).toLowerCase();
    const withPort = (h: string) => (port === 80 ? [h, `${h}:80`] : [`${h}:${port}`]);
    this.hosts = new Set([
      ...loopback.flatMap(withPort),
      ...names.map(bracket).flatMap((n) => (/:\d+$/.test(n) ? [n] : [n, ...withPort(n)])),
    ]);
  }

  /** Why the request is refused, or null. `checkHost`: only a loopback listener checks Host. */
  problem(headers: IncomingHttpHeaders, checkHost: boolean): string | null {
    const origin = headers.origin;
    if (origin !== undefined) {
      const host = /^https?:\/\/([^/]+)$/i.exec(origin)?.[1]?.toLowerCase();
      if (!host || !this.hosts.has(host)) return `requests from web pages are refused (Origin ${printable(origin)})`;
    }
    if (checkHost) {
      const host = (headers.host ?? '').toLowerCase();
      if (!this.hosts.has(host)) return `Host ${printable(headers.host ?? '(none)')} is not this intake's (expected one of ${[...this.hosts].join(', ')})`;
    }
    return null;
  }
}

/** A header value as it can be shown: bounded, one line. */
function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}
