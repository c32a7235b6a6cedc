import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, TestHub, type DatabaseKind } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const pg = await postgresAvailability();
type Page = { events: AuditEvent[]; error?: { code: string; message: string } };

// An admin reading the history asks for days and times the way people write them; each answer is
// what that day or time means, or a clear refusal, on both stores.
describe.each<DatabaseKind>(['sqlite', 'postgres'])('the history’s date filters on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock(new Date('2026-12-07T06:05:30Z'));
  const hub = new TestHub(kind, { clock });
  const page = (query: string) => hub.api<Page>('GET', `/api/v1/audit?limit=1000&${query}`, ADMIN_TOKEN);
  const users = async (query: string) => (await page(`type=user.created&${query}`)).body.events.map((event) => event.data.user).filter((user) => user !== 'admin');

  beforeAll(async () => {
    await hub.start();
    await hub.createUser('early', ['requester']);
    clock.set(new Date('2026-12-07T23:59:59Z'));
    await hub.createUser('late', ['requester']);
    clock.set(new Date('2026-12-08T00:00:01Z'));
    await hub.createUser('next-day', ['requester']);
  });
  afterAll(() => hub.dispose());

  it('a date alone as "to" takes in that whole day, so from and to the same day finds it', async () => {
    expect(await users('to=2026-12-07')).toEqual(['late', 'early']);
    expect(await users('from=2026-12-07&to=2026-12-07')).toEqual(['late', 'early']);
    expect(await users('from=2026-12-08')).toEqual(['next-day']);
  });

  it('a time is taken with its zone, and one without a zone is refused rather than read in the hub’s', async () => {
    expect(await users('to=2026-12-07T07:05:30%2B01:00')).toEqual(['early']);
    const zoneless = await page('to=2026-12-07T06:05');
    expect(zoneless.status).toBe(400);
    expect(zoneless.body.error?.message).toContain('give the time with its zone');
  });

  it('refuses an instant past 9999 in UTC and a cursor past any event number, instead of matching nothing or failing', async () => {
    for (const query of ['to=9999-12-31T23:59:59-12:00', 'from=9999-12-31T23:59:59-12:00', 'cursor=2147483648', 'cursor=9999999999999999']) {
      const refused = await page(query);
      expect(refused.status, query).toBe(400);
      expect(refused.body.error?.code).toBe('INVALID_INPUT');
    }
  });
});
