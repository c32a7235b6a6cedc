import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient } from '../protocol/hub-client.js';
import type { GreenlightRequest, NewRequest } from '../protocol/request.js';
import { HubConnection } from '../electron/hub-connection.js';
import { NotificationService } from '../electron/notifications.js';
import { trayStateFrom } from '../electron/tray-state.js';
import { FakeNotification } from '../electron/test/electron-fakes.js';
import { memoryKeychain, memorySettings } from '../electron/test/memory.js';
import { applySync, emptyRequests, selectInbox } from '../renderer/src/store/requests-model.js';
import { spawnHub, type SpawnedHub } from '../server/test-support/hub-process.js';
import { eventually } from '../server/test-support/eventually.js';

const POLICY = `
rules:
  - { name: quorum, match: { action: deploy }, approvers: [sre], minApprovals: 2, expireAfter: 1h }
  - { name: self-ok, match: { action: self-ok }, approvers: [sre], allowSelfApproval: true, expireAfter: 1h }
  - { name: no-self, match: { action: no-self }, approvers: [sre], expireAfter: 1h }
  - { name: paging, match: { action: restart }, approvers: [oncall], escalation: [{ after: 1s, notify: [leads] }], expireAfter: 1h }
  - { name: elsewhere, match: { action: other }, approvers: [data], expireAfter: 1h }
  - { name: glass, match: { action: failover }, approvers: [glass-sre], breakGlass: { groups: [glass-oncall], maxTtl: 1h, cooldown: 1h, reviewers: [glass-sec] } }
`;

/**
 * "Waiting on me" is decided in four places: the hub's sync, the desktop tray, desktop notifications
 * and the renderer's inbox. They must agree, or the tray says something waits while the inbox is empty.
 */
