import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { HTTP_STATUS, LIMITS, type ErrorCode, type GreenlightRequest, type SyncResult } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../server/test-support/hub-fixture.js';
import type { Actor } from '../server/domain/actor.js';
import { call, eventually, isWireError, type Reply } from './support.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    minApprovals: 1
    escalation:
      - { after: 1h, notify: [leads] }
    # One requester submits a fresh request for every cell of the matrix.
    maxPending: 10000
  - name: databases
    match: { action: query }
    approvers: [dba]
  - name: rollbacks
    match: { action: rollback }
    approvers: [sre]
    escalation:
      - { after: 1s, notify: [leads] }
`;

/** The last three are the scope axis: the requester, the eligible approver and the admin, each through a token made with fewer scopes than their role allows. */
const ROLES = ['requester', 'other-approver', 'eligible-approver', 'lead', 'admin', 'no-token', 'disabled', 'pipeline', 'read-only approver', 'audit-only admin'] as const;
type Role = (typeof ROLES)[number];
const HTTP_OPERATIONS = [
  'submit', 'get request', 'wait', 'list', 'me', 'decide', 'cancel own', 'cancel other’s', 'claim', 'release',
  'create user', 'list users', 'update user', 'disable user', 'enable user', 'setup status', 'audit read', 'audit verify', 'audit export',
  'revoke grant', 'verify grant', 'redeem grant', 'list notifications', 'retry notification',
] as const;
const SOCKET_OPERATIONS = [
  'socket submit', 'socket get', 'socket sync', 'socket decide', 'socket cancel own', 'socket cancel other’s', 'socket claim', 'socket release',
] as const;
const OPERATIONS = [...HTTP_OPERATIONS, ...SOCKET_OPERATIONS] as const;
type Operation = (typeof OPERATIONS)[number];
type SocketOperation = (typeof SOCKET_OPERATIONS)[number];
/** Pending requests made in `beforeAll`, by who can see them. */
const PROBES = ['alice', 'zoe', 'dba', 'escalated'] as const;
type Probe = (typeof PROBES)[number];
/** An HTTP status, an error code (HTTP reply, socket ack or refused handshake), `{data}` acked, or the probes a listing shows. */
type Expected = number | ErrorCode | typeof DATA | readonly Probe[];

const NO = 'FORBIDDEN';
const OUT = 'UNAUTHENTICATED';
const DATA = 'data';
/** The role would allow it; the token was made without the scope. */
const SCOPE = 'INSUFFICIENT_SCOPE';
const ALL = PROBES;
/**
 * The policy, as a table. The target request is the requester's (alice), on a rule whose approvers
 * are `sre`; the lead's group only joins after the (1 h) escalation, so the lead is not eligible yet.
 * "Other's" requests belong to a fifth user (zoe). Grants are their own credential: no token needed.
 * `release` targets a request the eligible approver (bob) has claimed.
 *
 * Listings (`list`: `GET /api/v1/requests`, paged to the end; `socket sync`: inbox and mine) name the
 * probes each role sees: alice's and zoe's deploys (sre), zoe's `query` (dba), and zoe's rollback that
 * escalated to `leads` after 1 s. Beyond the probes, every request listed must be one the caller may
 * open, and every one they may open must be listed (checked against the admin's full list).
 * Socket rows for a missing or disabled token expect the handshake to be refused.
 *
 * Scope axis: `pipeline` is alice with `requests:create requests:read`, `read-only approver` is bob with
 * `requests:read`, `audit-only admin` is the admin with `audit:read`. A scope the token lacks but the
 * role allows is INSUFFICIENT_SCOPE; what the role itself forbids answers as in the role's own column.
 */
// prettier-ignore
const TABLE: [Operation, ...Expected[]][] = [
  //                        requester         other-approver   eligible-approver               lead             admin            no-token disabled pipeline     read-only approver              audit-only admin
  ['submit',                201,              201,             201,                            201,             201,             OUT,  OUT,  201,              SCOPE,                          SCOPE],
  ['get request',           200,              NO,              200,                            NO,              200,             OUT,  OUT,  200,              200,                            SCOPE],
  ['wait',                  200,              NO,              200,                            NO,              200,             OUT,  OUT,  200,              200,                            SCOPE],
  ['list',                  ['alice'],        ['dba'],         ['alice', 'zoe', 'escalated'],  ['escalated'],   ALL,             OUT,  OUT,  ['alice'],        ['alice', 'zoe', 'escalated'],  SCOPE],
  ['me',                    200,              200,             200,                            200,             200,             OUT,  OUT,  200,              200,                            200],
  ['decide',                'SELF_APPROVAL',  'NOT_ELIGIBLE',  200,                            'NOT_ELIGIBLE',  'NOT_ELIGIBLE',  OUT,  OUT,  'SELF_APPROVAL',  SCOPE,                          SCOPE],
  ['cancel own',            200,              200,             200,                            200,             200,             OUT,  OUT,  200,              SCOPE,                          SCOPE],
  ['cancel other’s',        NO,               NO,              NO,                             NO,              200,             OUT,  OUT,  NO,               SCOPE,                          SCOPE],
  ['claim',                 'SELF_APPROVAL',  'NOT_ELIGIBLE',  200,                            'NOT_ELIGIBLE',  'NOT_ELIGIBLE',  OUT,  OUT,  'SELF_APPROVAL',  SCOPE,                          SCOPE],
  ['release',               NO,               NO,              200,                            NO,              200,             OUT,  OUT,  NO,               SCOPE,                          SCOPE],
  ['create user',           NO,               NO,              NO,                             NO,              201,             OUT,  OUT,  NO,               NO,                             SCOPE],
  ['list users',            NO,               NO,              NO,                             NO,              200,             OUT,  OUT,  NO,               NO,                             SCOPE],
  ['update user',           NO,               NO,              NO,                             NO,              200,             OUT,  OUT,  NO,               NO,                             SCOPE],
  ['disable user',          NO,               NO,              NO,                             NO,              200,             OUT,  OUT,  NO,               NO,                             SCOPE],
  ['enable user',           NO,               NO,              NO,                             NO,              200,             OUT,  OUT,  NO,               NO,                             SCOPE],
  ['setup status',          NO,               NO,              NO,                             NO,              200,             OUT,  OUT,  NO,               NO,                             SCOPE],
  ['audit read',            NO,               NO,              NO,                             NO,              200,             OUT,  OUT,  NO,               NO,                             200],
  ['audit verify',          NO,               NO,              NO,                             NO,              200,             OUT,  OUT,  NO,               NO,                             200],
  ['audit export',          NO,               NO,              NO,                             NO,              200,             OUT,  OUT,  NO,               NO,                             200],
  ['revoke grant',          200,              NO,              200,                            NO,              200,             OUT,  OUT,  200,              SCOPE,                          SCOPE],
  ['verify grant',          200,              200,             200,                            200,             200,             200,  200,  200,              200,                            200],
  ['redeem grant',          200,              200,             200,                            200,             200,             200,  200,  200,              200,                            200],
  ['list notifications',    NO,               NO,              NO,                             NO,              200,             OUT,  OUT,  NO,               NO,                             SCOPE],
  ['retry notification',    NO,               NO,              NO,                             NO,              'NOT_FOUND',     OUT,  OUT,  NO,               NO,                             SCOPE],
  ['socket submit',         DATA,             DATA,            DATA,                           DATA,            DATA,            OUT,  OUT,  DATA,             SCOPE,                          SCOPE],
  ['socket get',            DATA,             NO,              DATA,                           NO,              DATA,            OUT,  OUT,  DATA,             DATA,                           SCOPE],
  ['socket sync',           ['alice'],        ['dba'],         ['alice', 'zoe', 'escalated'],  ['escalated'],   [],              OUT,  OUT,  ['alice'],        ['alice', 'zoe', 'escalated'],  SCOPE],
  ['socket decide',         'SELF_APPROVAL',  'NOT_ELIGIBLE',  DATA,                           'NOT_ELIGIBLE',  'NOT_ELIGIBLE',  OUT,  OUT,  'SELF_APPROVAL',  SCOPE,                          SCOPE],
  ['socket cancel own',     DATA,             DATA,            DATA,                           DATA,            DATA,            OUT,  OUT,  DATA,             SCOPE,                          SCOPE],
  ['socket cancel other’s', NO,               NO,              NO,                             NO,              DATA,            OUT,  OUT,  NO,               SCOPE,                          SCOPE],
  ['socket claim',          'SELF_APPROVAL',  'NOT_ELIGIBLE',  DATA,                           'NOT_ELIGIBLE',  'NOT_ELIGIBLE',  OUT,  OUT,  'SELF_APPROVAL',  SCOPE,                          SCOPE],
  ['socket release',        NO,               NO,              DATA,                           NO,              DATA,            OUT,  OUT,  NO,               SCOPE,                          SCOPE],
];

/**
 * A refusal for want of a part in a request tells the caller nothing about it: not which groups or
 * people may approve it (the target's rule needs `sre`, the escalation `leads`). The admin, who may
 * open every request, is told.
 */
function expectNothingTold(role: Role, code: ErrorCode, message: string): void {
  if (role !== 'admin' && (code === 'NOT_ELIGIBLE' || code === 'FORBIDDEN')) expect(message).not.toMatch(/\b(sre|leads)\b/);
}

const ROWS = TABLE.flatMap(([operation, ...expected]) => ROLES.map((role, column) => ({ role, operation, expected: expected[column] as Expected })));

/** What a socket operation came back with: an ack, or the handshake's refusal. */
type SocketOutcome = { ack: unknown } | { refused: unknown };
type Outcome = { http: Reply } | { socket: SocketOutcome };

describe('who may do what', () => {
  // Dozens of rows fail authentication on purpose; past the default 60 a minute they would be 429s.
  const hub = new TestHub('sqlite', { policy: POLICY, failedAuthPerMinute: 10_000 });
  const tokens = {} as Record<Role, string | null>;
  /** The full token of the user behind each role, to set up what a narrower token then acts on. */
  const ownerTokens = {} as Record<Role, string | null>;
  /** Who each signed-in role is, from `GET /api/v1/me`. */
  const actors = {} as Partial<Record<Role, Actor>>;
  const probes = {} as Record<Probe, string>;
  const sockets = new Map<Role, Socket>();
  let alice: TestUser, bob: TestUser, zoe: TestUser;
  let counter = 0;
  /** Submitted by dave before an admin disabled him. */
  let davesRequest = '';

  const api = <T = unknown>(method: string, route: string, token: string | null, body?: unknown): Promise<Reply<T>> => call<T>(hub.url, method, route, token, body);
  const requestBy = async (user: { token: string }, overrides: Record<string, unknown> = {}) => {
    const reply = await api<GreenlightRequest>('POST', '/api/v1/requests', user.token, deployRequest({ reason: `matrix ${++counter}`, ...overrides }));
    expect(reply.status, reply.text.slice(0, 300)).toBe(201);
    return reply.body.id;
  };

  const scopedToken = async (owner: string, scopes: string[]) => {
    const reply = await api<{ token: string }>('POST', '/api/v1/tokens', owner, { name: `matrix ${scopes.join(' ')}`, scopes, expiresIn: '1d' });
    expect(reply.status, reply.text.slice(0, 300)).toBe(201);
    return reply.body.token;
  };

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    zoe = await hub.createUser('zoe', ['requester']);
    const erin = await hub.createUser('erin', ['approver'], ['dba']);
    const lena = await hub.createUser('lena', ['lead'], ['leads']);
    const dave = await hub.createUser('dave', ['approver'], ['sre']);
    // A second active member of sre, so bob's own requests go to sre (bob may not approve them) as alice's do.
    await hub.createUser('sam', ['approver'], ['sre']);
    davesRequest = await requestBy(dave);
    expect((await hub.api('POST', '/api/v1/users/dave/disable', ADMIN_TOKEN)).status).toBe(200);
    Object.assign(tokens, {
      requester: alice.token,
      'other-approver': erin.token,
      'eligible-approver': bob.token,
      lead: lena.token,
      admin: ADMIN_TOKEN,
      'no-token': null,
      disabled: dave.token,
      pipeline: await scopedToken(alice.token, ['requests:create', 'requests:read']),
      'read-only approver': await scopedToken(bob.token, ['requests:read']),
      'audit-only admin': await scopedToken(ADMIN_TOKEN, ['audit:read']),
    } satisfies Record<Role, string | null>);
    Object.assign(ownerTokens, tokens, { pipeline: alice.token, 'read-only approver': bob.token, 'audit-only admin': ADMIN_TOKEN });
    for (const role of ROLES) {
      const token = tokens[role];
      if (role === 'disabled' || !token) continue;
      const me = await api<Actor>('GET', '/api/v1/me', token);
      expect(me.status).toBe(200);
      actors[role] = me.body;
    }
    Object.assign(probes, {
      alice: await requestBy(alice),
      zoe: await requestBy(zoe),
      dba: await requestBy(zoe, { action: 'query' }),
      escalated: await requestBy(zoe, { action: 'rollback' }),
    } satisfies Record<Probe, string>);
    await eventually(async () => {
      const reply = await api<GreenlightRequest>('GET', `/api/v1/requests/${probes.escalated}`, ADMIN_TOKEN);
      return reply.body.eligibleGroups.includes('leads') ? true : undefined;
    }, { what: 'the rollback to escalate to leads' });
  });
  afterAll(async () => {
    for (const socket of sockets.values()) socket.close();
    await hub.dispose();
  });

  /** An approved request of alice's, and its grant as only she can see it. */
  const grantOfAlice = async () => {
    const id = await requestBy(alice);
    expect((await api('POST', `/api/v1/requests/${id}/decisions`, bob.token, { decision: 'approve' })).status).toBe(200);
    const grant = (await api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token)).body.grant;
    if (!grant?.token) throw new Error('the requester should see her grant');
    return { jti: grant.jti, token: grant.token };
  };
  /** A request of alice's that bob (eligible) has claimed. */
  const claimedByBob = async () => {
    const id = await requestBy(alice);
    expect((await api('POST', `/api/v1/requests/${id}/claim`, bob.token)).status).toBe(200);
    return id;
  };
  /** Every request the token's holder is shown, following the cursor to the end. */
  const listAll = async (token: string | null): Promise<Reply> => {
    const requests: GreenlightRequest[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: Reply<{ requests: GreenlightRequest[]; nextCursor: string | null }> = await api('GET', `/api/v1/requests?limit=${LIMITS.pageSize}${cursor ? `&cursor=${cursor}` : ''}`, token);
      if (page.status !== 200) return page;
      requests.push(...page.body.requests);
      cursor = page.body.nextCursor;
      if (!cursor) return { ...page, body: { requests, nextCursor: null } };
    }
  };

  /** One socket per signed-in role, kept open; a missing or disabled token gets the handshake's refusal instead. */
  const socketOf = async (role: Role): Promise<{ socket: Socket } | { refused: unknown }> => {
    const open = sockets.get(role);
    if (open?.connected) return { socket: open };
    const token = tokens[role];
    const socket = io(hub.url, { auth: token ? { token } : {}, forceNew: true, transports: ['websocket'], reconnection: false });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
    } catch (error) {
      socket.close();
      return { refused: error };
    }
    sockets.set(role, socket);
    return { socket };
  };
  const emit = async (role: Role, event: string, input: unknown): Promise<Outcome> => {
    const connected = await socketOf(role);
    if (!('socket' in connected)) return { socket: connected };
    return { socket: { ack: (await connected.socket.timeout(10_000).emitWithAck(event, input)) as unknown } };
  };
  const http = async (reply: Promise<Reply>): Promise<Outcome> => ({ http: await reply });

  const OPERATION: Record<Operation, (token: string | null, role: Role) => Promise<Outcome>> = {
    submit: (token) => http(api('POST', '/api/v1/requests', token, deployRequest({ reason: 'matrix submit' }))),
    'get request': async (token) => http(api('GET', `/api/v1/requests/${await requestBy(alice)}`, token)),
    wait: async (token) => http(api('GET', `/api/v1/requests/${await requestBy(alice)}/wait?timeoutSeconds=0`, token)),
    list: (token) => http(listAll(token)),
    me: (token) => http(api('GET', '/api/v1/me', token)),
    decide: async (token) => http(api('POST', `/api/v1/requests/${await requestBy(alice)}/decisions`, token, { decision: 'approve' })),
    'cancel own': async (token, role) => {
      // Without a working token there is no "own" to submit now: the disabled user's earlier request, or alice's.
      const owner = ownerTokens[role];
      const id = role === 'disabled' ? davesRequest : await requestBy(owner ? { token: owner } : alice);
      return http(api('POST', `/api/v1/requests/${id}/cancel`, token));
    },
    'cancel other’s': async (token) => http(api('POST', `/api/v1/requests/${await requestBy(zoe)}/cancel`, token, { reason: 'matrix: an admin ends it' })),
    claim: async (token) => http(api('POST', `/api/v1/requests/${await requestBy(alice)}/claim`, token)),
    release: async (token) => http(api('POST', `/api/v1/requests/${await claimedByBob()}/release`, token)),
    'create user': (token) => http(api('POST', '/api/v1/users', token, { name: `matrix-user-${++counter}`, roles: ['requester'] })),
    'list users': (token) => http(api('GET', '/api/v1/users', token)),
    'update user': async (token) => {
      const name = `matrix-target-${++counter}`;
      await hub.createUser(name, ['requester']);
      return http(api('PATCH', `/api/v1/users/${name}`, token, { roles: ['approver'], groups: ['sre'], email: `${name}@example.com` }));
    },
    'enable user': async (token) => {
      const name = `matrix-target-${++counter}`;
      await hub.createUser(name, ['requester']);
      expect((await hub.api('POST', `/api/v1/users/${name}/disable`, ADMIN_TOKEN)).status).toBe(200);
      return http(api('POST', `/api/v1/users/${name}/enable`, token));
    },
    'setup status': (token) => http(api('GET', '/api/v1/setup', token)),
    'disable user': async (token) => {
      const name = `matrix-target-${++counter}`;
      await hub.createUser(name, ['requester']);
      return http(api('POST', `/api/v1/users/${name}/disable`, token));
    },
    'audit read': (token) => http(api('GET', '/api/v1/audit?limit=5', token)),
    'audit verify': (token) => http(api('GET', '/api/v1/audit/verify', token)),
    'audit export': (token) => http(api('GET', '/api/v1/audit?format=csv', token)),
    'revoke grant': async (token) => http(api('POST', `/api/v1/grants/${(await grantOfAlice()).jti}/revoke`, token)),
    'verify grant': async (token) => http(api('POST', '/api/v1/grants/verify', token, { token: (await grantOfAlice()).token })),
    'redeem grant': async (token) => http(api('POST', '/api/v1/grants/redeem', token, { token: (await grantOfAlice()).token })),
    'list notifications': (token) => http(api('GET', '/api/v1/notifications?status=failed', token)),
    // No webhook is configured here, so there is no notification to find: only admins get as far as looking.
    'retry notification': (token) => http(api('POST', '/api/v1/notifications/ntf_0mx00000000000000000000/retry', token)),
    'socket submit': (_token, role) => emit(role, 'request:submit', deployRequest({ reason: 'matrix socket submit' })),
    'socket get': async (_token, role) => emit(role, 'request:get', { requestId: await requestBy(alice) }),
    'socket sync': (_token, role) => emit(role, 'requests:sync', {}),
    'socket decide': async (_token, role) => emit(role, 'request:decide', { requestId: await requestBy(alice), decision: 'approve' }),
    'socket cancel own': async (_token, role) => {
      const owner = ownerTokens[role];
      return emit(role, 'request:cancel', { requestId: await requestBy(owner && role !== 'disabled' ? { token: owner } : alice) });
    },
    'socket cancel other’s': async (_token, role) => emit(role, 'request:cancel', { requestId: await requestBy(zoe), reason: 'matrix: an admin ends it' }),
    'socket claim': async (_token, role) => emit(role, 'request:claim', { requestId: await requestBy(alice) }),
    'socket release': async (_token, role) => emit(role, 'request:release', { requestId: await claimedByBob() }),
  };

  /** What `canSee` promises: the requester, an admin, a current approver, or someone who voted. */
  const maySee = (actor: Actor, request: GreenlightRequest) =>
    request.requester === actor.name || actor.roles.includes('admin') || mayDecide(actor, request) || request.decisions.some((d) => d.approver === actor.name);
  const mayDecide = (actor: Actor, request: GreenlightRequest) =>
    actor.roles.some((r) => r !== 'requester') && (request.eligibleUsers.includes(actor.name) || actor.groups.some((group) => request.eligibleGroups.includes(group)));
  const probesIn = (requests: GreenlightRequest[]) => {
    const ids = new Set(requests.map((request) => request.id));
    return PROBES.filter((probe) => ids.has(probes[probe]));
  };
  const idsOf = (requests: GreenlightRequest[]) => requests.map((request) => request.id).sort();
  const everything = async () => ((await listAll(ADMIN_TOKEN)).body as { requests: GreenlightRequest[] }).requests;

  it('covers every role and operation', () => {
    expect(ROWS).toHaveLength(ROLES.length * OPERATIONS.length);
    expect(TABLE.map(([operation]) => operation)).toEqual([...OPERATIONS]);
  });

  it.each(ROWS)('$role: $operation → $expected', async ({ role, operation, expected }) => {
    const outcome = await OPERATION[operation](tokens[role], role);
    const actor = actors[role];
    if ('http' in outcome) {
      const reply = outcome.http;
      const detail = reply.text.slice(0, 300);
      if (Array.isArray(expected)) {
        expect(reply.status, detail).toBe(200);
        if (!actor) throw new Error(`no actor for ${role}`);
        const { requests } = reply.body as { requests: GreenlightRequest[] };
        expect(probesIn(requests)).toEqual(expected);
        // Exactly what the caller may open: nothing more (a leak), nothing less.
        expect(idsOf(requests)).toEqual(idsOf((await everything()).filter((request) => maySee(actor, request))));
      } else if (typeof expected === 'number') {
        expect(reply.status, detail).toBe(expected);
        if (operation === 'verify grant') expect(reply.body).toMatchObject({ valid: true });
        if (operation === 'me') expect(reply.body).toMatchObject({ name: actor?.name, roles: actor?.roles, groups: actor?.groups });
      } else {
        const code = expected as ErrorCode;
        expect(reply.status, detail).toBe(HTTP_STATUS[code]);
        expect(isWireError(reply.body), detail).toBe(true);
        expect((reply.body as { error: { code: string } }).error.code).toBe(code);
        expectNothingTold(role, code, (reply.body as { error: { message: string } }).error.message);
      }
      return;
    }
    expect(SOCKET_OPERATIONS).toContain(operation as SocketOperation);
    const result = outcome.socket;
    if ('refused' in result) {
      // The handshake is the socket's only authentication: a refused one is UNAUTHENTICATED, or it is wrong.
      const data = (result.refused as { data?: { code?: unknown } }).data;
      expect(isWireError({ error: data }), JSON.stringify(data)).toBe(true);
      expect(data?.code).toBe(expected);
      return;
    }
    expect(expected, 'the handshake should have been refused').not.toBe(OUT);
    const ack = result.ack as { data?: unknown; error?: unknown };
    const detail = JSON.stringify(ack).slice(0, 300);
    if (expected === DATA || Array.isArray(expected)) {
      expect(ack, detail).toHaveProperty('data');
      expect(ack, detail).not.toHaveProperty('error');
    } else {
      expect(isWireError(ack), detail).toBe(true);
      expect((ack.error as { code: string }).code, detail).toBe(expected);
      expectNothingTold(role, expected as ErrorCode, (ack.error as { message: string }).message);
    }
    if (Array.isArray(expected)) {
      if (!actor) throw new Error(`no actor for ${role}`);
      const { inbox, mine } = ack.data as SyncResult;
      expect(probesIn([...inbox, ...mine])).toEqual(expected);
      // The inbox is what waits on me (pending, mine to decide, not my own); "mine" is my own.
      const all = await everything();
      expect(idsOf(inbox)).toEqual(idsOf(all.filter((request) => request.status === 'pending' && mayDecide(actor, request) && request.requester !== actor.name)));
      expect(idsOf(mine)).toEqual(idsOf(all.filter((request) => request.requester === actor.name)));
    }
  });
});

const DECIDERS_POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    maxPending: 1000
  - name: pair
    match: { action: migrate }
    approvers: [sre]
    minApprovals: 2
    maxPending: 1000
  - name: prod-db
    match: { action: open-db }
    require:
      - { group: sre, count: 1 }
      - { group: security, count: 1 }
    maxPending: 1000
  - name: incidents
    match: { action: failover }
    approvers: [sre]
    breakGlass: { groups: [oncall], maxTtl: 1h, cooldown: 4h, reviewers: [security] }
`;

