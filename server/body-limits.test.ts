import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../protocol/index.js';
import { deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre] }
`;

type ErrorBody = { error: { code: string; message: string } };

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('body limits', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    await hub.createUser('bob', ['approver'], ['sre']);
    alice = await hub.createUser('alice', ['requester']);
  });
  afterAll(() => hub.dispose());

  it('grant verify and redeem, open to anyone, take small bodies; requests keep their large limit', async () => {
    const big = JSON.stringify({ token: 'x'.repeat(100), payload: { action: 'a', resource: 'r', environment: 'e', context: { diff: 'x'.repeat(LIMITS.grantBodyBytes) } } });
    for (const route of ['/api/v1/grants/verify', '/api/v1/grants/redeem']) {
      const refused = await hub.api<ErrorBody>('POST', route, null, big);
      expect(refused.status).toBe(413);
      expect(refused.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(refused.body.error.message).toContain(`at most ${LIMITS.grantBodyBytes / 1024} KB`);
    }
    const largeDiff = await hub.api('POST', '/api/v1/requests', alice.token, deployRequest({ context: { diff: 'x'.repeat(1024 * 1024) } }));
    expect(largeDiff.status).toBe(201);
  });

  it('refuses JSON nested deeper than any request needs, on every route, before parsing it', async () => {
    for (const [route, token] of [
      ['/api/v1/grants/verify', null],
      ['/api/v1/requests', alice.token],
      ['/api/v1/users', alice.token],
    ] as const) {
      const refused = await hub.api<ErrorBody>('POST', route, token, `{"token":${nested(LIMITS.jsonDepth + 1)}}`);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('JSON_TOO_DEEP');
      expect(refused.body.error.message).toContain(`more than ${LIMITS.jsonDepth} deep`);
    }
    // A hundred thousand brackets cost one pass, not a deep recursion.
    expect((await hub.api<ErrorBody>('POST', '/api/v1/grants/verify', null, nested(100_000))).body.error.code).toBe('JSON_TOO_DEEP');
    // Brackets inside strings are text, and a body at the limit is parsed as before.
    const inString = await hub.api<ErrorBody>('POST', '/api/v1/grants/verify', null, JSON.stringify({ token: '['.repeat(500) }));
    expect(inString.status).toBe(200);
    const atLimit = await hub.api<ErrorBody>('POST', '/api/v1/grants/verify', null, `{"token":"t","x":${nested(LIMITS.jsonDepth - 1)}}`);
    expect(atLimit.body.error.code).toBe('INVALID_INPUT');
  });

  it('still refuses prototype poisoning, as the default JSON parser did', async () => {
    const poisoned = await hub.api<ErrorBody>('POST', '/api/v1/grants/verify', null, '{"token":"t","__proto__":{"admin":true}}');
    expect(poisoned.status).toBe(400);
    expect(poisoned.body.error.code).toBe('INVALID_INPUT');
  });
});
