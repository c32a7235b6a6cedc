import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest } from '../server/test-support/hub-fixture.js';
import { HubDataDir, HubProcess } from '../server/test-support/hub-process.js';
import { createTestDatabase, postgresAvailability } from '../server/test-support/postgres.js';
import { linkIn, SmtpReceiver } from '../server/test-support/smtp-receiver.js';
import { call, eventually } from './support.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: [email]
    # alice alone sends every submission of this test.
    maxPending: 1000
`;

/** Every request the hub holds, through the admin's paged list. */
async function allRequestIds(url: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { requests: GreenlightRequest[]; nextCursor: string | null } } = await call(url, 'GET', `/api/v1/requests?limit=200${cursor ? `&cursor=${cursor}` : ''}`, ADMIN_TOKEN);
    ids.push(...page.body.requests.map((request) => request.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  return ids;
}

/** The hub configuration's email section, pointed at the test's SMTP server. */
function writeConfig(dir: string, smtpPort: number): string {
  const config = path.join(dir, 'hub.yaml');
  writeFileSync(config, `notifiers:\n  email:\n    smtp: { host: 127.0.0.1, port: ${smtpPort} }\n    from: "Greenlight <greenlight@example.com>"\n`);
  return config;
}

describe('email under faults: an SMTP server that refuses, then accepts, and a hub killed mid-batch', () => {
  const smtp = new SmtpReceiver();
  const data = new HubDataDir(POLICY);
  let hub: HubProcess;

  beforeAll(async () => {
    await smtp.start();
    const config = writeConfig(data.path, smtp.port);
    hub = new HubProcess([...data.args, '--rate-limit', '1000000'], { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_CONFIG: config });
  });
  afterAll(async () => {
    await hub.kill();
    await smtp.stop();
    data.remove();
  });

  it('delivers the email of every committed submission at least once, each under one Message-ID', async () => {
    await hub.start();
    const alice = await call<{ token: string }>(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'] });
    await call(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'bob', roles: ['approver'], groups: ['sre'], email: 'bob@example.com' });
    const token = alice.body.token;
    // The first messages meet a busy server (451) and wait for their retry, five seconds on.
    smtp.refuseNext = 20;
    const TOTAL = 100;
    const acknowledged = new Set<number>();
    let killed: Promise<void> | null = null;
    let next = 0;
    const pipeline = async () => {
      for (let n = next++; n < TOTAL; n = next++) {
        for (;;) {
          if (killed) await killed;
          const reply = await call<GreenlightRequest>(hub.url, 'POST', '/api/v1/requests', token, deployRequest({ risk: 'medium', idempotencyKey: `mail-${n}`, resource: `svc-${n}` })).catch(() => null);
          if (reply?.status === 201 || reply?.status === 200) break;
        }
        acknowledged.add(n);
        if (acknowledged.size === TOTAL / 2 && !killed) {
          killed = (async () => {
            await hub.kill();
            await hub.start();
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: 10 }, pipeline));
    expect(acknowledged.size).toBe(TOTAL);

    const ids = await allRequestIds(hub.url);
    expect(ids).toHaveLength(TOTAL);
    const byRequest = await eventually(async () => {
      const seen = new Map<string, Set<string>>();
      for (const { mail } of smtp.to('bob@example.com')) {
        const id = String(mail.headers.get('x-greenlight-request') ?? '');
        seen.set(id, (seen.get(id) ?? new Set()).add(mail.messageId ?? ''));
      }
      return ids.every((id) => seen.has(id)) ? seen : undefined;
    }, { what: `an email to bob for each of the ${TOTAL} requests`, deadline: 60_000 });
    expect(smtp.refused).toBeGreaterThanOrEqual(20);
    for (const id of ids) expect(byRequest.get(id)?.size, id).toBe(1);
    expect(smtp.to('alice@example.com')).toEqual([]);
  });
});

const pg = await postgresAvailability();

describe.skipIf(!pg.ok)(`email from two hubs on one PostgreSQL database${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const smtp = new SmtpReceiver();
  const data = new HubDataDir(POLICY);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let hubs: HubProcess[] = [];

  beforeAll(async () => {
    await smtp.start();
    database = await createTestDatabase();
    const config = writeConfig(data.path, smtp.port);
    const args = ['--database-url', database.url, '--policy', data.policyFile ?? '', '--rate-limit', '1000000'];
    hubs = [0, 1].map(() => new HubProcess(args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_CONFIG: config }));
    await Promise.all(hubs.map((hub) => hub.start()));
  });
  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.stop()));
    await smtp.stop();
    await database?.drop();
    data.remove();
  });

  it('sends each message once while both hubs live, and a link mailed by one hub decides on the other', async () => {
    const [a, b] = hubs as [HubProcess, HubProcess];
    const alice = await call<{ token: string }>(a.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'] });
    await call(a.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'bob', roles: ['approver'], groups: ['sre'], email: 'bob@example.com' });
    await call(a.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'carol', roles: ['approver'], groups: ['sre'], email: 'carol@example.com' });
    const submitted = await Promise.all(
      Array.from({ length: 50 }, async (_, n) => {
        const reply = await call<GreenlightRequest>((n % 2 ? a : b).url, 'POST', '/api/v1/requests', alice.body.token, deployRequest({ risk: 'medium', resource: `svc-${n}` }));
        expect(reply.status).toBe(201);
        return reply.body.id;
      }),
    );
    const expected = submitted.length * 2;
    await eventually(async () => (smtp.received.length >= expected ? true : undefined), { what: `${expected} messages`, deadline: 60_000 });
    await eventually(async () => {
      const page = await call<{ notifications: unknown[] }>(a.url, 'GET', '/api/v1/notifications?status=pending', ADMIN_TOKEN);
      return page.body.notifications.length === 0 ? true : undefined;
    }, { what: 'an empty outbox' });
    const messageIds = smtp.received.map((received) => received.mail.messageId);
    expect(new Set(messageIds).size).toBe(messageIds.length);
    expect(messageIds).toHaveLength(expected);

    // Both hubs derive the same link keys from the database: a link of hub b's message works on hub a.
    const first = smtp.to('bob@example.com').find((received) => received.mail.headers.get('x-greenlight-request') === submitted[0]);
    expect(first).toBeDefined();
    const path = new URL(linkIn(first!.mail, 'Approve')).pathname;
    expect((await fetch(a.url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })).status).toBe(200);
    expect((await fetch(b.url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })).status).toBe(409);
  });
});
