import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenlightError, LIMITS, type GreenlightRequest, type HubClient } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../server/test-support/hub-fixture.js';
import { mapLimit } from '../server/test-support/map-limit.js';
import { isWireError, type ErrorBody } from './support.js';

const RATE_LIMIT = 50;
/** The hub's default: failed authentications audited per address and minute. */
const FAILED_AUTH_LIMIT = 60;

describe('size and rate limits', () => {
  const hub = new TestHub('sqlite', { rateLimitPerMinute: RATE_LIMIT });
  let alice: TestUser, bob: TestUser, carol: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['requester']);
    carol = await hub.createUser('carol', ['requester']);
    await hub.createUser('dave', ['approver'], ['approvers']);
  });
  afterAll(() => hub.dispose());

  const requestCount = async () => (await hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?type=request.submitted&limit=1000', ADMIN_TOKEN)).body.events.length;

  it('refuses an HTTP body over the limit with 413 PAYLOAD_TOO_LARGE, and stores nothing', async () => {
    const before = await requestCount();
    const body = JSON.stringify(deployRequest({ context: { diff: 'x'.repeat(LIMITS.bodyBytes + 1024) } }));
    const reply = await hub.api<ErrorBody>('POST', '/api/v1/requests', carol.token, body);
    expect(reply.status).toBe(413);
    expect(isWireError(reply.body)).toBe(true);
    expect(reply.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    // Under the body limit but over the diff limit: refused by validation, naming the field.
    const bigDiff = await hub.api<ErrorBody>('POST', '/api/v1/requests', carol.token, deployRequest({ context: { diff: 'x'.repeat(LIMITS.diffBytes + 1) } }));
    expect(bigDiff.status).toBe(400);
    expect(bigDiff.body.error.code).toBe('INVALID_INPUT');
    expect(bigDiff.body.error.message).toMatch(/diff/);
    expect(await requestCount()).toBe(before);
  });

  it('a HubClient refuses an oversized message locally with PAYLOAD_TOO_LARGE and stays connected', async () => {
    const client: HubClient = await hub.connect(carol);
    // Multi-byte text: the limit is in bytes, not characters.
    const oversized = deployRequest({ context: { diff: 'é'.repeat(LIMITS.bodyBytes / 2 + 1024) } });
    const error = await client.submit(oversized).then(() => null, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(GreenlightError);
    expect((error as GreenlightError).code).toBe('PAYLOAD_TOO_LARGE');
    expect(client.state).toBe('connected');
    const fine = await client.submit(deployRequest({ reason: 'after the refusal' }));
    expect(fine.status).toBe('pending');
  });

  it(`rate limits a flood from one token with 429 RATE_LIMITED while another token is unaffected`, async () => {
    const flood = await mapLimit(Array.from({ length: RATE_LIMIT + 30 }, (_, i) => i), 10, (i) =>
      hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: `flood ${i}` })),
    );
    const created = flood.filter((reply) => reply.status === 201);
    const limited = flood.filter((reply) => reply.status === 429);
    expect(created.length + limited.length).toBe(flood.length);
    expect(created.length).toBeLessThanOrEqual(RATE_LIMIT);
    expect(limited.length).toBeGreaterThanOrEqual(30);
    for (const reply of limited) {
      expect(isWireError(reply.body)).toBe(true);
      expect(reply.body.error.code).toBe('RATE_LIMITED');
      expect(reply.body.error.message).toMatch(/Retry in \d+ s/);
    }
    // Still limited for alice; bob, on his own token, carries on.
    expect((await hub.api<ErrorBody>('GET', '/api/v1/requests?mine=true', alice.token)).body.error.code).toBe('RATE_LIMITED');
    const bobs = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', bob.token, deployRequest({ reason: 'not part of the flood' }));
    expect(bobs.status).toBe(201);
    const mine = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?mine=true&limit=500', bob.token);
    expect(mine.body.requests.map((request) => request.id)).toEqual([bobs.body.id]);
    // Only what was acknowledged was stored.
    const everyone = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?limit=500', ADMIN_TOKEN);
    expect(everyone.body.requests.filter((request) => request.requester === 'alice')).toHaveLength(created.length);
    expect((await hub.api('GET', '/healthz', null)).status).toBe(200);
  });

  it('a flood of made-up tokens from one address writes at most the per-address limit to the audit log; a real token from there carries on', async () => {
    const recorded = async () => (await hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?type=auth.failed&limit=1000', ADMIN_TOKEN)).body.events.length;
    const before = await recorded();
    // A new token every call: a per-token limit alone would let each one through to the audit log.
    const flood = await mapLimit(Array.from({ length: 500 }, (_, i) => i), 10, () =>
      hub.api<ErrorBody>('GET', '/api/v1/requests', `glt_${randomBytes(18).toString('base64url')}`),
    );
    const refused = flood.filter((reply) => reply.status === 401);
    const limited = flood.filter((reply) => reply.status === 429);
    expect(refused.length + limited.length).toBe(flood.length);
    expect(refused.length).toBeLessThanOrEqual(FAILED_AUTH_LIMIT);
    expect(limited.every((reply) => reply.body.error.code === 'RATE_LIMITED')).toBe(true);
    expect((await recorded()) - before).toBe(refused.length);
    expect((await hub.api('POST', '/api/v1/requests', carol.token, deployRequest({ reason: 'after the made-up tokens' }))).status).toBe(201);
    expect((await hub.api('GET', '/healthz', null)).status).toBe(200);
  });
});
