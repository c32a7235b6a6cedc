import { z } from 'zod';
import { requestSchema } from '../../protocol/index.js';
import type { Context } from '../domain/context.js';
import type { RequestEvent } from '../domain/bus.js';
import { withoutSecrets } from '../domain/request-view.js';
import { approverRoomsOf, idRoom, roomsOf, userRoom } from './rooms.js';
import type { HubServer } from './hub-server.js';
import { openedFromPeer, sealedForPeers } from './peer-grant-tokens.js';
import { detached } from '../detached.js';

const audienceSchema = z.object({ groups: z.array(z.string()), users: z.array(z.string()) });

/** A request event as another hub sends it: checked before it reaches this hub's sockets. */
const requestEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('request.created'), request: requestSchema }),
  z.object({ type: z.literal('request.updated'), request: requestSchema, notify: audienceSchema }),
  z.object({
    type: z.literal('request.escalated'),
    request: requestSchema,
    step: z.number().int(),
    previouslyNotified: z.array(z.string()),
    newTargets: audienceSchema,
    previousApprovers: audienceSchema,
  }),
  z.object({ type: z.literal('request.reminded'), request: requestSchema, reminder: z.number().int(), approvers: audienceSchema }),
  z.object({ type: z.literal('grant.expiring'), request: requestSchema, expiresAt: z.string() }),
]) satisfies z.ZodType<RequestEvent>;

/**
 * With the delegates the sending hub found for it: a delegation made or ended on one hub is in
 * that hub's index at once and in the others' only at their next refresh.
 */
const crossHubMessageSchema = z.object({
  event: requestEventSchema,
  delegates: z.array(z.string()),
  /** For an escalation: the delegates of those it escalated to, told of it as theirs. */
  escalatedTo: z.array(z.string()).default([]),
});
type CrossHubMessage = z.infer<typeof crossHubMessageSchema>;

export interface PushOptions {
  /** Other hubs share the database (PostgreSQL adapter): request events and user changes go to them too. */
  clustered: boolean;
  /** Told of each request event another hub committed, once checked. */
  heardFromPeer?: (event: RequestEvent) => void;
}

/**
 * Turns committed domain events into pushes to this hub's sockets. Hubs sharing a database (the
 * PostgreSQL adapter) send each request event to the others once, as it is, and each pushes it to
 * the listeners it has: one cross-hub message per event, where letting the adapter carry each push
 * would send one per audience (the requester's view and everyone else's) whether or not anyone
 * listens there.
 *
 * Pushes go on the next turn of the event loop, in the order announced: writing one event to a
 * thousand sockets takes milliseconds, and a long-poll or an ack waiting on the same change should
 * not queue behind that; one that fails there is logged with its event type and the hub goes on.
 * A disabled user's sockets close at once, on every hub.
 */
export function attachPushes(io: HubServer, ctx: Context, { clustered, heardFromPeer }: PushOptions): () => void {
  const push = ({ event, delegates, escalatedTo }: CrossHubMessage) =>
    setImmediate(() => detached(ctx.log, 'pushing a request event', () => pushRequestEvent(io, event, delegates, escalatedTo), { event: event.type }));
  io.on('request:event', (raw: unknown) => {
    const parsed = crossHubMessageSchema.safeParse(raw);
    if (parsed.success) {
      const event = openedFromPeer(parsed.data.event, ctx.grantTokens);
      push({ ...parsed.data, event });
      heardFromPeer?.(event);
    } else ctx.log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'ignored a malformed event from another hub');
  });
  io.on('user:changed', (userId: unknown) => {
    if (typeof userId === 'string') reconnectUser(io, userId);
  });
  io.on('user:disabled', (userId: unknown) => {
    if (typeof userId === 'string') signOut(io, userId);
  });
  io.on('delegations:changed', () => {
    void ctx.delegates?.refresh().catch((error: unknown) => ctx.log.warn({ err: error }, 'could not refresh delegations; the next periodic refresh will'));
  });
  io.on('signing-keys:changed', () => {
    void ctx.keys.refresh().catch((error: unknown) => ctx.log.error({ err: error }, 'cannot read the signing keys again; the next refresh will'));
  });
  // A delegate's app learns whom it decides for from a sync: it syncs again when that changes.
  const stopDelegates = ctx.delegates?.onDelegatesChanged((names) => {
    for (const name of names) io.local.to(userRoom(name)).emit('requests:stale', { reason: 'your delegations changed' });
  });
  const stopEvents = ctx.bus.on((event) => {
    if (event.type === 'user.disabled') {
      signOut(io, event.userId);
      if (clustered) io.serverSideEmit('user:disabled', event.userId);
    } else if (event.type === 'user.changed') {
      reconnectUser(io, event.userId);
      if (clustered) io.serverSideEmit('user:changed', event.userId);
    } else if (event.type === 'delegations.changed') {
      if (clustered) io.serverSideEmit('delegations:changed');
    } else if (event.type === 'signing_keys.changed') {
      if (clustered) io.serverSideEmit('signing-keys:changed');
    } else {
      const delegates = ctx.delegates?.delegatesFor(event.request) ?? [];
      // Those standing in for someone the escalation reached hear of it as the escalation it is.
      const escalatedTo =
        event.type === 'request.escalated' ? (ctx.delegates?.delegatesFor({ ...event.request, eligibleGroups: event.newTargets.groups, eligibleUsers: event.newTargets.users }) ?? []) : [];
      const message: CrossHubMessage = { event, delegates, escalatedTo };
      if (clustered) io.serverSideEmit('request:event', { ...message, event: sealedForPeers(event, ctx.grantTokens) });
      push(message);
    }
  });
  return () => {
    stopEvents();
    stopDelegates?.();
  };
}

