import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { io, type Socket } from 'socket.io-client';
import { HubClient, type GreenlightRequest } from '../protocol/index.js';
import { HubDataDir, HubProcess } from '../server/test-support/hub-process.js';
import { ADMIN_TOKEN, collect, deployRequest } from '../server/test-support/hub-fixture.js';
import { call } from './support.js';

const TARGET = 10_000;
const BATCH = 250;
/** Opening stops here, short of the target or not, so the suite stays bounded; falling short fails the test. */
const OPEN_BUDGET_MS = 45_000;

/** The open-file limit this process (and the hub it starts) runs under; each socket costs one on each side. */
function openFileLimit(): number {
  const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return text === 'unlimited' ? Infinity : Number(text);
}

function open(url: string, token: string): Promise<Socket | null> {
  const socket = io(url, { auth: { token }, forceNew: true, transports: ['websocket'], reconnection: false, timeout: 20_000 });
  return new Promise((resolve) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', () => {
      socket.close();
      resolve(null);
    });
  });
}

describe('a hub holding thousands of idle connections', () => {
  // Its own process: the hub's file descriptors are not counted against this one's.
  const data = new HubDataDir();
  const hub = new HubProcess([...data.args, '--rate-limit', '1000000'], { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_LOG_LEVEL: 'error' });
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await hub.kill();
    data.remove();
  });

  it('still answers health checks and delivers a new request to a connected approver', async () => {
    await hub.start();
    const user = async (name: string, roles: string[], groups: string[] = []) =>
      (await call<{ token: string }>(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name, roles, groups })).body.token;
    const idle = await user('idle', ['requester']);
    const alice = await user('alice', ['requester']);
    const bob = await user('bob', ['approver'], ['approvers']);

    const limit = openFileLimit();
    // Each connection costs this process one descriptor (the hub, its own process, pays the other); keep some spare.
    const target = Math.max(100, Math.min(TARGET, Math.floor(limit - 500)));
    const started = Date.now();
    let failed = 0;
    while (sockets.length < target && Date.now() - started < OPEN_BUDGET_MS) {
      const batch = await Promise.all(Array.from({ length: Math.min(BATCH, target - sockets.length) }, () => open(hub.url, idle)));
      for (const socket of batch) {
        if (socket) sockets.push(socket);
        else failed++;
      }
    }
    console.log(`idle sockets: ${sockets.length} of ${TARGET} open (open-file limit ${limit}, ${failed} refused) after ${Date.now() - started} ms`);
    expect(failed).toBe(0);
    // The whole crowd, or as many as the open-file limit allows; running out of time counts as failing.
    expect(sockets.length, `opened ${sockets.length} of ${target} within ${OPEN_BUDGET_MS} ms`).toBe(target);
    expect(sockets.every((socket) => socket.connected)).toBe(true);

    const health = await call<{ status: string }>(hub.url, 'GET', '/healthz', null);
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });

    const approver = new HubClient({ url: hub.url, token: bob, forceNew: true, transports: ['websocket'] });
    try {
      const created = collect<GreenlightRequest>((listener) => approver.on('request:created', listener));
      approver.connect();
      await approver.waitUntilReady(30_000);
      const submitted = await call<GreenlightRequest>(hub.url, 'POST', '/api/v1/requests', alice, deployRequest({ reason: 'among the crowd' }));
      expect(submitted.status).toBe(201);
      const heard = await created.next((request) => request.id === submitted.body.id, 30_000);
      expect(heard.requester).toBe('alice');
    } finally {
      approver.close();
    }
    // The idle crowd is still there.
    expect(sockets.every((socket) => socket.connected)).toBe(true);
  });
});
