import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_EVENTS } from '../protocol/index.js';
import { TestHub, type TestUser } from './test-support/hub-fixture.js';

/** Emits with an ack and nothing else, as a buggy or hostile client might, and waits for the answer. */
function emitAckOnly(socket: Socket, event: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${event}: no answer to the ack`)), 5_000);
    socket.emit(event, (answer: unknown) => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

describe('socket events sent with an ack but no payload', () => {
  const hub = new TestHub('sqlite');
  let alice: TestUser;
  let socket: Socket;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    socket = io(hub.url, { auth: { token: alice.token }, forceNew: true, transports: ['websocket'] });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  });
  afterAll(async () => {
    socket?.close();
    await hub.dispose();
  });

  it.each(CLIENT_EVENTS.filter((event) => event !== 'requests:sync'))('%s is answered with INVALID_INPUT naming what is missing', async (event) => {
    const answer = await emitAckOnly(socket, event);
    expect(answer).toMatchObject({ error: { code: 'INVALID_INPUT', message: expect.any(String) } });
  });

  it('requests:sync needs no payload and answers with the sync', async () => {
    expect(await emitAckOnly(socket, 'requests:sync')).toMatchObject({ data: { me: { name: 'alice' } } });
  });
});