/** A disabled user's sockets on this hub close at once, as signed out (each hub closes its own). */
function signOut(io: HubServer, userId: string): void {
  io.local.in(idRoom(userId)).disconnectSockets(true);
}

/**
 * A socket's rooms and its user's roles were settled at the handshake. When an admin changes them,
 * drop the connection at the transport (not "disconnect", which clients read as being signed out):
 * the client reconnects at once, authenticates afresh, joins its new groups' rooms and resyncs.
 */
function reconnectUser(io: HubServer, userId: string): void {
  for (const socket of io.of('/').sockets.values()) {
    if (socket.data.actor.id === userId) socket.conn.close();
  }
}

/** The requester gets the full view, everyone else none of its secrets; only this hub's sockets. */
function pushRequestEvent(io: HubServer, event: RequestEvent, delegates: string[], escalatedTo: string[]): void {
  // Encoding a push costs more than the rest of it; a pipeline's submissions often have no listener here.
  const anyoneIn = (rooms: string[]) => rooms.some((room) => (io.of('/').adapter.rooms.get(room)?.size ?? 0) > 0);
  const local = io.local;
  const request = event.request;
  const requesterRoom = userRoom(request.requester);
  const toRequester = () => {
    if (anyoneIn([requesterRoom])) local.to(requesterRoom).emit('request:updated', request);
  };
  // Delegates in their window hear what their delegators hear (they decide only if still entitled when they do).
  const approverRooms = [...approverRoomsOf(request), ...delegates.map(userRoom)];
  // A delegate who voted for someone has voted too: told of changes, never reminded.
  const voterRooms = request.decisions.flatMap((d) => (d.by ? [userRoom(d.approver), userRoom(d.by)] : [userRoom(d.approver)]));
  const shared = withoutSecrets(request);
  switch (event.type) {
    case 'request.created':
      if (anyoneIn(approverRooms)) local.to(approverRooms).except(requesterRoom).emit('request:created', shared);
      // The requester's other windows (and a pipeline's author) learn of it as an update.
      toRequester();
      return;
    case 'request.escalated': {
      const newTargets = [...roomsOf(event.newTargets), ...escalatedTo.map(userRoom)];
      if (anyoneIn(newTargets)) local.to(newTargets).except(requesterRoom).emit('request:escalated', { request: shared, step: event.step, previouslyNotified: event.previouslyNotified });
      const others = [...new Set([...roomsOf(event.previousApprovers), ...delegates.map(userRoom), ...voterRooms])];
      if (anyoneIn(others)) local.to(others).except([requesterRoom, ...newTargets]).emit('request:updated', shared);
      toRequester();
      return;
    }
    case 'grant.expiring':
      if (anyoneIn([requesterRoom])) local.to(requesterRoom).emit('grant:expiring', { request, expiresAt: event.expiresAt });
      return;
    case 'request.reminded': {
      // Only those who may still act: not the requester, not an approver who already voted.
      const rooms = [...roomsOf(event.approvers), ...delegates.map(userRoom)];
      if (anyoneIn(rooms)) local.to(rooms).except([requesterRoom, ...voterRooms]).emit('request:reminded', { request: shared, reminder: event.reminder });
      return;
    }
    case 'request.updated': {
      const others = [...new Set([...approverRooms, ...voterRooms, ...roomsOf(event.notify)])];
      if (anyoneIn(others)) local.to(others).except(requesterRoom).emit('request:updated', shared);
      toRequester();
      return;
    }
  }
}
