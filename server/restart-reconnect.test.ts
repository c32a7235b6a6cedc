import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient, type ConnectionState } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const until = (client: HubClient, wanted: ConnectionState, timeoutMs = 15_000) =>
  new Promise<void>((resolve, reject) => {
    if (client.state === wanted) return resolve();
    const timer = setTimeout(() => reject(new Error(`still ${client.state}, wanted ${wanted}`)), timeoutMs);
    const stop = client.onState((state) => {
      if (state !== wanted) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });

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
    const states: ConnectionState[] = [];
    client.onState((state) => states.push(state));

    await hub.stop();
    await until(client, 'reconnecting');
    const submitted = await (async () => {
      await hub.start();
      return hub.api<{ id: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'after the restart' }));
    })();
    await until(client, 'connected');
    const inbox = (await client.sync()).inbox.map((request) => request.id);

    expect(states).not.toContain('unauthorized');
    expect(client.error).toBeNull();
    expect(inbox).toContain(submitted.body.id);
  });

  it('is signed out, and told why, when its account is disabled', async () => {
    const client = await connect(bob);
    await hub.api('POST', '/api/v1/users/bob/disable', ADMIN_TOKEN);
    await until(client, 'unauthorized');
    expect(client.error?.code).toBe('UNAUTHENTICATED');
    expect(client.error?.message).toMatch(/account may have been disabled/);
  });
});
