import type { FastifySchema } from 'fastify';
import { z } from 'zod';
import { auditEventSchema, requestSchema, userSchema, verifyResultSchema, wireErrorSchema } from '../../protocol/index.js';

/**
 * Route schemas for the OpenAPI document: the same zod schemas the handlers parse input with, and
 * the shapes of their answers. They document; they don't validate — handlers authenticate first and
 * then parse (so an unauthenticated call is a 401 whatever it sent), answering INVALID_INPUT in the
 * hub's own words. openapi.ts sets fastify's validator compiler to pass input through unchanged.
 */

// Named once in the document (components.schemas) and referred to from every route that uses them.
for (const [schema, id] of [
  [requestSchema, 'Request'],
  [userSchema, 'User'],
  [auditEventSchema, 'AuditEvent'],
  [verifyResultSchema, 'GrantVerification'],
  [wireErrorSchema, 'WireError'],
] as const) {
  if (!z.globalRegistry.has(schema)) z.globalRegistry.add(schema, { id });
}

export const errorBodySchema = z.object({ error: wireErrorSchema });

type Auth = 'none' | 'token' | 'admin' | 'grant';

const AUTH_TEXT: Record<Auth, string> = {
  none: 'No token needed.',
  token: 'Needs a user token (`Authorization: Bearer glt_…`).',
  admin: "Needs an admin's token.",
  grant: 'The grant in the body is the credential; no token needed.',
};

const ERRORS: Record<number, string> = {
  400: 'INVALID_INPUT: the input did not pass validation; the message names the field',
  401: 'UNAUTHENTICATED: no token, or one the hub does not know',
  403: 'FORBIDDEN, SELF_APPROVAL, NOT_ELIGIBLE or GRANT_INVALID',
  404: 'NOT_FOUND',
  409: 'ALREADY_DECIDED, ALREADY_REDEEMED, CONFLICT, LAST_ADMIN or IDEMPOTENCY_MISMATCH',
  413: 'PAYLOAD_TOO_LARGE: bodies over 8 MB',
  422: 'NO_POLICY (no policy rule covers the request) or NO_APPROVERS (no active user could approve it)',
  429: 'RATE_LIMITED, or TOO_MANY_PENDING (the rule caps pending requests per requester)',
  503: 'UNAVAILABLE: the database is unreachable; nothing was stored',
};

export interface RouteDoc {
  summary: string;
  description?: string;
  tag: string;
  auth: Auth;
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  /** The success answers by status: a zod schema (JSON), or a content type and description for other media. */
  responses: Record<number, z.ZodType | { description: string; content: Record<string, { schema: z.ZodType }> }>;
  /** Error statuses this route answers besides 400/401/429/503, which every authenticated route may. */
  errors?: number[];
}

/** A route's `schema`: summary, tag, security, inputs and answers, errors in the hub's `{error: {code, message}}` shape. */
export function routeDoc(doc: RouteDoc): FastifySchema {
  const common = doc.auth === 'token' || doc.auth === 'admin' ? [400, 401, 429, 503] : [400, 429, 503];
  const statuses = [...new Set([...common, ...(doc.errors ?? []), ...(doc.auth === 'admin' ? [403] : [])])].sort();
  const response: Record<string, unknown> = { ...doc.responses };
  for (const status of statuses) {
    response[status] = { description: ERRORS[status] ?? 'an error', content: { 'application/json': { schema: errorBodySchema } } };
  }
  return {
    summary: doc.summary,
    description: [doc.description, AUTH_TEXT[doc.auth]].filter(Boolean).join('\n\n'),
    tags: [doc.tag],
    ...(doc.auth === 'token' || doc.auth === 'admin' ? { security: [{ bearer: [] }] } : { security: [] }),
    ...(doc.params ? { params: doc.params } : {}),
    ...(doc.querystring ? { querystring: doc.querystring } : {}),
    ...(doc.body ? { body: doc.body } : {}),
    response,
  };
}

/** Routes that serve files (the console, the docs page's assets) rather than API answers. */
export const HIDDEN = { hide: true } as const;
