import { useId } from 'react';
import { ROLES, type Role } from '../../../protocol/user.js';
import { ROLE_HINTS } from '../lib/user-form.js';

/** The roles as checkboxes, each with what it lets the user do; the error is announced with the group. */
export function RolePicker({ value, onChange, error }: { value: Role[]; onChange: (roles: Role[]) => void; error?: string }) {
  const id = useId();
  return (
    <fieldset className="field role-picker" aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined}>
      <legend>Roles</legend>
      {ROLES.map((role) => (
        <label key={role} className="check">
          <input
            type="checkbox"
            checked={value.includes(role)}
            onChange={(event) => onChange(event.target.checked ? ROLES.filter((r) => r === role || value.includes(r)) : value.filter((r) => r !== role))}
          />{' '}
          {role} <span className="muted small">— {ROLE_HINTS[role]}</span>
        </label>
      ))}
      {error && (
        <small id={`${id}-error`} className="field-error">
          {error.charAt(0).toUpperCase() + error.slice(1)}
        </small>
      )}
    </fieldset>
  );
}