/** The answer a case expects: a status for success, or the stable error code. */
type CaseOutcome = 200 | 201 | ErrorCode;

/**
 * Who may decide beyond the approver's own right: delegates (inside and outside the window, their
 * own request, their delegator's, chains), per-group quorum (a person in both groups, a delegate and
 * their delegator together) and an admin ending someone else's request.
 */
describe('who may decide: delegates, per-group quorum, admin cancel', () => {
  const hub = new TestHub('sqlite', { policy: DECIDERS_POLICY });
  const users = {} as Record<'alice' | 'bob' | 'carol' | 'dave' | 'erin' | 'pat' | 'sue' | 'otto' | 'oona' | 'olga' | 'omar' | 'rita', TestUser>;
  const api = <T = unknown>(method: string, route: string, token: string | null, body?: unknown): Promise<Reply<T>> => call<T>(hub.url, method, route, token, body);
  const day = 86_400_000;
  const submit = async (who: TestUser, action = 'deploy') => {
    const reply = await api<GreenlightRequest>('POST', '/api/v1/requests', who.token, deployRequest({ action, reason: `matrix ${action} by ${who.name}` }));
    expect(reply.status, reply.text.slice(0, 300)).toBe(201);
    return reply.body.id;
  };
  const decide = async (who: TestUser, id: string, body: Record<string, unknown> = { decision: 'approve' }) => api('POST', `/api/v1/requests/${id}/decisions`, who.token, body);
  const breakGlass = (who: TestUser) =>
    api('POST', '/api/v1/requests', who.token, deployRequest({ action: 'failover', reason: 'primary database down, failing over now', breakGlass: { incident: 'INC-1' } }));
  const outcome = (reply: Reply): CaseOutcome => (reply.status === 200 || reply.status === 201 ? reply.status : isWireError(reply.body) ? (reply.body.error.code as ErrorCode) : 'INTERNAL');

  beforeAll(async () => {
    await hub.start();
    users.alice = await hub.createUser('alice', ['requester']);
    users.bob = await hub.createUser('bob', ['approver'], ['sre']);
    users.carol = await hub.createUser('carol', ['approver'], ['devs']);
    users.dave = await hub.createUser('dave', ['approver'], ['qa']);
    users.erin = await hub.createUser('erin', ['approver'], ['sre']);
    users.pat = await hub.createUser('pat', ['approver'], ['sre', 'security']);
    users.sue = await hub.createUser('sue', ['approver'], ['security']);
    users.otto = await hub.createUser('otto', ['approver'], ['sre']);
    users.oona = await hub.createUser('oona', ['requester'], ['oncall']);
    users.olga = await hub.createUser('olga', ['requester'], ['oncall']);
    users.omar = await hub.createUser('omar', ['requester'], ['oncall']);
    users.rita = await hub.createUser('rita', ['requester'], ['security']);
    const delegate = async (token: string, body: Record<string, unknown>) => expect((await api('POST', '/api/v1/delegations', token, body)).status).toBe(201);
    // bob → carol now; carol → dave now (a chain, which must not carry bob's approvals); otto → dave from tomorrow.
    await delegate(users.bob.token, { to: 'carol', endsAt: new Date(Date.now() + 7 * day).toISOString(), reason: 'holiday' });
    await delegate(users.carol.token, { to: 'dave', endsAt: new Date(Date.now() + 7 * day).toISOString(), reason: 'away too' });
    await delegate(users.otto.token, { to: 'dave', startsAt: new Date(Date.now() + day).toISOString(), endsAt: new Date(Date.now() + 2 * day).toISOString(), reason: 'later' });
  });
  afterAll(() => hub.dispose());

  // prettier-ignore
  const CASES: [string, () => Promise<CaseOutcome | CaseOutcome[]>, CaseOutcome | CaseOutcome[]][] = [
    ['a delegate inside the window decides for the delegator', async () => outcome(await decide(users.carol, await submit(users.alice))), 200],
    ['a delegate outside the window decides nothing', async () => outcome(await decide(users.dave, await submit(users.alice), { decision: 'approve', onBehalfOf: 'otto' })), 'NOT_ELIGIBLE'],
    ['a delegate never decides their own request', async () => outcome(await decide(users.carol, await submit(users.carol))), 'SELF_APPROVAL'],
    ['a delegate never decides a request the delegator asked for', async () => outcome(await decide(users.carol, await submit(users.bob))), 'SELF_APPROVAL'],
    ['a delegation is not passed on (the delegate’s delegate)', async () => outcome(await decide(users.dave, await submit(users.alice))), 'NOT_ELIGIBLE'],
    ['a delegate and their delegator make no quorum of two alone', async () => {
      const id = await submit(users.alice, 'migrate');
      return [outcome(await decide(users.bob, id)), outcome(await decide(users.carol, id))];
    }, [200, 'ALREADY_DECIDED']],
    ['a person in both groups counts once toward a require rule', async () => {
      const id = await submit(users.alice, 'open-db');
      return [outcome(await decide(users.pat, id)), outcome(await decide(users.pat, id)), outcome(await decide(users.sue, id))];
    }, [200, 'ALREADY_DECIDED', 200]],
    ['a second approver for a line already met adds nothing', async () => {
      const id = await submit(users.alice, 'open-db');
      return [outcome(await decide(users.bob, id)), outcome(await decide(users.erin, id))];
    }, [200, 'QUORUM_LINE_MET']],
    ['an admin cancels someone else’s request with a reason', async () => outcome(await api('POST', `/api/v1/requests/${await submit(users.alice)}/cancel`, ADMIN_TOKEN, { reason: 'superseded' })), 200],
    ['an admin cancels nobody’s request without a reason', async () => outcome(await api('POST', `/api/v1/requests/${await submit(users.alice)}/cancel`, ADMIN_TOKEN, {})), 'INVALID_INPUT'],
    ['an approver cancels someone else’s request', async () => outcome(await api('POST', `/api/v1/requests/${await submit(users.alice)}/cancel`, users.bob.token, { reason: 'tidy' })), 'FORBIDDEN'],
    ['an approver delegates someone else’s approvals', async () => outcome(await api('POST', '/api/v1/delegations', users.bob.token, { from: 'erin', to: 'carol', endsAt: new Date(Date.now() + day).toISOString(), reason: 'x' })), 'FORBIDDEN'],
    ['an admin delegates someone else’s approvals', async () => outcome(await api('POST', '/api/v1/delegations', ADMIN_TOKEN, { from: 'erin', to: 'sue', endsAt: new Date(Date.now() + day).toISOString(), reason: 'cover' })), 201],
    ['a stranger ends someone else’s delegation', async () => {
      const list = await api<{ delegations: { id: string; from: string }[] }>('GET', '/api/v1/delegations', users.bob.token);
      return outcome(await api('DELETE', `/api/v1/delegations/${list.body.delegations.find((d) => d.from === 'bob')?.id ?? 'none'}`, users.sue.token));
    }, 'NOT_FOUND'],
    ['an outsider breaks the glass', async () => outcome(await breakGlass(users.alice)), 'BREAK_GLASS_FORBIDDEN'],
    ['an on-call member breaks the glass, then again within the cooldown', async () => [outcome(await breakGlass(users.oona)), outcome(await breakGlass(users.oona))], [201, 'BREAK_GLASS_COOLDOWN']],
    ['a break-glass is reviewed by a reviewer, not by an approver or its user', async () => {
      const id = ((await breakGlass(users.olga)).body as GreenlightRequest).id;
      const review = (who: TestUser) => api('POST', `/api/v1/requests/${id}/review`, who.token, { outcome: 'unratified', comment: 'no incident on record' });
      return [outcome(await review(users.olga)), outcome(await review(users.bob)), outcome(await review(users.sue))];
    }, ['SELF_APPROVAL', 'FORBIDDEN', 200]],
    ['a break-glass is not reviewed by a requester in the reviewer group', async () => {
      const id = ((await breakGlass(users.omar)).body as GreenlightRequest).id;
      return outcome(await api('POST', `/api/v1/requests/${id}/review`, users.rita.token, { outcome: 'ratified', comment: 'looks fine to me' }));
    }, 'FORBIDDEN'],
    ['an unratified break-glass blocks its user’s next one', async () => outcome(await breakGlass(users.olga)), 'BREAK_GLASS_REVIEW_PENDING'],
    ['a requester explains the policy as someone else', async () => outcome(await api('GET', '/api/v1/policy/explain?action=deploy&resource=x&environment=production&as=bob', users.alice.token)), 'FORBIDDEN'],
  ];

  it.each(CASES)('%s', async (_name, run, expected) => {
    expect(await run()).toEqual(expected);
  });
});
