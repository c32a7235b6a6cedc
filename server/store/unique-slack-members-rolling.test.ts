import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../test-support/eventually.js';
import { ADMIN_TOKEN, TestHub } from '../test-support/hub-fixture.js';
import { postgresAvailability } from '../test-support/postgres.js';
import type { Database } from './schema.js';
import { unlinkSharedSlackMembers } from './unique-slack-members.js';

const pgAvailable = await postgresAvailability();
const connect = (url: string | undefined) => new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });

describe.skipIf(!pgAvailable.ok)(`the unique Slack member upgrade on PostgreSQL while an older hub keeps writing${pgAvailable.ok ? '' : ` (skipped: ${pgAvailable.reason})`}`, () => {
  const hub = new TestHub('postgres');
  let upgrade: Kysely<Database>;
  let olderHub: Kysely<Database>;
  let observer: Kysely<Database>;

  beforeAll(async () => {
    await hub.start();
    for (const name of ['gina', 'hank', 'ivy', 'jo']) expect((await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name, roles: ['approver'] })).status).toBe(201);
    await hub.stop();
    upgrade = connect(hub.databaseUrl);
    olderHub = connect(hub.databaseUrl);
    observer = connect(hub.databaseUrl);
    // As a database from before the unique index, with a member linked to two users.
    await upgrade.schema.dropIndex('users_slack_user_id').execute();
    await upgrade.schema.createIndex('users_slack_user_id').on('users').column('slack_user_id').execute();
    await upgrade.updateTable('users').set({ slack_user_id: 'U0SHARED' }).where('name', 'in', ['gina', 'hank']).execute();
  });
  afterAll(async () => {
    await upgrade?.destroy();
    await olderHub?.destroy();
    await observer?.destroy();
    await hub.dispose();
  });

  it('makes an older hub linking one member to two users between the unlinking and the index wait, so the upgrade goes through', async () => {
    const waiting = sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
    const upgraded = upgrade.transaction().execute(async (trx) => {
      expect(await unlinkSharedSlackMembers(trx as unknown as Kysely<unknown>, new Date(), 'postgres')).toEqual(['U0SHARED']);
      // An older hub, knowing nothing of the index to come, links one member to two users now.
      const link = olderHub.updateTable('users').set({ slack_user_id: 'U0LATE' }).where('name', 'in', ['ivy', 'jo']).execute();
      const settled = link.then(
        () => 'linked',
        () => 'refused',
      );
      // Either it waits for the upgrade, or it is done already (nothing held it back).
      await eventually(async () => (await Promise.race([settled, Promise.resolve(null)])) !== null || (await waiting.execute(observer)).rows[0]?.n === 1, { what: 'the older hub\'s write done or waiting' });
      await trx.schema.dropIndex('users_slack_user_id').execute();
      await trx.schema.createIndex('users_slack_user_id').unique().on('users').column('slack_user_id').execute();
      return { settled };
    });
    // The upgrade commits; the older hub's write, made after it, meets the unique index.
    const { settled } = await upgraded;
    expect(await settled).toBe('refused');
    const linked = await upgrade.selectFrom('users').select(['name', 'slack_user_id']).where('slack_user_id', 'is not', null).execute();
    expect(linked).toEqual([]);
  });
});
