import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../../protocol/index.js';
import type { Actor } from '../domain/actor.js';

interface SocketData {
  actor: Actor;
}

/** What hubs sharing rooms (PostgreSQL adapter) tell each other directly; nothing else another hub sends is acted on (`peer-adapter-guard.ts`). */
export interface InterHubEvents {
  /** A user's roles or groups changed: each hub reconnects that user's sockets, which then join the right rooms. */
  'user:changed': (userId: unknown) => void;
  /** Delegations (or a delegator's roles or groups) changed: each hub reads them again for its pushes to delegates. */
  'delegations:changed': () => void;
  /** The grant signing key was rotated: each hub reads the keys again, so its JWKS publishes the new one. */
  'signing-keys:changed': () => void;
  /** A user was disabled: each hub closes that user's sockets at once. */
  'user:disabled': (userId: unknown) => void;
  /** A committed request event: each hub pushes it to its own sockets and wakes its long-polls (`pushes.ts`). */
  'request:event': (event: unknown) => void;
  /** The sending hub failed to send some of the above for a while: each hub has its clients sync again (`lost-pushes.ts`). */
  'pushes:lost': () => void;
  /** The sending hub is stopping with everything it committed pushed: its departure needs no resync (`departures.ts`). */
  'hub:leaving': () => void;
  /**
   * The digest of the policy the sending hub runs (on its start, after each reload, and in answer to a
   * hub it had not heard from): each hub compares it with its own (`policy-gossip.ts`).
   */
  'policy:digest': (policy: unknown) => void;
}

/** Every event of `InterHubEvents` (the compiler holds the two together): the only ones a hub takes from another. */
const interHubEvents = { 'user:changed': true, 'delegations:changed': true, 'signing-keys:changed': true, 'user:disabled': true, 'request:event': true, 'pushes:lost': true, 'hub:leaving': true, 'policy:digest': true } satisfies Record<keyof InterHubEvents, true>;
export const INTER_HUB_EVENTS = Object.keys(interHubEvents) as (keyof InterHubEvents)[];

export type HubServer = Server<ClientToServerEvents, ServerToClientEvents, InterHubEvents, SocketData>;
export type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterHubEvents, SocketData>;
