import { randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

type ErrorBody = { error: { code: string; message: string } };
const madeUpToken = () => `glt_${randomBytes(18).toString('base64url')}`;

describe('failed authentications from one address', () => {
  const clock = new ManualClock(new Date());
  const hub = new TestHub('sqlite', { failedAuthPerMinute: 5, clock });
  let alice: TestUser;

  const recordedFailures = async () => (await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=auth.failed&limit=500', ADMIN_TOKEN)).body.events;
  const handshake = (token: string) =>
    new Promise<{ code?: string; message: string }>((resolve) => {
      const socket = io(hub.url, { auth: { token }, forceNew: true, transports: ['websocket'], reconnection: false });
      socket.on('connect_error', (error: Error & { data?: { code: string } }) => {
        socket.close();
        resolve({ code: error.data?.code, message: error.message });
      });
    });

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['approvers']);
  });
  afterAll(() => hub.dispose());

  it('are audited up to the limit, then refused with RATE_LIMITED and not written, over HTTP and sockets alike', async () => {
    const replies = [];
    for (let i = 0; i < 8; i++) replies.push(await hub.api<ErrorBody>('GET', '/api/v1/requests', madeUpToken()));

    expect(replies.map((reply) => reply.status)).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(replies.slice(0, 5).every((reply) => reply.body.error.code === 'UNAUTHENTICATED')).toBe(true);
    expect(replies[5]?.body.error.code).toBe('RATE_LIMITED');
    expect(replies[5]?.body.error.message).toMatch(/Too many failed sign-ins from this address: at most 5 a minute\. Check the token, then retry in \d+ s\./);

    // socket.io never retries a refused handshake: the client must hear "sign in again", not "wait".
    const socketRefusal = await handshake(madeUpToken());
    expect(socketRefusal.code).toBe('UNAUTHENTICATED');
    expect(socketRefusal.message).toMatch(/Too many failed sign-ins from this address/);

    const failures = await recordedFailures();
    expect(failures).toHaveLength(5);
    expect(failures.every((event) => event.data.address === '127.0.0.1' || event.data.address === '::ffff:127.0.0.1')).toBe(true);
    // The newest event says that what follows is no longer written.
    expect(String(failures[0]?.data.throttled)).toMatch(/further failures from this address are refused unrecorded for \d+ s/);
    const metrics = (await hub.api<string>('GET', '/metrics', null)).body;
    expect(metrics).toContain('greenlight_auth_failures_total{recorded="true"} 5');
    expect(metrics).toContain('greenlight_auth_failures_total{recorded="false"} 4');
  });

  it('never hold back a valid token from the same address', async () => {
    expect((await hub.api('POST', '/api/v1/requests', alice.token, deployRequest())).status).toBe(201);
    const client = await hub.connect(alice);
    expect(client.state).toBe('connected');
    expect((await client.sync()).me.name).toBe('alice');
  });

  it('are audited again once the minute has passed', async () => {
    clock.advance(61_000);
    const reply = await hub.api<ErrorBody>('GET', '/api/v1/requests', madeUpToken());
    expect(reply.status).toBe(401);
    expect(reply.body.error.code).toBe('UNAUTHENTICATED');
    const failures = await recordedFailures();
    expect(failures).toHaveLength(6);
    // It says how many were refused without a record in between.
    expect(failures[0]?.data.unrecordedBefore).toBe('4 failed sign-ins from this address were refused unrecorded before this one');
  });

  it('audit a credential that is not a bearer token like a wrong one, but not a call that sent none', async () => {
    clock.advance(61_000);
    const before = (await recordedFailures()).length;
    const call = (headers: Record<string, string>) => fetch(`${hub.url}/api/v1/requests`, { headers }).then(async (response) => ({ status: response.status, body: (await response.json()) as ErrorBody }));
    const sent = [{ authorization: `Basic ${Buffer.from('alice:hunter2').toString('base64')}` }, { authorization: alice.token }, { authorization: 'Bearer' }];
    for (const headers of sent) {
      const reply = await call(headers);
      expect(reply.status).toBe(401);
      expect(reply.body.error).toEqual({ code: 'UNAUTHENTICATED', message: 'Send your token as "Authorization: Bearer glt_…".' });
    }
    expect((await call({})).status).toBe(401);
    const failures = (await recordedFailures()).slice(0, (await recordedFailures()).length - before);
    expect(failures).toHaveLength(3);
    for (const event of failures) expect(event.data).toMatchObject({ where: 'GET /api/v1/requests', reason: 'malformed Authorization header (not "Bearer <token>")' });
    // What was sent is not written down: a misplaced password or token stays out of the audit log.
    expect(JSON.stringify(failures)).not.toContain(alice.token);
    expect(JSON.stringify(failures)).not.toContain(Buffer.from('alice:hunter2').toString('base64'));
  });
});

describe('failed authentications behind a trusted proxy', () => {
  const hub = new TestHub('sqlite', { failedAuthPerMinute: 2, trustProxy: true });
  beforeAll(() => hub.start());
  afterAll(() => hub.dispose());

  const from = (address: string) =>
    fetch(`${hub.url}/api/v1/requests`, { headers: { authorization: `Bearer ${madeUpToken()}`, 'x-forwarded-for': `${address}, 10.0.0.2` } }).then((response) => response.status);

  it('counts each client by the address the proxy reports, not the proxy’s own', async () => {
    expect([await from('198.51.100.4'), await from('198.51.100.4'), await from('198.51.100.4')]).toEqual([401, 401, 429]);
    expect(await from('203.0.113.9')).toBe(401);
    // One IPv6 host rotating through its /64 is still one client.
    expect([await from('2001:db8:1:2::a'), await from('2001:db8:1:2::b'), await from('2001:db8:1:2:ffff::c')]).toEqual([401, 401, 429]);
    const events = (await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=auth.failed&limit=50', ADMIN_TOKEN)).body.events;
    expect(events.map((event) => event.data.address).sort()).toEqual(['198.51.100.4', '198.51.100.4', '2001:db8:1:2::a', '2001:db8:1:2::b', '203.0.113.9']);
  });

  it('reads a socket handshake’s address the same way', async () => {
    const handshake = () =>
      new Promise<string>((resolve) => {
        const socket = io(hub.url, { auth: { token: madeUpToken() }, extraHeaders: { 'x-forwarded-for': '192.0.2.77' }, forceNew: true, transports: ['websocket'], reconnection: false });
        socket.on('connect_error', (error) => {
          socket.close();
          resolve(error.message);
        });
      });
    const messages = [await handshake(), await handshake(), await handshake()];
    expect(messages[2]).toMatch(/Too many failed sign-ins from this address/);
    const events = (await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=auth.failed&limit=50', ADMIN_TOKEN)).body.events;
    expect(events.filter((event) => event.data.address === '192.0.2.77')).toHaveLength(2);
  });
});
