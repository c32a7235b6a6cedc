import { describe, expect, it } from 'vitest';
import type { SyncResult } from '../../../protocol/events.js';
import { requestFixture } from '../../../protocol/request-fixture.js';
import { applyRequest, applySync, describeOutcome, dropDepartures, emptyRequests, isNewer, myVote, selectInbox, selectMine, stepSelection, waitsOn } from './requests-model.js';

const bob = { name: 'bob', groups: ['sre'], roles: ['approver'] };
const carol = { name: 'carol', groups: ['sre'], roles: ['approver'] };

const sync = (inbox = [requestFixture()], mine: SyncResult['mine'] = []): SyncResult => ({
  me: { id: 'u1', name: 'bob', roles: ['approver'], groups: ['sre'], email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: '2026-01-01T00:00:00Z' },
  inbox,
  mine,
  offers: [],
  serverTime: '2026-01-01T00:00:00Z',
});

const revokedTimeline = [{ at: 'x', type: 'grant.revoked' as const, actor: 'alice', detail: null }];

describe('isNewer', () => {
  it('is decided by the version alone: higher wins, equal or lower never does, whatever the timeline', () => {
    const known = requestFixture({ version: 4 });
    expect(isNewer(requestFixture({ version: 5 }), known)).toBe(true);
    expect(isNewer(requestFixture({ version: 4 }), known)).toBe(false);
    expect(isNewer(requestFixture({ version: 4, timeline: revokedTimeline }), known)).toBe(false);
    expect(isNewer(requestFixture({ version: 3, timeline: revokedTimeline }), known)).toBe(false);
    expect(isNewer(requestFixture({ version: 5 }), requestFixture({ version: 4, timeline: revokedTimeline }))).toBe(true);
  });
});

describe('applyRequest', () => {
  it('adds a new request and ignores an older or equal version', () => {
    let state = applyRequest(emptyRequests, requestFixture({ version: 2, reason: 'v2' }), bob, 0);
    expect(state.byId.req_1?.reason).toBe('v2');
    const older = applyRequest(state, requestFixture({ version: 1, reason: 'v1' }), bob, 0);
    expect(older).toBe(state);
    const equal = applyRequest(state, requestFixture({ version: 2, reason: 'v2 again' }), bob, 0);
    expect(equal).toBe(state);
    state = applyRequest(state, requestFixture({ version: 3, reason: 'v3' }), bob, 0);
    expect(state.byId.req_1?.reason).toBe('v3');
  });

  it('keeps what it has at an equal version, whatever the copy carries, and takes a grant change as a newer version', () => {
    const state = applyRequest(emptyRequests, requestFixture({ version: 4 }), bob, 0);
    expect(applyRequest(state, requestFixture({ version: 4, timeline: revokedTimeline }), bob, 0)).toBe(state);
    expect(applyRequest(state, requestFixture({ version: 5, timeline: revokedTimeline }), bob, 0).byId.req_1?.timeline).toEqual(revokedTimeline);
  });

  it('does not let a lower version with a longer timeline overwrite a higher one', () => {
    const state = applyRequest(emptyRequests, requestFixture({ version: 5, status: 'approved' }), bob, 0);
    const stale = requestFixture({ version: 4, timeline: revokedTimeline });
    expect(applyRequest(state, stale, bob, 0)).toBe(state);
    expect(state.byId.req_1).toMatchObject({ version: 5, status: 'approved', timeline: [] });
  });

  it('notes a request someone else decided as it leaves my inbox', () => {
    const before = applyRequest(emptyRequests, requestFixture(), bob, 0);
    const after = applyRequest(before, requestFixture({ version: 2, status: 'approved', decidedBy: 'carol' }), bob, 1_000);
    expect(after.departed.req_1).toMatchObject({ note: 'approved by carol', at: 1_000 });
    expect(selectInbox(after.byId, bob)).toEqual([]);
  });

  it('does not note my own decision, nor a request that was never in my inbox', () => {
    const mine = applyRequest(applyRequest(emptyRequests, requestFixture(), bob, 0), requestFixture({ version: 2, status: 'denied', decidedBy: 'bob' }), bob, 1);
    expect(mine.departed).toEqual({});
    const stranger = { name: 'zed', groups: ['other'], roles: ['approver'] };
    const never = applyRequest(applyRequest(emptyRequests, requestFixture(), stranger, 0), requestFixture({ version: 2, status: 'approved', decidedBy: 'carol' }), stranger, 1);
    expect(never.departed).toEqual({});
  });

  it('drops departures after their time', () => {
    const state = applyRequest(applyRequest(emptyRequests, requestFixture(), bob, 0), requestFixture({ version: 2, status: 'cancelled' }), bob, 1_000);
    expect(dropDepartures(state, 500).departed.req_1).toBeDefined();
    expect(dropDepartures(state, 1_001).departed).toEqual({});
  });
});

