import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { z } from 'zod';
import {
  GreenlightError,
  LIMITS,
  parseOrThrow,
  requestRefSchema,
  cancelRefSchema,
  reviewRefSchema,
  decideInputSchema,
  type Ack,
} from '../../protocol/index.js';
import type { Context } from '../domain/context.js';
import { authenticate } from '../domain/users.js';
import { resolveToken } from '../identity/authenticate.js';
import { requireScope, type ScopeNeed } from '../identity/scopes.js';
import { cancelRequest, decideRequest, getRequest, syncFor } from '../domain/requests.js';
import { submitRequest } from '../domain/submit.js';
import { reviewBreakGlass } from '../domain/break-glass.js';
import { claimRequest, releaseRequest } from '../domain/lifecycle/claims.js';
import { roomsOfActor } from './rooms.js';
import type { Actor } from '../domain/actor.js';
import { attachPushes, type PushOptions } from './pushes.js';
import type { HubServer, HubSocket } from './hub-server.js';
import { closeAtTokenExpiry } from './token-expiry.js';
import type { Metrics } from '../metrics.js';
import { toWireError } from './errors.js';
import { RateWindow } from './rate-window.js';
import type { FailedAuthentications } from './failed-authentications.js';
import { clientAddress } from './client-address.js';
import { InFlight } from './in-flight.js';
import { oneAtATime, recheckSockets, stillTheSame } from './recheck-sockets.js';
import { EncodedAnswer, hubParser } from './encoded-acks.js';
import { encodeSyncAnswer } from './sync-answer.js';


const emptySchema = z.union([z.strictObject({}), z.undefined(), z.null()]);

/**
 * Room for what Socket.IO wraps around an event's payload (packet types, ack id, the event's name):
 * a payload HTTP takes whole (`LIMITS.bodyBytes`) fits in one packet, so the socket answers it as
 * HTTP does. A larger packet is refused by Socket.IO before the hub sees it, closing the connection
 * (WebSocket close 1009, or 413 on long polling): Socket.IO offers no way to answer it
 * (socketio/engine.io#706). Its handshake tells clients this limit, so `HubClient` refuses such a
 * call with PAYLOAD_TOO_LARGE before sending it.
 */
const PACKET_ENVELOPE_BYTES = 1024;
/** How `ws` (under Socket.IO) says a message was over the limit; it reaches the hub only as this text. */
const TOO_BIG = 'Max payload size exceeded';

export interface SocketOptions {
  rateLimitPerMinute: number;
  failedAuthentications: FailedAuthentications;
  /** Take the client's address from X-Forwarded-For (set only behind a proxy that writes it). */
  trustProxy: boolean;
  /** How often the hub pings each client, and how long it waits for the answer before dropping a dead link. */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  pushes: PushOptions;
}

export interface SocketServer {
  io: HubServer;
  /** Closes every client's connection so that it reconnects by itself (to this hub once it is back, or another). */
  dropConnections(): void;
  /** Settles once every event already read has been answered, and what it changed pushed. */
  finishHandling(): Promise<void>;
  /**
   * Cross-hub messages may have been lost: clients sync again, and sockets whose user changed
   * meanwhile (disabled, token revoked, other roles or groups) reconnect.
   */
  mayHaveMissed(reason: string): void;
  close(): Promise<void>;
}

