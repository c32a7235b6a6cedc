import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DecideInput, GreenlightRequest } from '../protocol/request.js';
import type { Me } from './me.js';
import { NotificationService, type NotificationDeps } from './notifications.js';
import { FakeNotification } from './test/electron-fakes.js';
import { aRequest, ME, NOW } from './test/fixtures.js';

function setup(overrides: Partial<NotificationDeps> = {}) {
  const opened: string[] = [];
  const decided: DecideInput[] = [];
  let inbox: GreenlightRequest[] = [];
  let muted = false;
  const service = new NotificationService({
    Notification: FakeNotification,
    platform: 'darwin',
    now: () => NOW,
    me: () => ME,
    inbox: () => inbox,
    muted: () => muted,
    openRequest: (id) => opened.push(id),
    openInbox: () => opened.push('inbox'),
    decide: async (input) => {
      decided.push(input);
    },
    batchMs: 50,
    ...overrides,
  });
  return {
    service,
    opened,
    decided,
    setInbox: (next: GreenlightRequest[]) => (inbox = next),
    mute: (value: boolean) => (muted = value),
  };
}

/** A use of break-glass by dave under rule prod-db, its review open, with ME among the reviewers. */
const breakGlassUse = (overrides: Partial<GreenlightRequest> & { incident?: string } = {}): GreenlightRequest => {
  const { incident = 'INC-4412', ...rest } = overrides;
  return aRequest({
    requester: 'dave',
    status: 'approved',
    rule: { ...aRequest().rule, name: 'prod-db', approvers: ['sre'], breakGlass: { groups: ['oncall'], maxTtlSeconds: 3600, cooldownSeconds: 0, reviewers: ME.groups } },
    breakGlass: { incident, review: 'open', reviewers: ME.groups, reviewDueAt: NOW.toISOString(), reviewedBy: null, reviewComment: null },
    ...rest,
  });
};

beforeEach(() => {
  FakeNotification.created = [];
  FakeNotification.supported = true;
});

