import { describe, expect, it } from 'vitest';
import type { User } from '../../../protocol/user.js';
import { buildNewUser, buildUserUpdate, emptyUserForm, formOf, matchesFilter, splitGroups } from './user-form.js';

const bob: User = { id: 'usr_1', name: 'bob', roles: ['approver'], groups: ['sre', 'leads'], email: 'bob@example.com', status: 'active', disabled: false, lastSeenAt: null, createdAt: '2026-12-01T00:00:00.000Z' };

describe('the add-user form', () => {
  it('builds the new user from what was typed: trimmed, groups split on commas and spaces, no email when left blank', () => {
    expect(buildNewUser({ name: ' carol ', email: '', roles: ['approver', 'lead'], groups: 'sre, leads  oncall,,sre' })).toEqual({
      input: { name: 'carol', roles: ['approver', 'lead'], groups: ['sre', 'leads', 'oncall'] },
      errors: {},
    });
    expect(buildNewUser({ ...emptyUserForm, name: 'dan', email: ' dan@example.com ' }).input).toEqual({ name: 'dan', roles: ['requester'], groups: [], email: 'dan@example.com' });
  });

  it('puts each problem on its field, naming the group that is wrong', () => {
    const { input, errors } = buildNewUser({ name: 'has space', email: 'nope', roles: [], groups: 'sre bad/group' });
    expect(input).toBeNull();
    expect(errors.name).toMatch(/use letters, digits/);
    expect(errors.email).toBe('must be an email address such as bob@example.com');
    expect(errors.roles).toBe('give the user at least one role');
    expect(errors.groups).toMatch(/^"bad\/group": use letters, digits/);
    expect(buildNewUser({ ...emptyUserForm, name: 'Anonymous' }).errors.name).toMatch(/reserved/);
  });
});

describe('the edit-user form', () => {
  it('sends only what changed; an emptied email removes it; reordered groups are no change', () => {
    expect(buildUserUpdate(bob, formOf(bob))).toEqual({ changes: {}, errors: {} });
    expect(buildUserUpdate(bob, { ...formOf(bob), groups: 'leads sre' }).changes).toEqual({});
    expect(buildUserUpdate(bob, { ...formOf(bob), email: ' ' }).changes).toEqual({ email: null });
    expect(buildUserUpdate(bob, { ...formOf(bob), roles: ['approver', 'lead'], groups: 'sre' }).changes).toEqual({ roles: ['approver', 'lead'], groups: ['sre'] });
  });

  it('refuses an invalid change with the field named', () => {
    expect(buildUserUpdate(bob, { ...formOf(bob), roles: [] })).toEqual({ changes: null, errors: { roles: 'give the user at least one role' } });
    expect(buildUserUpdate(bob, { ...formOf(bob), email: 'bob at example' }).errors.email).toMatch(/email address/);
  });
});

describe('the filter box', () => {
  it('matches name, email, group, role and status, every word, ignoring case', () => {
    expect(splitGroups('a, b a')).toEqual(['a', 'b']);
    for (const filter of ['', 'BOB', 'example.com', 'lead', 'approver', 'active', 'sre approver']) expect(matchesFilter(bob, filter), filter).toBe(true);
    for (const filter of ['carol', 'admin', 'sre admin', 'disabled']) expect(matchesFilter(bob, filter), filter).toBe(false);
  });
});
