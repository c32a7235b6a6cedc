import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { User } from '../../../protocol/user.js';
import { actionMessage, toWireError } from '../lib/errors.js';
import { buildUserUpdate, formOf, type UserFormErrors, type UserFormValues } from '../lib/user-form.js';
import { changeUser, userPending } from '../store/users-actions.js';
import { useStore } from '../store/store.js';
import { Field } from './Field.js';
import { RolePicker } from './RolePicker.js';

/** Changes one user's email, roles and groups in place; only what changed is sent, and the hub's refusal is shown here. */
export function UserEditor({ user, groupsHint, onClose }: { user: User; groupsHint: string; onClose: () => void }) {
  const [values, setValues] = useState<UserFormValues>(() => formOf(user));
  const [errors, setErrors] = useState<UserFormErrors>({});
  const busy = useStore((state) => Boolean(state.pending[userPending(user.name)]));
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => formRef.current?.querySelector<HTMLElement>('input')?.focus(), []);
  const set = <F extends keyof UserFormValues>(field: F, value: UserFormValues[F]) => {
    setValues((current) => ({ ...current, [field]: value }));
    setErrors((current) => (current[field] || current.form ? { ...current, [field]: undefined, form: undefined } : current));
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const { changes, errors: found } = buildUserUpdate(user, values);
    setErrors(found);
    if (!changes) return;
    if (Object.keys(changes).length === 0) {
      onClose();
      return;
    }
    try {
      await changeUser(user.name, changes);
      onClose();
    } catch (error) {
      setErrors({ form: actionMessage(toWireError(error)) });
    }
  };

  return (
    <form
      ref={formRef}
      className="user-editor"
      onSubmit={(event) => void onSubmit(event)}
      onKeyDown={(event) => event.key === 'Escape' && onClose()}
      noValidate
      aria-label={`Edit ${user.name}`}
    >
      <div className="grid-2">
        <Field label="Email" hint="Leave empty to remove it." error={errors.email}>
          <input type="email" value={values.email} onChange={(event) => set('email', event.target.value)} autoComplete="off" />
        </Field>
        <Field label="Groups" hint={groupsHint} error={errors.groups}>
          <input value={values.groups} onChange={(event) => set('groups', event.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
      </div>
      <RolePicker value={values.roles} onChange={(roles) => set('roles', roles)} error={errors.roles} />
      {errors.form && (
        <p className="error-box" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