describe('notifications with Electron fakes', () => {
  it('a new request produces one notification with the title and body people read', () => {
    const { service } = setup();
    service.handle({ type: 'request:created', request: aRequest({ risk: 'high' }) });
    service.flush();
    expect(FakeNotification.created).toHaveLength(1);
    const [shown] = FakeNotification.created;
    expect(shown?.shown).toBe(true);
    expect(shown?.options.title).toBe('deploy payments-api → production');
    expect(shown?.options.body).toBe('alice: hotfix for INC-4412 · risk high · escalates in 4 min');
  });

  it('after signing out and in again, what still waits is notified again: the one signing in may not have seen it', () => {
    const { service, setInbox } = setup();
    const waiting = aRequest();
    setInbox([waiting]);
    service.handle({ type: 'sync', result: { me: { ...ME, id: 'u1', email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: NOW.toISOString() }, inbox: [waiting], mine: [], offers: [], serverTime: NOW.toISOString() } });
    service.flush();
    expect(FakeNotification.created).toHaveLength(1);
    service.handle({ type: 'state', session: { hubUrl: null, signedIn: false, state: 'signed-out', error: null } });
    service.handle({ type: 'sync', result: { me: { ...ME, id: 'u1', email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: NOW.toISOString() }, inbox: [waiting], mine: [], offers: [], serverTime: NOW.toISOString() } });
    service.flush();
    expect(FakeNotification.created).toHaveLength(2);
  });

  it('someone else signing in without a sign-out in between is told of what waits on them too', () => {
    let me = ME;
    const { service, setInbox } = setup({ me: () => me });
    const waiting = aRequest();
    setInbox([waiting]);
    const sync = () => service.handle({ type: 'sync', result: { me: { ...me, id: 'u1', email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: NOW.toISOString() }, inbox: [waiting], mine: [], offers: [], serverTime: NOW.toISOString() } });
    sync();
    service.flush();
    me = { ...ME, name: 'carol' };
    sync();
    service.flush();
    expect(FakeNotification.created).toHaveLength(2);
  });

  it('batches requests that arrive together and shows them after the batch window', () => {
    vi.useFakeTimers();
    try {
      const { service } = setup();
      service.handle({ type: 'request:created', request: aRequest() });
      service.handle({ type: 'request:created', request: aRequest() });
      expect(FakeNotification.created).toHaveLength(0);
      vi.advanceTimersByTime(60);
      expect(FakeNotification.created).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an escalation says so in the title', () => {
    const { service } = setup();
    const request = aRequest({ escalationLevel: 1, eligibleUsers: ['bob'], eligibleGroups: ['leads'] });
    service.handle({ type: 'request:escalated', payload: { request, step: 1, previouslyNotified: ['approvers'] } });
    service.flush();
    expect(FakeNotification.created[0]?.options.title).toBe('Escalated to you: deploy payments-api → production');
  });

  it('a reminder of a request I was already told about shows again, once per reminder, and says it still waits on me', () => {
    const { service } = setup();
    const request = aRequest();
    service.handle({ type: 'request:created', request });
    service.flush();
    service.handle({ type: 'request:reminded', payload: { request, reminder: 1 } });
    service.handle({ type: 'request:reminded', payload: { request, reminder: 1 } });
    service.flush();
    expect(FakeNotification.created.map((n) => n.options.title)).toEqual(['deploy payments-api → production', 'Still waiting on you: deploy payments-api → production']);
    // A reminder of a request I already voted on (or may not decide) shows nothing.
    service.handle({ type: 'request:reminded', payload: { request: aRequest({ eligibleGroups: ['dba'] }), reminder: 1 } });
    service.flush();
    expect(FakeNotification.created).toHaveLength(2);
  });

  it('tells the requester, once, that their unused grant ends soon', () => {
    const { service } = setup();
    const request = aRequest({ requester: ME.name, status: 'approved' });
    const expiresAt = new Date(NOW.getTime() + 10 * 60_000).toISOString();
    service.handle({ type: 'grant:expiring', payload: { request, expiresAt } });
    service.handle({ type: 'grant:expiring', payload: { request, expiresAt } });
    service.handle({ type: 'grant:expiring', payload: { request: aRequest({ id: 'req_other', status: 'approved' }), expiresAt } });
    expect(FakeNotification.created.map((n) => n.options.title)).toEqual(['Your grant ends in 10 min: deploy payments-api → production']);
  });

  it('a click on the requester\'s own news (grant ending, request cancelled) opens My requests, where its grant and extension are', () => {
    const views: [string, string | undefined][] = [];
    const { service } = setup({ openRequest: (id, view) => views.push([id, view]) });
    const request = aRequest({ requester: ME.name, status: 'approved' });
    service.handle({ type: 'grant:expiring', payload: { request, expiresAt: new Date(NOW.getTime() + 10 * 60_000).toISOString() } });
    FakeNotification.created[0]?.click();
    const cancelled = aRequest({ requester: ME.name, status: 'cancelled', decidedBy: 'root', cancelReason: 'superseded' });
    service.handle({ type: 'request:updated', request: cancelled });
    FakeNotification.created[1]?.click();
    expect(views).toEqual([
      [request.id, 'mine'],
      [cancelled.id, 'mine'],
    ]);
  });

  it('tells the requester, once, who cancelled their request and why; not when they cancelled it themselves', () => {
    const { service } = setup();
    const byAdmin = aRequest({ requester: ME.name, status: 'cancelled', decidedBy: 'root', cancelReason: 'superseded by CHG-88' });
    service.handle({ type: 'request:updated', request: byAdmin });
    service.handle({ type: 'request:updated', request: byAdmin });
    service.handle({ type: 'request:updated', request: aRequest({ requester: ME.name, status: 'cancelled', decidedBy: ME.name }) });
    expect(FakeNotification.created.map((n) => [n.options.title, n.options.body])).toEqual([['root cancelled your request: deploy payments-api → production', 'superseded by CHG-88']]);
  });

  it('tells approvers and reviewers at once, marked urgent, when someone breaks the glass; once, and not its user', () => {
    const { service } = setup();
    const used = breakGlassUse({ reason: 'primary is down, customers cannot pay' });
    service.handle({ type: 'request:updated', request: used });
    service.handle({ type: 'request:updated', request: used });
    service.handle({ type: 'request:updated', request: { ...used, id: 'req_mine', requester: ME.name } });
    expect(FakeNotification.created.map((n) => [n.options.title, n.options.body, n.options.urgency])).toEqual([
      ['Break-glass by dave on prod-db: INC-4412', 'dave: primary is down, customers cannot pay', 'critical'],
    ]);
  });

  it('tells those an overdue review escalates to, and its reviewers, once and urgently; not the rule\'s approvers, nor its user', () => {
    const asLead = { ...ME, groups: ['security-leads'] };
    const { service } = setup({ me: () => asLead });
    const used = breakGlassUse({ reason: 'primary is down' });
    const overdue = { ...used, eligibleGroups: ['sre', ...ME.groups, 'security-leads'], breakGlass: { ...used.breakGlass!, review: 'overdue' as const } };
    service.handle({ type: 'request:updated', request: used });
    expect(FakeNotification.created).toHaveLength(0);
    service.handle({ type: 'request:updated', request: overdue });
    service.handle({ type: 'request:updated', request: overdue });
    expect(FakeNotification.created.map((n) => [n.options.title, n.options.urgency])).toEqual([['Break-glass review overdue: dave on prod-db: INC-4412', 'critical']]);

    FakeNotification.created = [];
    // A lead the escalation names as a person.
    const named = setup({ me: () => ({ ...ME, name: 'lena', groups: [] }) });
    named.service.handle({ type: 'request:updated', request: { ...overdue, eligibleGroups: ['sre', ...ME.groups], eligibleUsers: ['lena'] } });
    expect(FakeNotification.created).toHaveLength(1);

    FakeNotification.created = [];
    const approver = setup({ me: () => ({ ...ME, groups: ['sre'] }) });
    approver.service.handle({ type: 'request:updated', request: overdue });
    const itsUser = setup({ me: () => ({ ...asLead, name: 'dave' }) });
    itsUser.service.handle({ type: 'request:updated', request: overdue });
    expect(FakeNotification.created).toHaveLength(0);
  });

  it('tells a reviewer\'s delegate of the use and of its review gone overdue, urgently, as the reviewer is; not under a delegation for other rules', () => {
    const sue = { name: 'sue', groups: ME.groups, roles: ['approver'] };
    const dana: Me = { name: 'dana', groups: ['devs'], roles: ['approver'], actingFor: [sue] };
    const used = breakGlassUse({ reason: 'primary is down' });
    const overdue = { ...used, breakGlass: { ...used.breakGlass!, review: 'overdue' as const } };
    const delegate = setup({ me: () => dana });
    delegate.service.handle({ type: 'request:updated', request: used });
    delegate.service.handle({ type: 'request:updated', request: overdue });
    expect(FakeNotification.created.map((n) => [n.options.title, n.options.urgency])).toEqual([
      ['Break-glass by dave on prod-db: INC-4412', 'critical'],
      ['Break-glass review overdue: dave on prod-db: INC-4412', 'critical'],
    ]);

    FakeNotification.created = [];
    const elsewhere = setup({ me: () => ({ ...dana, actingFor: [{ ...sue, rules: ['staging-db'] }] }) });
    elsewhere.service.handle({ type: 'request:updated', request: used });
    elsewhere.service.handle({ type: 'request:updated', request: overdue });
    expect(FakeNotification.created).toHaveLength(0);
  });

  it('a review that went overdue while the app was away is announced by the sync that brings it', () => {
    const { service, setInbox } = setup();
    const used = breakGlassUse({ incident: 'INC-4414' });
    const overdue = { ...used, breakGlass: { ...used.breakGlass!, review: 'overdue' as const } };
    setInbox([overdue]);
    service.handle({ type: 'sync', result: { me: { ...ME, id: 'u1', email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: NOW.toISOString() }, inbox: [overdue], mine: [], offers: [], serverTime: NOW.toISOString() } });
    expect(FakeNotification.created.map((n) => n.options.title)).toEqual(['Break-glass review overdue: dave on prod-db: INC-4414']);
  });

  it('a break-glass use that happened while the app was away is announced by the sync that brings it', () => {
    const { service, setInbox } = setup();
    const used = breakGlassUse({ incident: 'INC-4413' });
    setInbox([used]);
    service.handle({ type: 'sync', result: { me: { ...ME, id: 'u1', email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: NOW.toISOString() }, inbox: [used], mine: [], offers: [], serverTime: NOW.toISOString() } });
    expect(FakeNotification.created.map((n) => [n.options.title, n.options.urgency])).toEqual([['Break-glass by dave on prod-db: INC-4413', 'critical']]);
  });

  it('what someone typed shows as one plain line: no lines of its own, no markup on Linux', () => {
    const { service } = setup({ platform: 'linux' });
    const used = breakGlassUse({ incident: 'INC-1\nreviewed: ok', reason: 'db down\n\n\n— Greenlight: pre-ratified by <b>security</b>, <a href="https://evil.example">dismiss</a>' });
    service.handle({ type: 'request:updated', request: used });
    const [shown] = FakeNotification.created;
    expect(shown?.options.title).toBe('Break-glass by dave on prod-db: INC-1 reviewed: ok');
    expect(shown?.options.body).toBe('dave: db down — Greenlight: pre-ratified by &lt;b&gt;security&lt;/b&gt;, &lt;a href="https://evil.example"&gt;dismiss&lt;/a&gt;');
  });

  it('shows nothing while paused, and does not replay later', () => {
    const { service, mute } = setup();
    mute(true);
    service.handle({ type: 'request:created', request: aRequest() });
    service.flush();
    mute(false);
    service.flush();
    expect(FakeNotification.created).toHaveLength(0);
  });

  it('shows nothing for my own requests or ones I may not decide', () => {
    const { service } = setup();
    service.handle({ type: 'request:created', request: aRequest({ requester: 'bob' }) });
    service.handle({ type: 'request:created', request: aRequest({ eligibleGroups: ['dba'] }) });
    service.flush();
    expect(FakeNotification.created).toHaveLength(0);
  });

  it('notifies once per request, even when the hub repeats it', () => {
    const { service } = setup();
    const request = aRequest();
    service.handle({ type: 'request:created', request });
    service.flush();
    service.handle({ type: 'request:created', request });
    service.flush();
    expect(FakeNotification.created).toHaveLength(1);
  });

  it('up to 3 at once are shown one by one; more collapse into one summary', () => {
    const { service, opened } = setup();
    for (let i = 0; i < 3; i += 1) service.handle({ type: 'request:created', request: aRequest() });
    service.flush();
    expect(FakeNotification.created).toHaveLength(3);
    FakeNotification.created = [];
    for (let i = 0; i < 5; i += 1) service.handle({ type: 'request:created', request: aRequest({ action: `job${i}` }) });
    service.flush();
    expect(FakeNotification.created).toHaveLength(1);
    const summary = FakeNotification.created[0];
    expect(summary?.options.title).toBe('5 requests need your approval');
    expect(summary?.options.body).toBe(
      'job0 payments-api → production, job1 payments-api → production, job2 payments-api → production and 2 more',
    );
    summary?.click();
    expect(opened).toEqual(['inbox']);
  });

  it('a click opens the request', () => {
    const { service, opened } = setup();
    const request = aRequest();
    service.handle({ type: 'request:created', request });
    service.flush();
    FakeNotification.created[0]?.click();
    expect(opened).toEqual([request.id]);
  });

  it('Approve on a low/medium risk request decides it from the notification', async () => {
    const { service, decided, opened } = setup();
    const request = aRequest({ risk: 'medium' });
    service.handle({ type: 'request:created', request });
    service.flush();
    expect(FakeNotification.created[0]?.options.actions).toEqual([
      { type: 'button', text: 'Approve' },
      { type: 'button', text: 'Deny' },
    ]);
    FakeNotification.created[0]?.action(0);
    await Promise.resolve();
    expect(decided).toEqual([{ requestId: request.id, decision: 'approve' }]);
    expect(opened).toEqual([]);
  });

  it('Approve on a high-risk request and Deny open the window instead of deciding', () => {
    const { service, decided, opened } = setup();
    const risky = aRequest({ risk: 'critical' });
    const plain = aRequest({ risk: 'low' });
    service.handle({ type: 'request:created', request: risky });
    service.handle({ type: 'request:created', request: plain });
    service.flush();
    FakeNotification.created[0]?.action(0);
    FakeNotification.created[1]?.action(1);
    expect(decided).toEqual([]);
    expect(opened).toEqual([risky.id, plain.id]);
  });

  it('an approval that fails (already decided) opens the request to show why', async () => {
    const { service, opened } = setup({ decide: () => Promise.reject(new Error('ALREADY_DECIDED')) });
    const request = aRequest({ risk: 'low' });
    service.handle({ type: 'request:created', request });
    service.flush();
    FakeNotification.created[0]?.action(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened).toEqual([request.id]);
    // And says why, where the person was looking.
    expect(FakeNotification.created.at(-1)?.options).toMatchObject({ title: 'Not approved: deploy payments-api → production', body: 'ALREADY_DECIDED' });
  });

  it('offers no action buttons on Linux', () => {
    const { service } = setup({ platform: 'linux' });
    service.handle({ type: 'request:created', request: aRequest() });
    service.flush();
    expect(FakeNotification.created[0]?.options.actions).toBeUndefined();
  });

  it('a request decided elsewhere closes its notification', () => {
    const { service } = setup();
    const request = aRequest();
    service.handle({ type: 'request:created', request });
    service.flush();
    service.handle({ type: 'request:updated', request: { ...request, status: 'approved', version: 2 } });
    expect(FakeNotification.created[0]?.closed).toBe(true);
  });

  it('a summary stays while any request it counts still waits on me, and closes once none does', () => {
    const { service, setInbox } = setup();
    const requests = Array.from({ length: 5 }, (_, i) => aRequest({ action: `job${i}` }));
    for (const request of requests) service.handle({ type: 'request:created', request });
    service.flush();
    const summary = FakeNotification.created[0];
    for (const request of requests.slice(0, 4)) service.handle({ type: 'request:updated', request: { ...request, status: 'approved', version: 2 } });
    expect(summary?.closed).toBe(false);
    // The last one leaves the inbox in a resync (decided while this app was offline).
    setInbox([]);
    service.handle({ type: 'sync', result: { me: { ...ME, id: 'u1', email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: NOW.toISOString() }, inbox: [], mine: [], offers: [], serverTime: NOW.toISOString() } });
    expect(summary?.closed).toBe(true);
  });

  it('a request decided before its batch was shown is never shown', () => {
    const { service } = setup();
    const request = aRequest();
    service.handle({ type: 'request:created', request });
    service.handle({ type: 'request:updated', request: { ...request, status: 'denied', version: 2 } });
    service.flush();
    expect(FakeNotification.created).toHaveLength(0);
  });

  it('after a resync, notifications of requests no longer pending are closed and new ones shown', () => {
    const { service, setInbox } = setup();
    const gone = aRequest();
    service.handle({ type: 'request:created', request: gone });
    service.flush();
    const fresh = aRequest();
    setInbox([fresh]);
    service.handle({ type: 'sync', result: { me: { ...ME, id: 'u1', email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: NOW.toISOString() }, inbox: [fresh], mine: [], offers: [], serverTime: NOW.toISOString() } });
    service.flush();
    expect(FakeNotification.created[0]?.closed).toBe(true);
    expect(FakeNotification.created[1]?.options.title).toBe('deploy payments-api → production');
  });

  it('signing out closes what is shown', () => {
    const { service } = setup();
    service.handle({ type: 'request:created', request: aRequest() });
    service.flush();
    service.handle({ type: 'state', session: { hubUrl: 'http://hub', signedIn: false, state: 'signed-out', error: null } });
    expect(FakeNotification.created[0]?.closed).toBe(true);
  });

  it('does nothing where the OS has no notification support', () => {
    FakeNotification.supported = false;
    const { service } = setup();
    service.handle({ type: 'request:created', request: aRequest() });
    service.flush();
    expect(FakeNotification.created).toHaveLength(0);
  });
});
