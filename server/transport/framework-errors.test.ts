import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wireErrorSchema } from '../../protocol/index.js';
import { ADMIN_TOKEN, TestHub } from '../test-support/hub-fixture.js';

/** What a client would put where it shouldn't: it must never come back in an answer. */
const SECRET = 'glt_s3cr3t-do-not-echo';

const hub = new TestHub();
let port = 0;
beforeAll(async () => {
  await hub.start();
  port = Number(new URL(hub.url).port);
});
afterAll(() => hub.dispose());

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

/** Sends bytes as they are (fetch would refuse or fix most of these) and reads the answer until the hub closes or it is complete. */
function raw(request: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    const finish = () => {
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, headers: head, body: rest.join('\r\n\r\n') });
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      const bodyStart = text.indexOf('\r\n\r\n');
      if (length !== undefined && bodyStart >= 0 && Buffer.byteLength(text.slice(bodyStart + 4), 'latin1') >= Number(length)) {
        socket.destroy();
        finish();
      }
    });
    socket.on('end', finish);
    socket.on('error', reject);
  });
}

const request = (line: string, headers: string[] = [], body = '') =>
  raw(`${line}\r\nHost: 127.0.0.1\r\n${[...headers, `Content-Length: ${Buffer.byteLength(body)}`].join('\r\n')}\r\nConnection: close\r\n\r\n${body}`);

function expectWireError(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status, answer.headers).toBe(status);
  expect(answer.headers.toLowerCase()).toContain('content-type: application/json');
  const parsed: unknown = JSON.parse(answer.body);
  expect(Object.keys(parsed as object)).toEqual(['error']);
  const error = wireErrorSchema.strict().parse((parsed as { error: unknown }).error);
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(10);
  expect(answer.body).not.toContain(SECRET);
  expect(answer.body).not.toContain('FST_');
}

describe("errors fastify and Node raise answer in the hub's shape, echoing nothing", () => {
  it('a malformed percent-encoding in the URL', async () => {
    expectWireError(await request(`GET /api/v1/requests/${SECRET}%zz HTTP/1.1`), 400, 'INVALID_INPUT');
  });

  it('a path parameter longer than any id', async () => {
    expectWireError(await request(`GET /api/v1/requests/${SECRET}${'x'.repeat(300)} HTTP/1.1`), 404, 'NOT_FOUND');
  });

  it('headers over the size limit', async () => {
    expectWireError(await request('GET /healthz HTTP/1.1', [`X-Padding: ${SECRET}${'p'.repeat(20_000)}`]), 431, 'INVALID_INPUT');
  });

  it('a request line that is not HTTP', async () => {
    expectWireError(await raw(`${SECRET} nonsense\r\n\r\n`), 400, 'INVALID_INPUT');
  });

  it('an unsupported media type', async () => {
    const answer = await request('POST /api/v1/requests HTTP/1.1', [`Authorization: Bearer ${ADMIN_TOKEN}`, 'Content-Type: application/xml'], `<reason>${SECRET}</reason>`);
    expectWireError(answer, 400, 'INVALID_INPUT');
  });

  it('malformed JSON', async () => {
    const answer = await request('POST /api/v1/requests HTTP/1.1', [`Authorization: Bearer ${ADMIN_TOKEN}`, 'Content-Type: application/json'], `{"reason": ${SECRET}}`);
    expectWireError(answer, 400, 'INVALID_INPUT');
    expect(answer.body).toContain('not valid JSON');
  });

  it('well-formed JSON with a key that could reach Object.prototype, saying which key', async () => {
    const answer = await request('POST /api/v1/requests HTTP/1.1', [`Authorization: Bearer ${ADMIN_TOKEN}`, 'Content-Type: application/json'], `{"__proto__": {"admin": true}, "reason": "${SECRET}"}`);
    expectWireError(answer, 400, 'INVALID_INPUT');
    expect(answer.body).toContain('has a \\"__proto__\\" or \\"constructor.prototype\\" key');
  });

  it('an empty JSON body, said as such rather than as broken JSON', async () => {
    for (const body of [undefined, '  \r\n']) {
      const answer = await request('POST /api/v1/requests HTTP/1.1', [`Authorization: Bearer ${ADMIN_TOKEN}`, 'Content-Type: application/json'], body);
      expectWireError(answer, 400, 'INVALID_INPUT');
      expect(answer.body).toContain('The body is empty, but Content-Type says JSON: send a JSON object, or no Content-Type.');
    }
  });

  it('a route that does not exist, with a secret in its path and query', async () => {
    const answer = await request(`GET /api/v1/${SECRET}?token=${SECRET} HTTP/1.1`);
    expectWireError(answer, 404, 'NOT_FOUND');
  });

  it('a method the route does not take', async () => {
    expectWireError(await request('DELETE /api/v1/requests HTTP/1.1'), 404, 'NOT_FOUND');
  });

  it('a body over the limit', async () => {
    const answer = await raw(`POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${9 * 1024 * 1024}\r\nConnection: close\r\n\r\n{}`);
    expectWireError(answer, 413, 'PAYLOAD_TOO_LARGE');
  });
});
