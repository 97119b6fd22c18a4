/*
 * Slow clients, as an attacker runs them (a process of its own, so the test's file descriptors are
 * not spent): `node slow-clients.js <port> <count> <local address> <hold ms> [<per second>]` opens
 * <count> connections to 127.0.0.1:<port> from <local address> (127.0.0.2, ...: its own ephemeral
 * ports, so the probes from 127.0.0.1 always find one), <per second> at most (default: 100 connecting
 * at any time), sends the start of a request and then one header byte a second on each, never reads,
 * keeps them for <hold ms> after the last one opened, and prints a JSON line of what happened.
 */
'use strict';
const net = require('node:net');

const [port, count, localAddress, holdMs] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4], Number(process.argv[5])];
const perSecond = Number(process.argv[6] ?? 0);
const IN_FLIGHT = 100;
const stats = { opened: 0, failed: 0, closedByServer: 0, openAtEnd: 0, openingMs: 0 };
const open = new Set();
let started = 0;
let stopping = false;
const t0 = Date.now();

function one() {
  if (started >= count) return;
  started += 1;
  const s = net.connect({ port, host: '127.0.0.1', localAddress });
  let connected = false;
  s.on('connect', () => {
    connected = true;
    stats.opened += 1;
    open.add(s);
    s.write('POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    if (!perSecond) one();
  });
  s.on('error', () => undefined);
  s.on('close', () => {
    if (!connected) { stats.failed += 1; if (!perSecond) one(); return; }
    open.delete(s);
    if (!stopping) stats.closedByServer += 1;
  });
}

if (perSecond) {
  // Paced: a few every 10 ms.
  let due = 0;
  const pace = setInterval(() => {
    due += perSecond / 100;
    for (; due >= 1; due -= 1) one();
    if (started >= count) clearInterval(pace);
  }, 10);
} else {
  for (let i = 0; i < IN_FLIGHT; i++) one();
}
const trickle = setInterval(() => { for (const s of open) s.write('x'); }, 1000);
const done = setInterval(() => {
  if (stats.opened + stats.failed < count) return;
  clearInterval(done);
  stats.openingMs = Date.now() - t0;
  process.stdout.write(`${JSON.stringify({ phase: 'opened', ...stats })}\n`);
  setTimeout(() => {
    stopping = true;
    clearInterval(trickle);
    stats.openAtEnd = open.size;
    for (const s of open) s.destroy();
    process.stdout.write(`${JSON.stringify({ phase: 'done', ...stats })}\n`);
    process.exit(0);
  }, holdMs);
}, 50);
