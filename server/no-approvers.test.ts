import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenlightError, type AuditEvent, type EscalatedPayload, type GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';
import { capturedLog } from './test-support/captured-log.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
  - name: either
    match: { action: restart }
    approvers: [sre, dba]
  - name: db
    match: { action: db-open }
    approvers: [dba]
  - name: solo
    match: { action: rotate-key }
    approvers: [keys]
  - name: self-service
    match: { action: flush-cache }
    approvers: [cache]
    allowSelfApproval: true
  - name: failover
    match: { action: failover }
    approvers: [oncall]
    escalation:
      - { after: 5m, notify: [nobody-home] }
      - { after: 15m, notify: [leads] }
    expireAfter: 1h
  - name: staging
    match: { environment: staging }
    autoApprove: true
`;

type ErrorBody = { error: { code: string; message: string } };
const MINUTE = 60_000;

const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('a request nobody active could approve, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock('2030-01-01T09:00:00.000Z');
  const log = capturedLog<{ level: number; msg: string; unstaffed?: { name: string; rules: string[] }[] }>();
  const hub = new TestHub(kind, { policy: POLICY, clock, logger: log.logger });
  let alice: TestUser, sam: TestUser, carl: TestUser, lena: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    // dba: one member disabled, one who may only ask; neither can approve.
    await hub.createUser('dora', ['approver'], ['dba']);
    await hub.createUser('rita', ['requester'], ['dba']);
    expect((await hub.api('POST', '/api/v1/users/dora/disable', ADMIN_TOKEN)).status).toBe(200);
    sam = await hub.createUser('sam', ['approver', 'requester'], ['keys']);
    carl = await hub.createUser('carl', ['approver', 'requester'], ['cache']);
    lena = await hub.createUser('lena', ['lead'], ['leads']);
  });
  afterAll(() => hub.dispose());

  const submit = (user: TestUser, body: unknown) => hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', user.token, body);
  const auditOf = async (type: string) => (await hub.api<{ events: AuditEvent[] }>('GET', `/api/v1/audit?type=${type}&limit=1000`, ADMIN_TOKEN)).body.events;

  it('is refused over HTTP with 422 NO_APPROVERS naming the empty group, and nothing is stored', async () => {
    const before = (await auditOf('request.submitted')).length;
    const reply = await submit(alice, deployRequest({ action: 'db-open', resource: 'orders-db' }));
    expect(reply.status).toBe(422);
    expect(reply.body.error.code).toBe('NO_APPROVERS');
    expect(reply.body.error.message).toBe(
      'Nobody can approve db-open on orders-db in production: rule "db" needs an approver from dba, and dba has no active member who could approve it. ' +
        'Ask an admin to add one, e.g. greenlight user add <name> --role approver --group dba.',
    );
    expect((await auditOf('request.submitted')).length).toBe(before);
    const mine = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?mine=true', alice.token);
    expect(mine.body.requests.filter((request) => request.action === 'db-open')).toEqual([]);
  });

  it('is refused over the socket with the same code', async () => {
    const client = await hub.connect(alice);
    const error = await client.submit(deployRequest({ action: 'db-open', resource: 'orders-db' })).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(GreenlightError);
    expect(error).toMatchObject({ code: 'NO_APPROVERS', message: expect.stringContaining('dba has no active member') });
  });

  it('is accepted when any one approver group has someone, and the request goes to that group', async () => {
    const either = await submit(alice, deployRequest({ action: 'restart' }));
    expect(either.status).toBe(201);
    expect(either.body).toMatchObject({ status: 'pending', eligibleGroups: ['sre', 'dba'], escalationLevel: 0 });
  });

  it('does not count the requester as an approver of their own request, unless the rule allows it', async () => {
    const alone = await submit(sam, deployRequest({ action: 'rotate-key', resource: 'signing-key' }));
    expect(alone.status).toBe(422);
    expect(alone.body.error).toMatchObject({ code: 'NO_APPROVERS', message: expect.stringContaining('keys has no active member but you, and the rule does not let you approve your own request') });
    // Anyone else in keys' place is reached through sam.
    expect((await submit(alice, deployRequest({ action: 'rotate-key', resource: 'signing-key' }))).status).toBe(201);

    const selfService = await submit(carl, deployRequest({ action: 'flush-cache', resource: 'edge' }));
    expect(selfService.status).toBe(201);
    expect(selfService.body.status).toBe('pending');
  });

  it('leaves autoApprove rules alone', async () => {
    const staged = await submit(alice, deployRequest({ action: 'preview', environment: 'staging' }));
    expect(staged.status).toBe(201);
    expect(staged.body.status).toBe('approved');
  });

  it('escalates at once to the first escalation step that has someone, saying why, and that step does not fire again', async () => {
    const lenaClient = await hub.connect(lena);
    const escalated = collect<EscalatedPayload>((listener) => lenaClient.on('request:escalated', listener));
    const aliceClient = await hub.connect(alice);

    const request = await aliceClient.submit(deployRequest({ action: 'failover', resource: 'orders-db' }));
    expect(request).toMatchObject({ status: 'pending', escalationLevel: 2, eligibleGroups: ['oncall', 'leads'] });
    // The next step is none: the last one was applied at once, so nothing is left to escalate to.
    expect(request.nextEscalationAt).toBeNull();
    const entry = request.timeline.find((item) => item.type === 'request.escalated');
    expect(entry?.detail).toBe('step 2: notified leads at once: no active member of oncall could approve it');

    const heard = await escalated.next((payload) => payload.request.id === request.id);
    expect(heard.step).toBe(2);

    const [audited] = (await auditOf('request.escalated')).filter((event) => event.requestId === request.id);
    expect(audited?.data).toMatchObject({ step: 2, notified: ['leads'], skipped: [1], reason: 'no active member of oncall could approve it' });
    const [submitted] = (await auditOf('request.submitted')).filter((event) => event.requestId === request.id);
    expect(submitted?.data).toMatchObject({ notified: [], noActiveApprovers: ['oncall'] });

    // The steps' own deadlines pass without escalating again.
    clock.advance(20 * MINUTE);
    await hub.hub.scheduler.runNow();
    expect((await auditOf('request.escalated')).filter((event) => event.requestId === request.id)).toHaveLength(1);

    const decided = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, lena.token, { decision: 'approve' });
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('approved');
  });

  it('returns an earlier request for a resubmitted idempotency key even once its group has emptied', async () => {
    const first = await submit(alice, deployRequest({ action: 'deploy', idempotencyKey: 'before-bob-left' }));
    expect(first.status).toBe(201);
    expect((await hub.api('POST', '/api/v1/users/bob/disable', ADMIN_TOKEN)).status).toBe(200);
    const again = await submit(alice, deployRequest({ action: 'deploy', idempotencyKey: 'before-bob-left' }));
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const fresh = await submit(alice, deployRequest({ action: 'deploy' }));
    expect(fresh.status).toBe(422);
    expect(fresh.body.error.message).toContain('sre has no active member');
  });

  it('is warned of in the hub log at start and on each policy reload, naming the groups nobody could answer for', async () => {
    // Other start-up warnings (the checkpoint log's disk, say) may come first: take those about groups.
    const aboutGroups = () => log.warnings().filter((warning) => warning.unstaffed !== undefined);
    const atStart = aboutGroups()[0];
    // At start only the admin exists: every group the policy names is empty.
    expect(atStart?.unstaffed?.map((entry) => entry.name)).toEqual(['sre', 'dba', 'keys', 'cache', 'oncall', 'nobody-home', 'leads']);
    expect(atStart?.msg).toContain('the policy names groups with no active member who could approve: sre (rule prod, either); dba (rule either, db);');

    const count = aboutGroups().length;
    writeFileSync(hub.policyPath!, `${POLICY}  - name: ghosts\n    match: { action: haunt }\n    approvers: [ghosts]\n`);
    await expect.poll(() => aboutGroups().length, { timeout: 10_000 }).toBeGreaterThan(count);
    const afterReload = aboutGroups()[count];
    // bob was disabled above; lena, sam and carl are there; dora is disabled and rita only asks.
    expect(afterReload?.unstaffed?.map((entry) => entry.name)).toEqual(['sre', 'dba', 'oncall', 'nobody-home', 'ghosts']);
    expect(afterReload?.msg).toContain('greenlight user add <name> --role approver --group sre');
  });
});
