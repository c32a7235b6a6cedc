import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenlightError, type GreenlightRequest, type VerifyResult } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: db-open }
    approvers: [dba]
    grantTtl: 4h
    windows:
      - { days: [mon, tue, wed, thu, fri], from: "08:00", to: "19:00", timezone: Europe/Berlin }
      - { days: [sat], from: "22:00", to: "02:00", timezone: Europe/Berlin }
  - name: sunday-vacuum
    match: { action: db-vacuum }
    approvers: [dba]
    grantTtl: 4h
    windows:
      - { days: [sun], from: "02:30", to: "03:30", timezone: Europe/Berlin }
  - name: sunday-repack
    match: { action: db-repack }
    approvers: [dba]
    grantTtl: 4h
    windows:
      - { days: [sun], from: "02:15", to: "02:45", timezone: Europe/Berlin }
  - name: night-batch
    match: { action: db-batch }
    approvers: [dba]
    grantTtl: 4h
    windows:
      - { days: [sun], from: "01:30", to: "02:30", timezone: America/New_York }
`;

type ErrorBody = { error: { code: string; message: string } };
const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('access windows on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  // Sunday 27 December 2026, 13:00 in Berlin: outside every window.
  const clock = new ManualClock('2026-12-27T12:00:00.000Z');
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let alice: TestUser, dora: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    dora = await hub.createUser('dora', ['approver'], ['dba']);
  });
  afterAll(() => hub.dispose());

  const dbOpen = (overrides: Record<string, unknown> = {}) => deployRequest({ action: 'db-open', resource: 'orders-db', ...overrides });
  const submit = (body: unknown) => hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', alice.token, body);
  const decide = (id: string, body: unknown) => hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, dora.token, body);

  it('refuses access outside every window at submission, naming the next window start (HTTP and socket)', async () => {
    const refused = await submit(dbOpen({ requestedTtlSeconds: 3600 }));
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('OUTSIDE_WINDOW');
    expect(refused.body.error.message).toContain('prod-db');
    expect(refused.body.error.message).toContain('2026-12-28T07:00:00.000Z');

    const client = await hub.connect(alice);
    const overSocket = await client.submit(dbOpen({ requestedTtlSeconds: 3600 })).catch((error: unknown) => error);
    expect(overSocket).toBeInstanceOf(GreenlightError);
    expect((overSocket as GreenlightError).code).toBe('OUTSIDE_WINDOW');
  });

  it('cuts a grant to the window it falls in, and the cut grant survives a restart', async () => {
    // Monday 18:00 in Berlin, three hours asked: the window closes at 19:00.
    const submitted = await submit(dbOpen({ notBefore: '2026-12-28T18:00:00+01:00', requestedTtlSeconds: 3 * 3600 }));
    expect(submitted.status).toBe(201);
    const approved = (await decide(submitted.body.id, { decision: 'approve' })).body;
    expect(approved.grant).toMatchObject({ notBefore: '2026-12-28T17:00:00.000Z', expiresAt: '2026-12-28T18:00:00.000Z' });

    await hub.stop();
    clock.set('2026-12-28T17:30:00.000Z');
    await hub.start();
    const mine = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${approved.id}`, alice.token)).body;
    const verified = (await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token: mine.grant?.token })).body;
    expect(verified).toMatchObject({ valid: true, grant: { expiresAt: '2026-12-28T18:00:00.000Z' } });
  });

  it('a window across midnight: Saturday-night access ends at 02:00 on Sunday', async () => {
    clock.set('2027-01-02T20:00:00.000Z');
    const submitted = await submit(dbOpen({ notBefore: '2027-01-02T23:30:00+01:00', requestedTtlSeconds: 4 * 3600 }));
    expect(submitted.status).toBe(201);
    const approved = (await decide(submitted.body.id, { decision: 'approve' })).body;
    expect(approved.grant).toMatchObject({ notBefore: '2027-01-02T22:30:00.000Z', expiresAt: '2027-01-03T01:00:00.000Z' });
  });

  it('an approval that comes after the window closed is refused until the approver moves the start into one', async () => {
    clock.set('2027-01-04T16:00:00.000Z');
    const submitted = (await submit(dbOpen({ requestedTtlSeconds: 3600 }))).body;
    clock.set('2027-01-04T18:30:00.000Z');
    const late = await decide(submitted.id, { decision: 'approve' });
    expect(late.status).toBe(422);
    expect(late.body.error.code).toBe('OUTSIDE_WINDOW');
    expect(late.body.error.message).toContain('2027-01-05T07:00:00.000Z');
    const intoNight = await decide(submitted.id, { decision: 'approve', notBefore: '2027-01-04T21:00:00Z' });
    expect(intoNight.body.error.code).toBe('OUTSIDE_WINDOW');
    const moved = await decide(submitted.id, { decision: 'approve', notBefore: '2027-01-05T07:00:00Z' });
    expect(moved.status).toBe(200);
    expect(moved.body.grant).toMatchObject({ notBefore: '2027-01-05T07:00:00.000Z', expiresAt: '2027-01-05T08:00:00.000Z' });
  });

  it('on the spring-forward Sunday a window starting in the skipped hour opens at 03:00, and one wholly inside it is closed', async () => {
    // Sunday 28 March 2027 in Berlin: the clock jumps from 02:00 to 03:00. 01:05Z is 03:05 CEST.
    clock.set('2027-03-28T01:05:00.000Z');
    const vacuum = await submit(dbOpen({ action: 'db-vacuum', requestedTtlSeconds: 3600 }));
    expect(vacuum.status).toBe(201);
    const approved = (await decide(vacuum.body.id, { decision: 'approve' })).body;
    expect(approved.grant).toMatchObject({ notBefore: '2027-03-28T01:05:00.000Z', expiresAt: '2027-03-28T01:30:00.000Z' }); // until 03:30 CEST

    // 02:15–02:45 never shows on the clock that day: no access at 03:15 CEST, which the window never named.
    clock.set('2027-03-28T01:10:00.000Z');
    const repack = await submit(dbOpen({ action: 'db-repack', requestedTtlSeconds: 3600 }));
    expect(repack.status).toBe(422);
    expect(repack.body.error.code).toBe('OUTSIDE_WINDOW');
    expect(repack.body.error.message).toContain('2027-04-04T00:15:00.000Z'); // 02:15 CEST a week later
  });

  it('on the fall-back Sunday access ends when the clock turns back to times before the window', async () => {
    // Sunday 31 October 2027 in Berlin: at 03:00 CEST (01:00Z) the clock turns back to 02:00 CET.
    // 00:40Z is 02:40 CEST; an hour on would run while the clock shows 02:00–02:30 again.
    clock.set('2027-10-31T00:40:00.000Z');
    const vacuum = await submit(dbOpen({ action: 'db-vacuum', requestedTtlSeconds: 3600 }));
    expect(vacuum.status).toBe(201);
    const approved = (await decide(vacuum.body.id, { decision: 'approve' })).body;
    expect(approved.grant).toMatchObject({ notBefore: '2027-10-31T00:40:00.000Z', expiresAt: '2027-10-31T01:00:00.000Z' });
  });

  it('a window the repeated hour passes through twice: a grant runs through one pass, and the second is asked for then or by extending', async () => {
    // New York, Sunday 7 November 2027: at 02:00 EDT (06:00Z) the clock turns back to 01:00 EST, so
    // 01:30–02:30 is open 01:30–02:00 EDT, closed while the clock shows 01:00–01:30 again, open 01:30–02:30 EST.
    clock.set('2027-11-07T05:35:00.000Z');
    const batch = (await submit(dbOpen({ action: 'db-batch', requestedTtlSeconds: 3600 }))).body;
    const first = (await decide(batch.id, { decision: 'approve' })).body.grant!;
    expect(first).toMatchObject({ notBefore: '2027-11-07T05:35:00.000Z', expiresAt: '2027-11-07T06:00:00.000Z' });

    clock.set('2027-11-07T05:50:00.000Z');
    const extension = await hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/grants/${first.jti}/extend`, alice.token, { ttlSeconds: 3600, reason: 'the batch runs on' });
    expect(extension.status).toBe(201);
    const extended = (await decide(extension.body.id, { decision: 'approve' })).body.grant;
    expect(extended).toMatchObject({ notBefore: '2027-11-07T06:30:00.000Z', expiresAt: '2027-11-07T07:00:00.000Z' });

    clock.set('2027-11-07T06:10:00.000Z'); // 01:10 EST
    const later = (await submit(dbOpen({ action: 'db-batch', requestedTtlSeconds: 3600 }))).body;
    expect((await decide(later.id, { decision: 'approve' })).body.grant).toMatchObject({ notBefore: '2027-11-07T06:30:00.000Z', expiresAt: '2027-11-07T07:10:00.000Z' });
  });
});
