import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenlightError, type DecisionKind, type GreenlightRequest, type HubClient } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../server/test-support/hub-fixture.js';
import { mapLimit } from '../server/test-support/map-limit.js';
import { type ErrorBody } from './support.js';

const POLICY = `
rules:
  - name: one-approval
    match: { action: deploy }
    approvers: [sre]
    minApprovals: 1
`;

const TRIALS = 200;
const DECISION_TYPES = new Set(['request.approved', 'request.denied']);

/** What one decider saw: the request it won, or the stable error code it was refused with. */
type Attempt = { won: true; request: GreenlightRequest } | { won: false; code: string };

describe('two approvers deciding the same request at the same moment', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser, bob: TestUser, carol: TestUser;
  let bobSocket: HubClient, carolSocket: HubClient;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['sre']);
    bobSocket = await hub.connect(bob);
    carolSocket = await hub.connect(carol);
  });
  afterAll(() => hub.dispose());

  const overSocket = async (client: HubClient, requestId: string, decision: DecisionKind): Promise<Attempt> => {
    try {
      return { won: true, request: await client.decide({ requestId, decision }) };
    } catch (error) {
      return { won: false, code: error instanceof GreenlightError ? error.code : String(error) };
    }
  };
  const overHttp = async (user: TestUser, requestId: string, decision: DecisionKind): Promise<Attempt> => {
    const reply = await hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${requestId}/decisions`, user.token, { decision });
    return reply.status === 200 ? { won: true, request: reply.body } : { won: false, code: `${reply.status} ${reply.body.error.code}` };
  };

  it(`of ${TRIALS} races exactly one approver wins each, and the request agrees with its timeline`, async () => {
    const kinds: DecisionKind[] = ['approve', 'deny'];
    await mapLimit(Array.from({ length: TRIALS }, (_, i) => i), 4, async (trial) => {
      const submitted = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: `race ${trial}` }));
      expect(submitted.status).toBe(201);
      const id = submitted.body.id;
      const bobDecision = kinds[trial % 2] as DecisionKind;
      const carolDecision = kinds[Math.floor(trial / 2) % 2] as DecisionKind;
      // Mix the transports: socket vs socket, HTTP vs HTTP, and each against the other.
      const mode = trial % 4;
      const [first, second] = await Promise.all([
        mode < 2 ? overSocket(bobSocket, id, bobDecision) : overHttp(bob, id, bobDecision),
        mode % 2 === 0 ? overSocket(carolSocket, id, carolDecision) : overHttp(carol, id, carolDecision),
      ]);
      const winners = [first, second].filter((attempt) => attempt.won);
      const losers = [first, second].filter((attempt): attempt is { won: false; code: string } => !attempt.won);
      expect(winners, `trial ${trial}`).toHaveLength(1);
      // Over a socket the code alone; over HTTP with its status.
      expect(['ALREADY_DECIDED', '409 ALREADY_DECIDED']).toContain(losers[0]?.code);

      const winnerName = first.won ? 'bob' : 'carol';
      const winnerDecision = first.won ? bobDecision : carolDecision;
      const expectedStatus = winnerDecision === 'approve' ? 'approved' : 'denied';
      const final = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token);
      expect(final.body.status).toBe(expectedStatus);
      expect(final.body.decidedBy).toBe(winnerName);
      expect(final.body.decisions).toEqual([expect.objectContaining({ approver: winnerName, decision: winnerDecision })]);
      const types = final.body.timeline.map((entry) => entry.type);
      expect(types.filter((type) => DECISION_TYPES.has(type))).toEqual([`request.${expectedStatus}`]);
      expect(types.filter((type) => type === 'grant.issued')).toHaveLength(expectedStatus === 'approved' ? 1 : 0);
      expect(final.body.grant?.status ?? null).toBe(expectedStatus === 'approved' ? 'active' : null);
    });

    const chain = await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(chain.body).toMatchObject({ ok: true });
  });
});
