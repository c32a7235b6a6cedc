import { z } from 'zod';
import { LIMITS } from './limits.js';

export const ROLES = ['requester', 'approver', 'lead', 'admin'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

export const userNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.userName)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'use letters, digits and . _ @ - only');

export const groupNameSchema = z
  .string()
  .min(1)
  .max(LIMITS.identifier)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits and . _ - only');

export const newUserSchema = z.strictObject({
  name: userNameSchema,
  roles: z.array(roleSchema).min(1, 'give the user at least one role').max(ROLES.length),
  groups: z.array(groupNameSchema).max(LIMITS.groups).default([]),
});
export type NewUser = z.input<typeof newUserSchema>;

export const userSchema = z.object({
  id: z.string(),
  name: z.string(),
  roles: z.array(roleSchema),
  groups: z.array(z.string()),
  disabled: z.boolean(),
  createdAt: z.string(),
});
export type User = z.infer<typeof userSchema>;

export const createdUserSchema = userSchema.extend({ token: z.string() });
export type CreatedUser = z.infer<typeof createdUserSchema>;

export const TOKEN_PREFIX = 'glt_';
