import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { capturedLog } from '../test-support/captured-log.js';
import { deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { isWireError, type ErrorBody } from '../test-support/http.js';

/**
 * What the hostile-input probes share: one real SQLite hub per file with the policy and manual
 * clock below, the same six people, and the checks every probe makes: the refusal is the hub's
 * error shape with its stable code, no table's rows changed, and nothing reached the
 * "unexpected error" log.
 */

const POLICY = `
rules:
  - name: deploy-prod
    match: { action: deploy }
    approvers: [sre]
    grantTtl: 1h
    expireAfter: 2h
    extensions: { autoApprove: 1, maxTotal: 3h }
    breakGlass: { groups: [oncall], maxTtl: 1h, cooldown: 4h, reviewers: [security] }
`;

export const MINUTE = 60_000;
export const REASON = 'database is down, customers cannot pay';

export type Answer = { status: number; body: unknown };

const PEOPLE = {
  alice: { roles: ['requester'], groups: [] },
  bob: { roles: ['requester', 'approver'], groups: ['sre'] },
  carol: { roles: ['approver'], groups: ['sre'] },
  dana: { roles: ['requester', 'approver'], groups: ['reviewers-elsewhere'] },
  dave: { roles: ['requester'], groups: ['oncall'] },
  sue: { roles: ['approver'], groups: ['security'] },
} as const;

/**
 * Columns a call writes by being authenticated, refused or not (when a token was last used, when its
 * owner was last seen): left out of the snapshot.
 */
const ACCESS_RECORDS: Record<string, string[]> = { tokens: ['last_used_at'], users: ['last_seen_at'] };

/** Tables a refused call could write to: if the snapshot misses them, "nothing was written" says nothing. */
const TABLES_THE_PROBES_WATCH = ['audit_events', 'decisions', 'delegations', 'grants', 'outbox', 'requests', 'tokens', 'users'];

/**
 * Starts the probes' hub before the file's tests and stops it after. The people are handed out at
 * once, so a file can name them where it declares its tests; their tokens are filled in when the
 * hub has started, before any test reads them.
 */
export function hostileHub() {
  const clock = new ManualClock('2026-12-22T09:00:00.000Z');
  const log = capturedLog('error');
  const hub = new TestHub('sqlite', { policy: POLICY, clock, logger: log.logger });
  const people = Object.fromEntries(Object.keys(PEOPLE).map((name) => [name, { name, token: '' }])) as Record<keyof typeof PEOPLE, TestUser>;

  const api = (method: string, route: string, token: string | null, body?: unknown) => hub.api(method, route, token, body);
  /** A raw call: any method, headers and body text as given. */
  const raw = async (method: string, route: string, init: { token?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> => {
    const response = await fetch(hub.url + route, {
      method,
      headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers },
      body: init.body,
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text, so a failing assertion shows it
    }
    return { status: response.status, body };
  };
  /** A raw call whose body text is labelled JSON, whatever it holds. */
  const rawJson = (method: string, route: string, token: string | undefined, body: string) => raw(method, route, { token, headers: { 'content-type': 'application/json' }, body });

  /**
   * Every table's rows, hashed: what a refused call must leave exactly as it was, an update in place
   * included. Only what authenticating a call writes is left out (`ACCESS_RECORDS`).
   */
  const fingerprint = async (): Promise<Record<string, string>> => {
    const db = hub.hub.ctx.store.db;
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
    const hashes: Record<string, string> = {};
    for (const { name } of tables.rows) {
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)} order by rowid`.execute(db);
      const skipped = ACCESS_RECORDS[name] ?? [];
      const kept = rows.rows.map((row) => Object.entries(row).filter(([column]) => !skipped.includes(column)));
      hashes[name] = `${rows.rows.length} rows, ${createHash('sha256').update(JSON.stringify(kept, (_, value: unknown) => (Buffer.isBuffer(value) ? value.toString('base64') : value))).digest('hex').slice(0, 16)}`;
    }
    return hashes;
  };

  /** Runs `probe`, expecting the hub's error shape with one of `statuses`, and every table as it was. */
  const refusedAsOneOf = async (probe: () => Promise<Answer>, statuses: number[], label: string) => {
    const before = await fingerprint();
    const answer = await probe();
    expect(answer.body, `${label}: ${JSON.stringify(answer.body)}`).toSatisfy(isWireError);
    expect(statuses, `${label}: ${answer.status} ${JSON.stringify(answer.body)}`).toContain(answer.status);
    expect(await fingerprint()).toEqual(before);
  };

  /** Runs `probe`, expecting the hub's error shape with `status` and `code`, and every table as it was. */
  const refusedUnchanged = async (probe: () => Promise<Answer>, status: number, code: string) => {
    const before = await fingerprint();
    const answer = await probe();
    expect(answer.body, JSON.stringify(answer.body)).toSatisfy(isWireError);
    expect({ status: answer.status, code: (answer.body as ErrorBody).error.code }).toEqual({ status, code });
    expect(await fingerprint()).toEqual(before);
  };

  const submit = async (user: TestUser, overrides: Record<string, unknown> = {}) => {
    const created = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', user.token, deployRequest(overrides));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  };
  const decide = (user: TestUser, id: string, body: unknown) => api('POST', `/api/v1/requests/${id}/decisions`, user.token, body);

  beforeAll(async () => {
    await hub.start();
    for (const [name, { roles, groups }] of Object.entries(PEOPLE)) {
      people[name as keyof typeof PEOPLE].token = (await hub.createUser(name, [...roles], [...groups])).token;
    }
    expect(Object.keys(await fingerprint())).toEqual(expect.arrayContaining(TABLES_THE_PROBES_WATCH));
  });
  afterAll(() => hub.dispose());

  afterAll(() => {
    // Nothing any probe sent reached the "unexpected error" path.
    expect(log.lines().filter((line) => line.level >= 50).map((line) => line.msg)).toEqual([]);
  });

  return { clock, hub, ...people, api, raw, rawJson, fingerprint, refusedAsOneOf, refusedUnchanged, submit, decide };
}
