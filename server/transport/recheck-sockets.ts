import { sameMembers } from '../../protocol/same-members.js';
import type { Actor } from '../domain/actor.js';
import type { Context } from '../domain/context.js';
import { resolveToken } from '../identity/authenticate.js';
import type { HubServer, HubSocket } from './hub-server.js';

/** Whether a token resolved afresh still gives the user (name, roles, groups, scopes) the socket was authenticated as. */
export const stillTheSame = (then: Actor, now: Actor): boolean =>
  then.id === now.id && then.name === now.name && sameMembers(then.roles, now.roles) && sameMembers(then.groups, now.groups) && sameMembers(then.scopes, now.scopes);

/**
 * A user disabled, a token revoked or roles changed on another hub reach this hub's sockets as
 * cross-hub messages, which can be lost like any other. When this hub may have missed some, each
 * socket's token is resolved afresh, one token at a time (a rare event; the database's other work
 * comes first), and a socket whose user is no longer the one it was authenticated as is dropped at
 * the transport: it reconnects, and its handshake refuses it or puts it in its new rooms.
 * Returns how many sockets were dropped.
 */
export async function recheckSockets(io: HubServer, ctx: Context): Promise<number> {
  const byToken = new Map<string, HubSocket[]>();
  for (const socket of io.of('/').sockets.values()) {
    const token = String(socket.handshake.auth?.token);
    const same = byToken.get(token);
    if (same) same.push(socket);
    else byToken.set(token, [socket]);
  }
  let dropped = 0;
  for (const [token, sockets] of byToken) {
    const outcome = await resolveToken(ctx, token);
    for (const socket of sockets) {
      if (socket.connected && ('refused' in outcome || !stillTheSame(socket.data.actor, outcome.actor))) {
        socket.conn.close();
        dropped++;
      }
    }
  }
  return dropped;
}

/**
 * Runs `recheck` when asked, never two at once: asked while one runs, it runs once more after, so a
 * loss reported mid-run is covered by a run that started after it.
 */
export function oneAtATime(recheck: () => Promise<unknown>, failed: (error: unknown) => void): () => void {
  let running = false;
  let again = false;
  const run = (): void => {
    running = true;
    again = false;
    recheck()
      .catch(failed)
      .finally(() => {
        running = false;
        if (again) run();
      });
  };
  return () => {
    if (running) again = true;
    else run();
  };
}
