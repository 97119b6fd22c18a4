import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** This process's claim owner: `<host>/<pid>/<nonce>`, unique even when a pid is reused. */
export function ownerId(host = hostname(), pid = process.pid): string {
  return `${host}/${pid}/${randomBytes(4).toString('hex')}`;
}

export function parseOwner(owner: string): { host: string; pid: number } | null {
  const m = /^(.*)\/(\d+)\/[0-9a-f]+$/.exec(owner);
  return m ? { host: m[1], pid: Number(m[2]) } : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Owners that surely died: on this host, with a pid that is gone or that is now this process (a
 * restarted container keeps its pid). Their claims need not wait for their leases to end.
 * Owners on other hosts are left to their leases.
 */
export function deadOwners(owners: string[], self: string, host = hostname(), pid = process.pid, isAlive = alive): string[] {
  return owners.filter((o) => {
    if (o === self) return false;
    const p = parseOwner(o);
    return p !== null && p.host === host && (p.pid === pid || !isAlive(p.pid));
  });
}
