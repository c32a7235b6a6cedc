import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest, NotificationPage } from '../../protocol/index.js';
import { ADMIN_TOKEN, deployRequest } from '../test-support/hub-fixture.js';
import { HubDataDir, HubProcess } from '../test-support/hub-process.js';
import { newWebhookSecret, WebhookReceiver } from '../test-support/webhook-receiver.js';
import { cli } from './cli-harness.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const POLICY = 'rules:\n  - { name: all, approvers: [sre], notify: [webhook:bot] }\n';

describe('greenlight notify', () => {
  const receiver = new WebhookReceiver();
  const data = new HubDataDir(POLICY);
  let hub: HubProcess;
  const admin = () => ({ GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: ADMIN_TOKEN });

  beforeAll(async () => {
    await receiver.start();
    receiver.reply = () => ({ status: 410 });
    const notifiers = path.join(data.path, 'notifiers.yaml');
    writeFileSync(notifiers, `notifiers:\n  allowPrivateNetworks: true\n  webhooks:\n    - { name: bot, url: "${receiver.url}", secret: "${newWebhookSecret()}" }\n`);
    hub = new HubProcess(data.args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_CONFIG: notifiers });
    await hub.start();
  });
  afterAll(async () => {
    await hub.stop();
    await receiver.close();
    data.remove();
  });

  it('lists failed notifications and sends one again', async () => {
    const created = await fetch(`${hub.url}/api/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', roles: ['requester'] }) });
    const { token } = (await created.json()) as { token: string };
    // Someone can approve, or the hub would refuse the request (NO_APPROVERS) and announce nothing.
    await fetch(`${hub.url}/api/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bob', roles: ['approver'], groups: ['sre'] }) });
    const submitted = await fetch(`${hub.url}/api/v1/requests`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(deployRequest()) });
    const request = (await submitted.json()) as GreenlightRequest;
    const first = await receiver.arrivals.next((w) => w.body.data.id === request.id);

    // The 410 is filed just after it arrived: look until the list shows it.
    const failed = await (async () => {
      for (;;) {
        const listed = await cli(['notify', 'list', '--failed', '--json'], admin());
        expect(listed.code).toBe(0);
        const page = JSON.parse(listed.stdout) as NotificationPage;
        if (page.notifications.length) return page.notifications;
      }
    })();
    expect(failed[0]).toMatchObject({ id: first.id, status: 'failed', lastStatus: 410, destination: 'bot' });

    const text = await cli(['notify', 'list', '--failed'], admin());
    expect(text.stdout).toMatch(new RegExp(`^${first.id}  request.created  ${request.id}  → webhook:bot  failed after 1 attempt — the endpoint answered 410 Gone`, 'm'));

    receiver.reply = () => ({ status: 200 });
    const retried = await cli(['notify', 'retry', first.id], admin());
    expect(retried.code).toBe(0);
    expect(retried.stdout).toMatch(/^queued again: ntf_\w+ {2}request.created .* pending, attempt 1/m);
    await receiver.arrivals.next((w) => w.id === first.id && w !== first);

    const again = await cli(['notify', 'retry', first.id], admin());
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/only a failed one can be retried\. \(CONFLICT\)/);
  });

  it('checks its arguments and needs an admin token', async () => {
    const bad = await cli(['notify', 'retry', 'req_123'], admin());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/<id>: not a notification id/);
    const anonymous = await cli(['notify', 'list'], { GREENLIGHT_HUB: hub.url });
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr).toMatch(/no API token/);
  });
});
