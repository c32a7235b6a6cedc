import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delegation, GreenlightRequest, VerifyResult } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    maxPending: 1000
  - name: two
    match: { action: migrate }
    approvers: [sre]
    minApprovals: 2
`;

type ErrorBody = { error: { code: string; message: string } };
const DAY = 86_400_000;
const HOUR = 3_600_000;

const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('delegation while an approver is away, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock(new Date('2026-12-03T09:00:00Z'));
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser, erin: TestUser;
  const later = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    // Carol approves nothing of her own: whatever she decides here, she decides for bob.
    carol = await hub.createUser('carol', ['approver'], ['devs']);
    dave = await hub.createUser('dave', ['approver'], ['qa']);
    erin = await hub.createUser('erin', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  const delegate = (token: string, body: Record<string, unknown>) => hub.api<Delegation & ErrorBody>('POST', '/api/v1/delegations', token, body);
  const submit = async (user: TestUser, action = 'deploy') => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', user.token, deployRequest({ action, reason: `by ${user.name}` }))).body;
  const decide = (user: TestUser, id: string, body: Record<string, unknown> = { decision: 'approve' }) =>
    hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, user.token, body);

  it('refuses delegating to oneself, past 30 days, or someone else’s approvals without being an admin', async () => {
    expect((await delegate(bob.token, { to: 'bob', endsAt: later(DAY), reason: 'holiday' })).body.error.code).toBe('INVALID_INPUT');
    const far = await delegate(bob.token, { to: 'carol', endsAt: later(31 * DAY), reason: 'holiday' });
    expect(far.body.error.message).toContain('at most 30 days ahead');
    expect((await delegate(bob.token, { to: 'carol', endsAt: later(DAY) })).body.error.code).toBe('INVALID_INPUT');
    expect((await delegate(bob.token, { from: 'erin', to: 'carol', endsAt: later(DAY), reason: 'cover' })).body.error.code).toBe('FORBIDDEN');
    expect((await delegate(bob.token, { to: 'nobody', endsAt: later(DAY), reason: 'cover' })).body.error.message).toContain('no active user "nobody"');
    // A day the calendar lacks is not rolled over into March, and a time without its offset is not guessed.
    for (const endsAt of ['2026-12-31T25:00:00Z', '2027-02-31T00:00:00Z', later(DAY).replace('Z', '')]) {
      const refused = await delegate(bob.token, { to: 'carol', endsAt, reason: 'cover' });
      expect(refused.body.error, endsAt).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('endsAt: expected an RFC 3339 date and time with its offset') });
    }
  });

  it('lets the delegate decide on the delegator’s behalf inside the window: both names in the record and audit, obo in the grant', async () => {
    const created = await delegate(bob.token, { to: 'carol', endsAt: later(7 * DAY), reason: 'holiday' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ from: 'bob', to: 'carol', active: true, reason: 'holiday' });

    const carolClient = await hub.connect(carol);
    const created$ = collect<GreenlightRequest>((listener) => carolClient.on('request:created', listener));
    const request = await submit(alice);
    // The delegate hears of it as the delegator would, and finds it in her inbox.
    await created$.next((r) => r.id === request.id);
    expect((await carolClient.sync()).inbox.map((r) => r.id)).toContain(request.id);
    expect((await carolClient.sync()).me.actingFor).toEqual([{ name: 'bob', groups: ['sre'], roles: ['approver'] }]);

    const decided = await decide(carol, request.id);
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('approved');
    expect(decided.body.decisions).toEqual([expect.objectContaining({ approver: 'bob', by: 'carol', decision: 'approve' })]);
    const audit = await hub.api<{ events: { requestId: string; actor: string; data: Record<string, unknown> }[] }>('GET', '/api/v1/audit?type=request.approved&actor=carol', ADMIN_TOKEN);
    expect(audit.body.events.find((e) => e.requestId === request.id)?.data).toMatchObject({ onBehalfOf: 'bob' });
    const token = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body.grant?.token ?? '';
    const verified = await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token });
    expect(verified.body.grant?.obo).toEqual([{ by: 'carol', for: 'bob' }]);
  });

  it('never lets a delegate decide their own request or one the delegator asked for', async () => {
    const carols = await submit(carol);
    expect((await decide(carol, carols.id)).body.error.code).toBe('SELF_APPROVAL');
    const bobs = await submit(bob);
    expect((await decide(carol, bobs.id)).body.error.code).toBe('SELF_APPROVAL');
  });

  it('lets the delegate claim what they may decide, as their delegator could; never their delegator’s own request, nor once the vote is in', async () => {
    const claim = (user: TestUser, id: string) => hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/claim`, user.token, {});
    const request = await submit(alice, 'migrate');
    const claimed = await claim(carol, request.id);
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(200);
    expect(claimed.body.claim).toMatchObject({ by: 'carol' });
    // Someone with no delegation is still no approver of it.
    expect((await claim(dave, request.id)).body.error.code).toBe('NOT_ELIGIBLE');
    // (A request of bob's under `two` is refused: sre has one other member, and it needs two.)
    expect((await claim(carol, (await submit(bob)).id)).body.error.code).toBe('SELF_APPROVAL');

    expect((await decide(carol, request.id)).body.decisions).toEqual([expect.objectContaining({ approver: 'bob', by: 'carol' })]);
    const again = await claim(carol, request.id);
    expect(again.body.error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('(for bob)') });
  });

  it('counts the delegator and the delegate once: they cannot make a quorum of two alone', async () => {
    const request = await submit(alice, 'migrate');
    expect((await decide(bob, request.id)).body.status).toBe('pending');
    const again = await decide(carol, request.id);
    expect(again.body.error.code).toBe('ALREADY_DECIDED');
    expect(again.body.error.message).toContain('bob');
    const other = await submit(alice, 'migrate');
    expect((await decide(carol, other.id)).body.status).toBe('pending');
    expect((await decide(bob, other.id)).body.error.code).toBe('ALREADY_DECIDED');
    // The delegated-away approver's request leaves his inbox once his vote is cast for him.
    expect((await (await hub.connect(bob)).sync()).inbox.map((r) => r.id)).not.toContain(other.id);
    expect((await decide(erin, other.id)).body.status).toBe('approved');
  });

  it('passes nothing on: the delegate’s own delegate cannot decide for the first delegator', async () => {
    expect((await delegate(carol.token, { to: 'dave', endsAt: later(DAY), reason: 'also away' })).status).toBe(201);
    const request = await submit(alice);
    expect((await decide(dave, request.id)).body.error.code).toBe('NOT_ELIGIBLE');
    expect((await decide(dave, request.id, { decision: 'approve', onBehalfOf: 'bob' })).body.error.code).toBe('NOT_ELIGIBLE');
  });

  it('is checked at decision time: before the window, after it, and once ended nobody decides through it', async () => {
    const list = await hub.api<{ delegations: Delegation[] }>('GET', '/api/v1/delegations', bob.token);
    const current = list.body.delegations.find((d) => d.to === 'carol');
    expect(current).toBeDefined();
    const ended = await hub.api<Delegation>('DELETE', `/api/v1/delegations/${current?.id ?? ''}`, bob.token);
    expect(ended.body).toMatchObject({ active: false, endedBy: 'bob' });
    const request = await submit(alice);
    expect((await decide(carol, request.id)).body.error.code).toBe('NOT_ELIGIBLE');

    // Erin's delegation to dave starts tomorrow and lasts a day.
    expect((await delegate(ADMIN_TOKEN, { from: 'erin', to: 'dave', startsAt: later(DAY), endsAt: later(2 * DAY), reason: 'training' })).status).toBe(201);
    expect((await decide(dave, request.id)).body.error.code).toBe('NOT_ELIGIBLE');
    clock.advance(3 * DAY);
    const fresh = await submit(alice);
    expect((await decide(dave, fresh.id)).body.error.code).toBe('NOT_ELIGIBLE');
  });

  it('ended by its delegator, its delegate and an admin at once: one end stands, audited once', async () => {
    const made = await delegate(bob.token, { to: 'carol', endsAt: later(DAY), reason: 'conference' });
    expect(made.status).toBe(201);
    const ends = await Promise.all([bob.token, carol.token, ADMIN_TOKEN].map((token) => hub.api<Delegation>('DELETE', `/api/v1/delegations/${made.body.id}`, token)));
    expect(ends.map((end) => end.status)).toEqual([200, 200, 200]);
    expect(new Set(ends.map((end) => end.body.endedBy)).size).toBe(1);
    const audit = await hub.api<{ events: { data: { delegation?: string } }[] }>('GET', '/api/v1/audit?type=delegation.ended&limit=100', ADMIN_TOKEN);
    expect(audit.body.events.filter((event) => event.data.delegation === made.body.id)).toHaveLength(1);
  });
  it('never lets someone who decides nothing stand in: no delegation to a requester or a service user, and one whose delegate became a requester since decides and sees nothing', async () => {
    expect((await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'deploy-bot', roles: ['requester'], service: true })).status).toBe(201);
    for (const to of ['alice', 'deploy-bot']) {
      const refused = await delegate(erin.token, { to, endsAt: later(DAY), reason: 'away' });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining(`${to} is a requester only and decides nothing`) });
    }

    const frank = await hub.createUser('frank', ['approver'], ['devs']);
    const made = await delegate(erin.token, { to: 'frank', endsAt: later(DAY), reason: 'away' });
    expect(made.status).toBe(201);
    const request = await submit(alice);
    expect((await hub.api('GET', `/api/v1/requests/${request.id}`, frank.token)).status).toBe(200);
    expect((await hub.api('PATCH', '/api/v1/users/frank', ADMIN_TOKEN, { roles: ['requester'] })).status).toBe(200);

    const onBehalf = await decide(frank, request.id, { decision: 'approve', onBehalfOf: 'erin' });
    expect(onBehalf.status).toBe(403);
    expect(onBehalf.body.error).toMatchObject({ code: 'NOT_ELIGIBLE', message: expect.stringContaining('requester only') });
    expect((await decide(frank, request.id)).body.error.code).toBe('NOT_ELIGIBLE');
    expect((await hub.api('GET', `/api/v1/requests/${request.id}`, frank.token)).status).toBe(403);
    const still = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, erin.token);
    expect(still.body).toMatchObject({ status: 'pending', decisions: [] });
    // Ended, not just powerless: it no longer lists as active, the end says why, and making frank an
    // approver again does not bring it back.
    const listed = await hub.api<{ delegations: Delegation[] }>('GET', '/api/v1/delegations', erin.token);
    expect(listed.body.delegations.find((delegation) => delegation.id === made.body.id)).toMatchObject({ active: false, endedBy: 'admin' });
    const ends = await hub.api<{ events: { actor: string; data: { delegation?: string; why?: string } }[] }>('GET', '/api/v1/audit?type=delegation.ended&limit=100', ADMIN_TOKEN);
    expect(ends.body.events.filter((event) => event.data.delegation === made.body.id)).toEqual([expect.objectContaining({ actor: 'admin', data: expect.objectContaining({ why: 'frank no longer decides anything' }) })]);
    expect((await hub.api('PATCH', '/api/v1/users/frank', ADMIN_TOKEN, { roles: ['approver'] })).status).toBe(200);
    expect((await decide(frank, request.id, { decision: 'approve', onBehalfOf: 'erin' })).body.error.code).toBe('NOT_ELIGIBLE');
  });

  it('ends the delegations from and to someone disabled, audited with why', async () => {
    const grace = await hub.createUser('grace', ['approver'], ['sre']);
    const heidi = await hub.createUser('heidi', ['approver'], ['devs']);
    const ivan = await hub.createUser('ivan', ['approver'], ['qa']);
    const fromGrace = await delegate(grace.token, { to: 'heidi', endsAt: later(DAY), reason: 'away' });
    const toGrace = await delegate(ivan.token, { to: 'grace', startsAt: later(HOUR), endsAt: later(DAY), reason: 'away later' });
    expect([fromGrace.status, toGrace.status]).toEqual([201, 201]);
    expect((await hub.api('POST', '/api/v1/users/grace/disable', ADMIN_TOKEN)).status).toBe(200);
    const listed = (await hub.api<{ delegations: Delegation[] }>('GET', '/api/v1/delegations', ADMIN_TOKEN)).body.delegations;
    for (const id of [fromGrace.body.id, toGrace.body.id]) expect(listed.find((delegation) => delegation.id === id)).toMatchObject({ active: false, endedBy: 'admin' });
    const ends = await hub.api<{ events: { data: { delegation?: string; why?: string } }[] }>('GET', '/api/v1/audit?type=delegation.ended&limit=100', ADMIN_TOKEN);
    expect(ends.body.events.filter((event) => event.data.why === 'grace was disabled').map((event) => event.data.delegation).sort()).toEqual([fromGrace.body.id, toGrace.body.id].sort());
    expect((await hub.api('POST', '/api/v1/users/grace/enable', ADMIN_TOKEN)).status).toBe(200);
    const heidiSees = await hub.connect(heidi);
    const created = collect<GreenlightRequest>((listener) => heidiSees.on('request:created', listener));
    const request = await submit(alice);
    expect((await decide(heidi, request.id, { decision: 'approve', onBehalfOf: 'grace' })).body.error.code).toBe('NOT_ELIGIBLE');
    // Nor is she still told of grace's requests: a delegation heidi does hold brings the next one, and only that.
    expect((await delegate(erin.token, { to: 'heidi', endsAt: later(HOUR), reason: 'standing in' })).status).toBe(201);
    const next = await submit(alice);
    await created.next((pushed) => pushed.id === next.id);
    expect(created.items.map((pushed) => pushed.id)).not.toContain(request.id);
  });
  it('withdraws the approvals someone disabled gave, or cast as a delegate, on requests still waiting: a quorum counts them no more', async () => {
    const kai = await hub.createUser('kai', ['approver'], ['sre']);
    const lia = await hub.createUser('lia', ['approver'], ['devs']);
    expect((await delegate(bob.token, { to: 'lia', endsAt: later(DAY), reason: 'away' })).status).toBe(201);
    const own = await submit(alice, 'migrate');
    const cast = await submit(alice, 'migrate');
    expect((await decide(kai, own.id)).body).toMatchObject({ status: 'pending', approvals: 1 });
    expect((await decide(lia, cast.id, { decision: 'approve', onBehalfOf: 'bob' })).body).toMatchObject({ status: 'pending', approvals: 1 });

    for (const name of ['kai', 'lia']) expect((await hub.api('POST', `/api/v1/users/${name}/disable`, ADMIN_TOKEN)).status).toBe(200);
    for (const id of [own.id, cast.id]) expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token)).body).toMatchObject({ status: 'pending', approvals: 0, decisions: [] });
    // One more approval is not enough now: the quorum needs two who can still decide.
    expect((await decide(erin, own.id)).body).toMatchObject({ status: 'pending', approvals: 1 });
    const withdrawn = await hub.api<{ events: { requestId: string; actor: string; data: { reason?: string; approvals?: string[] } }[] }>('GET', '/api/v1/audit?type=request.vote_withdrawn&limit=100', ADMIN_TOKEN);
    // Where the quorum stood once they were out, as a vote records it.
    expect(withdrawn.body.events.find((event) => event.requestId === own.id)).toMatchObject({ actor: 'admin', data: { reason: 'kai was disabled', approvals: ['kai'], remaining: 0, of: 2 } });
    expect(withdrawn.body.events.find((event) => event.requestId === cast.id)).toMatchObject({ actor: 'admin', data: { reason: 'lia was disabled', approvals: ['bob'], remaining: 0, of: 2 } });
    const timeline = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${own.id}`, alice.token)).body.timeline.map((entry) => entry.detail);
    expect(timeline).toContain('kai: kai was disabled; 0 of 2 approvals remain');
    // The vote lia cast for bob is named as cast: by lia, for bob.
    const castTimeline = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${cast.id}`, alice.token)).body.timeline.map((entry) => entry.detail);
    expect(castTimeline).toContain('lia for bob: lia was disabled; 0 of 2 approvals remain');
  });

  it('covers only the rules it names, and refuses a rule the policy does not have, naming those it has', async () => {
    const typo = await delegate(erin.token, { to: 'dave', endsAt: later(DAY), reason: 'away', rules: ['tow'] });
    expect(typo.status).toBe(400);
    expect(typo.body.error.message).toBe('Invalid delegation: rules: no rule is named "tow"; the policy\'s rules are "prod", "two".');
    const made = await delegate(erin.token, { to: 'dave', endsAt: later(DAY), reason: 'away', rules: ['two'] });
    expect(made.status).toBe(201);
    const deploy = await submit(alice);
    expect((await decide(dave, deploy.id, { decision: 'approve', onBehalfOf: 'erin' })).body.error.code).toBe('NOT_ELIGIBLE');
    // Nor does it let dave read what it does not cover.
    expect((await hub.api('GET', `/api/v1/requests/${deploy.id}`, dave.token)).status).toBe(403);
    const migrate = await submit(alice, 'migrate');
    expect((await hub.api('GET', `/api/v1/requests/${migrate.id}`, dave.token)).status).toBe(200);
    const vote = await decide(dave, migrate.id, { decision: 'approve', onBehalfOf: 'erin' });
    expect(vote.status).toBe(200);
    expect(vote.body.decisions).toEqual([expect.objectContaining({ approver: 'erin', by: 'dave', decision: 'approve' })]);
    await hub.api('DELETE', `/api/v1/delegations/${made.body.id}`, erin.token);
  });
});
