import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditPage, Delegation, GreenlightRequest } from '../protocol/index.js';
import { waitsOnMe } from '../protocol/waits-on-me.js';
import { delegationStore } from './store/delegations.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
  - name: staging-db
    match: { action: migrate }
    approvers: [sre]
`;

type ErrorBody = { error: { code: string; message: string } };
const DAY = 86_400_000;
const REASON = 'database is down, customers cannot pay';

const pg = await postgresAvailability();

/**
 * A reviewer away hands their approvals to a delegate; the delegate is told of an overdue review, so
 * they must be able to give it: for the reviewer they stand in for, and recorded as such.
 */
describe.each<DatabaseKind>(['sqlite', 'postgres'])("a delegate reviews a break-glass use for the reviewer they stand in for, on %s", (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const hub = new TestHub(kind, { policy: POLICY });
  let sue: TestUser, dana: TestUser;
  let oncallCount = 0;

  const later = (ms: number) => new Date(Date.now() + ms).toISOString();
  const delegate = async (from: TestUser, to: TestUser, extra: Record<string, unknown> = {}) => {
    const made = await hub.api<Delegation & ErrorBody>('POST', '/api/v1/delegations', from.token, { to: to.name, endsAt: later(7 * DAY), reason: 'holiday', ...extra });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    return made.body;
  };
  /** A use of break-glass by someone who has not used it before (so no cooldown nor open review of theirs stands in the way). */
  const breakGlass = async (by?: TestUser) => {
    const user = by ?? (await hub.createUser(`oncall${++oncallCount}`, ['requester'], ['oncall']));
    const used = await hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', user.token, deployRequest({ reason: REASON, breakGlass: { incident: 'INC-4412' } }));
    expect(used.status, JSON.stringify(used.body)).toBe(201);
    return used.body;
  };
  const review = (user: TestUser, id: string, extra: Record<string, unknown> = {}) =>
    hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/review`, user.token, { outcome: 'ratified', comment: 'matches the incident timeline', ...extra });
  const reviewState = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, ADMIN_TOKEN)).body.breakGlass;
  const inboxOf = async (user: TestUser) => {
    const client = await hub.connect(user);
    try {
      return await client.sync();
    } finally {
      client.close();
    }
  };

  beforeAll(async () => {
    await hub.start();
    await hub.createUser('bob', ['approver'], ['sre']);
    sue = await hub.createUser('sue', ['approver'], ['security']);
    // Dana reviews nothing of her own: whatever she reviews, she reviews for sue.
    dana = await hub.createUser('dana', ['approver'], ['devs']);
    await delegate(sue, dana);
  });
  afterAll(() => hub.dispose());

  it('finds the open review in her inbox and hears of the use, reviews it over her socket, and it is recorded as done by her for sue', async () => {
    await hub.hub.ctx.delegates?.refresh();
    const danasApp = await hub.connect(dana);
    const heard = collect<GreenlightRequest>((listener) => danasApp.on('request:updated', listener));
    const used = await breakGlass();
    // Told of it at once, as sue is, so her tray counts it.
    expect((await heard.next((request) => request.id === used.id)).breakGlass?.review).toBe('open');

    const sync = await danasApp.sync();
    expect(sync.me.actingFor?.map((delegator) => delegator.name)).toEqual(['sue']);
    const waiting = sync.inbox.find((request) => request.id === used.id);
    expect(waiting?.breakGlass).toMatchObject({ review: 'open', reviewers: ['security'] });
    expect(waiting && waitsOnMe(waiting, sync.me)).toBe(true);

    const reviewed = await danasApp.review({ requestId: used.id, outcome: 'ratified', comment: 'matches the incident timeline' });
    expect(reviewed.breakGlass).toMatchObject({ review: 'ratified', reviewedBy: 'dana', reviewedFor: 'sue', reviewComment: 'matches the incident timeline' });
    expect(reviewed.timeline.find((entry) => entry.type === 'request.reviewed')).toMatchObject({ actor: 'dana', detail: 'ratified for sue: matches the incident timeline' });
    const audit = await hub.api<AuditPage>('GET', '/api/v1/audit?type=request.reviewed&actor=dana', ADMIN_TOKEN);
    expect(audit.body.events.find((event) => event.requestId === used.id)?.data).toMatchObject({ outcome: 'ratified', onBehalfOf: 'sue' });
    // Reviewed, it waits on nobody: sue cannot review it again (told it was dana, for her), nor is it in dana's inbox.
    expect((await review(sue, used.id)).body.error).toEqual({ code: 'ALREADY_DECIDED', message: 'This break-glass was already reviewed: ratified by dana for sue.' });
    expect((await danasApp.sync()).inbox.map((request) => request.id)).not.toContain(used.id);
    danasApp.close();
  });

  it('over HTTP names sue as the one she reviews for; a name she does not stand in for, or an empty one, is refused with why', async () => {
    const used = await breakGlass();
    const stranger = await review(dana, used.id, { onBehalfOf: 'bob' });
    expect(stranger.status).toBe(403);
    expect(stranger.body.error).toEqual({ code: 'NOT_ELIGIBLE', message: "You are not bob's delegate now, so you cannot review for them; a delegation covers only its window and its rules." });
    expect((await review(dana, used.id, { onBehalfOf: '' })).body.error.code).toBe('INVALID_INPUT');
    expect((await reviewState(used.id))?.review).toBe('open');

    const named = await review(dana, used.id, { onBehalfOf: 'sue', outcome: 'unratified' });
    expect(named.status, JSON.stringify(named.body)).toBe(200);
    expect(named.body.breakGlass).toMatchObject({ review: 'unratified', reviewedBy: 'dana', reviewedFor: 'sue' });
  });

  it('for a delegate of two reviewers, is refused without a name, naming both, and recorded for the one named', async () => {
    const kim = await hub.createUser('kim', ['approver'], ['security']);
    const lee = await hub.createUser('lee', ['approver'], ['security']);
    const max = await hub.createUser('max', ['approver'], ['devs']);
    await delegate(kim, max);
    await delegate(lee, max);
    const used = await breakGlass();

    const unnamed = await review(max, used.id);
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error).toEqual({ code: 'INVALID_INPUT', message: 'You stand in for kim and lee here; say for whom with onBehalfOf.' });
    expect((await reviewState(used.id))?.review).toBe('open');

    const named = await review(max, used.id, { onBehalfOf: 'lee' });
    expect(named.status, JSON.stringify(named.body)).toBe(200);
    expect(named.body.breakGlass).toMatchObject({ review: 'ratified', reviewedBy: 'max', reviewedFor: 'lee' });
  });

  it('is refused when the delegation does not cover the rule, and such a review is not in the delegate\'s inbox', async () => {
    const sam = await hub.createUser('sam', ['approver'], ['security']);
    const tom = await hub.createUser('tom', ['approver'], ['devs']);
    await delegate(sam, tom, { rules: ['staging-db'] });
    const used = await breakGlass();
    for (const body of [{}, { onBehalfOf: 'sam' }]) {
      const refused = await review(tom, used.id, body);
      expect(refused.body.error?.code, JSON.stringify(body)).toBe('FORBIDDEN');
    }
    expect((await reviewState(used.id))?.review).toBe('open');
    const sync = await inboxOf(tom);
    expect(sync.me.actingFor?.map((delegator) => delegator.name)).toEqual(['sam']);
    expect(sync.inbox.map((request) => request.id)).not.toContain(used.id);
  });

  it('is refused once the delegation has ended', async () => {
    const uma = await hub.createUser('uma', ['approver'], ['security']);
    const vic = await hub.createUser('vic', ['approver'], ['devs']);
    const made = await delegate(uma, vic);
    const used = await breakGlass();
    expect((await inboxOf(vic)).inbox.map((request) => request.id)).toContain(used.id);
    expect((await hub.api('DELETE', `/api/v1/delegations/${made.id}`, uma.token)).status).toBe(200);

    expect((await review(vic, used.id)).body.error.code).toBe('FORBIDDEN');
    expect((await review(vic, used.id, { onBehalfOf: 'uma' })).body.error).toMatchObject({ code: 'NOT_ELIGIBLE', message: expect.stringContaining("You are not uma's delegate now") });
    expect((await reviewState(used.id))?.review).toBe('open');
    expect((await inboxOf(vic)).inbox.map((request) => request.id)).not.toContain(used.id);
  });

  it('is refused once the delegator has left the reviewer groups', async () => {
    const wes = await hub.createUser('wes', ['approver'], ['security']);
    const xena = await hub.createUser('xena', ['approver'], ['devs']);
    await delegate(wes, xena);
    const used = await breakGlass();
    expect((await hub.api('PATCH', '/api/v1/users/wes', ADMIN_TOKEN, { groups: ['qa'] })).status).toBe(200);

    expect((await review(xena, used.id)).body.error.code).toBe('FORBIDDEN');
    expect((await review(xena, used.id, { onBehalfOf: 'wes' })).body.error.code).toBe('FORBIDDEN');
    expect((await reviewState(used.id))?.review).toBe('open');
    expect((await inboxOf(xena)).inbox.map((request) => request.id)).not.toContain(used.id);
  });

  it('is refused when the delegator leaves the reviewer groups after the delegate\'s call read whom she stands in for', async () => {
    const yan = await hub.createUser('yan', ['approver'], ['security']);
    const zoe = await hub.createUser('zoe', ['approver'], ['devs']);
    await delegate(yan, zoe);
    const used = await breakGlass();
    const zoeId = (await inboxOf(zoe)).me.id;
    // Zoe's call reads her delegations (yan still in security); the admin's change commits right after that read.
    const read = delegationStore.inForceTo.bind(delegationStore);
    const spy = vi.spyOn(delegationStore, 'inForceTo').mockImplementation(async (db, delegateId, iso) => {
      const found = await read(db, delegateId, iso);
      if (delegateId === zoeId) {
        spy.mockRestore();
        expect((await hub.api('PATCH', '/api/v1/users/yan', ADMIN_TOKEN, { groups: ['qa'] })).status).toBe(200);
      }
      return found;
    });
    try {
      const refused = await review(zoe, used.id, { onBehalfOf: 'yan' });
      expect(refused.body.error).toEqual({
        code: 'FORBIDDEN',
        message: 'yan no longer reviews this break-glass (it is for members of security with a role that decides), so neither can their delegate.',
      });
    } finally {
      spy.mockRestore();
    }
    expect((await reviewState(used.id))?.review).toBe('open');
  });

  it('never lets a delegate review their own break-glass, nor one their delegator made', async () => {
    const pat = await hub.createUser('pat', ['approver'], ['security', 'oncall']);
    const olly = await hub.createUser('olly', ['approver'], ['oncall']);
    await delegate(pat, olly);
    const ollys = await breakGlass(olly);
    const own = await review(olly, ollys.id);
    expect(own.body.error).toEqual({ code: 'SELF_APPROVAL', message: 'You cannot review your own break-glass; one of its reviewers has to.' });
    expect((await review(olly, ollys.id, { onBehalfOf: 'pat' })).body.error.code).toBe('SELF_APPROVAL');
    const pats = await breakGlass(pat);
    const forPat = await review(olly, pats.id);
    expect(forPat.body.error).toEqual({ code: 'SELF_APPROVAL', message: 'pat broke this glass, so their delegate cannot review it; another reviewer has to.' });
    for (const id of [ollys.id, pats.id]) expect((await reviewState(id))?.review).toBe('open');
    const inbox = (await inboxOf(olly)).inbox.map((request) => request.id);
    expect(inbox).not.toContain(ollys.id);
    expect(inbox).not.toContain(pats.id);
  });
});
