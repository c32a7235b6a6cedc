import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CliHttp } from './http.js';
import type { Io } from './output.js';
import { redeemOnce } from './redeem-retry.js';

const claims = { jti: 'gnt_1', requestId: 'req_1', requester: 'dev', action: 'deploy', resource: 'web', environment: 'staging', payloadHash: 'h', notBefore: '2026-12-08T09:00:00.000Z', expiresAt: '2026-12-08T10:00:00.000Z' };

describe('grant redeem against a hub from before redemption keys (a stand-in answering as that hub did)', () => {
  const bodies: Record<string, unknown>[] = [];
  const olderHub = createServer((incoming, outgoing) => {
    let text = '';
    incoming.on('data', (chunk: Buffer) => (text += chunk.toString()));
    incoming.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      bodies.push(body);
      outgoing.setHeader('content-type', 'application/json');
      if ('redemptionKey' in body) {
        outgoing.statusCode = 400;
        outgoing.end(JSON.stringify({ error: { code: 'INVALID_INPUT', message: 'Invalid grant: body: Unrecognized key: "redemptionKey"' } }));
      } else outgoing.end(JSON.stringify({ valid: true, grant: claims }));
    });
  });
  afterAll(() => new Promise((resolve) => olderHub.close(resolve)));

  it('redeems without the key, once, and says a lost answer cannot be retried safely there', async () => {
    await new Promise<void>((resolve) => olderHub.listen(0, '127.0.0.1', resolve));
    let notes = '';
    const stderr = new PassThrough();
    stderr.on('data', (chunk: Buffer) => (notes += chunk.toString()));
    const io: Io = { stdout: new PassThrough(), stderr, env: {} };
    const http = new CliHttp(`http://127.0.0.1:${(olderHub.address() as AddressInfo).port}`, undefined);
    const { data } = await redeemOnce(http, 'eyJ.a.b', { io, sleep: async () => undefined });
    expect(data).toMatchObject({ valid: true, grant: { jti: 'gnt_1' } });
    expect(bodies).toEqual([{ token: 'eyJ.a.b', redemptionKey: expect.stringMatching(/^cli-/) }, { token: 'eyJ.a.b' }]);
    expect(notes).toContain('this hub is older and takes no redemption key');
  });
});
