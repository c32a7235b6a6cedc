import { randomBytes } from 'node:crypto';
import { io as connectSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionState, GreenlightRequest } from '../protocol/index.js';
import { ADMIN_TOKEN, approvedRequest, collect, deployRequest, startOnOneDatabase, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { listenToHubs, sendOnHubChannel } from './test-support/hub-channel.js';
import { postgresAvailability } from './test-support/postgres.js';
import { eventually } from './test-support/eventually.js';
import { PeerSignature } from './transport/peer-signature.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], maxPending: 100 }
`;
/** The adapter's message types (socket.io-adapter's MessageType) a forger would use. */
const BROADCAST = 3;
const DISCONNECT_SOCKETS = 6;
const SERVER_SIDE_EMIT = 9;
const ADAPTER_CLOSE = 13;

const postgres = await postgresAvailability();

/**
 * Anyone who can connect to the hubs' PostgreSQL database can also NOTIFY on the channel the hubs
 * talk on. What they send must reach no one: not a grant token, not a request, not a disconnect.
 */
describe.skipIf(!postgres.ok)(`messages forged on the hubs' PostgreSQL channel${postgres.ok ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  const hubA = new TestHub('postgres', { policy: POLICY });
  const hubB = new TestHub('postgres', { policy: POLICY });
  let alice: TestUser, bob: TestUser, mallory: TestUser, erin: TestUser;
  let listener: Awaited<ReturnType<typeof listenToHubs>>;

  const forge = (...messages: object[]) => sendOnHubChannel(hubA.databaseUrl ?? '', messages);
  const approved = (requester: TestUser, resource: string) => approvedRequest(hubA, requester, bob, { resource });

  beforeAll(async () => {
    await startOnOneDatabase(hubA, hubB);
    alice = await hubA.createUser('alice', ['requester']);
    bob = await hubA.createUser('bob', ['approver'], ['sre']);
    mallory = await hubA.createUser('mallory', ['requester']);
    erin = await hubA.createUser('erin', ['approver'], ['sre']);
    listener = await listenToHubs(hubA.databaseUrl ?? '');
  });
  afterAll(async () => {
    await listener?.close();
    await hubB.dispose();
    await hubA.dispose();
  });

  it("can't hand someone else's grant token to a requester, re-addressed, re-signed or unsigned", async () => {
    const onB = await hubB.connect(mallory);
    const updates = collect<GreenlightRequest>((listen) => onB.on('request:updated', listen));
    const notifications = listener.payloads;
    const before = notifications.length;
    const alices = await approved(alice, 'alices');
    const real = await eventually(() => notifications.slice(before).find((payload) => payload.includes('request:event') && payload.includes(alices.id)), { what: "the message carrying alice's grant" });
    const captured = JSON.parse(real) as { uid: string; type: number; nsp: string; data: { packet: [string, { event: { request: GreenlightRequest } }] }; auth: object };
    const [, message] = captured.data.packet;
    const toMallory = { packet: ['request:event', { ...message, event: { ...message.event, request: { ...message.event.request, requester: 'mallory' } } }] };
    await forge(
      // Alice's sealed token, addressed to mallory, under the signature of the real message.
      { ...captured, data: toMallory },
      // The same, signed as a hub would, with a key of the forger's own.
      new PeerSignature(randomBytes(32)).sign({ uid: 'forger', type: SERVER_SIDE_EMIT, nsp: '/', data: toMallory }),
      // The same, unsigned.
      { type: SERVER_SIDE_EMIT, data: toMallory },
    );
    // Mallory's own grant crosses after the forgeries: once it has reached her, so would they have.
    const own = await approved(mallory, 'mallorys');
    await updates.next((update) => update.id === own.id && update.grant?.token === own.token);
    expect(updates.items.map((update) => update.id).filter((id) => id !== own.id)).toEqual([]);
  });

  it("can't push a request to approvers, nor disconnect or reconnect anyone", async () => {
    const onB = await hubB.connect(bob);
    const created = collect<GreenlightRequest>((listen) => onB.on('request:created', listen));
    const states = collect<ConnectionState>((listen) => onB.onState(listen));
    const template = await approved(alice, 'template');
    const real = (await hubA.api<GreenlightRequest>('GET', `/api/v1/requests/${template.id}`, bob.token)).body;
    const fake = { ...real, id: 'req_forged', status: 'pending', grant: null, reason: 'looks routine', context: { summary: 'nothing to see' } };
    await forge(
      // What an adapter sends for `io.to(room).emit(…)` from another hub: straight to the sockets.
      { type: BROADCAST, data: { packet: { type: 2, nsp: '/', data: ['request:created', fake] }, opts: { rooms: ['group:sre'], except: [], flags: {} } } },
      { type: DISCONNECT_SOCKETS, data: { opts: { rooms: ['user:bob'], except: [], flags: {} }, close: true } },
      { type: SERVER_SIDE_EMIT, data: { packet: ['user:disabled', 'whoever'] } },
      { type: SERVER_SIDE_EMIT, data: { packet: ['user:changed', 'whoever'] }, auth: { at: Date.now(), nonce: 'n', mac: 'x' } },
    );
    const after = (await hubA.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ resource: 'after-the-forgeries' }))).body;
    await created.next((request) => request.id === after.id);
    expect(created.items.map((request) => request.id)).toEqual([template.id, after.id]);
    expect(states.items).toEqual([]);
    expect(onB.state).toBe('connected');
  });

  it("can't run the hub's own handlers with a reserved event name, nor make its clients resync", async () => {
    // A bare socket: the hub's client library answers `requests:stale` itself and does not show it.
    const raw = connectSocket(hubB.url, { auth: { token: bob.token }, transports: ['websocket'], forceNew: true });
    const heard: string[] = [];
    raw.on('requests:stale', () => heard.push('stale'));
    const created = new Promise<string>((resolve) => raw.on('request:created', (request: GreenlightRequest) => resolve(request.id)));
    try {
      await new Promise<void>((resolve) => raw.on('connect', () => resolve()));
      await forge({ type: SERVER_SIDE_EMIT, data: { packet: ['connection', { data: { actor: {} } }] } });
      const after = (await hubA.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ resource: 'after-connection' }))).body;
      expect(await created).toBe(after.id);
      expect(heard).toEqual([]);
    } finally {
      raw.close();
    }
  });

  it('still let a hub close, on every hub, the sockets of a user disabled on it, and not again by replaying that', async () => {
    const disabledOnB = await hubB.connect(erin);
    const states = collect<ConnectionState>((listen) => disabledOnB.onState(listen));
    const before = listener.payloads.length;
    expect((await hubA.api('POST', '/api/v1/users/erin/disable', ADMIN_TOKEN)).status).toBe(200);
    await states.next((state) => state === 'unauthorized');

    const disabling = await eventually(() => listener.payloads.slice(before).find((payload) => payload.includes('user:disabled')), { what: 'the message disabling erin' });
    expect((await hubA.api('POST', '/api/v1/users/erin/enable', ADMIN_TOKEN)).status).toBe(200);
    const again = await hubB.connect(erin);
    const statesAgain = collect<ConnectionState>((listen) => again.onState(listen));
    const created = collect<GreenlightRequest>((listen) => again.on('request:created', listen));
    await forge(JSON.parse(disabling) as object);
    const after = (await hubA.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ resource: 'after-replay' }))).body;
    await created.next((request) => request.id === after.id);
    expect(statesAgain.items).toEqual([]);
  });

  it("can't count a hub out, which would make the others' clients resync", async () => {
    const raw = connectSocket(hubB.url, { auth: { token: bob.token }, transports: ['websocket'], forceNew: true });
    const heard: string[] = [];
    raw.on('requests:stale', () => heard.push('stale'));
    try {
      await new Promise<void>((resolve) => raw.on('connect', () => resolve()));
      // Both hubs' ids, as anyone listening learns them from what the hubs send.
      const uids = await eventually(() => {
        const seen = [...new Set(listener.payloads.map((payload) => (JSON.parse(payload) as { uid?: string }).uid ?? ''))].filter(Boolean);
        return seen.length >= 2 && seen;
      }, { what: 'a message from each hub' });
      // Each real hub counted out, as if it had stopped without a word.
      await forge(...uids.map((uid) => ({ type: ADAPTER_CLOSE, uid })));
      // Hubs count each other every second; a change counted would have told the clients by now.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(heard).toEqual([]);
    } finally {
      raw.close();
    }
  });
});