describe('the hub, the tray, notifications and the inbox agree on what waits on me', () => {
  let hub: SpawnedHub;
  const clients: HubClient[] = [];
  let connection: HubConnection;

  beforeAll(async () => {
    hub = await spawnHub({ policy: POLICY, args: ['--log-level', 'warn'], timeoutMs: 45_000 });
  }, 60_000);

  afterAll(async () => {
    connection?.close();
    for (const client of clients) client.close();
    await hub?.stop();
  });

  const clientFor = async (token: string): Promise<HubClient> => {
    const client = new HubClient({ url: hub.url, token, forceNew: true });
    clients.push(client);
    client.connect();
    await client.waitUntilReady();
    return client;
  };
  const ask = (client: HubClient, action: string, resource: string): Promise<GreenlightRequest> =>
    client.submit({ action, resource, environment: 'production', reason: `case ${resource}`, risk: 'medium' } satisfies NewRequest);

  it('for quorum partly met by me, my own request with and without self-approval, claimed by someone else, escalated to me', async () => {
    const alice = await hub.createUser({ name: 'alice', roles: ['requester'], groups: [] });
    const bob = await hub.createUser({ name: 'bob', roles: ['approver'], groups: ['sre'] });
    const mia = await hub.createUser({ name: 'mia', roles: ['approver', 'lead'], groups: ['sre', 'leads'] });
    // Every rule has someone to approve it, so nothing is refused or escalated at submission.
    await hub.createUser({ name: 'otto', roles: ['approver'], groups: ['oncall'] });
    await hub.createUser({ name: 'dana', roles: ['approver'], groups: ['data'] });

    // Mia's desktop app: the main process's connection, its notifications and its tray.
    connection = new HubConnection({ createClient: (options) => new HubClient({ ...options, forceNew: true }), keychain: memoryKeychain(), settings: memorySettings().settings });
    FakeNotification.created = [];
    const notifications = new NotificationService({
      Notification: FakeNotification,
      platform: 'linux',
      now: () => new Date(),
      me: () => connection.me,
      inbox: () => connection.inbox,
      muted: () => false,
      openRequest: () => {},
      openInbox: () => {},
      decide: (input) => connection.hub().decide(input),
      batchMs: 0,
    });
    connection.subscribe((event) => notifications.handle(event));
    await connection.signIn(hub.url, mia.token);

    const asAlice = await clientFor(alice.token);
    const asBob = await clientFor(bob.token);
    const asMia = await clientFor(mia.token);

    const quorumVotedByMe = await ask(asAlice, 'deploy', 'voted-by-me');
    await asMia.decide({ requestId: quorumVotedByMe.id, decision: 'approve' });
    const quorumOpen = await ask(asAlice, 'deploy', 'quorum-open');
    const mineSelfOk = await ask(asMia, 'self-ok', 'mine-self-ok');
    const mineNoSelf = await ask(asMia, 'no-self', 'mine-no-self');
    const claimedByBob = await ask(asAlice, 'no-self', 'claimed-by-bob');
    await asBob.claim(claimedByBob.id);
    const escalatedToMe = await ask(asAlice, 'restart', 'escalated-to-me');
    const notMine = await ask(asAlice, 'other', 'not-mine');

    const expected = [quorumOpen, mineSelfOk, claimedByBob, escalatedToMe].map((request) => request.id).sort();
    const never = [quorumVotedByMe, mineNoSelf, notMine].map((request) => request.id);

    // Live, from the events alone: the desktop shell's inbox (what the tray and notifications read).
    const live = await eventually(async () => {
      const ids = connection.inbox.map((request) => request.id).sort();
      return JSON.stringify(ids) === JSON.stringify(expected) ? ids : undefined;
    }, { what: 'the desktop inbox to hold exactly what waits on mia', deadline: 15_000 });
    expect(live).toEqual(expected);

    // A fresh sync from the hub says the same.
    const sync = await asMia.sync();
    expect(sync.inbox.map((request) => request.id).sort()).toEqual(expected);

    // The renderer's inbox, from that sync.
    const me = sync.me;
    expect(selectInbox(applySync(emptyRequests, sync).byId, me).map((request) => request.id).sort()).toEqual(expected);

    // The tray lists the same requests, and marks the escalated one as escalated to me.
    const tray = trayStateFrom({ session: connection.session, inbox: connection.inbox, me: connection.me, pausedUntil: null, theme: 'light' });
    expect(tray.pending.map((item) => item.id).sort()).toEqual(expected);
    expect(tray.pending.find((item) => item.id === escalatedToMe.id)?.escalated).toBe(true);
    expect(tray.status).toBe('escalated');

    // Open notifications: one per request that waits on mia, none for the others.
    notifications.flush();
    const open = FakeNotification.created.filter((notification) => notification.shown && !notification.closed).map((notification) => notification.options.title ?? '');
    for (const request of [quorumOpen, mineSelfOk, claimedByBob, escalatedToMe]) expect(open.some((title) => title.includes(request.resource))).toBe(true);
    for (const resource of ['voted-by-me', 'mine-no-self', 'not-mine']) expect(open.some((title) => title.includes(resource))).toBe(false);
    for (const id of never) expect(connection.inbox.some((request) => request.id === id)).toBe(false);
  }, 60_000);

  it('for a delegate in the window, and for the approver delegated away once his vote is cast for him', async () => {
    const alice = { token: (await hub.createUser({ name: 'alice2', roles: ['requester'], groups: [] })).token };
    const bob = await hub.createUser({ name: 'bob2', roles: ['approver'], groups: ['sre'] });
    const carol = await hub.createUser({ name: 'carol2', roles: ['approver'], groups: ['devs'] });
    const otto = await hub.createUser({ name: 'otto2', roles: ['approver'], groups: ['oncall'] });
    // Someone else in sre, so bob's own request has an approver too.
    await hub.createUser({ name: 'erin2', roles: ['approver'], groups: ['sre'] });
    const delegate = async (token: string, body: Record<string, unknown>) => {
      const response = await fetch(`${hub.url}/api/v1/delegations`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status).toBe(201);
    };
    const day = 86_400_000;
    await delegate(bob.token, { to: 'carol2', endsAt: new Date(Date.now() + 7 * day).toISOString(), reason: 'holiday' });
    // Otto's delegation starts tomorrow: today carol decides nothing for him.
    await delegate(otto.token, { to: 'carol2', startsAt: new Date(Date.now() + day).toISOString(), endsAt: new Date(Date.now() + 2 * day).toISOString(), reason: 'training' });

    // Mia's app from the test above would add her notifications to the shared fake's list.
    connection.close();
    const carolsApp = new HubConnection({ createClient: (options) => new HubClient({ ...options, forceNew: true }), keychain: memoryKeychain(), settings: memorySettings().settings });
    FakeNotification.created = [];
    const notifications = new NotificationService({
      Notification: FakeNotification,
      platform: 'linux',
      now: () => new Date(),
      me: () => carolsApp.me,
      inbox: () => carolsApp.inbox,
      muted: () => false,
      openRequest: () => {},
      openInbox: () => {},
      decide: (input) => carolsApp.hub().decide(input),
      batchMs: 0,
    });
    carolsApp.subscribe((event) => notifications.handle(event));
    // The last of each request her app was pushed: the inbox can look right before a push it awaits has come.
    const pushedToCarol = new Map<string, GreenlightRequest>();
    carolsApp.subscribe((event) => {
      if (event.type === 'request:created' || event.type === 'request:updated') pushedToCarol.set(event.request.id, event.request);
    });
    await carolsApp.signIn(hub.url, carol.token);

    const asAlice = await clientFor(alice.token);
    const asBob = await clientFor(bob.token);
    const asCarol = await clientFor(carol.token);
    const inWindow = await ask(asAlice, 'no-self', 'delegate-in-window');
    const delegatorsOwn = await ask(asBob, 'no-self', 'delegators-own');
    const delegatesOwn = await ask(asCarol, 'no-self', 'delegates-own');
    const notStarted = await ask(asAlice, 'restart', 'not-started');
    const delegatedAway = await ask(asAlice, 'deploy', 'delegated-away');
    await asCarol.decide({ requestId: delegatedAway.id, decision: 'approve' });

    const expected = [inWindow.id];
    // Requests of the test above wait on bob too, so on carol; only this test's are compared.
    const ours = new Set([inWindow, delegatorsOwn, delegatesOwn, notStarted, delegatedAway].map((request) => request.id));
    const mine = (requests: { id: string }[]) => requests.map((request) => request.id).filter((id) => ours.has(id));
    await eventually(async () => {
      // Her vote for bob has reached her app; before that, its request's creation may still be on its way.
      if (!pushedToCarol.get(delegatedAway.id)?.decisions.length) return undefined;
      const ids = mine(carolsApp.inbox);
      return JSON.stringify(ids) === JSON.stringify(expected) ? ids : undefined;
    }, { what: 'the delegate’s desktop inbox to hold exactly what waits on her, once her vote has reached it', deadline: 15_000 });
    const sync = await asCarol.sync();
    expect(mine(sync.inbox)).toEqual(expected);
    expect(mine(selectInbox(applySync(emptyRequests, sync).byId, sync.me))).toEqual(expected);
    const tray = trayStateFrom({ session: carolsApp.session, inbox: carolsApp.inbox, me: carolsApp.me, pausedUntil: null, theme: 'light' });
    expect(mine(tray.pending)).toEqual(expected);
    notifications.flush();
    const shown = FakeNotification.created.filter((notification) => notification.shown && !notification.closed).map((notification) => notification.options.title ?? '');
    expect(shown.some((title) => title.includes('delegate-in-window'))).toBe(true);
    for (const resource of ['delegators-own', 'delegates-own', 'not-started', 'delegated-away']) expect(shown.filter((title) => title.includes(resource))).toEqual([]);

    // Bob, delegated away: what carol voted for him no longer waits on him; the rest still does.
    const bobs = (await asBob.sync()).inbox.map((request) => request.id);
    expect(bobs).toContain(inWindow.id);
    expect(bobs).not.toContain(delegatedAway.id);
    for (const request of [delegatorsOwn, delegatesOwn, notStarted]) expect(carolsApp.inbox.some((r) => r.id === request.id)).toBe(false);
    carolsApp.close();
  }, 60_000);

  it('for a break-glass review: on its reviewer until reviewed, never on the user who broke glass', async () => {
    const dave = await hub.createUser({ name: 'dave3', roles: ['approver'], groups: ['glass-oncall', 'glass-sec'] });
    const sue = await hub.createUser({ name: 'sue3', roles: ['approver'], groups: ['glass-sec'] });
    await hub.createUser({ name: 'sam3', roles: ['approver'], groups: ['glass-sre'] });
    const suesApp = new HubConnection({ createClient: (options) => new HubClient({ ...options, forceNew: true }), keychain: memoryKeychain(), settings: memorySettings().settings });
    await suesApp.signIn(hub.url, sue.token);
    const asDave = await clientFor(dave.token);
    const asSue = await clientFor(sue.token);

    const used = await asDave.submit({ action: 'failover', resource: 'orders-db', environment: 'production', reason: 'primary is down, customers cannot pay', risk: 'high', breakGlass: { incident: 'INC-4412' } });
    expect(used.status).toBe('approved');
    const expected = [used.id];
    await eventually(async () => {
      const ids = suesApp.inbox.map((request) => request.id);
      return JSON.stringify(ids) === JSON.stringify(expected) ? ids : undefined;
    }, { what: 'the reviewer’s desktop inbox to hold the open review', deadline: 15_000 });
    const sync = await asSue.sync();
    expect(sync.inbox.map((request) => request.id)).toEqual(expected);
    expect(selectInbox(applySync(emptyRequests, sync).byId, sync.me).map((request) => request.id)).toEqual(expected);
    const tray = trayStateFrom({ session: suesApp.session, inbox: suesApp.inbox, me: suesApp.me, pausedUntil: null, theme: 'light' });
    expect(tray.pending.map((item) => item.id)).toEqual(expected);
    // A requester in the reviewer group decides nothing: not waited on, and refused if she tries.
    const asRita = await clientFor((await hub.createUser({ name: 'rita3', roles: ['requester'], groups: ['glass-sec'] })).token);
    const ritasSync = await asRita.sync();
    expect(ritasSync.inbox.some((request) => request.id === used.id)).toBe(false);
    await expect(asRita.review({ requestId: used.id, outcome: 'ratified', comment: 'looks fine to me' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Dave is a reviewer too, but never of his own break-glass.
    const davesSync = await asDave.sync();
    expect(davesSync.inbox.some((request) => request.id === used.id)).toBe(false);
    expect(selectInbox(applySync(emptyRequests, davesSync).byId, davesSync.me).some((request) => request.id === used.id)).toBe(false);

    await asSue.review({ requestId: used.id, outcome: 'ratified', comment: 'matches the incident timeline' });
    await eventually(async () => (suesApp.inbox.length === 0 ? true : undefined), { what: 'the review to leave the reviewer’s inbox once closed', deadline: 15_000 });
    expect((await asSue.sync()).inbox.some((request) => request.id === used.id)).toBe(false);
    suesApp.close();
  }, 60_000);
});
