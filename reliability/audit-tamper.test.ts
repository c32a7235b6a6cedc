import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../server/cli/cli-harness.js';
import { hashEvent } from '../server/domain/audit.js';
import { signCheckpoint, type Checkpoint } from '../server/domain/checkpoints.js';
import { openStore, type Store } from '../server/store/database.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind } from '../server/test-support/hub-fixture.js';
import { postgresAvailability } from '../server/test-support/postgres.js';

/**
 * Someone with write access to the database (not to the checkpoint key, nor to the checkpoint log on
 * its other disk) tampers with the audit log the ways an outside review did; `greenlight audit verify`
 * must name each. The attacker knows the hashing algorithm (it is in the source).
 */

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], expireAfter: 1h }
`;

const pg = await postgresAvailability();

interface VerifyJson {
  ok: boolean;
  kind?: string;
  problem?: string;
  brokenAt?: number;
  checkpoint?: { seq: number } | null;
}

/** A hub that wrote some events and signed checkpoints every 4, stopped (so it signed its last one too). */
async function loggedHub(database: DatabaseKind): Promise<TestHub> {
  const hub = new TestHub(database, { policy: POLICY, checkpointEveryEvents: 4, checkpointIntervalMs: 60 * 60_000 });
  await hub.start();
  await hub.createUser('bob', ['approver'], ['sre']);
  const alice = await hub.createUser('alice', ['requester']);
  for (let i = 0; i < 10; i += 1) expect((await hub.api('POST', '/api/v1/requests', alice.token, deployRequest({ resource: `svc-${i}` }))).status).toBe(201);
  await hub.stop();
  return hub;
}

const logFile = (hub: TestHub) => path.join(hub.dataDir, 'checkpoints.jsonl');

async function withDatabase<T>(hub: TestHub, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(hub.databaseUrl ? { databaseUrl: hub.databaseUrl } : { dataDir: hub.dataDir });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** `greenlight audit verify` straight from the database, with the hub's checkpoint log kept elsewhere. */
async function verify(hub: TestHub, extra: string[] = []): Promise<{ code: number | null; outcome: VerifyJson; stdout: string }> {
  const where = hub.databaseUrl ? ['--database-url', hub.databaseUrl] : ['--data-dir', hub.dataDir];
  const result = await cli(['audit', 'verify', '--json', ...where, ...extra]);
  return { code: result.code, outcome: JSON.parse(result.stdout) as VerifyJson, stdout: result.stdout };
}

const logged = (hub: TestHub): Checkpoint[] =>
  readFileSync(logFile(hub), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Checkpoint);

/** Deletes every event after `keep` and points the head at the last one left, as an attacker covering the cut would. */
async function truncateAndFixHead(store: Store, keep: number): Promise<void> {
  const last = await store.db.selectFrom('audit_events').select('hash').where('seq', '=', keep).executeTakeFirstOrThrow();
  await store.db.deleteFrom('audit_events').where('seq', '>', keep).execute();
  await store.db.updateTable('chain_head').set({ seq: keep, hash: last.hash }).where('id', '=', 1).execute();
  await store.db.deleteFrom('audit_checkpoints').where('seq', '>', keep).execute();
}

/** Edits one event and recomputes every later hash with the published algorithm, then the head. */
async function rechain(store: Store, edit: number): Promise<void> {
  const rows = await store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
  let prev = '';
  for (const row of rows) {
    const seq = Number(row.seq);
    if (seq < edit) {
      prev = row.hash;
      continue;
    }
    const changed = { ...row, seq, actor: seq === edit ? 'mallory' : row.actor, prev_hash: seq === edit ? row.prev_hash : prev };
    const hash = hashEvent(changed);
    await store.db.updateTable('audit_events').set({ actor: changed.actor, prev_hash: changed.prev_hash, hash }).where('seq', '=', seq).execute();
    prev = hash;
  }
  const lastSeq = Number(rows.at(-1)?.seq ?? 0);
  await store.db.updateTable('chain_head').set({ seq: lastSeq, hash: prev }).where('id', '=', 1).execute();
}

for (const database of ['sqlite', 'postgres'] as const satisfies readonly DatabaseKind[]) {
  const skip = database === 'postgres' && !pg.ok;
  describe(`audit tampering by someone with database access, on ${database}${skip ? ` (skipped: ${pg.reason})` : ''}`, () => {
    let hub: TestHub | null = null;
    afterEach(async () => {
      await hub?.dispose();
      hub = null;
    });
    // PostgreSQL has no data directory to find the log in: it is named, as an operator would.
    const logFlags = (h: TestHub) => (h.databaseUrl ? ['--checkpoints', logFile(h)] : []);

    it.skipIf(skip)('an untouched log verifies against its latest checkpoint', async () => {
      hub = await loggedHub(database);
      const { code, outcome } = await verify(hub, logFlags(hub));
      expect(code).toBe(0);
      expect(outcome.ok).toBe(true);
      expect(outcome.checkpoint?.seq).toBe(logged(hub).at(-1)?.seq);

      // With the checkpoint key nowhere on this machine: unchecked without a key, checked with the one a hub publishes.
      const h = hub;
      const last = logged(h).at(-1)?.seq;
      const where = h.databaseUrl ? ['--database-url', h.databaseUrl, ...logFlags(h)] : ['--data-dir', h.dataDir];
      const noKey = { GREENLIGHT_CHECKPOINT_KEY: '', XDG_CONFIG_HOME: h.dataDir };
      const unchecked = await cli(['audit', 'verify', '--json', ...where], noKey);
      expect(JSON.parse(unchecked.stdout)).toMatchObject({ ok: true, checkpoint: null, notes: [expect.stringContaining('checkpoints were not checked: no checkpoint public key')] });
      await h.start();
      const keyed = await cli(['audit', 'verify', '--json', ...where, '--hub', h.url], noKey);
      const answer = JSON.parse(keyed.stdout) as VerifyJson;
      expect(answer.ok).toBe(true);
      // The restarted hub may have signed its start-up events already: at least the last one logged.
      expect(answer.checkpoint?.seq).toBeGreaterThanOrEqual(last ?? Infinity);
      await h.stop();
    });

    it.skipIf(skip)('truncation with the head fixed and the later checkpoints deleted: caught by the checkpoint log', async () => {
      hub = await loggedHub(database);
      const h = hub;
      await withDatabase(h, (store) => truncateAndFixHead(store, 6));
      const { code, outcome } = await verify(h, logFlags(h));
      expect(code).toBe(1);
      expect(outcome).toMatchObject({ ok: false, kind: 'truncated', brokenAt: 7 });
      expect(outcome.problem).toContain('were removed');

      // Through the hub too: it reads its own log, and the CLI checks a copy kept elsewhere with the published key.
      const copy = `${logFile(h)}.copy`;
      copyFileSync(logFile(h), copy);
      await h.start();
      const online = await cli(['audit', 'verify', '--checkpoints', copy], { GREENLIGHT_HUB: h.url, GREENLIGHT_TOKEN: ADMIN_TOKEN });
      expect(online.code).toBe(1);
      expect(online.stdout).toContain('were removed');
      await h.stop();
    });

    it.skipIf(skip)('truncation with the checkpoint log gone too: caught by --expect from a copy kept elsewhere', async () => {
      hub = await loggedHub(database);
      const h = hub;
      const kept = logged(h).at(-1)!;
      rmSync(logFile(h));
      await withDatabase(h, (store) => truncateAndFixHead(store, 6));
      const { code, outcome } = await verify(h, ['--expect', `${kept.seq}:${kept.hash}`]);
      expect(code).toBe(1);
      expect(outcome).toMatchObject({ ok: false, kind: 'truncated' });
    });

    it.skipIf(skip)('an edited event with every later hash recomputed: caught by the signed checkpoints', async () => {
      hub = await loggedHub(database);
      const h = hub;
      await withDatabase(h, (store) => rechain(store, 3));
      const { code, outcome } = await verify(h, logFlags(h));
      expect(code).toBe(1);
      expect(outcome).toMatchObject({ ok: false, kind: 'rewritten' });
      // Also when the attacker deletes the database's checkpoints: the log still has them.
      await withDatabase(h, (store) => store.db.deleteFrom('audit_checkpoints').execute());
      expect((await verify(h, logFlags(h))).outcome).toMatchObject({ ok: false, kind: 'rewritten' });
    });

    it.skipIf(skip)('a deleted checkpoint: named as deleted', async () => {
      hub = await loggedHub(database);
      const h = hub;
      const victim = logged(h)[0]!;
      await withDatabase(h, (store) => store.db.deleteFrom('audit_checkpoints').where('seq', '=', victim.seq).execute());
      const { code, outcome } = await verify(h, logFlags(h));
      expect(code).toBe(1);
      expect(outcome).toMatchObject({ ok: false, kind: 'checkpoint_deleted', brokenAt: victim.seq });
    });

    it.skipIf(skip)('a forged checkpoint, in the database or in the log: a bad signature', async () => {
      hub = await loggedHub(database);
      const h = hub;
      // Re-chained, then "re-signed" with a key the attacker made, under the real key's id.
      await withDatabase(h, (store) => rechain(store, 2));
      const mallory = generateKeyPairSync('ed25519');
      const head = await withDatabase(h, (store) => store.db.selectFrom('chain_head').select(['seq', 'hash']).executeTakeFirstOrThrow());
      const real = logged(h).at(-1)!;
      const forged = { ...signCheckpoint(mallory.privateKey, mallory.publicKey, { seq: Number(head.seq) + 1000, hash: head.hash, at: real.at, hubId: real.hubId, chainId: real.chainId }), keyId: real.keyId };
      await withDatabase(h, (store) =>
        store.db.insertInto('audit_checkpoints').values({ seq: forged.seq, hash: forged.hash, at: forged.at, hub_id: forged.hubId, chain_id: forged.chainId, key_id: forged.keyId, signature: forged.signature }).execute(),
      );
      const inDatabase = await verify(h, logFlags(h));
      expect(inDatabase.code).toBe(1);
      expect(inDatabase.outcome).toMatchObject({ ok: false, kind: 'bad_signature', brokenAt: forged.seq });
      expect(inDatabase.outcome.problem).toContain('in the database has a bad signature');

      await withDatabase(h, (store) => store.db.deleteFrom('audit_checkpoints').where('seq', '=', forged.seq).execute());
      appendFileSync(logFile(h), `${JSON.stringify({ ...forged, seq: forged.seq + 1 })}\n`);
      const inLog = await verify(h, logFlags(h));
      expect(inLog.code).toBe(1);
      expect(inLog.outcome).toMatchObject({ ok: false, kind: 'bad_signature' });
      expect(inLog.outcome.problem).toContain(logFile(h));

      // Through a hub, the CLI checks a log it is given against the key the hub publishes.
      const given = `${logFile(h)}.given`;
      copyFileSync(logFile(h), given);
      await h.start();
      const online = await cli(['audit', 'verify', '--json', '--checkpoints', given], { GREENLIGHT_HUB: h.url, GREENLIGHT_TOKEN: ADMIN_TOKEN });
      expect(online.code).toBe(1);
      expect(JSON.parse(online.stdout)).toMatchObject({ ok: false, kind: 'bad_signature', problem: expect.stringContaining(given) });
      await h.stop();
    });

    it.skipIf(skip)('a new chain id, to disown the checkpoints held outside: the old checkpoints still match, so it is named a rewrite of the id', async () => {
      hub = await loggedHub(database);
      const h = hub;
      await withDatabase(h, async (store) => {
        await truncateAndFixHead(store, 6);
        await store.db.deleteFrom('audit_checkpoints').execute();
        await store.db.updateTable('chain_head').set({ chain_id: 'chn_000000000000000000000000' }).execute();
      });
      const { code, outcome } = await verify(h, logFlags(h));
      expect(code).toBe(1);
      // The old id's checkpoints still vouch for events this chain holds: the change itself is proven.
      expect(outcome).toMatchObject({ ok: false, kind: 'rewritten' });
      expect(outcome.problem).toContain('its chain id was changed');
    });

    it.skipIf(skip)('what it cannot catch, as the README says: events after the last checkpoint, removed with the head fixed and the rows they wrote', async () => {
      hub = new TestHub(database, { policy: POLICY, checkpointEveryEvents: 1000, checkpointIntervalMs: 60 * 60_000 });
      const h = hub;
      await h.start();
      await h.createUser('bob', ['approver'], ['sre']);
      const alice = await h.createUser('alice', ['requester']);
      const signed = await h.hub.checkpoints.checkpointer.checkpoint();
      expect(signed).not.toBeNull();
      for (let i = 0; i < 3; i += 1) expect((await h.api('POST', '/api/v1/requests', alice.token, deployRequest({ resource: `late-${i}` }))).status).toBe(201);
      await withDatabase(h, (store) => truncateAndFixHead(store, signed!.seq));
      // The requests those events wrote are still there, and the state pass names them.
      const rowsLeft = await h.api<VerifyJson & { events: number; findings?: { reason: string; table: string }[] }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
      expect(rowsLeft.body).toMatchObject({ ok: false, kind: 'state', events: signed!.seq });
      expect(rowsLeft.body.findings).toEqual(expect.arrayContaining([expect.objectContaining({ reason: 'no_event', table: 'requests' })]));
      // Taken out too, nothing is left to tell.
      await withDatabase(h, (store) => store.db.deleteFrom('requests').where('resource', 'like', 'late-%').execute());
      const answer = await h.api<VerifyJson & { events: number }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
      expect(answer.body).toMatchObject({ ok: true, events: signed!.seq, checkpoint: { seq: signed!.seq } });
    });
  });
}
