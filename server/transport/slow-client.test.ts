import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../test-support/hub-fixture.js';

describe('a client that trickles its request', () => {
  const hub = new TestHub('sqlite', { requestTimeoutMs: 1_000 });
  beforeAll(() => hub.start());
  afterAll(() => hub.dispose());

  it('is answered 408 and its connection closed once the request timeout passes, instead of holding it forever', async () => {
    const { hostname, port } = new URL(hub.url);
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Headers promise a body of 100 bytes; only a few ever come.
    socket.write('POST /api/v1/grants/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"tok');
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    // The hub still serves everyone else.
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
  });
});
