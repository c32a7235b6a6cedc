import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { GreenlightRequest } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod-deploys
    match: { action: deploy, environment: production }
    approvers: [sre]
`;

/** A raw socket recording the ids of the requests pushed to it. */
async function listen(url: string, token: string): Promise<{ socket: Socket; heard: Set<string>; settled: () => Promise<void> }> {
  const socket = io(url, { auth: { token }, forceNew: true, transports: ['websocket'], reconnection: false });
  const heard = new Set<string>();
  for (const event of ['request:created', 'request:updated']) socket.on(event, (request: GreenlightRequest) => heard.add(request.id));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  // An acknowledged call on the same socket: anything pushed to it before has arrived by its answer.
  const settled = async () => void (await socket.timeout(10_000).emitWithAck('requests:sync', {}));
  return { socket, heard, settled };
}

// A socket hears the approvers' view of a request only if its user could read that request over HTTP.
describe('what a socket hears of requests in its user’s groups', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  const sockets: Socket[] = [];
  let alice: TestUser, bob: TestUser, mallory: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    // In the approvers' group, but a requester only: decides nothing, so reads nothing of others'.
    mallory = await hub.createUser('mallory', ['requester'], ['sre']);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await hub.dispose();
  });

  it('an approver hears a new request; a requester in the group, a service user in it and a token without requests:read do not', async () => {
    expect((await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'deploy-bot', roles: ['requester'], groups: ['sre'], service: true })).status).toBe(201);
    const bot = await hub.api<{ token: string }>('POST', '/api/v1/tokens', ADMIN_TOKEN, { name: 'pipeline', scopes: ['requests:create', 'requests:read'], expiresIn: '1h', user: 'deploy-bot' });
    expect(bot.status).toBe(201);
    const verifyOnly = await hub.api<{ token: string }>('POST', '/api/v1/tokens', bob.token, { name: 'verifier', scopes: ['grants:verify'], expiresIn: '1h' });
    expect(verifyOnly.status).toBe(201);
    const listeners = {
      bob: await listen(hub.url, bob.token),
      mallory: await listen(hub.url, mallory.token),
      bot: await listen(hub.url, bot.body.token),
      verifier: await listen(hub.url, verifyOnly.body.token),
    };
    sockets.push(...Object.values(listeners).map((listener) => listener.socket));

    const created = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest());
    expect(created.status).toBe(201);
    await hub.api('POST', `/api/v1/requests/${created.body.id}/claim`, bob.token);
    for (const listener of Object.values(listeners)) await listener.settled();

    expect(listeners.bob.heard.has(created.body.id)).toBe(true);
    for (const [who, listener] of Object.entries(listeners).filter(([name]) => name !== 'bob')) {
      expect(listener.heard.has(created.body.id), who).toBe(false);
    }
    // Over HTTP the three are refused the same request.
    for (const token of [mallory.token, bot.body.token, verifyOnly.body.token]) {
      expect((await hub.api('GET', `/api/v1/requests/${created.body.id}`, token)).status).toBe(403);
    }
  });
});
