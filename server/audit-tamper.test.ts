import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../protocol/index.js';
import path from 'node:path';
import { hashEvent } from './domain/audit.js';
import { verifyAudit } from './domain/audit-verify.js';
import { readCheckpointLog } from './domain/checkpoints.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], maxPending: 1000 }
`;

type Verify = { ok: boolean; events: number; brokenAt?: number; problem?: string; kind?: string };

// Someone with write access to the database, and without the hub's keys, edits the evidence. Each
// edit is undone after its test, so each starts from an intact chain.
describe('verify finds what someone with the database changed, and names it', () => {
  const hub = new TestHub('sqlite', { policy: POLICY, checkpointEveryEvents: 3, checkpointIntervalMs: 60 * 60_000 });
  let alice: TestUser;
  const db = () => hub.hub.ctx.store.db;
  const verify = async () => (await hub.api<Verify>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body;
  const head = async () => {
    const row = await db().selectFrom('chain_head').selectAll().executeTakeFirstOrThrow();
    return { seq: Number(row.seq), hash: row.hash, chainId: row.chain_id };
  };
  const eventAt = (seq: number) => db().selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();

  beforeAll(async () => {
    await hub.start();
    await hub.createUser('bob', ['approver'], ['sre']);
    alice = await hub.createUser('alice', ['requester']);
    for (let i = 0; i < 6; i += 1) expect((await hub.api('POST', '/api/v1/requests', alice.token, deployRequest({ resource: `svc-${i}` }))).status).toBe(201);
    await hub.hub.checkpoints.checkpointer.checkpoint();
    expect(await verify()).toMatchObject({ ok: true });
  });
  afterAll(() => hub.dispose());

  it('a forged event past the head, or before the first, is found although the walk from 1 to the head never reads it', async () => {
    const { seq: last } = await head();
    const copy = await eventAt(last);
    for (const seq of [last + 1000, -1]) {
      await db().insertInto('audit_events').values({ ...copy, seq, actor: 'bob', type: 'request.approved', hash: 'f'.repeat(64) }).execute();
      try {
        const shown = (await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?limit=1000', ADMIN_TOKEN)).body.events;
        expect(shown.some((event) => event.seq === seq)).toBe(true);
        const found = await verify();
        expect(found).toMatchObject({ ok: false, brokenAt: seq, kind: 'chain' });
        expect(found.problem).toContain(seq < 1 ? "before the chain's first event" : `past the chain head (event ${last})`);
      } finally {
        await db().deleteFrom('audit_events').where('seq', '=', seq).execute();
      }
    }
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('a head moved back over real events is found', async () => {
    const real = await head();
    const earlier = await eventAt(real.seq - 2);
    await db().updateTable('chain_head').set({ seq: earlier.seq, hash: earlier.hash }).execute();
    try {
      expect(await verify()).toMatchObject({ ok: false, brokenAt: real.seq - 1, kind: 'chain' });
    } finally {
      await db().updateTable('chain_head').set({ seq: real.seq, hash: real.hash }).execute();
    }
  });

  it('an edited event whose hash was recomputed is named, not the intact one after it; the last one is not called removed', async () => {
    const { seq: last } = await head();
    for (const seq of [3, last]) {
      const original = await eventAt(seq);
      const edited = { ...original, actor: 'mallory' };
      await db().updateTable('audit_events').set({ actor: 'mallory', hash: hashEvent(edited) }).where('seq', '=', seq).execute();
      try {
        const found = await verify();
        expect(found).toMatchObject({ ok: false, brokenAt: seq, events: seq - 1 });
        expect(found.problem).toMatch(seq === last ? /the last, does not match the chain head: it was modified/ : /one of the two was modified/);
        expect(found.problem).not.toContain('removed');
      } finally {
        await db().updateTable('audit_events').set({ actor: original.actor, hash: original.hash }).where('seq', '=', seq).execute();
      }
    }
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('an event whose data is no longer JSON still shows, with the rest of the history and its export; verify names it', async () => {
    const original = await eventAt(4);
    await db().updateTable('audit_events').set({ data: '{"reason": broken' }).where('seq', '=', 4).execute();
    try {
      const history = await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?limit=1000', ADMIN_TOKEN);
      expect(history.status).toBe(200);
      expect(history.body.events.find((event) => event.seq === 4)?.data).toEqual({ unreadable: '{"reason": broken' });
      const exported = await fetch(`${hub.url}/api/v1/audit?format=jsonl`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(exported.status).toBe(200);
      expect((await exported.text()).trim().split('\n').length).toBe((await head()).seq);
      expect(await verify()).toMatchObject({ ok: false, brokenAt: 4 });
    } finally {
      await db().updateTable('audit_events').set({ data: original.data }).where('seq', '=', 4).execute();
    }
  });

  it('a chain id replaced to set the checkpoints aside: the old checkpoints still recognise the chain, and the hub stops signing it', async () => {
    const real = await head();
    const saved = await db().selectFrom('audit_checkpoints').selectAll().execute();
    const cut = await eventAt(real.seq - 1);
    const removed = await db().selectFrom('audit_events').selectAll().where('seq', '>', cut.seq).execute();
    await db().deleteFrom('audit_events').where('seq', '>', cut.seq).execute();
    await db().deleteFrom('audit_checkpoints').execute();
    await db().updateTable('chain_head').set({ seq: cut.seq, hash: cut.hash, chain_id: 'chn_attacker' }).execute();
    try {
      const found = await verify();
      expect(found).toMatchObject({ ok: false, kind: 'rewritten' });
      expect(found.problem).toContain('its chain id was changed');
      await expect(hub.hub.checkpoints.checkpointer.checkpoint()).rejects.toThrow(/chain id was changed; not signing/);
    } finally {
      await db().updateTable('chain_head').set({ seq: real.seq, hash: real.hash, chain_id: real.chainId }).execute();
      await db().insertInto('audit_events').values(removed).execute();
      await db().insertInto('audit_checkpoints').values(saved).execute();
    }
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('checked without a checkpoint key, a chain cut short of its checkpoint log is still reported, saying the signature went unchecked', async () => {
    const real = await head();
    const logged = readCheckpointLog(path.join(hub.dataDir, 'checkpoints.jsonl')).flatMap((line) => (line.checkpoint ? [line.checkpoint] : []));
    expect(logged.at(-1)?.seq).toBe(real.seq);
    const cut = await eventAt(real.seq - 1);
    const removed = await db().selectFrom('audit_events').selectAll().where('seq', '>', cut.seq).execute();
    const saved = await db().selectFrom('audit_checkpoints').selectAll().execute();
    await db().deleteFrom('audit_events').where('seq', '>', cut.seq).execute();
    await db().deleteFrom('audit_checkpoints').execute();
    await db().updateTable('chain_head').set({ seq: cut.seq, hash: cut.hash }).execute();
    try {
      const found = await verifyAudit(db(), { publicKeys: [], outside: [{ source: 'checkpoints.jsonl', checkpoints: logged, shared: false }] });
      expect(found).toMatchObject({ ok: false, kind: 'truncated', brokenAt: cut.seq + 1 });
      expect(found.ok ? '' : found.problem).toContain('its signature was not checked');
    } finally {
      await db().updateTable('chain_head').set({ seq: real.seq, hash: real.hash }).execute();
      await db().insertInto('audit_events').values(removed).execute();
      await db().insertInto('audit_checkpoints').values(saved).execute();
    }
  });

  it('a signing key written in plain text beside the encrypted ones is never used to sign or published', async () => {
    const before = (await hub.api<{ keys: { kid: string }[] }>('GET', '/.well-known/jwks.json', null)).body.keys.map((key) => key.kid);
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    await db().updateTable('signing_keys').set({ retired_at: new Date().toISOString() }).where('retired_at', 'is', null).execute();
    await db()
      .insertInto('signing_keys')
      .values({ kid: 'sgk_attacker', private_jwk: JSON.stringify(await exportJWK(pair.privateKey)), public_jwk: JSON.stringify(await exportJWK(pair.publicKey)), created_at: new Date().toISOString(), retired_at: null })
      .execute();
    try {
      await expect(hub.hub.ctx.keys.refresh()).rejects.toThrow(/stored in plain text beside encrypted ones/);
      expect(hub.hub.ctx.keys.current.rowId).not.toBe('sgk_attacker');
      const after = (await hub.api<{ keys: { kid: string }[] }>('GET', '/.well-known/jwks.json', null)).body.keys.map((key) => key.kid);
      expect(after).toEqual(before);
      expect((await db().selectFrom('signing_keys').select('private_jwk').where('kid', '=', 'sgk_attacker').executeTakeFirstOrThrow()).private_jwk).not.toMatch(/^enc:/);
    } finally {
      await db().deleteFrom('signing_keys').where('kid', '=', 'sgk_attacker').execute();
      await db().updateTable('signing_keys').set({ retired_at: null }).execute();
    }
  });
});
