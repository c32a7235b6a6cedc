import { afterAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest, VerifyResult } from '../protocol/index.js';
import { HubDataDir, HubProcess } from '../server/test-support/hub-process.js';
import { ADMIN_TOKEN, deployRequest } from '../server/test-support/hub-fixture.js';
import { createTestDatabase, postgresAvailability } from '../server/test-support/postgres.js';
import { call, eventually, type ErrorBody } from './support.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: db-open }
    approvers: [dba]
    grantTtl: 1m
    extendBefore: 5m
    extensions: { autoApprove: 1, maxTotal: 10m }
`;

const pg = await postgresAvailability();

describe.each(['sqlite', 'postgres'] as const)('scheduled grants and extensions across SIGKILLs on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const data = new HubDataDir(POLICY);
  let hub: HubProcess;
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await hub?.kill();
    await drop?.();
    data.remove();
  });

  it('a grant approved for later is still not valid after a crash, becomes valid at its start, and extensions keep count', async () => {
    const database = kind === 'postgres' ? await createTestDatabase() : undefined;
    drop = database?.drop;
    hub = new HubProcess([...data.args, ...(database ? ['--database-url', database.url] : [])], { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN });
    await hub.start();
    const alice = (await call<{ token: string }>(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'] })).body.token;
    const dora = (await call<{ token: string }>(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'dora', roles: ['approver'], groups: ['dba'] })).body.token;

    // Far enough ahead that a restart on a busy machine still ends before it.
    const start = new Date(Math.ceil((Date.now() + 30_000) / 1000) * 1000).toISOString();
    const submitted = await call<GreenlightRequest>(hub.url, 'POST', '/api/v1/requests', alice, deployRequest({ action: 'db-open', resource: 'orders-db', notBefore: start, requestedTtlSeconds: 60 }));
    expect(submitted.status).toBe(201);
    const approved = await call<GreenlightRequest>(hub.url, 'POST', `/api/v1/requests/${submitted.body.id}/decisions`, dora, { decision: 'approve' });
    expect(approved.body.grant?.notBefore).toBe(start);

    await hub.kill();
    await hub.start();
    const mine = await call<GreenlightRequest>(hub.url, 'GET', `/api/v1/requests/${submitted.body.id}`, alice);
    const token = mine.body.grant?.token ?? '';
    const early = await call<ErrorBody>(hub.url, 'POST', '/api/v1/grants/redeem', null, { token });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('NOT_YET_VALID');
    expect(early.body.error.message).toContain(start);

    // At its start it works, once.
    const redeemed = await eventually(async () => {
      const reply = await call<VerifyResult>(hub.url, 'POST', '/api/v1/grants/redeem', null, { token });
      return reply.status === 200 ? reply.body : undefined;
    }, { what: 'the grant to become redeemable at its start', deadline: 60_000 });
    expect(redeemed.valid).toBe(true);

    // A used grant can still be extended near its end: the first extension at once...
    const jti = mine.body.grant?.jti ?? '';
    const first = await call<GreenlightRequest>(hub.url, 'POST', `/api/v1/grants/${jti}/extend`, alice, { ttlSeconds: 60, reason: 'still running' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.status).toBe('approved');
    expect(first.body.grant?.notBefore).toBe(mine.body.grant?.expiresAt);

    // ...and after another crash the hub still knows it was the first: the second waits for an approver.
    await hub.kill();
    await hub.start();
    const second = await call<GreenlightRequest>(hub.url, 'POST', `/api/v1/grants/${first.body.grant?.jti ?? ''}/extend`, alice, { ttlSeconds: 60, reason: 'one more minute' });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body.status).toBe('pending');
    expect(second.body.extends).toBe(first.body.grant?.jti);
  }, 180_000);
});
