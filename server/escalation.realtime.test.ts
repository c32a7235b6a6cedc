import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { HubClient, type EscalatedPayload, type GreenlightRequest } from '../protocol/index.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub } from './test-support/hub-fixture.js';
import { HubDataDir, HubProcess } from './test-support/hub-process.js';

const POLICY = (after: string) => `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    escalation:
      - { after: ${after}, notify: [leads] }
    grantTtl: 10m
`;

/** Resolves once the wall clock has passed `iso`: the one thing here that has to wait for real time. */
async function until(iso: string): Promise<void> {
  while (Date.now() <= Date.parse(iso)) await new Promise((resolve) => setTimeout(resolve, Math.min(100, Date.parse(iso) - Date.now() + 1)));
}

describe('escalation in real time', () => {
  const hub = new TestHub('sqlite', { policy: POLICY('1s') });
  afterAll(() => hub.dispose());

  it('a lead receives request:escalated, approves, and the requester’s grant verifies then redeems', async () => {
    await hub.start();
    const alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    const lena = await hub.createUser('lena', ['lead'], ['leads']);
    const lenaClient = await hub.connect(lena);
    const aliceClient = await hub.connect(alice);
    const escalated = collect<EscalatedPayload>((l) => lenaClient.on('request:escalated', l));
    const aliceUpdates = collect<GreenlightRequest>((l) => aliceClient.on('request:updated', l));

    const request = await aliceClient.submit(deployRequest());
    const payload = await escalated.next((p) => p.request.id === request.id);
    expect(payload.step).toBe(1);
    expect(payload.previouslyNotified).toEqual(['sre']);

    await lenaClient.decide({ requestId: request.id, decision: 'approve', comment: 'lead approval' });
    const approved = await aliceUpdates.next((r) => r.id === request.id && r.status === 'approved');
    const token = approved.grant?.token;
    expect(token).toBeTruthy();

    const verified = await hub.api<{ valid: boolean }>('POST', '/api/v1/grants/verify', null, { token });
    expect(verified.body.valid).toBe(true);
    const redeemed = await hub.api<{ valid: boolean }>('POST', '/api/v1/grants/redeem', null, { token });
    expect(redeemed.status).toBe(200);
    const jwks = await hub.api<JSONWebKeySet>('GET', '/.well-known/jwks.json', null);
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    // What a target system does offline: check the signature against the published key, and the claims.
    const offline = await jwtVerify(token ?? '', createLocalJWKSet(jwks.body), { issuer: 'greenlight', algorithms: ['EdDSA'] });
    expect(offline.protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'JWT', kid: jwks.body.keys[0]?.kid });
    expect(offline.payload).toMatchObject({ rid: request.id, act: 'deploy', res: request.resource, env: request.environment, sub: 'alice', jti: approved.grant?.jti });
    expect(typeof offline.payload.payloadHash).toBe('string');
  });
});

describe('crash recovery', () => {
  const data = new HubDataDir(POLICY('3s'));
  const hub = new HubProcess(data.args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN });
  afterAll(async () => {
    await hub.stop();
    data.remove();
  });

  const api = async <T>(method: string, route: string, token: string, body?: unknown): Promise<T> => {
    const response = await fetch(hub.url + route, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return (await response.json()) as T;
  };
  const escalations = async (id: string) =>
    (await api<{ events: { requestId: string; at: string }[] }>('GET', '/api/v1/audit?type=request.escalated', ADMIN_TOKEN)).events.filter((e) => e.requestId === id);

  it('a deadline missed while the hub was SIGKILLed fires exactly once after restart', async () => {
    await hub.start();
    const alice = await api<{ token: string }>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'], groups: [] });
    const lena = await api<{ token: string }>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'lena', roles: ['lead'], groups: ['leads'] });
    // Someone in sre can approve, so the request waits for its escalation deadline instead of escalating at once.
    await api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'sam', roles: ['approver'], groups: ['sre'] });
    const request = await api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest());
    expect(request.nextEscalationAt).not.toBeNull();

    await hub.kill();
    await until(request.nextEscalationAt!);
    await hub.start();

    const lenaClient = new HubClient({ url: hub.url, token: lena.token, forceNew: true, transports: ['websocket'] }).connect();
    try {
      // Poll the lead's own view until the escalation shows: it was applied by the restarted hub.
      let view = await lenaClient.waitUntilReady();
      while (!view.inbox.some((r) => r.id === request.id)) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        view = await lenaClient.sync();
      }
      const events = await escalations(request.id);
      expect(events).toHaveLength(1);
      expect(events[0]!.at >= request.nextEscalationAt!).toBe(true);
    } finally {
      lenaClient.close();
    }

    // A second restart must not fire it again.
    await hub.stop();
    await hub.start();
    expect(await escalations(request.id)).toHaveLength(1);
    const chain = await api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(chain.ok).toBe(true);
  });
});
