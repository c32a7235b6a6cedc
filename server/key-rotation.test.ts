import { sql } from 'kysely';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';
import { eventually } from './test-support/eventually.js';
import { grantStore } from './store/grants.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const pg = await postgresAvailability();

const POLICY = `
rules:
  - { name: staging, match: { action: deploy, environment: staging }, autoApprove: true, grantTtl: 1h }
`;

type Rotation = { kid: string; retired: string[] };
type RotatedEvents = { events: { seq: number; data: Rotation }[] };

const rotate = (hub: TestHub) => hub.api<Rotation>('POST', '/api/v1/admin/signing-keys/rotate', ADMIN_TOKEN);
const rotatedEvents = async (hub: TestHub) => (await hub.api<RotatedEvents>('GET', '/api/v1/audit?type=signing_key.rotated&limit=100', ADMIN_TOKEN)).body.events;
const keyRows = (hub: TestHub) => hub.hub.ctx.store.db.selectFrom('signing_keys').select(['kid', 'retired_at']).orderBy('kid').execute();

async function signedBy(hub: TestHub, user: TestUser, requestedTtlSeconds?: number): Promise<string | undefined> {
  const answer = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', user.token, deployRequest({ environment: 'staging', requestedTtlSeconds }));
  return decodeProtectedHeader(answer.body.grant?.token ?? '').kid;
}

/** Makes every audit write fail, as a crash between rotating and auditing would leave it. */
async function refuseAudit(hub: TestHub, kind: DatabaseKind): Promise<() => Promise<void>> {
  const db = hub.hub.ctx.store.db;
  if (kind === 'sqlite') {
    await sql`create trigger refuse_audit before insert on audit_events begin select raise(abort, 'audit refused'); end`.execute(db);
    return async () => void (await sql`drop trigger refuse_audit`.execute(db));
  }
  await sql`create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit refused'; end $$`.execute(db);
  await sql`create trigger refuse_audit before insert on audit_events for each row execute function refuse_audit()`.execute(db);
  return async () => {
    await sql`drop trigger refuse_audit on audit_events`.execute(db);
    await sql`drop function refuse_audit()`.execute(db);
  };
}

describe.each<DatabaseKind>(['sqlite', 'postgres'])('a rotation and its audit event on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const hub = new TestHub(kind, { policy: POLICY });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
  });
  afterAll(() => hub.dispose());

  it('commit together: when the audit event cannot be written, the key does not rotate', async () => {
    const before = await keyRows(hub);
    const signer = await signedBy(hub, alice);
    const jwks = (await hub.api<JSONWebKeySet>('GET', '/.well-known/jwks.json', null)).body;
    const allowAudit = await refuseAudit(hub, kind);
    try {
      expect((await rotate(hub)).status).toBe(500);
    } finally {
      await allowAudit();
    }
    expect(await keyRows(hub)).toEqual(before);
    expect(await signedBy(hub, alice)).toBe(signer);
    expect((await hub.api<JSONWebKeySet>('GET', '/.well-known/jwks.json', null)).body).toEqual(jwks);
    expect(await rotatedEvents(hub)).toEqual([]);

    // With the audit log writable again, it rotates, and says so.
    const rotated = await rotate(hub);
    expect(rotated.status).toBe(200);
    expect(rotated.body.retired).toEqual([signer]);
    expect(await signedBy(hub, alice)).toBe(rotated.body.kid);
    expect((await rotatedEvents(hub)).map((event) => event.data)).toEqual([rotated.body]);
  });
});

