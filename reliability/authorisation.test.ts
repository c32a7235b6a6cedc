import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_STATUS, type ErrorCode, type GreenlightRequest } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../server/test-support/hub-fixture.js';
import { call, isWireError, type Reply } from './support.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    minApprovals: 1
    escalation:
      - { after: 1h, notify: [leads] }
`;

const ROLES = ['requester', 'other-approver', 'eligible-approver', 'lead', 'admin', 'no-token', 'disabled'] as const;
type Role = (typeof ROLES)[number];
const OPERATIONS = [
  'submit', 'get request', 'list', 'decide', 'cancel own', 'cancel other’s', 'claim',
  'create user', 'list users', 'disable user', 'audit read', 'audit verify', 'audit export',
  'revoke grant', 'verify grant', 'redeem grant',
] as const;
type Operation = (typeof OPERATIONS)[number];
type Expected = number | ErrorCode;

const NO = 'FORBIDDEN';
const OUT = 'UNAUTHENTICATED';
/**
 * The policy, as a table. The target request is the requester's (alice), on a rule whose approvers
 * are `sre`; the lead's group only joins after the (1 h) escalation, so the lead is not eligible yet.
 * "Other's" requests belong to a fifth user. Grants are their own credential: no token needed.
 */
// prettier-ignore
const TABLE: [Operation, ...Expected[]][] = [
  //                 requester         other-approver   eligible-approver lead              admin             no-token  disabled
  ['submit',         201,              201,             201,              201,              201,              OUT,      OUT],
  ['get request',    200,              NO,              200,              NO,               200,              OUT,      OUT],
  ['list',           200,              200,             200,              200,              200,              OUT,      OUT],
  ['decide',         'SELF_APPROVAL',  'NOT_ELIGIBLE',  200,              'NOT_ELIGIBLE',   'NOT_ELIGIBLE',   OUT,      OUT],
  ['cancel own',     200,              200,             200,              200,              200,              OUT,      OUT],
  ['cancel other’s', NO,               NO,              NO,               NO,               NO,               OUT,      OUT],
  ['claim',          'SELF_APPROVAL',  'NOT_ELIGIBLE',  200,              'NOT_ELIGIBLE',   'NOT_ELIGIBLE',   OUT,      OUT],
  ['create user',    NO,               NO,              NO,               NO,               201,              OUT,      OUT],
  ['list users',     NO,               NO,              NO,               NO,               200,              OUT,      OUT],
  ['disable user',   NO,               NO,              NO,               NO,               200,              OUT,      OUT],
  ['audit read',     NO,               NO,              NO,               NO,               200,              OUT,      OUT],
  ['audit verify',   NO,               NO,              NO,               NO,               200,              OUT,      OUT],
  ['audit export',   NO,               NO,              NO,               NO,               200,              OUT,      OUT],
  ['revoke grant',   200,              NO,              200,              NO,               200,              OUT,      OUT],
  ['verify grant',   200,              200,             200,              200,              200,              200,      200],
  ['redeem grant',   200,              200,             200,              200,              200,              200,      200],
];

const ROWS = TABLE.flatMap(([operation, ...expected]) => ROLES.map((role, column) => ({ role, operation, expected: expected[column] as Expected })));

describe('who may do what', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  const tokens = {} as Record<Role, string | null>;
  let alice: TestUser, bob: TestUser, zoe: TestUser;
  let counter = 0;
  /** Submitted by dave before an admin disabled him. */
  let davesRequest = '';

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    zoe = await hub.createUser('zoe', ['requester']);
    const erin = await hub.createUser('erin', ['approver'], ['dba']);
    const lena = await hub.createUser('lena', ['lead'], ['leads']);
    const dave = await hub.createUser('dave', ['approver'], ['sre']);
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
    } satisfies Record<Role, string | null>);
  });
  afterAll(() => hub.dispose());

  const api = <T = unknown>(method: string, route: string, token: string | null, body?: unknown): Promise<Reply<T>> => call<T>(hub.url, method, route, token, body);
  const requestBy = async (user: { token: string }) => {
    const reply = await api<GreenlightRequest>('POST', '/api/v1/requests', user.token, deployRequest({ reason: `matrix ${++counter}` }));
    expect(reply.status).toBe(201);
    return reply.body.id;
  };
  /** An approved request of alice's, and its grant as only she can see it. */
  const grantOfAlice = async () => {
    const id = await requestBy(alice);
    expect((await api('POST', `/api/v1/requests/${id}/decisions`, bob.token, { decision: 'approve' })).status).toBe(200);
    const grant = (await api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token)).body.grant;
    if (!grant?.token) throw new Error('the requester should see her grant');
    return { jti: grant.jti, token: grant.token };
  };

  const OPERATION: Record<Operation, (token: string | null, role: Role) => Promise<Reply>> = {
    submit: (token) => api('POST', '/api/v1/requests', token, deployRequest({ reason: 'matrix submit' })),
    'get request': async (token) => api('GET', `/api/v1/requests/${await requestBy(alice)}`, token),
    list: (token) => api('GET', '/api/v1/requests?limit=10', token),
    decide: async (token) => api('POST', `/api/v1/requests/${await requestBy(alice)}/decisions`, token, { decision: 'approve' }),
    'cancel own': async (token, role) => {
      // Without a working token there is no "own" to submit now: the disabled user's earlier request, or alice's.
      const id = role === 'disabled' ? davesRequest : await requestBy(token ? { token } : alice);
      return api('POST', `/api/v1/requests/${id}/cancel`, token);
    },
    'cancel other’s': async (token) => api('POST', `/api/v1/requests/${await requestBy(zoe)}/cancel`, token),
    claim: async (token) => api('POST', `/api/v1/requests/${await requestBy(alice)}/claim`, token),
    'create user': (token) => api('POST', '/api/v1/users', token, { name: `matrix-user-${++counter}`, roles: ['requester'] }),
    'list users': (token) => api('GET', '/api/v1/users', token),
    'disable user': async (token) => {
      const name = `matrix-target-${++counter}`;
      await hub.createUser(name, ['requester']);
      return api('POST', `/api/v1/users/${name}/disable`, token);
    },
    'audit read': (token) => api('GET', '/api/v1/audit?limit=5', token),
    'audit verify': (token) => api('GET', '/api/v1/audit/verify', token),
    'audit export': (token) => api('GET', '/api/v1/audit?format=csv', token),
    'revoke grant': async (token) => api('POST', `/api/v1/grants/${(await grantOfAlice()).jti}/revoke`, token),
    'verify grant': async (token) => api('POST', '/api/v1/grants/verify', token, { token: (await grantOfAlice()).token }),
    'redeem grant': async (token) => api('POST', '/api/v1/grants/redeem', token, { token: (await grantOfAlice()).token }),
  };

  it('covers every role and operation', () => {
    expect(ROWS).toHaveLength(ROLES.length * OPERATIONS.length);
    expect(new Set(TABLE.map(([operation]) => operation))).toEqual(new Set(OPERATIONS));
  });

  it.each(ROWS)('$role: $operation → $expected', async ({ role, operation, expected }) => {
    const reply = await OPERATION[operation](tokens[role], role);
    if (typeof expected === 'number') {
      expect(reply.status, reply.text.slice(0, 300)).toBe(expected);
      if (operation === 'verify grant') expect(reply.body).toMatchObject({ valid: true });
    } else {
      expect(reply.status, reply.text.slice(0, 300)).toBe(HTTP_STATUS[expected]);
      expect(isWireError(reply.body)).toBe(true);
      expect((reply.body as { error: { code: string } }).error.code).toBe(expected);
    }
  });
});
