import type { IncomingHttpHeaders } from 'node:http';

/**
 * Who may talk to an intake that listens on a loopback address. A web page the person browses can
 * reach 127.0.0.1 too: by a cross-site POST (its Origin is the page's) or, after DNS rebinding,
 * with its own host name in Host. Programs on the machine (curl, cvp, probes) send a loopback Host
 * and no Origin, or a loopback one.
 */
export class LoopbackOrigin {
  private readonly hosts: Set<string>;

  /** `names`: the host names this intake answers to besides 127.0.0.1, localhost and [::1]. */
  constructor(port: number, names: string[] = []) {
    const bare = ['127.0.0.1', 'localhost', '[::1]', ...names.map((n) => (n.includes(':') && !n.startsWith('[') ? `[${n}]` : n).toLowerCase())];
    this.hosts = new Set(bare.flatMap((h) => (port === 80 ? [h, `${h}:80`] : [`${h}:${port}`])));
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
