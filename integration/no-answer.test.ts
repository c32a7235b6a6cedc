import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GreenlightError, HubClient, HubHttp } from '../protocol/index.js';
import { signInWithBrowser } from '../electron/oidc-loopback.js';
import { TestHub } from '../server/test-support/hub-fixture.js';
import { postgresAvailability } from '../server/test-support/postgres.js';
import { hubsWithProxiedDatabase } from '../server/test-support/proxied-hubs.js';
import { deployRequest } from '../server/test-support/hub-fixture.js';

/**
 * "Nothing answered" is a mark the clients set themselves (`noAnswer`), so the app and the CLI tell an
 * unreachable hub from one that answered "unavailable" without reading either sentence.
 */
const pg = await postgresAvailability();

const httpAt = (hubUrl: string, token: string) => new HubHttp({ fetch: (url, init) => fetch(url, init), session: () => ({ hubUrl, token }) });
const clients: HubClient[] = [];
const socketAt = (url: string, token: string) => {
  const client = new HubClient({ url, token, forceNew: true, transports: ['websocket'], reconnectionDelayMs: 50, reconnectionDelayMaxMs: 100 });
  clients.push(client);
  return client;
};
afterAll(() => clients.forEach((client) => client.close()));

/** Why a promise failed, as the caller would catch it. */
const failureOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => null, (error: unknown) => error);

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

describe('a closed port: nothing answered', () => {
  it('the HTTP client, the socket client and the desktop single sign-on all mark it, and the mark crosses the wire', async () => {
    const url = await closedPortUrl();

    const http = await failureOf(httpAt(url, 'glt_x').setupStatus());
    expect(http).toMatchObject({ code: 'UNAVAILABLE', noAnswer: true });
    expect((http as GreenlightError).toWire()).toMatchObject({ code: 'UNAVAILABLE', noAnswer: true });

    const socket = await failureOf(socketAt(url, 'glt_x').connect().waitUntilReady(10_000));
    expect(socket).toMatchObject({ code: 'UNAVAILABLE', noAnswer: true });
    expect((socket as GreenlightError).toWire()).toMatchObject({ noAnswer: true });

    const browser = await failureOf(signInWithBrowser({ hubUrl: url, openExternal: async () => undefined }));
    expect(browser).toMatchObject({ code: 'UNAVAILABLE', noAnswer: true });
  });
});

describe('a real hub that refuses', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await new TestHub('sqlite').start();
  });
  afterAll(() => hub?.dispose());

  it('refuses an unknown token over HTTP and over the socket, and neither is marked as unanswered', async () => {
    const http = await failureOf(httpAt(hub.url, 'glt_not-a-real-token-000000000').listUsers());
    expect(http).toMatchObject({ code: 'UNAUTHENTICATED', noAnswer: false });
    expect((http as GreenlightError).toWire()).not.toHaveProperty('noAnswer');

    const socket = await failureOf(socketAt(hub.url, 'glt_not-a-real-token-000000000').connect().waitUntilReady(10_000));
    expect(socket).toMatchObject({ code: 'UNAUTHENTICATED', noAnswer: false });
  });
});

describe.skipIf(!pg.ok)(`a real hub without its database answers UNAVAILABLE, which is not "nothing answered"${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const { proxy, hubA, users } = hubsWithProxiedDatabase();

  it('its 503 over HTTP and its refused handshake carry the hub’s reason and no mark', async () => {
    proxy.cut();
    try {
      const http = await failureOf(httpAt(hubA.url, users.alice.token).call('POST', '/api/v1/requests', z.unknown(), { body: deployRequest() }));
      expect(http).toMatchObject({ code: 'UNAVAILABLE', noAnswer: false, message: expect.stringContaining('nothing was stored') });
      expect((http as GreenlightError).toWire()).not.toHaveProperty('noAnswer');

      const socket = await failureOf(socketAt(hubA.url, users.alice.token).connect().waitUntilReady(10_000));
      expect(socket).toMatchObject({ code: 'UNAVAILABLE', noAnswer: false });
    } finally {
      proxy.restore();
    }
  });
});
