import { z } from 'zod';
import { cancelRefSchema, reviewRefSchema, decideInputSchema, extendInputSchema, newRequestSchema, requestRefSchema } from '../protocol/request.js';
import { desktopHubUrlSchema } from './hub-url.js';
import { LIMITS } from '../protocol/limits.js';
import { newUserSchema, userNameSchema, userUpdateSchema } from '../protocol/user.js';
import { delegationIdSchema, newDelegationSchema } from '../protocol/delegation.js';
import { newTokenSchema, tokenIdSchema } from '../protocol/token.js';
import type { IpcContract, IpcMethod } from './ipc-contract.js';

const none = z.undefined();
const grantId = z.string().min(1).max(LIMITS.identifier).regex(/^[A-Za-z0-9_-]+$/);
const query = z.string().max(4_096);

/** The longest pause the app accepts: notifications off for longer is the switch's job, not a pause's. */
export const MAX_PAUSE_MS = 7 * 24 * 3600_000;

// Checked against the clock when the message arrives: a pause that already ended is a mistake to report.
const pauseEnd = z.iso
  .datetime({ offset: true })
  .refine((text) => Date.parse(text) > Date.now(), { message: 'must be in the future' })
  .refine((text) => Date.parse(text) <= Date.now() + MAX_PAUSE_MS, { message: 'must be at most 7 days ahead' });

const settingsUpdate = z
  .strictObject({
    notificationsEnabled: z.boolean().optional(),
    pausedUntil: pauseEnd.nullable().optional(),
    launchAtLogin: z.boolean().optional(),
  })
  .refine((input) => Object.keys(input).length > 0, { message: 'name at least one setting to change' });

/**
 * The zod schema each channel's argument must pass before a handler sees it.
 * Typed against the contract, so a schema that accepts something else fails to compile.
 */
export const ipcArgSchemas: { [M in IpcMethod]: z.ZodType<IpcContract[M]['arg']> } = {
  getSession: none,
  signIn: z.strictObject({ hubUrl: desktopHubUrlSchema, token: z.string().trim().min(1, 'paste your API token').max(512) }),
  signInWithBrowser: z.strictObject({ hubUrl: desktopHubUrlSchema }),
  cancelSignInWithBrowser: none,
  signOut: none,
  dismissSignOutNote: none,
  sync: none,
  submit: newRequestSchema,
  decide: decideInputSchema,
  cancel: cancelRefSchema,
  review: reviewRefSchema,
  claim: requestRefSchema,
  release: requestRefSchema,
  get: requestRefSchema,
  revokeGrant: z.strictObject({ jti: grantId }),
  extendGrant: extendInputSchema.extend({ jti: grantId }),
  audit: z.strictObject({ query }),
  exportAudit: z.strictObject({ query, format: z.enum(['csv', 'jsonl']) }),
  decisionReport: z.strictObject({ query }),
  explainPolicy: z.strictObject({ query }),
  openExternal: z.strictObject({ url: z.string().max(LIMITS.url) }),
  listUsers: none,
  listDelegations: none,
  createDelegation: newDelegationSchema,
  endDelegation: z.strictObject({ id: delegationIdSchema }),
  createUser: newUserSchema,
  updateUser: z.strictObject({ name: userNameSchema, changes: userUpdateSchema }),
  disableUser: z.strictObject({ name: userNameSchema }),
  enableUser: z.strictObject({ name: userNameSchema }),
  setupStatus: none,
  listTokens: none,
  createToken: newTokenSchema,
  revokeToken: z.strictObject({ id: tokenIdSchema }),
  myChannels: none,
  getSettings: none,
  updateSettings: settingsUpdate,
};
