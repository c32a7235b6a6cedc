import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { io, type Socket } from 'socket.io-client';
import { HTTP_STATUS, LIMITS, newRequestSchema, type GreenlightRequest, type Policy, type SyncResult } from '../protocol/index.js';
import { parsePolicy, PolicyError } from '../server/domain/policy.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../server/test-support/hub-fixture.js';
import { jsonNestsDeeperThan } from '../server/transport/json-depth.js';
import { fuzzBody, fuzzValue, policyText, type FuzzBody } from './fuzz-arbitraries.js';
import { isWireError } from './support.js';

const HTTP_RUNS_PER_ENDPOINT = 125;
const HTTP_BATCH = 8;
const SOCKET_RUNS_PER_EVENT = 125;
const SOCKET_BATCH = 5;
const POLICY_RUNS = 2_500;
const TABLES = ['requests', 'decisions', 'users', 'user_groups', 'tokens', 'grants', 'deadlines', 'signing_keys', 'audit_events', 'chain_head'] as const;

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

describe('malformed input from every direction', () => {
  // A generous rate limit: this is about what the hub does with bad input, not how much it takes.
  const hub = new TestHub('sqlite', { policy: POLICY, rateLimitPerMinute: 1_000_000 });
  let alice: TestUser;
  let zoesRequest: string;
  let grantToken: string;
  let sent = 0;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    const zoe = await hub.createUser('zoe', ['requester']);
    const bob = await hub.createUser('bob', ['approver'], ['sre']);
    await hub.createUser('trent', ['requester']);
    zoesRequest = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', zoe.token, deployRequest())).body.id;
    const approved = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', zoe.token, deployRequest({ reason: 'for a grant' }))).body.id;
    await hub.api('POST', `/api/v1/requests/${approved}/decisions`, bob.token, { decision: 'approve' });
    grantToken = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${approved}`, zoe.token)).body.grant?.token ?? '';
    expect(grantToken).not.toBe('');
  });
  afterAll(() => hub.dispose());

  /**
   * What "the database did not change" means. `total_changes()` on the hub's own (single) SQLite
   * connection counts every row any INSERT, UPDATE or DELETE touched since it opened — an in-place
   * UPDATE, one that wrote the same values, even one later rolled back. Each table's rows (all
   * columns, in a fixed order) are hashed too, so a write from any other connection shows as well,
   * and a failure names the table. A few hundred rows at most here: well under a millisecond.
   */
  const snapshot = async () => {
    const { db } = hub.hub.ctx.store;
    // A refused call made with a valid token still counts as the user (and the token) being seen: those writes are left out.
    const { lastSeen } = hub.hub.ctx;
    await lastSeen.flush();
    const { rows: changed } = await sql<{ n: number }>`select total_changes() as n`.execute(db);
    const tables: Record<string, string> = {};
    for (const table of TABLES) {
      const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by rowid`.execute(db);
      const kept = table === 'users' ? rows.map(({ last_seen_at: _seen, ...row }) => row) : table === 'tokens' ? rows.map(({ last_used_at: _used, ...row }) => row) : rows;
      tables[table] = `${rows.length} rows, sha256 ${createHash('sha256').update(JSON.stringify(kept)).digest('hex').slice(0, 16)}`;
    }
    return { rowsChanged: Number(changed[0]?.n) - lastSeen.rowsWritten, ...tables };
  };

  const send = async (route: string, token: string | null, body: FuzzBody, method = 'POST') => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    let payload: string | ArrayBuffer | undefined;
    if (body.kind === 'json') {
      payload = JSON.stringify(body.value);
      headers['content-type'] = 'application/json';
    } else if (body.kind === 'text') {
      payload = body.text;
      headers['content-type'] = body.contentType;
    } else {
      payload = new Uint8Array(body.bytes).buffer;
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(hub.url + route, { method, headers, body: payload });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { notJson: text.slice(0, 200) };
    }
    return { status: response.status, body: parsed };
  };

  const ENDPOINTS: { name: string; method?: 'PATCH'; route: () => string; token: () => string | null; template: Record<string, unknown> }[] = [
    { name: 'submit', route: () => '/api/v1/requests', token: () => alice.token, template: { ...deployRequest(), idempotencyKey: 'k' } },
    // Alice cannot decide zoe's request: a body that happens to be valid is still refused after parsing.
    { name: 'decide', route: () => `/api/v1/requests/${zoesRequest}/decisions`, token: () => alice.token, template: { decision: 'approve', comment: 'ok' } },
    { name: 'create user', route: () => '/api/v1/users', token: () => ADMIN_TOKEN, template: { name: 'mallory', roles: ['admin'], groups: ['sre'] } },
    { name: 'change user', method: 'PATCH', route: () => '/api/v1/users/trent', token: () => ADMIN_TOKEN, template: { email: 'trent@example.com', roles: ['approver'], groups: ['sre'] } },
    { name: 'verify grant', route: () => '/api/v1/grants/verify', token: () => null, template: { token: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln' } },
    { name: 'redeem grant', route: () => '/api/v1/grants/redeem', token: () => null, template: { token: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln' } },
  ];

  it.each(ENDPOINTS)('HTTP $name: every reply is a 2xx or a stable JSON error, and refusals change nothing', async (endpoint) => {
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzBody(endpoint.template), { minLength: HTTP_BATCH, maxLength: HTTP_BATCH }), async (bodies) => {
        const before = await snapshot();
        const replies = await Promise.all(bodies.map((body) => send(endpoint.route(), endpoint.token(), body, endpoint.method)));
        sent += bodies.length;
        for (const reply of replies) {
          if (reply.status >= 200 && reply.status < 300) continue;
          expect(isWireError(reply.body), JSON.stringify(reply.body).slice(0, 300)).toBe(true);
          const { code } = (reply.body as { error: { code: keyof typeof HTTP_STATUS } }).error;
          expect(reply.status).toBe(HTTP_STATUS[code]);
          expect(reply.status, JSON.stringify(reply.body)).toBeLessThan(500);
        }
        if (replies.every((reply) => reply.status >= 300)) expect(await snapshot()).toEqual(before);
      }),
      { numRuns: HTTP_RUNS_PER_ENDPOINT },
    );
  });

  it('query strings and path segments: a page or a stable JSON error', async () => {
    const part = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('-1', '0', '1e9', 'NaN', '500', '501', 'true', '%', '%zz', '../', 'req_', ' ', '\u0000'));
    const route = fc.oneof(
      fc.tuple(fc.constantFrom('status', 'mine', 'limit', 'cursor', 'unknown'), part).map(([key, value]) => `/api/v1/requests?${key}=${encodeURIComponent(value)}`),
      fc.tuple(fc.constantFrom('from', 'to', 'type', 'limit', 'cursor', 'format', 'q', 'outcome', 'nope'), part).map(([key, value]) => `/api/v1/audit?${key}=${encodeURIComponent(value)}`),
      part.map((value) => `/api/v1/requests/${encodeURIComponent(value)}`),
      part.map((value) => `/api/v1/requests/${encodeURIComponent(value)}/wait?timeoutSeconds=0`),
    );
    await fc.assert(
      fc.asyncProperty(route, async (path) => {
        const response = await fetch(hub.url + path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        const text = await response.text();
        sent++;
        expect(response.status, `${path}: ${text.slice(0, 200)}`).toBeLessThan(500);
        if (response.status >= 300) {
          const body: unknown = JSON.parse(text);
          expect(isWireError(body), text.slice(0, 200)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('a tampered grant is never accepted', async () => {
    // The last character of an Ed25519 signature carries 4 unused bits, so some edits of it decode to the same bytes.
    const tampered = fc.tuple(fc.nat(grantToken.length - 2), fc.constantFrom('A', 'B', '_', '-', '.', '')).map(([at, char]) => grantToken.slice(0, at) + char + grantToken.slice(at + 1)).filter((token) => token !== grantToken);
    await fc.assert(
      fc.asyncProperty(tampered, async (token) => {
        const reply = await send('/api/v1/grants/verify', null, { kind: 'json', value: { token } });
        sent++;
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({ valid: false });
      }),
      { numRuns: 200 },
    );
  });

  describe('socket payloads', () => {
    let socket: Socket;
    beforeAll(async () => {
      socket = io(hub.url, { auth: { token: alice.token }, forceNew: true, transports: ['websocket'], reconnection: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
    });
    afterAll(() => socket.close());

    const EVENTS: { event: string; template: Record<string, unknown> }[] = [
      { event: 'request:submit', template: { ...deployRequest() } },
      { event: 'request:decide', template: { requestId: 'req_x', decision: 'approve', comment: 'ok' } },
      { event: 'request:cancel', template: { requestId: 'req_x' } },
      { event: 'requests:sync', template: {} },
      { event: 'request:claim', template: { requestId: 'req_x' } },
      { event: 'request:release', template: { requestId: 'req_x' } },
      { event: 'request:get', template: { requestId: 'req_x' } },
    ];

    it.each(EVENTS)('$event: every ack is {data} or {error} with a stable code, the socket stays up, refusals change nothing', async ({ event, template }) => {
      // Aim some payloads at a real request (zoe's), which alice may neither decide nor cancel.
      const aimed = fuzzValue(template).map((value) =>
        value && typeof value === 'object' && !Array.isArray(value) && 'requestId' in value ? { ...value, requestId: zoesRequest } : value,
      );
      // Packets over the hub's size or depth limit close the connection by design (the next test and
      // server/socket-depth.test.ts cover that); stay under them here. The packet's argument list is one level more.
      const underLimit = (value: unknown) => {
        const text = JSON.stringify([event, value]) ?? '';
        return Buffer.byteLength(text) < LIMITS.bodyBytes - 1024 && !jsonNestsDeeperThan(text, LIMITS.jsonDepth + 1);
      };
      const payload = fc.oneof(fuzzValue(template), aimed, fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes))).filter(underLimit);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(payload, fc.boolean()), { minLength: SOCKET_BATCH, maxLength: SOCKET_BATCH }), async (batch) => {
          expect(socket.connected).toBe(true);
          const before = await snapshot();
          const acks = await Promise.all(
            batch.map(async ([value, withAck]): Promise<unknown> => {
              if (!withAck) {
                socket.emit(event, value);
                return undefined;
              }
              return (await socket.timeout(10_000).emitWithAck(event, value)) as unknown;
            }),
          );
          // One more acknowledged call on the same socket: every earlier handler has started by the time it is answered.
          await socket.timeout(10_000).emitWithAck('requests:sync', {});
          sent += batch.length;
          let accepted = false;
          for (const ack of acks) {
            if (ack === undefined) continue;
            if (typeof ack === 'object' && ack !== null && 'data' in ack) {
              accepted = true;
              continue;
            }
            expect(isWireError(ack), JSON.stringify(ack).slice(0, 300)).toBe(true);
            expect((ack as { error: { code: string } }).error.code).not.toBe('INTERNAL');
          }
          expect(socket.connected).toBe(true);
          // A payload sent without an ack that happens to be a valid submission may add a request.
          const mayHaveSubmitted = event === 'request:submit' && batch.some(([value, withAck]) => !withAck && newRequestSchema.safeParse(value).success);
          if (!accepted && !mayHaveSubmitted) expect(await snapshot()).toEqual(before);
        }),
        { numRuns: SOCKET_RUNS_PER_EVENT },
      );
    });

    it('a packet over the size limit closes only that socket: the hub, other clients and the database carry on', async () => {
      // One request of alice's to read back afterwards, made before the snapshot.
      const own = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'read back after the oversized packet' }))).body.id;
      const offender = io(hub.url, { auth: { token: alice.token }, forceNew: true, transports: ['websocket'], reconnection: false });
      await new Promise<void>((resolve, reject) => {
        offender.once('connect', resolve);
        offender.once('connect_error', reject);
      });
      const before = await snapshot();
      const disconnected = new Promise<{ disconnected: string }>((resolve) => offender.once('disconnect', (reason) => resolve({ disconnected: reason })));
      const acked = offender
        .timeout(10_000)
        .emitWithAck('request:submit', deployRequest({ context: { diff: 'x'.repeat(LIMITS.bodyBytes + 1024) } }))
        .then((ack: unknown) => ({ ack }), (error: unknown) => ({ ackFailed: String(error) }));
      sent++;
      // The hub must drop the connection, not hand the packet to a handler (which would ack, or time out).
      const first = await Promise.race([disconnected, acked]);
      expect(first, JSON.stringify(first).slice(0, 300)).toEqual({ disconnected: 'transport close' });
      expect(offender.connected).toBe(false);
      expect(await acked).toEqual({ ackFailed: 'Error: socket has been disconnected' });
      offender.close();
      expect((await hub.api('GET', '/healthz', null)).status).toBe(200);
      expect(socket.connected).toBe(true);
      const got = (await socket.timeout(10_000).emitWithAck('request:get', { requestId: own })) as { data?: GreenlightRequest };
      expect(got.data?.id).toBe(own);
      const synced = (await socket.timeout(10_000).emitWithAck('requests:sync', {})) as { data?: SyncResult };
      expect(synced.data?.mine.map((request) => request.id)).toContain(own);
      expect(await snapshot()).toEqual(before);
    });
  });

  it('policy files: parsePolicy returns a policy or throws PolicyError, nothing else', () => {
    let accepted = 0;
    // The YAML parser reports unknown tags as process warnings; they are expected here and only noise.
    const emitWarning = process.emitWarning;
    process.emitWarning = () => undefined;
    try {
      fc.assert(
        fc.property(policyText, (text) => {
          let policy: Policy;
          try {
            policy = parsePolicy(text, 'fuzz.yaml');
          } catch (error) {
            expect(error).toBeInstanceOf(PolicyError);
            expect((error as PolicyError).message).toMatch(/^fuzz\.yaml: ./);
            // Refused by a rule, not by running out of stack: that can abort the process instead (V8
            // gives up when the stack runs out while it compiles a regular expression).
            expect((error as PolicyError).message).not.toMatch(/call stack/i);
            return;
          }
          accepted++;
          expect(policy.rules.length).toBeGreaterThan(0);
          for (const rule of policy.rules) {
            expect(rule.autoApprove || rule.approvers.length > 0).toBe(true);
            expect(Number.isInteger(rule.minApprovals) && rule.minApprovals >= 1).toBe(true);
            // Every duration must still be a date when added to now, or each submission under the rule fails later.
            for (const seconds of [...rule.escalation.map((step) => step.after), rule.expireAfter ?? 1, rule.grantTtl, rule.claimHolds]) {
              expect(seconds).toBeGreaterThan(0);
              expect(Number.isNaN(new Date(Date.now() + seconds * 1000).getTime()), `${seconds} s`).toBe(false);
            }
          }
        }),
        { numRuns: POLICY_RUNS },
      );
    } finally {
      process.emitWarning = emitWarning;
    }
    sent += POLICY_RUNS;
    console.log(`policy fuzz: ${accepted} of ${POLICY_RUNS} texts were valid policies`);
  });

  it('a policy whose durations cannot be dates is refused when loaded, not when a request arrives', async () => {
    const text = (after: string) => `rules:\n  - name: prod\n    match: { action: deploy }\n    approvers: [sre]\n    escalation:\n      - { after: ${after}, notify: [leads] }\n`;
    expect(() => parsePolicy(text('99999999d'), 'long.yaml')).toThrow(PolicyError);
    expect(() => parsePolicy(text('99999999999999999999999d'), 'long.yaml')).toThrow(/long\.yaml: rule "prod": escalation/);
    expect(parsePolicy(text('3650d')).rules[0]?.escalation[0]?.after).toBe(3650 * 86_400);
    // A long but sane duration still works end to end.
    const strict = new TestHub('sqlite', { policy: text('30d') });
    await strict.start();
    try {
      const alice = await strict.createUser('alice', ['requester']);
      await strict.createUser('bob', ['approver'], ['sre']);
      const submitted = await strict.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest());
      expect(submitted.status).toBe(201);
    } finally {
      await strict.dispose();
    }
  });

  it('the hub is still up and its audit chain intact', async () => {
    console.log(`bad input: ${sent} malformed inputs sent`);
    expect(sent).toBeGreaterThanOrEqual(10_000);
    const health = await hub.api<{ status: string }>('GET', '/healthz', null);
    expect(health.status).toBe(200);
    const chain = await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(chain.body).toMatchObject({ ok: true });
  });
});
