import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { LIMITS } from '../protocol/index.js';
import { capturedLog } from './test-support/captured-log.js';
import { deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

describe('a socket message over the size limit', () => {
  const log = capturedLog<{ level: number; msg: string; user?: string; limitBytes?: number }>();
  const hub = new TestHub('sqlite', { logger: log.logger });
  let alice: TestUser;
  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
  });
  afterAll(() => hub.dispose());

  it('closes that connection, and the admin reads why and whose it was as a warning, not an error', async () => {
    const socket = io(hub.url, { auth: { token: alice.token }, forceNew: true, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const closed = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    socket.emit('request:submit', deployRequest({ context: { diff: 'x'.repeat(LIMITS.bodyBytes + 64 * 1024) } }));
    expect(await closed).toBe('transport close');
    socket.close();
    // The hub hears of the close a moment after the client does.
    await expect.poll(() => log.warnings().filter((line) => line.msg === 'closed a connection whose message was over the size limit')).toEqual([
      expect.objectContaining({ user: 'alice', limitBytes: expect.any(Number) }),
    ]);
    expect(log.lines().filter((line) => line.level >= 50)).toEqual([]);
  });

  it('lets a HubClient send a message right at its size limit: the hub answers it, so what the hub says it takes leaves room for the envelope', async () => {
    const client = await hub.connect(alice);
    const drops: string[] = [];
    client.onState((state) => drops.push(state));
    // Padded so its JSON is exactly the limit: too long a reason to be valid, but the hub reads it whole.
    const request = deployRequest({ reason: '' });
    const padding = LIMITS.bodyBytes - Buffer.byteLength(JSON.stringify(request));
    const atTheLimit = { ...request, reason: 'x'.repeat(padding) };
    expect(Buffer.byteLength(JSON.stringify(atTheLimit))).toBe(LIMITS.bodyBytes);
    await expect(client.submit(atTheLimit)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(client.submit({ ...request, reason: 'x'.repeat(padding + 1) })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('nothing was sent') });
    expect(drops).toEqual([]);
    expect(client.state).toBe('connected');
  });
});
