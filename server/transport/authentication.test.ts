import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wireErrorSchema } from '../../protocol/index.js';
import { ADMIN_TOKEN, TestHub } from '../test-support/hub-fixture.js';

const hub = new TestHub();
let port = 0;
beforeAll(async () => {
  await hub.start();
  port = Number(new URL(hub.url).port);
});
afterAll(() => hub.dispose());

interface RawAnswer {
  status: number;
  code: string;
  /** Whether the socket still had body bytes owed to the hub when the answer came. */
  bodyStillOwed: boolean;
}

/**
 * Sends a request's head and the first part of its body, and holds the rest back until an answer
 * arrives: an answer that comes first was given without the body having been read, let alone parsed.
 */
function sendHeadAndPartOfBody(headers: string[], declaredLength: number, firstPart: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n${[...headers, 'Content-Type: application/json', `Content-Length: ${declaredLength}`].join('\r\n')}\r\n\r\n${firstPart}`);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const bodyStart = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (bodyStart < 0 || length === undefined || Buffer.byteLength(text.slice(bodyStart + 4)) < Number(length)) return;
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const body: unknown = JSON.parse(text.slice(bodyStart + 4));
      const code = wireErrorSchema.parse((body as { error: unknown }).error).code;
      resolve({ status, code, bodyStillOwed: Buffer.byteLength(firstPart) < declaredLength });
    });
    socket.on('error', reject);
  });
}

async function post(token: string | null, body: string): Promise<{ status: number; code: string }> {
  const response = await fetch(`${hub.url}/api/v1/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const parsed = (await response.json()) as { error: unknown };
  return { status: response.status, code: wireErrorSchema.parse(parsed.error).code };
}

describe('authentication comes before the body', () => {
  it('a malformed JSON body without a token is answered 401, not a parse error', async () => {
    expect(await post(null, '{"reason": not json')).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('a malformed JSON body with an unknown token is answered 401 too', async () => {
    expect(await post('glt_made-up-token-000000000000', '{"reason": not json')).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it('the same malformed body with a valid token is parsed, and refused as invalid input', async () => {
    expect(await post(ADMIN_TOKEN, '{"reason": not json')).toEqual({ status: 400, code: 'INVALID_INPUT' });
  });

  it('a body declared larger than the limit, without a token, is answered 401 before any of it is read', async () => {
    const answer = await sendHeadAndPartOfBody([], 50 * 1024 * 1024, '{"reason": "');
    expect(answer).toEqual({ status: 401, code: 'UNAUTHENTICATED', bodyStillOwed: true });
  });

  it('a body the client has not finished sending, with an unknown token, is answered 401 without waiting for it', async () => {
    const answer = await sendHeadAndPartOfBody(['Authorization: Bearer glt_made-up-token-111111111111'], 4096, '{"reason": "half a bo');
    expect(answer).toEqual({ status: 401, code: 'UNAUTHENTICATED', bodyStillOwed: true });
  });

  it('with a valid token, a body declared larger than the limit is still refused as too large', async () => {
    const answer = await sendHeadAndPartOfBody([`Authorization: Bearer ${ADMIN_TOKEN}`], 50 * 1024 * 1024, '{"reason": "');
    expect(answer).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE', bodyStillOwed: true });
  });
});

describe('public endpoints need no token', () => {
  it('health, the signing key and grant verification answer without one', async () => {
    expect((await hub.api('GET', '/healthz', null)).status).toBe(200);
    expect((await hub.api<{ keys: unknown[] }>('GET', '/.well-known/jwks.json', null)).body.keys).toHaveLength(1);
    const verified = await hub.api<{ valid: boolean }>('POST', '/api/v1/grants/verify', null, { token: 'not-a-grant' });
    expect(verified.status).toBe(200);
    expect(verified.body.valid).toBe(false);
  });

  it('revoking a grant is not public', async () => {
    const answer = await hub.api<{ error: { code: string } }>('POST', '/api/v1/grants/some-grant/revoke', null);
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('UNAUTHENTICATED');
  });
});
