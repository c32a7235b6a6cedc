import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest } from '../server/test-support/hub-fixture.js';
import { HubDataDir, HubProcess } from '../server/test-support/hub-process.js';
import { SmtpReceiver } from '../server/test-support/smtp-receiver.js';
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

describe('email under faults: an SMTP server that refuses, then accepts, and a hub killed mid-batch', () => {
  const smtp = new SmtpReceiver();
  const data = new HubDataDir(POLICY);
  let hub: HubProcess;

  beforeAll(async () => {
    await smtp.start();
    const config = path.join(data.path, 'hub.yaml');
    writeFileSync(config, `notifiers:\n  email:\n    smtp: { host: 127.0.0.1, port: ${smtp.port} }\n    from: "Greenlight <greenlight@example.com>"\n`);
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
    }, `an email to bob for each of the ${TOTAL} requests`, 60_000);
    expect(smtp.refused).toBeGreaterThanOrEqual(20);
    for (const id of ids) expect(byRequest.get(id)?.size, id).toBe(1);
    expect(smtp.to('alice@example.com')).toEqual([]);
  });
});
