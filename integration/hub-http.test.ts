import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HubHttp, HubHttpError, type GreenlightRequest } from '../protocol/index.js';
import { spawnHub, type SpawnedHub } from '../server/test-support/hub-process.js';
import { deployRequest } from '../server/test-support/hub-fixture.js';
import { toAck } from '../electron/ack.js';

const CI_TOKEN = { name: 'ci', scopes: ['requests:create' as const], expiresIn: '30d' };

/**
 * The one HTTP client the desktop app's main process, the web console and the CLI share, against a
 * real hub process: what it returns is parsed, and what the hub refuses arrives with the hub's code.
 */
describe('the shared HTTP client against a real hub', () => {
  let hub: SpawnedHub;
  const as = (token: string | null | undefined) => new HubHttp({ fetch: (url, init) => fetch(url, init), session: () => ({ hubUrl: hub.url, token: token ?? undefined }) });
  const admin = () => as(hub.adminToken);

  beforeAll(async () => {
    hub = await spawnHub({ args: ['--log-level', 'warn'], timeoutMs: 45_000 });
  }, 60_000);
  afterAll(() => hub?.stop());

  it('adds, lists, changes, disables and enables a user, and reports what the hub refuses with its code', async () => {
    const created = await admin().createUser({ name: 'bob', roles: ['approver'], email: 'bob@example.com' });
    expect(created).toMatchObject({ name: 'bob', roles: ['approver'], groups: [], email: 'bob@example.com', status: 'active' });
    expect(created.token).toMatch(/^glt_/);
    expect((await admin().listUsers()).map((user) => user.name).sort()).toEqual(['admin', 'bob']);

    expect(await admin().updateUser('bob', { groups: ['approvers'], email: null })).toMatchObject({ groups: ['approvers'], email: null });
    expect(await admin().disableUser('bob')).toMatchObject({ status: 'disabled' });
    expect(await admin().enableUser('bob')).toMatchObject({ status: 'active' });

    const setup = await admin().setupStatus();
    // A hub started without --policy writes its commented starter policy into the data directory and uses it.
    expect(setup.policy).toMatchObject({ source: 'file', file: expect.stringMatching(/policy\.yaml$/) });
    expect(setup.users).toEqual({ active: 2, total: 2 });

    await expect(admin().updateUser('admin', { roles: ['approver'] })).rejects.toMatchObject({ name: 'GreenlightError', code: 'LAST_ADMIN' });
    await expect(admin().createUser({ name: 'bob', roles: ['approver'] })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('reads the audit log, exports it with the hub’s file name, and reports decisions', async () => {
    const page = await admin().audit('type=user.created&limit=10');
    expect(page.events.map((event) => event.type)).toContain('user.created');
    const exported = await admin().exportAudit('type=user.created', 'csv');
    expect(exported.filename).toMatch(/^greenlight-audit-.+\.csv$/);
    // The byte order mark stays in what is saved, so a spreadsheet reads the file as UTF-8.
    const bytes = new Uint8Array(await exported.response.arrayBuffer());
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).split('\n')[0]).toBe('\uFEFFseq,at,actor,type,requestId,action,resource,environment,outcome,data,hash');
    const report = await admin().decisionReport('');
    expect(Array.isArray(report.rules)).toBe(true);
  });

  it('revokes a grant its caller holds, and the hub’s refusal of a second revoke keeps its code', async () => {
    const carol = await admin().createUser({ name: 'carol', roles: ['requester'] });
    const dave = await admin().createUser({ name: 'dave', roles: ['approver'], groups: ['approvers'] });
    const requestOf = z.object({ id: z.string() });
    const submitted = await as(carol.token).call('POST', '/api/v1/requests', requestOf, {
      body: deployRequest({ environment: 'staging' }),
    });
    const approved = await as(dave.token).call('POST', `/api/v1/requests/${submitted.data.id}/decisions`, z.object({ status: z.string() }), { body: { decision: 'approve' } });
    expect(approved.data.status).toBe('approved');
    const mine = await as(carol.token).call('GET', `/api/v1/requests/${submitted.data.id}`, z.object({ grant: z.object({ jti: z.string() }).nullable() }));
    const jti = mine.data.grant?.jti ?? '';
    const revoked: GreenlightRequest = await as(carol.token).revokeGrant(jti);
    expect(revoked.grant?.status).toBe('revoked');
    await expect(as(carol.token).revokeGrant(jti)).rejects.toMatchObject({ name: 'GreenlightError', code: 'CONFLICT' });
  });

  it('a missing or unknown token is UNAUTHENTICATED, a non-admin FORBIDDEN', async () => {
    await expect(as(undefined).listUsers()).rejects.toMatchObject({ code: 'UNAUTHENTICATED', failure: { kind: 'refused' } });
    await expect(as('glt_not-a-real-token-000000000').listUsers()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const erin = await admin().createUser({ name: 'erin', roles: ['requester'] });
    await expect(as(erin.token).audit('')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('an answer that is not the shape asked for is refused as one this client does not understand', async () => {
    const error = await admin()
      .call('GET', '/api/v1/users', z.object({ people: z.array(z.string()) }))
      .then(() => null, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(HubHttpError);
    expect(error).toMatchObject({ code: 'INTERNAL', failure: { kind: 'bad-answer' } });
    expect((error as Error).message).toMatch(/people/);
  });
});

describe('the shared HTTP client where no hub answers', () => {
  let other: Server;
  let otherUrl = '';
  beforeAll(async () => {
    // Something that is not a Greenlight hub: a server answering plain-text errors, as a proxy does.
    other = createServer((request, response) => {
      response.statusCode = request.url?.startsWith('/api/v1/users') ? 502 : 404;
      response.end('<html>nothing here</html>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => other.close(() => resolve())));

  const at = (hubUrl: string) => new HubHttp({ fetch: (url, init) => fetch(url, init), session: () => ({ hubUrl, token: 'glt_x' }) });

  it('a closed port is UNAVAILABLE and says it cannot reach the hub', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(at(url).setupStatus()).rejects.toMatchObject({ code: 'UNAVAILABLE', failure: { kind: 'unreachable' }, message: expect.stringMatching(/^Cannot reach the hub at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/) });
    // Nothing left: the desktop app's IPC carries that on, so the console may say "not sent".
    expect(await toAck(() => at(url).createToken(CI_TOKEN))).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String), noAnswer: true, neverSent: true } });
  });

  it('a connection reset after the request body went out is no answer, but not "never sent": the hub may have acted on it', async () => {
    const bodiesRead: string[] = [];
    // A proxy that reads the whole request, then drops the connection without answering.
    const resetting: TcpServer = createTcpServer((socket) => {
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
        const headerEnd = received.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(received)?.[1] ?? 0);
        if (headerEnd >= 0 && Buffer.byteLength(received.slice(headerEnd + 4)) >= length) {
          bodiesRead.push(received.slice(headerEnd + 4));
          socket.resetAndDestroy();
        }
      });
    });
    await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(resetting.address() as AddressInfo).port}`;
      const error = await at(url).createToken(CI_TOKEN).then(() => null, (thrown: unknown) => thrown);
      expect(bodiesRead).toEqual([JSON.stringify(CI_TOKEN)]);
      expect(error).toMatchObject({ code: 'UNAVAILABLE', failure: { kind: 'unreachable', neverSent: false }, noAnswer: true, neverSent: false });
      // Across the desktop app's IPC too: no answer, and nothing claims it was not sent.
      expect(await toAck(() => at(url).createToken(CI_TOKEN))).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String), noAnswer: true } });
    } finally {
      await new Promise<void>((resolve) => resetting.close(() => resolve()));
    }
  });

  it('a 502 from something in front of the hub is UNAVAILABLE; another error without a Greenlight body names the status', async () => {
    await expect(at(otherUrl).listUsers()).rejects.toMatchObject({ code: 'UNAVAILABLE', failure: { kind: 'unavailable', status: 502 } });
    await expect(at(otherUrl).setupStatus()).rejects.toMatchObject({ code: 'INTERNAL', failure: { kind: 'not-greenlight', status: 404 } });
  });
});
