import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkpointSignatureValid, keyInUse, readCheckpointLog, type Checkpoint } from './domain/checkpoints.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind } from './test-support/hub-fixture.js';
import { eventually } from './test-support/eventually.js';
import { postgresAvailability } from './test-support/postgres.js';
import { newWebhookSecret, WebhookReceiver } from './test-support/webhook-receiver.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], expireAfter: 1h, maxPending: 1000 }
`;

const pg = await postgresAvailability();

async function publishedKey(hub: TestHub) {
  const answer = await hub.api<{ alg: string; keyId: string; publicKeyPem: string }>('GET', '/.well-known/greenlight-checkpoint-key', null);
  expect(answer.status).toBe(200);
  expect(answer.body.alg).toBe('Ed25519');
  return createPublicKey(answer.body.publicKeyPem);
}

async function storedCheckpoints(hub: TestHub): Promise<Checkpoint[]> {
  const rows = await hub.hub.ctx.store.db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').execute();
  return rows.map((row) => ({ seq: Number(row.seq), hash: row.hash, at: row.at, hubId: row.hub_id, chainId: row.chain_id, keyId: row.key_id, signature: row.signature }));
}

const chainHead = async (hub: TestHub) => {
  const head = await hub.hub.ctx.store.db.selectFrom('chain_head').select(['seq', 'hash']).executeTakeFirstOrThrow();
  return { seq: Number(head.seq), hash: head.hash };
};

const hashAt = async (hub: TestHub, seq: number) =>
  (await hub.hub.ctx.store.db.selectFrom('audit_events').select('hash').where('seq', '=', seq).executeTakeFirstOrThrow()).hash;

for (const database of ['sqlite', 'postgres'] as const satisfies readonly DatabaseKind[]) {
  const skip = database === 'postgres' && !pg.ok;
  describe(`signed audit checkpoints on ${database}${skip ? ` (skipped: ${pg.reason})` : ''}`, () => {
    const keyDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-checkpoint-keys-'));
    const receiver = new WebhookReceiver();
    const secret = newWebhookSecret();
    let hub: TestHub;

    beforeAll(async () => {
      if (skip) return;
      await receiver.start();
      hub = new TestHub(database, {
        policy: POLICY,
        checkpointKeyFile: path.join(keyDir, 'checkpoint-key.pem'),
        checkpointEveryEvents: 5,
        checkpointIntervalMs: 60 * 60_000,
        notifiers: {
          allowPrivateNetworks: true,
          webhooks: [
            { name: 'evidence', url: `${receiver.url}/evidence`, secret, events: ['audit.checkpoint'] },
            { name: 'everything', url: `${receiver.url}/everything`, secret },
          ],
        },
      });
      await hub.start();
      await hub.createUser('bob', ['approver'], ['sre']);
    });
    afterAll(async () => {
      if (!skip) await hub.dispose();
      await receiver.close();
      rmSync(keyDir, { recursive: true, force: true });
    });

    it.skipIf(skip)('creates the checkpoint key outside the data directory, mode 0600, and publishes its public half', async () => {
      const file = path.join(keyDir, 'checkpoint-key.pem');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(file.startsWith(hub.dataDir)).toBe(false);
      const key = await publishedKey(hub);
      expect(key.equals(createPublicKey(readFileSync(file, 'utf8')))).toBe(true);
    });

    it.skipIf(skip)('signs {seq, hash, at, hubId, chainId} every N events, into the database, the checkpoint log and subscribed webhooks', async () => {
      const alice = await hub.createUser('alice', ['requester']);
      for (let i = 0; i < 12; i += 1) expect((await hub.api('POST', '/api/v1/requests', alice.token, deployRequest({ resource: `svc-${i}` }))).status).toBe(201);
      const key = await publishedKey(hub);
      const stored = await eventually(async () => {
        const rows = await storedCheckpoints(hub);
        return rows.length >= 2 ? rows : undefined;
      }, { what: 'two checkpoints' });
      for (const checkpoint of stored) {
        expect(checkpointSignatureValid([keyInUse(key)], checkpoint)).toBe(true);
        expect(checkpoint.hash).toBe(await hashAt(hub, checkpoint.seq));
      }
      // Each one at least N events after the one before.
      for (let i = 1; i < stored.length; i += 1) expect(stored[i]!.seq - stored[i - 1]!.seq).toBeGreaterThanOrEqual(5);

      const logFile = path.join(hub.dataDir, 'checkpoints.jsonl');
      const logged = await eventually(async () => {
        const lines = existsSync(logFile) ? readCheckpointLog(logFile) : [];
        return lines.length >= stored.length ? lines : undefined;
      }, { what: 'the checkpoint log' });
      expect(logged.map((line) => line.checkpoint)).toEqual(expect.arrayContaining(stored));

      const delivered = await receiver.arrivals.next((webhook) => webhook.body.type === 'audit.checkpoint');
      expect(delivered.path).toBe('/evidence');
      const body = WebhookReceiver.verify(secret, delivered) as { data: Checkpoint };
      expect(checkpointSignatureValid([keyInUse(key)], body.data)).toBe(true);
      // An endpoint that lists no events gets its rules' request events, not the evidence stream.
      expect(receiver.received.filter((webhook) => webhook.path === '/everything')).toEqual([]);
    });

    it.skipIf(skip)('signs what is left at shutdown, so the checkpoint covers the last event the hub wrote', async () => {
      const alice = await hub.createUser('alice2', ['requester']);
      expect((await hub.api('POST', '/api/v1/requests', alice.token, deployRequest())).status).toBe(201);
      const before = await chainHead(hub);
      const url = hub.databaseUrl;
      await hub.stop();
      await hub.start();
      expect(hub.databaseUrl).toBe(url);
      const checkpoints = await storedCheckpoints(hub);
      expect(checkpoints.find((checkpoint) => checkpoint.seq >= before.seq)).toBeDefined();
      const verify = await hub.api<{ ok: boolean; checkpoint: { seq: number } | null }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
      expect(verify.body).toMatchObject({ ok: true });
      expect(verify.body.checkpoint?.seq).toBeGreaterThanOrEqual(before.seq);
    });
  });
}

describe('checkpoints every M minutes that saw events', () => {
  let hub: TestHub;
  afterEach(() => hub.dispose());

  it('signs a quiet log once after its events, then nothing more while nothing happens', async () => {
    hub = new TestHub('sqlite', { policy: POLICY, checkpointEveryEvents: 1_000_000, checkpointIntervalMs: 200 });
    await hub.start();
    await hub.createUser('bob', ['approver'], ['sre']);
    const head = await chainHead(hub);
    const first = await eventually(async () => (await storedCheckpoints(hub)).find((checkpoint) => checkpoint.seq === head.seq), { what: 'the interval checkpoint' });
    expect(first.hash).toBe(head.hash);
    const signed = (await storedCheckpoints(hub)).length;
    // More intervals come without events (run here at once rather than waited for): nothing new to sign.
    const checkpointer = hub.hub.checkpoints.checkpointer;
    for (let interval = 0; interval < 3; interval++) expect(await checkpointer.checkpoint()).toBeNull();
    expect(await storedCheckpoints(hub)).toHaveLength(signed);
    expect((await storedCheckpoints(hub)).at(-1)).toEqual(first);
  });
});

describe.skipIf(!pg.ok)(`several hubs on one PostgreSQL database${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const first = new TestHub('postgres', { policy: POLICY, checkpointEveryEvents: 3, checkpointIntervalMs: 60 * 60_000 });
  let second: TestHub;

  beforeAll(async () => {
    await first.start();
    second = new TestHub('postgres', { policy: POLICY, checkpointEveryEvents: 3, checkpointIntervalMs: 60 * 60_000 });
    second.databaseUrl = first.databaseUrl;
    await second.start();
  });
  afterAll(async () => {
    await second.stop().catch(() => undefined);
    await first.dispose();
  });

  it('never forks the log: checkpoints from both hubs follow the one chain, each position signed once', async () => {
    await first.createUser('bob', ['approver'], ['sre']);
    const alice = await first.createUser('alice', ['requester']);
    await Promise.all(
      [first, second].map(async (hub) => {
        for (let i = 0; i < 15; i += 1) expect((await hub.api('POST', '/api/v1/requests', alice.token, deployRequest({ resource: `svc-${hub.url}-${i}` }))).status).toBe(201);
      }),
    );
    const checkpoints = await eventually(async () => {
      const rows = await storedCheckpoints(first);
      return rows.length >= 4 ? rows : undefined;
    }, { what: 'checkpoints from the burst' });
    const key = await publishedKey(first);
    expect((await publishedKey(second)).equals(key)).toBe(true);
    const seqs = checkpoints.map((checkpoint) => checkpoint.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    for (const checkpoint of checkpoints) {
      expect(checkpointSignatureValid([keyInUse(key)], checkpoint)).toBe(true);
      expect(checkpoint.hash).toBe(await hashAt(first, checkpoint.seq));
    }
    for (const hub of [first, second]) expect((await hub.api('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body).toMatchObject({ ok: true });
  });
});

describe('one checkpoint log written by hubs of two databases, said to be shared', () => {
  it("each database is verified against its own checkpoints; the other's are noted, not held against it", async () => {
    const shared = mkdtempSync(path.join(os.tmpdir(), 'greenlight-shared-log-'));
    const checkpointLogFile = path.join(shared, 'checkpoints.jsonl');
    const hubs = [0, 1].map(() => new TestHub('sqlite', { policy: POLICY, checkpointLogFile, checkpointLogShared: true }));
    try {
      for (const hub of hubs) {
        await hub.start();
        await hub.createUser('bob', ['approver'], ['sre']);
        await hub.stop();
      }
      expect(new Set(readCheckpointLog(checkpointLogFile).map((line) => line.checkpoint?.chainId)).size).toBe(2);
      for (const hub of hubs) {
        await hub.start();
        const verify = await hub.api<{ ok: boolean; notes: string[] }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
        expect(verify.body).toMatchObject({ ok: true, checkpoint: { source: `the checkpoint log ${checkpointLogFile}` } });
        expect(verify.body.notes.join('\n')).toMatch(/checkpoints in the checkpoint log .* are for another database and were not used/);
        await hub.stop();
      }
    } finally {
      for (const hub of hubs) await hub.dispose();
      rmSync(shared, { recursive: true, force: true });
    }
  });
});

describe('where the checkpoint log lives', () => {
  it('warns at start when the log shares the database\'s disk, and not when it is told to live elsewhere on another mount', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _encoding, done) => { lines.push(chunk.toString()); done(); } }));
    const hub = new TestHub('sqlite', { policy: POLICY, logger });
    try {
      await hub.start();
      const warning = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).find((line) => line.msg.includes('checkpoint log'));
      expect(warning?.level).toBe(40);
      expect(warning?.msg).toContain(`the checkpoint log ${path.join(hub.dataDir, 'checkpoints.jsonl')} is on the same disk as the database`);
      expect(warning?.msg).toContain('--checkpoint-log');
    } finally {
      await hub.dispose();
    }
    // /dev/shm is another filesystem than the temporary data directory's on this machine, as another disk would be.
    const apart = mkdtempSync(path.join('/dev/shm', 'greenlight-log-'));
    lines.length = 0;
    const elsewhere = new TestHub('sqlite', { policy: POLICY, logger, checkpointLogFile: path.join(apart, 'checkpoints.jsonl') });
    try {
      await elsewhere.start();
      expect(statSync(apart).dev).not.toBe(statSync(elsewhere.dataDir).dev);
      expect(lines.filter((line) => line.includes('checkpoint log'))).toEqual([]);
    } finally {
      await elsewhere.dispose();
      rmSync(apart, { recursive: true, force: true });
    }
  });
});

describe('a checkpoint key that is not one', () => {
  it('stops the start naming the file, instead of signing nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-bad-key-'));
    const file = path.join(dir, 'checkpoint-key.pem');
    writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const hub = new TestHub('sqlite', { policy: POLICY, checkpointKeyFile: file });
    try {
      await expect(hub.start()).rejects.toThrow(`the checkpoint key ${file} is not an Ed25519 key`);
    } finally {
      await hub.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
