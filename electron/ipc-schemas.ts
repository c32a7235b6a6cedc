import { z } from 'zod';
import { decideInputSchema, httpUrlSchema, newRequestSchema, requestRefSchema } from '../protocol/request.js';
import { LIMITS } from '../protocol/limits.js';
import type { IpcContract, IpcMethod } from './ipc-contract.js';

const none = z.undefined();
const query = z.string().max(4_096);

/**
 * The zod schema each channel's argument must pass before a handler sees it.
 * Typed against the contract, so a schema that accepts something else fails to compile.
 */
export const ipcArgSchemas: { [M in IpcMethod]: z.ZodType<IpcContract[M]['arg']> } = {
  getSession: none,
  signIn: z.strictObject({ hubUrl: httpUrlSchema, token: z.string().trim().min(1, 'paste your API token').max(512) }),
  signOut: none,
  sync: none,
  submit: newRequestSchema,
  decide: decideInputSchema,
  cancel: requestRefSchema,
  claim: requestRefSchema,
  release: requestRefSchema,
  get: requestRefSchema,
  revokeGrant: z.strictObject({ jti: z.string().min(1).max(LIMITS.identifier).regex(/^[A-Za-z0-9_-]+$/) }),
  audit: z.strictObject({ query }),
  exportAudit: z.strictObject({ query, format: z.enum(['csv', 'jsonl']) }),
  openExternal: z.strictObject({ url: z.string().max(LIMITS.url) }),
};
