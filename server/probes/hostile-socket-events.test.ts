import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../protocol/index.js';
import { deployRequest } from '../test-support/hub-fixture.js';
import { hostileHub, REASON } from './hostile-hub.js';

/**
 * The outside review's probe, on the socket: handshakes with tokens that are not tokens, and every
 * event with payloads of the wrong shape. Each refusal must come with its stable code and a
 * message, and leave nothing behind and the connection working.
 */

describe('hostile input: every refusal has its code, nothing half-written, nothing allowed that policy did not', () => {
  const { hub, fingerprint, alice, api } = hostileHub();

  describe('socket handshakes', () => {
    const handshake = (auth: unknown) =>
      new Promise<{ code?: string; message?: string }>((resolve, reject) => {
        const socket = io(hub.url, { auth: auth as Record<string, unknown>, forceNew: true, transports: ['websocket'], reconnection: false });
        const timer = setTimeout(() => {
          socket.close();
          reject(new Error('no answer to the handshake'));
        }, 5_000);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.close();
          resolve({});
        });
        socket.once('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
          clearTimeout(timer);
          socket.close();
          resolve(error.data ?? { message: error.message });
        });
      });

    it('tokens of the wrong type or size are refused as UNAUTHENTICATED', async () => {
      for (const auth of [{}, { token: 42 }, { token: ['x'] }, { token: { toString: 'x' } }, { token: '' }, { token: 'x'.repeat(100_000) }, { token: `${alice.token}\u0000` }]) {
        expect(await handshake(auth), JSON.stringify(auth).slice(0, 60)).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.any(String) });
      }
    });
  });

  describe('socket events', () => {
    let socket: Socket;
    beforeAll(async () => {
      socket = io(hub.url, { auth: { token: alice.token }, forceNew: true, transports: ['websocket'] });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
    });
    afterAll(() => {
      socket?.close();
    });

    const emit = (event: string, ...payload: unknown[]) =>
      new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${event}: no answer`)), 5_000);
        socket.emit(event, ...payload, (answer: unknown) => {
          clearTimeout(timer);
          resolve(answer);
        });
      });
    const ackRefused = async (event: string, payload: unknown[], code: string) => {
      const before = await fingerprint();
      const answer = await emit(event, ...payload);
      expect(answer, `${event} ${JSON.stringify(payload).slice(0, 200)}`).toMatchObject({ error: { code, message: expect.any(String) } });
      expect(await fingerprint()).toEqual(before);
    };

    it('every event: payloads of the wrong shape are INVALID_INPUT', async () => {
      const events = ['request:submit', 'request:decide', 'request:cancel', 'request:review', 'request:claim', 'request:release', 'request:get'];
      for (const event of events) {
        for (const payload of [null, 42, 'text', true, [], [{ requestId: 'req_1' }], { requestId: 42 }, { requestId: '../x' }, { requestId: 'x'.repeat(65) }, { requestId: { $gt: '' } }]) {
          await ackRefused(event, [payload], 'INVALID_INPUT');
        }
      }
      await ackRefused('requests:sync', [{ everything: true }], 'INVALID_INPUT');
      await ackRefused('requests:sync', [[]], 'INVALID_INPUT');
    });

    it('submit over the socket checks the same as over HTTP', async () => {
      await ackRefused('request:submit', [deployRequest({ requestedTtlSeconds: -5 })], 'INVALID_INPUT');
      await ackRefused('request:submit', [deployRequest({ notBefore: '0000-01-01T00:00:00Z' })], 'INVALID_INPUT');
      await ackRefused('request:submit', [deployRequest({ resource: 'pаyments-api' })], 'INVALID_INPUT');
      await ackRefused('request:submit', [deployRequest({ action: 'drop-database' })], 'NO_POLICY');
      await ackRefused('request:submit', [deployRequest({ reason: REASON, breakGlass: { incident: 'INC-1' } })], 'BREAK_GLASS_FORBIDDEN');
      await ackRefused('request:decide', [{ requestId: 'req_000000000000', decision: 'approve' }], 'NOT_FOUND');
    });

    it('extra arguments, an unknown event and an event without an ack leave the connection working', async () => {
      await ackRefused('request:get', [{ requestId: 'req_000000000000' }, 'extra', { more: true }], 'NOT_FOUND');
      socket.emit('request:nothing', { requestId: 'x' });
      socket.emit('request:submit', deployRequest({ reason: 'no ack, still checked' , risk: 'extreme' }));
      socket.emit('constructor', {});
      socket.emit('__proto__', {});
      expect(await emit('requests:sync')).toMatchObject({ data: { me: { name: 'alice' } } });
    });
  });

  describe('socket messages at and over the size limit', () => {
    /** A submission whose JSON is `bytes` long, all ASCII: its reason is far over its own limit. */
    const submissionOf = (bytes: number) => {
      const base = JSON.stringify(deployRequest({ reason: '' })).length;
      const body = deployRequest({ reason: 'x'.repeat(bytes - base) });
      expect(JSON.stringify(body).length).toBe(bytes);
      return body;
    };
    /** Sends one submission on a connection of its own: the ack, or how the connection closed. */
    const sendAlone = async (body: unknown) => {
      const socket = io(hub.url, { auth: { token: alice.token }, forceNew: true, transports: ['websocket'], reconnection: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      try {
        return await new Promise<{ ack: unknown } | { closed: string; code?: unknown }>((resolve) => {
          socket.once('disconnect', (reason, description) => {
            const context = description && 'context' in description ? (description.context as { code?: unknown } | undefined) : undefined;
            resolve({ closed: reason, code: context?.code });
          });
          socket.emit('request:submit', body, (ack: unknown) => resolve({ ack }));
        });
      } finally {
        socket.close();
      }
    };

    it('a message HTTP would take whole is answered over the socket too, with the code HTTP answers', async () => {
      const body = submissionOf(LIMITS.bodyBytes);
      const before = await fingerprint();
      const overHttp = await api('POST', '/api/v1/requests', alice.token, body);
      expect(overHttp).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT' } } });
      expect(await sendAlone(body)).toEqual({ ack: { error: { code: 'INVALID_INPUT', message: expect.stringMatching(/^Invalid request: reason: /) } } });
      expect(await fingerprint()).toEqual(before);
    });

    it('a message over the limit closes the connection as too big (WebSocket 1009), the signal clients read as PAYLOAD_TOO_LARGE', async () => {
      const body = submissionOf(LIMITS.bodyBytes + 64 * 1024);
      const before = await fingerprint();
      expect(await api('POST', '/api/v1/requests', alice.token, body)).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
      expect(await sendAlone(body)).toEqual({ closed: 'transport close', code: 1009 });
      expect(await fingerprint()).toEqual(before);
    });
  });
});
