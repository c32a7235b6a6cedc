import type { z } from 'zod';
import { newUserSchema, userUpdateSchema, type NewUser, type Role, type User, type UserUpdate } from '../../../protocol/user.js';
import { sameMembers } from '../../../protocol/same-members.js';

/** The add-user and edit-user forms, validated with the contract's own schemas before anything is sent. */

export interface UserFormValues {
  name: string;
  email: string;
  roles: Role[];
  /** Group names separated by commas or spaces, as typed. */
  groups: string;
}

export type UserFormField = keyof UserFormValues;
export type UserFormErrors = Partial<Record<UserFormField | 'form', string>>;

export const emptyUserForm: UserFormValues = { name: '', email: '', roles: ['requester'], groups: '' };

export const ROLE_HINTS: Record<Role, string> = {
  requester: 'asks for access',
  approver: 'decides requests for their groups',
  lead: 'decides requests escalated to their groups',
  admin: 'manages people and reads the audit log',
};

export const splitGroups = (text: string): string[] => [...new Set(text.split(/[\s,]+/).filter(Boolean))];

export const formOf = (user: User): UserFormValues => ({ name: user.name, email: user.email ?? '', roles: user.roles, groups: user.groups.join(', ') });

/** Each schema issue on the field it belongs to; a bad group is named, since the field holds several. */
function errorsOf(error: z.ZodError, groups: string[]): UserFormErrors {
  const errors: UserFormErrors = {};
  for (const issue of error.issues) {
    const [head, index] = issue.path;
    const field: UserFormField | 'form' = head === 'name' || head === 'email' || head === 'roles' || head === 'groups' ? head : 'form';
    const message = field === 'groups' && typeof index === 'number' ? `"${groups[index] ?? ''}": ${issue.message}` : issue.message;
    errors[field] ??= message;
  }
  return errors;
}

export function buildNewUser(values: UserFormValues): { input: NewUser | null; errors: UserFormErrors } {
  const groups = splitGroups(values.groups);
  const email = values.email.trim();
  const candidate = { name: values.name.trim(), roles: values.roles, groups, ...(email ? { email } : {}) };
  const parsed = newUserSchema.safeParse(candidate);
  if (!parsed.success) return { input: null, errors: errorsOf(parsed.error, groups) };
  return { input: candidate, errors: {} };
}


/** Only what the admin changed; `{}` when nothing was. An emptied email field removes the address. */
export function buildUserUpdate(user: User, values: UserFormValues): { changes: UserUpdate | null; errors: UserFormErrors } {
  const groups = splitGroups(values.groups);
  const email = values.email.trim() || null;
  const changes: UserUpdate = {
    ...(email !== user.email ? { email } : {}),
    ...(!sameMembers(values.roles, user.roles) ? { roles: values.roles } : {}),
    ...(!sameMembers(groups, user.groups) ? { groups } : {}),
  };
  if (Object.keys(changes).length === 0) return { changes, errors: {} };
  const parsed = userUpdateSchema.safeParse(changes);
  if (!parsed.success) return { changes: null, errors: errorsOf(parsed.error, groups) };
  return { changes, errors: {} };
}

/** Whether a user matches the filter box: by name, email, group or role, ignoring case. */
export function matchesFilter(user: User, filter: string): boolean {
  const words = filter.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const haystack = [user.name, user.email ?? '', ...user.groups, ...user.roles, user.status].map((text) => text.toLowerCase());
  return words.every((word) => haystack.some((text) => text.includes(word)));
}
