import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import {
  LIMITS,
  parseOrThrow,
  requestRefSchema,
  cancelRefSchema,
  reviewRefSchema,
  decideInputSchema,
  type Ack,
  type GreenlightRequest,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '../../protocol/index.js';
import type { Context } from '../domain/context.js';
import type { Actor } from '../domain/actor.js';
import { authenticate } from '../domain/users.js';
import { resolveToken } from '../identity/authenticate.js';
import { requireScope, type ScopeNeed } from '../identity/scopes.js';
import { cancelRequest, decideRequest, getRequest, submitRequest, syncFor } from '../domain/requests.js';
import { reviewBreakGlass } from '../domain/break-glass.js';
import { claimRequest, releaseRequest } from '../domain/lifecycle/claims.js';
import { withoutSecrets } from '../domain/request-view.js';
import { approverRoomsOf, idRoom, roomsOf, roomsOfActor, userRoom } from './rooms.js';
import type { HubEvent } from '../domain/bus.js';
import type { Metrics } from '../metrics.js';
import { toWireError } from './errors.js';
import { RateWindow } from './rate-window.js';
import type { FailedAuthentications } from './failed-authentications.js';
import { clientAddress } from './client-address.js';

interface SocketData {
  actor: Actor;
}
/** What hubs sharing rooms (PostgreSQL adapter) tell each other directly. */
export interface InterHubEvents {
  /** A request stopped pending: long-polls for it on other hubs can answer now. */
  'request:settled': (requestId: unknown) => void;
  /** A user's roles or groups changed: each hub reconnects that user's sockets, which then join the right rooms. */
  'user:changed': (userId: unknown) => void;
}
export type HubServer = Server<ClientToServerEvents, ServerToClientEvents, InterHubEvents, SocketData>;
type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterHubEvents, SocketData>;

const emptySchema = z.union([z.strictObject({}), z.undefined(), z.null()]);

export interface SocketOptions {
  rateLimitPerMinute: number;
  failedAuthentications: FailedAuthentications;
  /** Take the client's address from X-Forwarded-For (set only behind a proxy that writes it). */
  trustProxy: boolean;
  /** How often the hub pings each client, and how long it waits for the answer before dropping a dead link. */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** Other hubs share these rooms (PostgreSQL adapter), so a push can't be skipped for want of local listeners. */
  clustered: boolean;
}

export interface SocketServer {
  io: HubServer;
  /** Closes every client's connection so that it reconnects by itself (to this hub once it is back, or another). */
  dropConnections(): void;
  close(): Promise<void>;
}

export function attachSocketServer(httpServer: HttpServer, ctx: Context, metrics: Metrics, options: SocketOptions): SocketServer {
  const { rateLimitPerMinute } = options;
  const io: HubServer = new Server(httpServer, {
    maxHttpBufferSize: LIMITS.bodyBytes,
    serveClient: false,
    pingInterval: options.pingIntervalMs ?? 25_000,
    pingTimeout: options.pingTimeoutMs ?? 20_000,
    cors: { origin: false },
  });

  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    const refuse = (reason: string, message: string) => {
      const reject = (error: unknown) => {
        const wire = toWireError(error, ctx.log);
        // socket.io never retries a handshake the hub refused, so a throttled one is a sign-in failure
        // to the client (it asks for a token), not a "try again later" it would wait on forever.
        const answer = wire.code === 'RATE_LIMITED' ? { code: 'UNAUTHENTICATED' as const, message: `${message} ${wire.message}` } : wire;
        next(Object.assign(new Error(answer.message), { data: answer }));
      };
      const address = clientAddress(socket.request, options.trustProxy);
      options.failedAuthentications.refuse(address, 'socket handshake', reason, message).then(reject, reject);
    };
    if (typeof token !== 'string' || token.length === 0) return refuse('no token', 'Connect with your token in auth.token.');
    resolveToken(ctx, token)
      .then((outcome) => {
        if ('refused' in outcome) return refuse(outcome.refused.reason, outcome.refused.message);
        socket.data.actor = outcome.actor;
        next();
      })
      .catch((error: unknown) => next(Object.assign(new Error('hub unavailable'), { data: toWireError(error, ctx.log) })));
  });

  const limiter = new RateWindow(rateLimitPerMinute);
  io.on('connection', (socket) => {
    const { actor } = socket.data;
    metrics.socketConnections.inc();
    socket.on('disconnect', () => metrics.socketConnections.dec());
    const token = String(socket.handshake.auth?.token);
    // A user disabled after the handshake's check but before this join was disconnected from rooms
    // this socket was not in yet: check once more now that it is in them.
    void Promise.resolve(socket.join(roomsOfActor(actor)))
      .then(() => authenticate(ctx, token))
      .then((still) => {
        if (!still) socket.disconnect(true);
      })
      .catch((error: unknown) => ctx.log.warn({ err: error }, 'could not re-check a new socket’s user'));
    registerHandlers(socket, ctx, metrics, limiter);
  });

  // Encoding a push costs more than the rest of it; a pipeline's submissions often have no listener on this hub.
  const anyoneIn = (rooms: string[]) => options.clustered || rooms.some((room) => (io.of('/').adapter.rooms.get(room)?.size ?? 0) > 0);
  // Pushed on the next turn of the event loop, in the order announced: writing one event to a
  // thousand sockets takes milliseconds, and a long-poll or an ack waiting on the same change
  // should not queue behind that. A disabled user's sockets close at once.
  const unsubscribe = ctx.bus.on((event) => {
    const delegatesOf = (request: GreenlightRequest) => ctx.delegates?.delegatesFor(request) ?? [];
    if (event.type === 'user.disabled') pushEvent(io, event, anyoneIn);
    else if (event.type === 'user.changed') {
      reconnectUser(io, event.userId);
      if (options.clustered) io.serverSideEmit('user:changed', event.userId);
    } else setImmediate(() => pushEvent(io, event, anyoneIn, delegatesOf));
  });
  io.on('user:changed', (userId: unknown) => {
    if (typeof userId === 'string') reconnectUser(io, userId);
  });
  const dropConnections = () => {
    for (const socket of io.of('/').sockets.values()) socket.conn.close();
  };
  return {
    io,
    dropConnections,
    close: async () => {
      unsubscribe();
      dropConnections();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
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

/** Validate → act → ack; every failure is acked as a wire error, nothing thrown reaches socket.io. */
function handle<O>(actor: Actor, ctx: Context, limiter: RateWindow, scope: ScopeNeed, work: (input: unknown) => Promise<O>) {
  return (...args: unknown[]) => {
    // socket.io hands the ack over as the last argument: an event sent with an ack and no payload
    // arrives as the ack alone, and must still be answered (its missing payload is then refused).
    const ack = args[args.length - 1];
    const reply = typeof ack === 'function' ? (ack as (response: Ack<O>) => void) : () => undefined;
    const input = typeof args[0] === 'function' ? undefined : args[0];
    Promise.resolve()
      .then(() => {
        limiter.take(actor.id);
        requireScope(actor, scope);
        ctx.lastSeen.touch(actor.id, ctx.clock.now(), actor.tokenId ?? undefined);
      })
      .then(() => work(input))
      .then((data) => reply({ data }))
      .catch((error: unknown) => reply({ error: toWireError(error, ctx.log) }));
  };
}

/** Every handler acts as the socket's user, authenticated once at the handshake. */
function registerHandlers(socket: HubSocket, ctx: Context, metrics: Metrics, limiter: RateWindow): void {
  const { actor } = socket.data;
  socket.on(
    'request:submit',
    handle(actor, ctx, limiter, 'requests:create', async (input: unknown) => {
      const result = await submitRequest(ctx, actor, input);
      if (result.created) metrics.requestsSubmitted.inc({ status: result.request.status });
      return result.request;
    }),
  );
  socket.on(
    'request:decide',
    handle(actor, ctx, limiter, 'requests:decide', async (input: unknown) => {
      const { requestId, ...decision } = parseOrThrow(decideInputSchema, input, 'decision');
      const result = await decideRequest(ctx, actor, requestId, decision, 'app');
      metrics.decisions.inc({ decision: decision.decision });
      return result;
    }),
  );
  socket.on(
    'request:cancel',
    handle(actor, ctx, limiter, 'requests:create', (input: unknown) => {
      const { requestId, ...cancellation } = parseOrThrow(cancelRefSchema, input, 'request');
      return cancelRequest(ctx, actor, requestId, cancellation);
    }),
  );
  socket.on(
    'request:review',
    handle(actor, ctx, limiter, 'requests:decide', (input: unknown) => {
      const { requestId, ...review } = parseOrThrow(reviewRefSchema, input, 'review');
      return reviewBreakGlass(ctx, actor, requestId, review);
    }),
  );
  socket.on('request:claim', handle(actor, ctx, limiter, 'requests:decide', (input: unknown) => claimRequest(ctx, actor, parseOrThrow(requestRefSchema, input, 'request').requestId)));
  socket.on('request:release', handle(actor, ctx, limiter, 'requests:decide', (input: unknown) => releaseRequest(ctx, actor, parseOrThrow(requestRefSchema, input, 'request').requestId)));
  socket.on('request:get', handle(actor, ctx, limiter, 'requests:read', (input: unknown) => getRequest(ctx, actor, parseOrThrow(requestRefSchema, input, 'request').requestId)));
  socket.on(
    'requests:sync',
    handle(actor, ctx, limiter, 'requests:read', async (input: unknown) => {
      parseOrThrow(emptySchema, input, 'sync');
      const turn = ctx.turns.begin();
      const result = await syncFor(ctx, actor, turn);
      // Encoding the answer is a large piece of work of its own: it takes a turn like the rest of the sync.
      await turn.next();
      return result;
    }),
  );
}

/** Turns a committed domain event into pushes: the requester gets the full view, everyone else none of its secrets. */
function pushEvent(io: HubServer, event: HubEvent, anyoneIn: (rooms: string[]) => boolean, delegatesOf: (request: GreenlightRequest) => string[] = () => []): void {
  if (event.type === 'user.disabled') {
    io.in(idRoom(event.userId)).disconnectSockets(true);
    return;
  }
  if (event.type === 'user.changed') return;
  const request = event.request;
  const requesterRoom = userRoom(request.requester);
  // Delegates in their window hear what their delegators hear (they decide only if still entitled when they do).
  const approverRooms = [...approverRoomsOf(request), ...delegatesOf(request).map(userRoom)];
  const voterRooms = request.decisions.map((d) => userRoom(d.approver));
  const shared = withoutSecrets(request);
  if (event.type === 'request.created') {
    if (approverRooms.length && anyoneIn(approverRooms)) io.to(approverRooms).except(requesterRoom).emit('request:created', shared);
    // The requester's other windows (and a pipeline's author) learn of it as an update.
    if (anyoneIn([requesterRoom])) io.to(requesterRoom).emit('request:updated', request);
    return;
  }
  if (event.type === 'request.escalated') {
    const newTargets = roomsOf(event.newTargets);
    io.to(newTargets).except(requesterRoom).emit('request:escalated', { request: shared, step: event.step, previouslyNotified: event.previouslyNotified });
    const others = [...new Set([...roomsOf(event.previousApprovers), ...voterRooms])];
    if (others.length) io.to(others).except([requesterRoom, ...newTargets]).emit('request:updated', shared);
    io.to(requesterRoom).emit('request:updated', request);
    return;
  }
  if (event.type === 'grant.expiring') {
    io.to(requesterRoom).emit('grant:expiring', { request, expiresAt: event.expiresAt });
    return;
  }
  if (event.type === 'request.reminded') {
    // Only those who may still act: not the requester, not an approver who already voted.
    const rooms = [...roomsOf(event.approvers), ...delegatesOf(request).map(userRoom)];
    if (rooms.length && anyoneIn(rooms)) io.to(rooms).except([requesterRoom, ...voterRooms]).emit('request:reminded', { request: shared, reminder: event.reminder });
    return;
  }
  const others = [...new Set([...approverRooms, ...voterRooms, ...roomsOf(event.notify)])];
  if (others.length) io.to(others).except(requesterRoom).emit('request:updated', shared);
  io.to(requesterRoom).emit('request:updated', request);
}
