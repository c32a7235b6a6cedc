import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest, NotificationPage } from '../../../protocol/index.js';
import { ManualClock } from '../../clock.js';
import { CLAIM_LEASE_MS } from '../../store/exclusively.js';
import { capturedLog } from '../../test-support/captured-log.js';
import { eventually } from '../../test-support/eventually.js';
import { ADMIN_TOKEN, deployRequest, startOnOneDatabase, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { HubDataDir, HubProcess } from '../../test-support/hub-process.js';
import { call } from '../../test-support/http.js';
import { createTestDatabase, postgresAvailability } from '../../test-support/postgres.js';
import { SlackStandIn } from '../../test-support/slack-stand-in.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: ["slack:#deploys"]
    escalation:
      - { after: 1m, notify: [leads], channels: ["slack:#deploys"] }
`;
/** Without an escalation, so moving hub B's clock past the leases announces nothing new. */
const PLAIN_POLICY = 'rules:\n  - { name: prod, match: { action: deploy }, approvers: [sre], notify: ["slack:#deploys"] }\n';
const SIGNING_SECRET = 'slack-signing-secret-for-claims';
type LogLine = { level: number; msg: string; claim?: string };
const waitsForAnotherHub = (lines: LogLine[], requestId: string) => lines.some((line) => line.msg.startsWith('another hub is doing this now') && line.claim?.includes(requestId));

describe.skipIf(!pg.ok)(`two PostgreSQL hubs posting one request to one channel at once, against a local Slack API stand-in${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const slack = new SlackStandIn();
  const notifiers = () => ({ allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } });
  const clockA = new ManualClock(new Date());
  const clockB = new ManualClock(new Date());
  const logB = capturedLog<LogLine>('info');
  let hubA: TestHub, hubB: TestHub;
  let alice: TestUser;

  beforeAll(async () => {
    await slack.start();
    hubA = new TestHub('postgres', { policy: POLICY, clock: clockA, notifiers: notifiers() });
    hubB = new TestHub('postgres', { policy: POLICY, clock: clockB, logger: logB.logger, notifiers: notifiers() });
    await startOnOneDatabase(hubA, hubB);
    alice = await hubA.createUser('alice', ['requester']);
    await hubA.createUser('bob', ['approver'], ['sre']);
    await hubA.createUser('lena', ['lead'], ['leads']);
  });
  afterAll(async () => {
    slack.release();
    await hubB.dispose();
    await hubA.dispose();
    await slack.close();
  });

  it('posts once when the request escalates on hub B while hub A still waits on Slack for its first post', async () => {
    slack.hold('chat.postMessage');
    const { status, body: created } = await hubA.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium' }));
    expect(status).toBe(201);
    await slack.until(() => slack.held === 1, 'hub A posting the request');

    // Only hub B's clock reaches the escalation: it fires there, and its post for the channel finds hub A's claim.
    clockB.advance(61_000);
    await hubB.hub.scheduler.runNow();
    await eventually(() => waitsForAnotherHub(logB.lines(), created.id), { what: 'hub B waiting for hub A to finish posting' });

    slack.release();
    await hubA.hub.dispatcher.idle();
    clockB.advance(1_000);
    await hubB.hub.dispatcher.idle();

    expect(slack.messagesFor(created.id)).toHaveLength(1);
    expect(slack.callsOf('chat.postMessage').filter((posted) => JSON.stringify(posted.args).includes(created.id))).toHaveLength(1);
    const { body } = await hubB.api<NotificationPage>('GET', '/api/v1/notifications?limit=100', ADMIN_TOKEN);
    const rows = body.notifications.filter((row) => row.requestId === created.id && row.destination === 'slack:#deploys');
    expect(rows.map((row) => [row.type, row.status]).sort()).toEqual([
      ['request.created', 'delivered'],
      ['request.escalated', 'delivered'],
    ]);
  });
});

describe.skipIf(!pg.ok)(`a hub that dies while posting to Slack, against a local Slack API stand-in${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const slack = new SlackStandIn();
  const data = new HubDataDir(PLAIN_POLICY);
  const clockB = new ManualClock(new Date());
  const logB = capturedLog<LogLine>('info');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let hubA: HubProcess;
  let hubB: TestHub;
  let alice: TestUser;

  beforeAll(async () => {
    await slack.start();
    database = await createTestDatabase();
    const config = path.join(data.path, 'greenlight.yaml');
    writeFileSync(config, `notifiers:\n  allowPrivateNetworks: true\n  slack:\n    botToken: ${slack.botToken}\n    signingSecret: ${SIGNING_SECRET}\n    apiUrl: ${slack.apiUrl}\n`);
    hubA = new HubProcess([...data.args, '--database-url', database.url], { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_CONFIG: config });
    await hubA.start();
    hubB = new TestHub('postgres', { policy: PLAIN_POLICY, clock: clockB, logger: logB.logger, notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } } });
    hubB.databaseUrl = database.url;
    await hubB.start();
    alice = await hubB.createUser('alice', ['requester']);
    await hubB.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(async () => {
    slack.release();
    await hubA.kill();
    await hubB.dispose();
    await database?.drop();
    data.remove();
    await slack.close();
  });

  it('posts the message from the other hub once the dead hub\'s claim has run out, and not before', async () => {
    slack.hold('chat.postMessage');
    const created = await call<GreenlightRequest>(hubA.url, 'POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium' }));
    expect(created.status).toBe(201);
    const requestId = created.body.id;
    await slack.until(() => slack.held === 1, 'hub A posting the request');
    await hubA.kill();
    // Hub B's clock starts from now: hub A's leases ran from its own (the wall clock).
    clockB.set(new Date());
    // Its post never reached Slack: nothing was posted, nothing recorded.
    await eventually(() => slack.held === 0, { what: 'Slack seeing hub A gone' });
    slack.release();

    // Past hub A's lease on the notification, not yet past its claim on posting: hub B waits.
    clockB.advance(61_000);
    await hubB.hub.dispatcher.runNow();
    await eventually(() => waitsForAnotherHub(logB.lines(), requestId), { what: 'hub B waiting for hub A\'s claim' });
    expect(slack.messagesFor(requestId)).toHaveLength(0);

    clockB.advance(CLAIM_LEASE_MS);
    await hubB.hub.dispatcher.idle();
    expect(slack.messagesFor(requestId)).toHaveLength(1);
    const { body } = await hubB.api<NotificationPage>('GET', '/api/v1/notifications?limit=100', ADMIN_TOKEN);
    expect(body.notifications.filter((row) => row.requestId === requestId).map((row) => row.status)).toEqual(['delivered']);
  }, 60_000);
});
