import { z } from 'zod';
import { actingForSchema } from './delegation.js';
import { LIMITS } from './limits.js';

export const ROLES = ['requester', 'approver', 'lead', 'admin'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

/** Whether someone with these roles decides anything: a requester alone never does, not even as a delegate. */
export const decidesAnything = (roles: readonly string[]): boolean => roles.some((role) => role !== 'requester');

export const userNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.userName)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'use letters, digits and . _ @ - only');

/** Names the audit log already uses for actors that are not people: a user by that name would be mistaken for them. */
export const RESERVED_USER_NAMES = ['greenlight', 'anonymous'] as const;
/** User ids look like `usr_…`: a name like that would be taken for another user's id where either is accepted. */
export const USER_ID_PREFIX = 'usr_';

export function reservedNameProblem(name: string): string | null {
  const lower = name.toLowerCase();
  if ((RESERVED_USER_NAMES as readonly string[]).includes(lower)) return `"greenlight" and "anonymous" are reserved for the hub's own audit entries; choose another name`;
  if (lower.startsWith(USER_ID_PREFIX)) return `"${name}" would read as a user id (usr_…); choose a name that does not start with "usr_"`;
  return null;
}

export const unreservedUserNameSchema = userNameSchema.superRefine((name, ctx) => {
  const problem = reservedNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const groupNameSchema = z
  .string()
  .min(1)
  .max(LIMITS.identifier)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits and . _ - only');

export const emailSchema = z
  .string()
  .trim()
  .max(LIMITS.email, `at most ${LIMITS.email} characters`)
  .pipe(z.email('must be an email address such as bob@example.com'));

/** A Slack member id (U… or W…), as Slack shows under a profile's "Copy member ID". */
export const slackUserIdSchema = z.string().trim().regex(/^[UW][A-Z0-9]{2,20}$/, 'must be a Slack member id such as U0123ABCD (profile → ⋮ → Copy member ID)');

const rolesSchema = z.array(roleSchema).min(1, 'give the user at least one role').max(ROLES.length);
const groupsSchema = z.array(groupNameSchema).max(LIMITS.groups);

export const newUserSchema = z
  .strictObject({
    name: unreservedUserNameSchema,
    roles: rolesSchema,
    groups: groupsSchema.default([]),
    email: emailSchema.optional(),
    slackUserId: slackUserIdSchema.optional(),
    /** A machine account (a pipeline): no sign-in, tokens only, never an approver. */
    service: z.boolean().default(false),
  })
  .refine((user) => !user.service || user.roles.every((role) => role === 'requester'), {
    message: 'a service user can only be a requester: it never approves',
    path: ['roles'],
  });
export type NewUser = z.input<typeof newUserSchema>;

/** What an admin may change about a user; only the fields given change, `email: null` removes it. */
export const userUpdateSchema = z
  .strictObject({
    email: emailSchema.nullable().optional(),
    roles: rolesSchema.optional(),
    groups: groupsSchema.optional(),
    slackUserId: slackUserIdSchema.nullable().optional(),
  })
  .refine((update) => Object.values(update).some((value) => value !== undefined), { message: 'name at least one of email, roles or groups to change (or slackUserId)' });
export type UserUpdate = z.input<typeof userUpdateSchema>;

export const USER_STATUSES = ['active', 'disabled'] as const;

export const userSchema = z.object({
  id: z.string(),
  name: z.string(),
  roles: z.array(roleSchema),
  groups: z.array(z.string()),
  email: z.string().nullable(),
  /** A machine account: tokens only, never an approver (absent from hubs older than service users). */
  service: z.boolean().optional(),
  /** Absent from hubs older than the Slack channel. */
  slackUserId: z.string().nullable().optional(),
  status: z.enum(USER_STATUSES),
  disabled: z.boolean(),
  /** The last authenticated call, to the minute (the hub records it at most once a minute); null if never. */
  lastSeenAt: z.string().nullable(),
  createdAt: z.string(),
  /** In a sync only: whose approvals this user may give now, as their delegate. */
  actingFor: z.array(actingForSchema).optional(),
  /** On a change: what the admin should know, e.g. that the next single sign-on may undo it. */
  warnings: z.array(z.string()).optional(),
});
export type User = z.infer<typeof userSchema>;

/** `token` is null for a service user: its owner makes named, scoped tokens for it instead. */
export const createdUserSchema = userSchema.extend({ token: z.string().nullable() });
export type CreatedUser = z.infer<typeof createdUserSchema>;

export const userListSchema = z.object({ users: z.array(userSchema) });

export const TOKEN_PREFIX = 'glt_';
