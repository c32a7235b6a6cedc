import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - { name: staging, match: { environment: staging }, autoApprove: true }
`;

/**
 * The README's payloadHash recipe, written from its text alone (not the hub's code): array-index keys
 * first in numeric order, then the others by UTF-16 code unit, at every level; no whitespace;
 * JSON.stringify's escaping; SHA-256 of the UTF-8 bytes, hex.
 */
const isArrayIndex = (key: string) => /^(0|[1-9][0-9]*)$/.test(key) && Number(key) < 4294967295;
function keyOrder(a: string, b: string): number {
  if (isArrayIndex(a) !== isArrayIndex(b)) return isArrayIndex(a) ? -1 : 1;
  if (isArrayIndex(a)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => keyOrder(a, b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
const recipeHash = (payload: { action: string; resource: string; environment: string; context: Record<string, unknown> }) =>
  createHash('sha256').update(canonical({ action: payload.action, resource: payload.resource, environment: payload.environment, context: payload.context }), 'utf8').digest('hex');

describe('payloadHash: the recipe, and checking a payload against a grant', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser;
  const context = {
    summary: 'résumé ✓ "quoted"',
    links: [{ url: 'https://ci.example.com/build/7', title: 'build 7' }],
    fields: { zeta: '1', alpha: '2', Beta: '3', '10': 'ten', '9': 'nine', '09': 'not an index' },
    diff: '--- a\n+++ b\n',
  };
  const payload = { action: 'deploy', resource: 'web', environment: 'staging', context };
  let token: string;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    const created = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, { ...payload, reason: 'release 7' });
    expect(created.status).toBe(201);
    token = created.body.grant?.token ?? '';
  });
  afterAll(() => hub.dispose());

  it('the README documents the recipe this test follows', () => {
    const readme = readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
    expect(readme).toContain('### The `payloadHash` recipe');
    expect(readme).toContain('`{"action", "resource", "environment", "context"}`');
  });

  it('the grant carries the hash computed from the README recipe', () => {
    expect(decodeJwt(token).payloadHash).toBe(recipeHash(payload));
    // The README's JavaScript snippet gives the same.
    const sorted = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sorted) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v;
    expect(createHash('sha256').update(JSON.stringify(sorted(payload)), 'utf8').digest('hex')).toBe(recipeHash(payload));
  });

  it('verify with the approved payload: valid; with anything else: payload_mismatch', async () => {
    expect((await hub.api('POST', '/api/v1/grants/verify', null, { token, payload })).body).toMatchObject({ valid: true });
    // Key order does not matter; content does.
    const reordered = { context: { fields: { '09': 'not an index', Beta: '3', alpha: '2', zeta: '1', '9': 'nine', '10': 'ten' }, diff: context.diff, links: context.links, summary: context.summary }, environment: 'staging', resource: 'web', action: 'deploy' };
    expect((await hub.api('POST', '/api/v1/grants/verify', null, { token, payload: reordered })).body).toMatchObject({ valid: true });
    const otherDiff = { ...payload, context: { ...context, diff: '--- a\n+++ c\n' } };
    expect((await hub.api('POST', '/api/v1/grants/verify', null, { token, payload: otherDiff })).body).toMatchObject({ valid: false, reason: 'payload_mismatch', grant: { payloadHash: recipeHash(payload) } });
    expect((await hub.api('POST', '/api/v1/grants/verify', null, { token, payload: { ...payload, resource: 'db' } })).body).toMatchObject({ valid: false, reason: 'payload_mismatch' });
  });

  it('redeem with another payload refuses and leaves the grant unused; with the approved one it redeems', async () => {
    const refused = await hub.api<{ error: { code: string; message: string } }>('POST', '/api/v1/grants/redeem', null, { token, payload: { ...payload, environment: 'production' } });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'GRANT_INVALID', message: expect.stringContaining('payload_mismatch') });
    expect((await hub.api('POST', '/api/v1/grants/redeem', null, { token, payload })).body).toMatchObject({ valid: true });
  });
});
