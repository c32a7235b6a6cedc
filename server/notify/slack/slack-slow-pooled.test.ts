import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../../protocol/index.js';
import { deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { PgBouncer, pgBouncerAvailability } from '../../test-support/pgbouncer.js';
import { createTestDatabase, postgresAvailability } from '../../test-support/postgres.js';
import { SlackStandIn } from '../../test-support/slack-stand-in.js';

const pg = await postgresAvailability();
const bouncer = pgBouncerAvailability();
const skipped = !pg.ok ? pg.reason : !bouncer.ok ? bouncer.reason : null;

/** A hub sends at most 4 Slack messages at once: three hubs have 12 waiting on a slow Slack, more than the pooler's connections. */
const HUBS = 3;
const PER_HUB = 4;
/** One channel per service, so a hub's posts go out at once (posts to one channel are spaced a second apart). */
const POLICY = `rules:\n${Array.from({ length: PER_HUB }, (_, n) => `  - { name: api-${n}, match: { action: deploy, resource: api-${n} }, approvers: [sre], notify: ["slack:#deploys-${n}"] }\n`).join('')}`;
/** The test pooler's connections to PostgreSQL (`default_pool_size`), shared by every hub behind it. */
const POOLER_CONNECTIONS = 10;

describe.skipIf(skipped !== null)(`three hubs behind PgBouncer while a local Slack API stand-in holds its answers${skipped ? ` (skipped: ${skipped})` : ''}`, () => {
  const slack = new SlackStandIn();
  const pooler = new PgBouncer('transaction');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const hubs: TestHub[] = [];
  let alice: TestUser, bob: TestUser;

  beforeAll(async () => {
    await slack.start();
    database = await createTestDatabase();
    await pooler.start();
    for (let n = 0; n < HUBS; n++) {
      const hub = new TestHub('postgres', {
        policy: POLICY,
        databaseListenUrl: database.url,
        notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: 'slack-signing-secret-behind-a-pooler', apiUrl: slack.apiUrl } },
      });
      hub.databaseUrl = pooler.urlFor(database.url);
      hubs.push(hub);
      await hub.start();
    }
    alice = await hubs[0]!.createUser('alice', ['requester']);
    bob = await hubs[0]!.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(async () => {
    slack.release();
    for (const hub of hubs) await hub.dispose();
    await pooler.stop();
    await database?.drop();
    await slack.close();
  });

  const submit = async (hub: TestHub, service: number) => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium', resource: `api-${service}` }));
    expect(status).toBe(201);
    return body;
  };

  it('takes submissions and decisions over HTTP while more Slack posts wait on the stand-in than the pooler has connections', async () => {
    expect(HUBS * PER_HUB).toBeGreaterThan(POOLER_CONNECTIONS);
    slack.hold('chat.postMessage');
    const waiting: GreenlightRequest[] = [];
    for (const hub of hubs) for (let service = 0; service < PER_HUB; service++) waiting.push(await submit(hub, service));
    await slack.until(() => slack.held === HUBS * PER_HUB, 'every hub posting as many requests as it may at once, each waiting on Slack');

    // Slack still holds every answer (none given up on): the hubs take submissions and decisions all the same.
    const submitted = await submit(hubs[1]!, 0);
    const decided = await hubs[2]!.api<GreenlightRequest>('POST', `/api/v1/requests/${waiting[0]!.id}/decisions`, bob.token, { decision: 'approve' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ status: 'approved', decidedBy: 'bob' });
    expect(slack.held).toBe(HUBS * PER_HUB);

    slack.release();
    const all = [...waiting, submitted];
    await slack.until(() => all.every((request) => slack.messagesFor(request.id).length === 1), 'one message for each request once Slack answers');
    await slack.until(() => JSON.stringify(slack.messagesFor(waiting[0]!.id)[0]?.blocks).includes('by bob'), 'the decided request shown as approved');
    for (const hub of hubs) await hub.hub.dispatcher.idle();
    expect(all.map((request) => slack.messagesFor(request.id).length)).toEqual(all.map(() => 1));
    expect(slack.violations).toEqual([]);
  }, 60_000);
});
