import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient, type ConnectionState } from '../protocol/index.js';
import { freePort } from './test-support/hub-process.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

describe('a client across a hub restart and a disabled account', () => {
  let hub: TestHub;
  let bob: TestUser;
  let alice: TestUser;
  const clients: HubClient[] = [];
  const connect = async (user: TestUser) => {
    const client = new HubClient({ url: hub.url, token: user.token, forceNew: true, transports: ['websocket'], reconnectionDelayMs: 100, reconnectionDelayMaxMs: 300 });
    clients.push(client);
    client.connect();
    await client.waitUntilReady();
    return client;
  };

  beforeAll(async () => {
    hub = new TestHub('sqlite', { port: await freePort() });
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['approvers']);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await hub.dispose();
  });

  it('reconnects by itself after the hub stops and starts again, instead of being signed out', async () => {
    const client = await connect(bob);
    const states = collect<ConnectionState>((listener) => client.onState(listener));

    await hub.stop();
    await states.next((state) => state === 'reconnecting', 15_000);
    await hub.start();
    const submitted = await hub.api<{ id: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'after the restart' }));
    await states.next((state) => state === 'connected', 15_000);
    const inbox = (await client.sync()).inbox.map((request) => request.id);

    expect(states.items).not.toContain('unauthorized');
    expect(client.error).toBeNull();
    expect(inbox).toContain(submitted.body.id);
  });

  it('is signed out, and told why, when its account is disabled', async () => {
    const client = await connect(bob);
    const states = collect<ConnectionState>((listener) => client.onState(listener));
    await hub.api('POST', '/api/v1/users/bob/disable', ADMIN_TOKEN);
    await states.next((state) => state === 'unauthorized', 15_000);
    expect(client.error?.code).toBe('UNAUTHENTICATED');
    expect(client.error?.message).toMatch(/account may have been disabled/);
  });
});
