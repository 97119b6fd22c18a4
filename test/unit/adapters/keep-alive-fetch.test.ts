/** The adapters' fetch over keep-alive node:http keeps the contract of the built-in one where they rely on it. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { keepAliveFetch } from '../../../src/adapters/http/keep-alive-fetch';
import { freePorts } from '../../support/activemq';

let server: Server;
let base: string;
const sockets = new Set<Socket>();
const seen: Array<{ method: string; url: string; headers: Record<string, unknown>; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url === '/slow') { setTimeout(() => res.end('late'), 2_000).unref(); return; }
      if (req.url === '/empty') { res.writeHead(204).end(); return; }
      if (req.url === '/moved') { res.writeHead(302, { location: '/elsewhere' }).end(); return; }
      res.writeHead(200, { 'content-type': 'application/json', 'x-two': ['a', 'b'] }).end(JSON.stringify({ ok: true, method: req.method }));
    });
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

describe('keepAliveFetch', () => {
  const f = keepAliveFetch();

  it('GETs and POSTs with a standard Response, on one kept-alive connection', async () => {
    const before = sockets.size;
    const a = await f(`${base}/x`);
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual({ ok: true, method: 'GET' });
    expect(a.headers.get('x-two')).toBe('a, b');
    const b = await f(new URL(`${base}/y`), { method: 'POST', headers: { 'x-h': '1' }, body: new URLSearchParams({ q: 'a b' }) });
    expect(await b.json()).toEqual({ ok: true, method: 'POST' });
    const last = seen[seen.length - 1];
    expect(last).toMatchObject({ method: 'POST', body: 'q=a+b', headers: { 'x-h': '1', 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', 'content-length': '5' } });
    expect(sockets.size - before).toBe(1);
  });

  it('gives no body for 204, and refuses a redirect when told to', async () => {
    const r = await f(`${base}/empty`, { method: 'DELETE' });
    expect(r.status).toBe(204);
    expect(await r.text()).toBe('');
    await expect(f(`${base}/moved`, { redirect: 'error' })).rejects.toThrow(TypeError);
    expect((await f(`${base}/moved`, { redirect: 'manual' })).headers.get('location')).toBe('/elsewhere');
  });

  it('rejects with the signal\'s reason on a timeout, and with TypeError and its cause when the peer is away', async () => {
    await expect(f(`${base}/slow`, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ name: 'TimeoutError' });
    const [port] = await freePorts(1);
    await expect(f(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ message: 'fetch failed', cause: expect.objectContaining({ code: 'ECONNREFUSED' }) });
  });
});