describe.each<DatabaseKind>(['sqlite', 'postgres'])('the published keys on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const HOUR = 3_600_000;
  const clock = new ManualClock(new Date(Date.now() - 60_000));
  const hub = new TestHub(kind, { policy: POLICY.replace('grantTtl: 1h', 'grantTtl: 8h'), clock });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
  });
  afterAll(() => hub.dispose());

  const published = async () => (await hub.api<JSONWebKeySet>('GET', '/.well-known/jwks.json', null)).body.keys.map((key) => key.kid).sort();
  /** The keys in the database, by the `kid` grants and the JWKS name them with. */
  const stored = async () => {
    const rows = await hub.hub.ctx.store.db.selectFrom('signing_keys').select('public_jwk').execute();
    return (await Promise.all(rows.map((row) => calculateJwkThumbprint(JSON.parse(row.public_jwk) as JWK)))).sort();
  };

  it('are read, never written, when fetched; a rotation deletes the retired keys no unexpired grant needs', async () => {
    const first = await signedBy(hub, alice, 3 * 60 * 60);
    const second = (await rotate(hub)).body.kid;
    clock.advance(2 * HOUR);
    // The first key's grant runs another hour; the second signed none.
    const third = (await rotate(hub)).body.kid;
    expect(await stored()).toEqual([first, second, third].sort());
    expect(await published()).toEqual([first, third].sort());

    clock.advance(2 * HOUR);
    // Neither retired key is needed any more: they are no longer published, and still stored.
    expect(await published()).toEqual([third]);
    // Retired for over an hour, neither can sign another grant: what was read holds, so fetching
    // again (anyone may, as often as they like) reads no grants.
    const grantReads = vi.spyOn(grantStore, 'lastExpiryBySigningKey');
    for (let i = 0; i < 5; i++) expect(await published()).toEqual([third]);
    expect(grantReads).not.toHaveBeenCalled();
    grantReads.mockRestore();
    expect(await stored()).toEqual([first, second, third].sort());

    const fourth = await rotate(hub);
    expect(fourth.body.retired).toEqual([third]);
    // The two retired keys no grant needs are gone; the one just retired stays a while (another hub may still sign with it).
    expect(await stored()).toEqual([third, fourth.body.kid].sort());
    expect(await published()).toEqual([fourth.body.kid]);
    expect(await signedBy(hub, alice)).toBe(fourth.body.kid);
  });
});

describe.skipIf(!pg.ok)(`concurrent rotations on two hubs sharing one PostgreSQL database${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const first = new TestHub('postgres', { policy: POLICY });
  let second: TestHub;

  beforeAll(async () => {
    await first.start();
    second = new TestHub('postgres', { policy: POLICY });
    second.databaseUrl = first.databaseUrl;
    await second.start();
  });
  afterAll(async () => {
    await second.stop().catch(() => undefined);
    await first.dispose();
  });

  it('take turns: each adds one key and retires the one before it, and each is audited with what it did', async () => {
    const initial = first.hub.ctx.keys.current.kid;
    const answers = await Promise.all([first, second, first, second, first, second].map((hub) => rotate(hub)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(200));

    const rows = await keyRows(first);
    expect(rows).toHaveLength(7);
    expect(rows.filter((row) => row.retired_at === null)).toHaveLength(1);
    // In audit order, every rotation retired exactly the key the one before it had made.
    const events = (await rotatedEvents(first)).sort((a, b) => a.seq - b.seq);
    expect(events.map((event) => event.data).sort((a, b) => a.kid.localeCompare(b.kid))).toEqual(answers.map((answer) => answer.body).sort((a, b) => a.kid.localeCompare(b.kid)));
    events.reduce((previous, event) => {
      expect(event.data.retired).toEqual([previous]);
      return event.data.kid;
    }, initial);
    const last = events[events.length - 1]?.data.kid;
    await first.hub.ctx.keys.refresh();
    await second.hub.ctx.keys.refresh();
    expect([first.hub.ctx.keys.current.kid, second.hub.ctx.keys.current.kid]).toEqual([last, last]);
    expect((await first.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body).toMatchObject({ ok: true });
  });
});

// An offline verifier may fetch the JWKS from any hub: the one that did not rotate must publish the
// new key as soon as the rotation is known, not at its next periodic read of the keys.
describe.skipIf(!pg.ok)(`a rotation on one of two hubs on PostgreSQL${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  // Periodic reads too rare to explain what the test sees.
  const first = new TestHub('postgres', { policy: POLICY, keyRefreshMs: 10 * 60_000 });
  let second: TestHub;
  beforeAll(async () => {
    await first.start();
    second = new TestHub('postgres', { policy: POLICY, keyRefreshMs: 10 * 60_000 });
    second.databaseUrl = first.databaseUrl;
    await second.start();
  });
  afterAll(async () => {
    await second.stop().catch(() => undefined);
    await first.dispose();
  });

  it('is published by the other hub’s JWKS at once', async () => {
    const rotated = await rotate(first);
    expect(rotated.status).toBe(200);
    const jwksOf = async (hub: TestHub) => (await hub.api<{ keys: { kid: string }[] }>('GET', '/.well-known/jwks.json', null)).body.keys.map((key) => key.kid);
    await eventually(async () => ((await jwksOf(second)).includes(rotated.body.kid) ? true : undefined), { what: 'the new key in the second hub’s JWKS', deadline: 10_000 });
  });
});
