import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../../protocol/index.js';
import { ManualClock } from '../../clock.js';
import type { Database } from '../../store/schema.js';
import { capturedLog } from '../../test-support/captured-log.js';
import { eventually } from '../../test-support/eventually.js';
import { deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { postgresAvailability } from '../../test-support/postgres.js';
import { SlackStandIn } from '../../test-support/slack-stand-in.js';

const pg_ = await postgresAvailability();
const POLICY = 'rules:\n  - { name: prod, match: { action: deploy }, approvers: [sre], notify: ["slack:#deploys"] }\n';
type LogLine = { level: number; msg: string; claim?: string };

describe.skipIf(!pg_.ok)(`a hub stopping while it waits for a dead hub's claim, against a local Slack API stand-in${pg_.ok ? '' : ` (skipped: ${pg_.reason})`}`, () => {
  const slack = new SlackStandIn();
  const clock = new ManualClock(new Date());
  const log = capturedLog<LogLine>('info');
  let hub: TestHub;
  let db: Kysely<Database>;
  let alice: TestUser;

  beforeAll(async () => {
    await slack.start();
    hub = new TestHub('postgres', { policy: POLICY, clock, logger: log.logger, notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: 'slack-signing-secret-for-shutdown', apiUrl: slack.apiUrl } } });
    await hub.start();
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: hub.databaseUrl, max: 1 }) }) });
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(async () => {
    await db?.destroy();
    await hub.dispose();
    await slack.close();
  });

  it('stops at once, leaving the post pending for a later attempt, while the dead hub\'s claim still holds', async () => {
    // The first attempt fails, so the retry meets the claim written below.
    slack.failPost(1);
    const { status, body: created } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium' }));
    expect(status).toBe(201);
    await hub.hub.dispatcher.idle();
    const key = `slack:${created.id}:slack:#deploys`;
    // A hub that died mid-post left its claim, whose lease runs for a day on this hub's clock.
    await db.insertInto('exclusive_claims').values({ key, owner: 'hub_dead', lease_until: new Date(clock.now().getTime() + 86_400_000).toISOString() }).execute();

    clock.advance(600_000);
    void hub.hub.dispatcher.runNow();
    await eventually(() => log.lines().some((line) => line.msg.startsWith('another hub is doing this now') && line.claim === key), { what: 'the hub waiting for the dead hub\'s claim' });

    // No clock moves from here on: the claim can end only by the hub giving up waiting.
    await hub.stop();

    expect(await db.selectFrom('exclusive_claims').select('owner').where('key', '=', key).executeTakeFirst()).toEqual({ owner: 'hub_dead' });
    const rows = await db.selectFrom('outbox').select(['status', 'attempts', 'lease_owner']).where('request_id', '=', created.id).where('channel', '=', 'slack').execute();
    // Handed back untried: the failed first attempt is the only one counted, and no lease is left behind.
    expect(rows).toEqual([{ status: 'pending', attempts: 1, lease_owner: null }]);
    expect(slack.messagesFor(created.id)).toHaveLength(0);
  });
});