describe('applySync', () => {
  it('replaces what we knew, so a request decided while offline disappears', () => {
    const stale = applyRequest(emptyRequests, requestFixture({ id: 'gone' }), bob, 0);
    const state = applySync(stale, sync([requestFixture({ id: 'new' })]));
    expect(Object.keys(state.byId)).toEqual(['new']);
  });

  it('holds each request once even when it is in both inbox and mine', () => {
    const request = requestFixture();
    const state = applySync(emptyRequests, sync([request], [request]));
    expect(Object.keys(state.byId)).toEqual(['req_1']);
  });

  it('keeps a newer copy that arrived by event during the sync', () => {
    const newer = applyRequest(emptyRequests, requestFixture({ version: 5, approvals: 1 }), bob, 0);
    const state = applySync(newer, sync([requestFixture({ version: 4 })]));
    expect(state.byId.req_1?.version).toBe(5);
  });

  it('takes the synced copy over an event copy at an equal or lower version, even one with a longer timeline', () => {
    const synced = requestFixture({ version: 4, reason: 'synced' });
    const equal = applyRequest(emptyRequests, requestFixture({ version: 4, reason: 'event', timeline: revokedTimeline }), bob, 0);
    expect(applySync(equal, sync([synced])).byId.req_1).toBe(synced);
    const lower = applyRequest(emptyRequests, requestFixture({ version: 3, reason: 'event', timeline: revokedTimeline }), bob, 0);
    expect(applySync(lower, sync([synced])).byId.req_1).toBe(synced);
  });

  it('holds the higher version when inbox and mine carry different versions of one request', () => {
    const older = requestFixture({ version: 3, timeline: revokedTimeline });
    const newer = requestFixture({ version: 4 });
    expect(applySync(emptyRequests, sync([older], [newer])).byId.req_1).toBe(newer);
    expect(applySync(emptyRequests, sync([newer], [older])).byId.req_1).toBe(newer);
  });
});

describe('selectInbox', () => {
  it('holds what I may decide and have not voted on, most urgent first', () => {
    const low = requestFixture({ id: 'low', risk: 'low' });
    const critical = requestFixture({ id: 'critical', risk: 'critical' });
    const soon = requestFixture({ id: 'soon', risk: 'low', nextEscalationAt: '2026-01-01T00:05:00.000Z' });
    const voted = requestFixture({ id: 'voted', decisions: [{ approver: 'bob', decision: 'approve', comment: null, at: 'x' }] });
    const own = requestFixture({ id: 'own', requester: 'bob' });
    const otherGroup = requestFixture({ id: 'other', eligibleGroups: ['dba'] });
    const byId = Object.fromEntries([low, critical, soon, voted, own, otherGroup].map((r) => [r.id, r]));
    expect(selectInbox(byId, bob).map((r) => r.id)).toEqual(['critical', 'soon', 'low']);
    expect(waitsOn(voted, carol)).toBe(true);
  });

  it('lists my own requests newest first', () => {
    const a = requestFixture({ id: 'a', requester: 'bob', createdAt: '2026-01-01T00:00:00Z' });
    const b = requestFixture({ id: 'b', requester: 'bob', createdAt: '2026-01-02T00:00:00Z' });
    expect(selectMine({ a, b, c: requestFixture({ id: 'c' }) }, bob).map((r) => r.id)).toEqual(['b', 'a']);
  });
});

describe('describeOutcome', () => {
  it('names who decided', () => {
    expect(describeOutcome(requestFixture({ status: 'approved', decidedBy: 'carol' }))).toBe('approved by carol');
    // A delegate's decision names the approver they decided for; a hub that does not send it reads as before.
    expect(describeOutcome(requestFixture({ status: 'approved', decidedBy: 'dana', decidedFor: 'sue' }))).toBe('approved by dana for sue');
    expect(describeOutcome(requestFixture({ status: 'denied', decidedBy: 'dana', decidedFor: 'sue' }))).toBe('denied by dana for sue');
    expect(describeOutcome(requestFixture({ status: 'denied', decidedBy: 'dana' }))).toBe('denied by dana');
    expect(describeOutcome(requestFixture({ status: 'cancelled' }))).toBe('cancelled by alice');
    expect(describeOutcome(requestFixture({ status: 'expired' }))).toBe('expired');
  });
});

describe('stepSelection', () => {
  it('moves down and up and stops at the ends', () => {
    const ids = ['a', 'b', 'c'];
    expect(stepSelection(ids, null, 1)).toBe('a');
    expect(stepSelection(ids, null, -1)).toBe('c');
    expect(stepSelection(ids, 'a', 1)).toBe('b');
    expect(stepSelection(ids, 'c', 1)).toBe('c');
    expect(stepSelection(ids, 'a', -1)).toBe('a');
    expect(stepSelection(ids, 'gone', 1)).toBe('a');
    expect(stepSelection([], 'a', 1)).toBeNull();
  });
});

describe('myVote', () => {
  const carol = { name: 'carol', groups: ['devs'], roles: ['approver'] };
  it('is the vote a delegate cast for their delegator, so the panel says "You voted for bob", not "You are not an approver"', () => {
    const request = requestFixture({ decisions: [{ approver: 'bob', by: 'carol', decision: 'approve', comment: null, at: '2026-01-01T00:00:00Z' }] });
    expect(myVote(request, carol)).toMatchObject({ approver: 'bob', by: 'carol' });
    expect(myVote(request, { ...carol, name: 'bob' })).toMatchObject({ approver: 'bob' });
    expect(myVote(request, { ...carol, name: 'dave' })).toBeNull();
  });
});
