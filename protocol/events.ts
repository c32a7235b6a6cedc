import { z } from 'zod';
import type { WireError } from './errors.js';
import { requestSchema, type CancelRef, type DecideInput, type ReviewRef, type GreenlightRequest, type NewRequest } from './request.js';
import type { User } from './user.js';
import type { PolicyOffer } from './policy.js';
import { clusterStatusSchema, type ClusterStatus } from './setup.js';

/** Every acknowledgement is either data or a wire error. */
export type Ack<T> = { data: T } | { error: WireError };
export type AckCallback<T> = (response: Ack<T>) => void;

export interface SyncResult {
  me: User;
  /** Pending requests I may decide, most urgent first. */
  inbox: GreenlightRequest[];
  /** My own requests that are open, or were decided recently. */
  mine: GreenlightRequest[];
  offers: PolicyOffer[];
  serverTime: string;
}

export interface EscalatedPayload {
  request: GreenlightRequest;
  step: number;
  previouslyNotified: string[];
}

/** `remind`: a request still waits on its approvers; `reminder` counts from 1. */
export interface RemindedPayload {
  request: GreenlightRequest;
  reminder: number;
}

/** To the requester: their grant ends soon (`GRANT_EXPIRY_NOTICE_SECONDS` ahead). */
export interface GrantExpiringPayload {
  request: GreenlightRequest;
  expiresAt: string;
}

/** How long before a grant ends its requester is told, for grants that live longer than that. */
export const GRANT_EXPIRY_NOTICE_SECONDS = 600;

export interface RequestRef {
  requestId: string;
}

/** Events the hub sends to clients. */
export interface ServerToClientEvents {
  'request:created': (request: GreenlightRequest) => void;
  'request:updated': (request: GreenlightRequest) => void;
  'request:escalated': (payload: EscalatedPayload) => void;
  'request:reminded': (payload: RemindedPayload) => void;
  'grant:expiring': (payload: GrantExpiringPayload) => void;
  /**
   * What this client holds may be behind: another hub left the cluster without saying goodbye (what
   * it committed just before dying may never have been pushed), this hub listens again after losing its connection to
   * PostgreSQL (what others pushed meanwhile went past it), another hub can send again after
   * failing to send some pushes, or this hub could not read one. The client syncs again (`requests:sync`).
   */
  'requests:stale': (payload: { reason: string }) => void;
  /**
   * To admins only (those who may read `GET /api/v1/setup`): this hub's standing with the other hubs
   * on its database, as the setup status reports it, each time a warning in it appears, changes or
   * clears (another hub's policy differs or agrees again; this hub's clock drifts off or back).
   * Clients that predate it never listen for it; hubs that predate it never send it.
   */
  'cluster:status': (cluster: ClusterStatus) => void;
}

/** Events clients send to the hub; each is acknowledged. */
export interface ClientToServerEvents {
  'request:submit': (input: NewRequest, ack: AckCallback<GreenlightRequest>) => void;
  'request:decide': (input: DecideInput, ack: AckCallback<GreenlightRequest>) => void;
  'request:cancel': (input: CancelRef, ack: AckCallback<GreenlightRequest>) => void;
  'request:claim': (input: RequestRef, ack: AckCallback<GreenlightRequest>) => void;
  'request:review': (input: ReviewRef, ack: AckCallback<GreenlightRequest>) => void;
  'request:release': (input: RequestRef, ack: AckCallback<GreenlightRequest>) => void;
  'request:get': (input: RequestRef, ack: AckCallback<GreenlightRequest>) => void;
  'requests:sync': (input: Record<string, never>, ack: AckCallback<SyncResult>) => void;
}

export const SERVER_EVENTS = ['request:created', 'request:updated', 'request:escalated', 'request:reminded', 'grant:expiring', 'cluster:status'] as const;

/** What each pushed event must look like: a client checks a push before anything acts on it. */
export const serverEventSchemas = {
  'request:created': requestSchema,
  'request:updated': requestSchema,
  'request:escalated': z.object({ request: requestSchema, step: z.number().int(), previouslyNotified: z.array(z.string()) }),
  'request:reminded': z.object({ request: requestSchema, reminder: z.number().int() }),
  'grant:expiring': z.object({ request: requestSchema, expiresAt: z.string() }),
  'cluster:status': clusterStatusSchema,
} as const satisfies Record<(typeof SERVER_EVENTS)[number], z.ZodType>;

export const CLIENT_EVENTS = ['request:submit', 'request:decide', 'request:cancel', 'request:review', 'request:claim', 'request:release', 'request:get', 'requests:sync'] as const satisfies readonly (keyof ClientToServerEvents)[];
