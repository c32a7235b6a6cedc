import type { Clock, TimerHandle } from '../clock.js';
import type { HubSocket } from './hub-server.js';

/**
 * Ends a socket's connection when its token expires. Revoking a token or disabling its user closes
 * sockets at once, but expiry has no event, and a socket that only listens would go on receiving
 * pushes. The transport is closed rather than the socket, so the client reconnects and the handshake
 * tells it, in its own words, that the token expired.
 */
export function closeAtTokenExpiry(socket: HubSocket, clock: Clock): void {
  const expiresAt = socket.data.actor.tokenExpiresAt;
  if (!expiresAt) return;
  const endsAtMs = Date.parse(expiresAt);
  let timer: TimerHandle | null = null;
  const arm = () => {
    timer = clock.setTimer(() => {
      // A timer can't wait more than about 24 days at once: a later expiry is waited for in steps.
      if (clock.now().getTime() < endsAtMs) return arm();
      socket.conn.close();
    }, endsAtMs - clock.now().getTime());
  };
  arm();
  socket.once('disconnect', () => {
    if (timer) clock.clearTimer(timer);
  });
}
