import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncResult } from '../protocol/index.js';
import { WebBridge } from '../renderer/src/bridge/web-bridge.js';
import type { BridgeEvent } from '../renderer/src/bridge/bridge.js';
import { eventually } from '../server/test-support/eventually.js';
import { deployRequest, TestHub, type TestUser } from '../server/test-support/hub-fixture.js';
import { TcpProxy } from '../server/test-support/tcp-proxy.js';
import { memoryStorage } from '../renderer/src/bridge/memory-storage.js';

/** The page's window as far as the bridge uses it, counting who listens for `online`. */
class Network extends EventTarget {
  listeners = 0;
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    if (args[0] === 'online') this.listeners++;
    super.addEventListener(...args);
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    if (args[0] === 'online') this.listeners--;
    super.removeEventListener(...args);
  }
}

/**
 * The web console's bridge against a real hub, through a relay that can strand its connection: the
 * browser's `online` event (a laptop back from sleep, a network back) makes it reconnect at once,
 * where a dead connection would otherwise pass for live until the heartbeat notices (45 s).
 */
describe('the web console when the browser says the network is back', () => {
  const hub = new TestHub('sqlite');
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['approvers']);
  });
  afterAll(() => hub.dispose());

  it('reconnects and brings in what arrived while its connection was dead', async () => {
    const proxy = await new TcpProxy(Number(new URL(hub.url).port)).start();
    const network = new Network();
    const bridge = new WebBridge(memoryStorage(), network);
    const syncs: SyncResult[] = [];
    bridge.subscribe((event: BridgeEvent) => {
      if (event.type === 'sync') syncs.push(event.result);
    });
    try {
      await bridge.signIn(proxy.url, bob.token);
      proxy.strandOpenConnections();
      const submitted = await hub.api<{ id: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'arrived while offline' }));

      network.dispatchEvent(new Event('online'));

      const synced = await eventually(() => syncs.find((result) => result.inbox.some((request) => request.id === submitted.body.id)), {
        what: 'a sync holding the request',
        deadline: 10_000,
      });
      expect(synced.me.name).toBe('bob');
      expect(network.listeners).toBe(1);

      await bridge.signOut();
      expect(network.listeners).toBe(0);
    } finally {
      await bridge.signOut();
      await proxy.close();
    }
  });
});