export function attachSocketServer(httpServer: HttpServer, ctx: Context, metrics: Metrics, options: SocketOptions): SocketServer {
  const { rateLimitPerMinute } = options;
  const io: HubServer = new Server(httpServer, {
    maxHttpBufferSize: LIMITS.bodyBytes + PACKET_ENVELOPE_BYTES,
    serveClient: false,
    pingInterval: options.pingIntervalMs ?? 25_000,
    pingTimeout: options.pingTimeoutMs ?? 20_000,
    cors: { origin: false },
    parser: hubParser,
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
  const handling = new InFlight(metrics.socketEventsInFlight);
  io.on('connection', (socket) => {
    const { actor } = socket.data;
    metrics.socketConnections.inc();
    socket.on('disconnect', (_reason, description) => {
      metrics.socketConnections.dec();
      // Over long polling Socket.IO answers such a POST 413 and tells the hub nothing.
      if (description instanceof Error && description.message.includes(TOO_BIG)) {
        ctx.log.warn({ user: actor.name, limitBytes: LIMITS.bodyBytes + PACKET_ENVELOPE_BYTES }, 'closed a connection whose message was over the size limit');
      }
    });
    const token = String(socket.handshake.auth?.token);
    // A user disabled after the handshake's check but before this join was disconnected from rooms
    // this socket was not in yet: check once more now that it is in them.
    void Promise.resolve(socket.join(roomsOfActor(actor)))
      .then(() => authenticate(ctx, token))
      .then((still) => {
        if (!still) socket.disconnect(true);
      })
      .catch((error: unknown) => ctx.log.warn({ err: error }, 'could not re-check a new socket’s user'));
    closeAtTokenExpiry(socket, ctx.clock);
    // Socket.IO reports a packet it could not read (malformed, or nested past the limit) here as an
    // Error, then closes the connection. An "error" a client emits arrives as JSON, never an Error.
    socket.on('error', (error: unknown) => {
      if (error instanceof Error) ctx.log.warn({ user: actor.name, reason: error.message }, 'closed a connection whose packet could not be read');
    });
    registerHandlers(socket, ctx, metrics, limiter, handling);
  });

  const unsubscribe = attachPushes(io, ctx, options.pushes);
  const recheck = oneAtATime(
    async () => {
      const dropped = await recheckSockets(io, ctx);
      if (dropped > 0) ctx.log.info({ dropped }, 'sockets whose user changed while this hub could have missed it reconnect');
    },
    (error) => ctx.log.warn({ err: error }, 'could not check the sockets’ users again after a possible loss'),
  );
  const dropConnections = () => {
    for (const socket of io.of('/').sockets.values()) socket.conn.close();
  };
  return {
    io,
    dropConnections,
    finishHandling: () => handling.settled(),
    mayHaveMissed(reason) {
      io.local.emit('requests:stale', { reason });
      recheck();
    },
    close: async () => {
      unsubscribe();
      dropConnections();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

/** Validate → act → ack; every failure is acked as a wire error, nothing thrown reaches socket.io. */
function handle<O>(socket: HubSocket, ctx: Context, limiter: RateWindow, handling: InFlight, scope: ScopeNeed, work: (input: unknown, actor: Actor) => Promise<O>) {
  const { actor: atHandshake } = socket.data;
  const token = String(socket.handshake.auth?.token);
  return (...args: unknown[]) => {
    // socket.io hands the ack over as the last argument: an event sent with an ack and no payload
    // arrives as the ack alone, and must still be answered (its missing payload is then refused).
    const ack = args[args.length - 1];
    const reply = typeof ack === 'function' ? (ack as (response: Ack<O> | EncodedAnswer) => void) : () => undefined;
    const input = typeof args[0] === 'function' ? undefined : args[0];
    let tokenEnded = false;
    let userChanged = false;
    void handling.track(Promise.resolve()
      .then(async () => {
        limiter.take(atHandshake.id);
        // The handshake vouched for the token then, not for as long as the socket lasts: one that has
        // expired since (revoking and disabling close sockets at once; expiry has no event) acts no more.
        const current = await resolveToken(ctx, token);
        if ('refused' in current) {
          tokenEnded = true;
          throw new GreenlightError('UNAUTHENTICATED', current.refused.message);
        }
        // Roles or groups changed since the handshake (the news from another hub may be late or lost):
        // this event acts as the user is now, and the socket then reconnects to join its new rooms.
        const { actor } = current;
        userChanged = !stillTheSame(atHandshake, actor);
        requireScope(actor, scope);
        ctx.lastSeen.touch(actor.id, ctx.clock.now(), actor.tokenId ?? undefined);
        return work(input, actor);
      })
      .then((data) => reply(data instanceof EncodedAnswer ? data : { data }))
      .catch((error: unknown) => reply({ error: toWireError(error, ctx.log) }))
      .finally(() => {
        if (tokenEnded) socket.disconnect(true);
        else if (userChanged) socket.conn.close();
      }));
  };
}

/** Every handler acts as the socket's user, as its token resolves at the moment the event is handled. */
function registerHandlers(socket: HubSocket, ctx: Context, metrics: Metrics, limiter: RateWindow, handling: InFlight): void {
  socket.on(
    'request:submit',
    handle(socket, ctx, limiter, handling, 'requests:create', async (input, actor) => {
      const result = await submitRequest(ctx, actor, input);
      if (result.created) metrics.requestsSubmitted.inc({ status: result.request.status });
      return result.request;
    }),
  );
  socket.on(
    'request:decide',
    handle(socket, ctx, limiter, handling, 'requests:decide', async (input, actor) => {
      const { requestId, ...decision } = parseOrThrow(decideInputSchema, input, 'decision');
      const result = await decideRequest(ctx, actor, requestId, decision, 'app');
      metrics.decisions.inc({ decision: decision.decision });
      return result;
    }),
  );
  socket.on(
    'request:cancel',
    handle(socket, ctx, limiter, handling, 'requests:create', (input, actor) => {
      const { requestId, ...cancellation } = parseOrThrow(cancelRefSchema, input, 'request');
      return cancelRequest(ctx, actor, requestId, cancellation);
    }),
  );
  socket.on(
    'request:review',
    handle(socket, ctx, limiter, handling, 'requests:decide', (input, actor) => {
      const { requestId, ...review } = parseOrThrow(reviewRefSchema, input, 'review');
      return reviewBreakGlass(ctx, actor, requestId, review);
    }),
  );
  socket.on('request:claim', handle(socket, ctx, limiter, handling, 'requests:decide', (input, actor) => claimRequest(ctx, actor, parseOrThrow(requestRefSchema, input, 'request').requestId)));
  socket.on('request:release', handle(socket, ctx, limiter, handling, 'requests:decide', (input, actor) => releaseRequest(ctx, actor, parseOrThrow(requestRefSchema, input, 'request').requestId)));
  socket.on('request:get', handle(socket, ctx, limiter, handling, 'requests:read', (input, actor) => getRequest(ctx, actor, parseOrThrow(requestRefSchema, input, 'request').requestId)));
  socket.on(
    'requests:sync',
    handle(socket, ctx, limiter, handling, 'requests:read', async (input, actor) => {
      parseOrThrow(emptySchema, input, 'sync');
      const turn = ctx.turns.begin();
      const answer = await encodeSyncAnswer(await syncFor(ctx, actor, turn), turn, (request) => ctx.views.jsonOf(request));
      // Writing the answer out is a piece of work of its own: it takes a turn like the rest of the sync.
      await turn.next();
      return answer;
    }),
  );
}
