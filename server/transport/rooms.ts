import { decidesAnything, type GreenlightRequest } from '../../protocol/index.js';
import { actsAsAdmin, type Actor } from '../domain/actor.js';
import type { Audience } from '../domain/audience.js';

/**
 * The hub's Socket.IO rooms, named in this one place. Each socket joins its user's room (by name),
 * its user's id room (closed at once when the user is disabled) and one room per group; an admin's
 * socket also joins the admins' room.
 */
export const userRoom = (name: string): string => `user:${name}`;
export const groupRoom = (group: string): string => `group:${group}`;
export const idRoom = (userId: string): string => `uid:${userId}`;
/**
 * Sockets whose token may read what only admins may (the setup status): an admin's token with the
 * `admin` scope, as `GET /api/v1/setup` asks. A user who loses the role reconnects and leaves it.
 */
export const ADMIN_ROOM = 'admins';

/**
 * What a group room hears is the approvers' view of each request, so only a socket that could read it
 * over HTTP joins: its user decides something, and its token may read requests. A requester who
 * happens to be in an approver group, a service user, or a token scoped to verifying grants hears
 * only its own user's rooms.
 */
const hearsItsGroups = (actor: Pick<Actor, 'roles' | 'service' | 'scopes'>): boolean => !actor.service && decidesAnything(actor.roles) && actor.scopes.includes('requests:read');

export const roomsOfActor = (actor: Pick<Actor, 'id' | 'name' | 'groups' | 'roles' | 'service' | 'scopes'>): string[] => [
  userRoom(actor.name),
  idRoom(actor.id),
  ...(hearsItsGroups(actor) ? actor.groups.map(groupRoom) : []),
  ...(actsAsAdmin(actor) ? [ADMIN_ROOM] : []),
];

export const roomsOf = (audience: Audience): string[] => [...audience.groups.map(groupRoom), ...audience.users.map(userRoom)];

/** Everyone who may decide the request now. */
export const approverRoomsOf = (request: GreenlightRequest): string[] => roomsOf({ groups: request.eligibleGroups, users: request.eligibleUsers });
