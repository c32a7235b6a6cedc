import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { CreatedUser } from '../../../protocol/user.js';
import { toWireError } from '../lib/errors.js';
import { buildNewUser, emptyUserForm, type UserFormErrors, type UserFormValues } from '../lib/user-form.js';
import { addUser } from '../store/users-actions.js';
import { Field } from './Field.js';
import { RolePicker } from './RolePicker.js';

/** Name, email, roles and groups for a new user; checked with the contract's schema before it is sent. */
export function AddUserForm({ groupsHint, onCreated, onCancel }: { groupsHint: string; onCreated: (user: CreatedUser) => void; onCancel: () => void }) {
  const [values, setValues] = useState<UserFormValues>(emptyUserForm);
  const [errors, setErrors] = useState<UserFormErrors>({});
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const [refusals, setRefusals] = useState(0);
  useEffect(() => {
    const form = formRef.current;
    const invalid = refusals ? form?.querySelector<HTMLElement>('[aria-invalid="true"]') : null;
    // The roles are a fieldset: its first checkbox takes the focus.
    (invalid?.matches('fieldset') ? invalid.querySelector<HTMLElement>('input') : (invalid ?? form?.querySelector<HTMLElement>('input')))?.focus();
  }, [refusals]);
  const set = <F extends keyof UserFormValues>(field: F, value: UserFormValues[F]) => {
    setValues((current) => ({ ...current, [field]: value }));
    setErrors((current) => (current[field] ? { ...current, [field]: undefined } : current));
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const { input, errors: found } = buildNewUser(values);
    setErrors(found);
    if (!input) {
      setRefusals((count) => count + 1);
      return;
    }
    setBusy(true);
    try {
      onCreated(await addUser(input));
    } catch (error) {
      const wire = toWireError(error);
      setErrors(wire.code === 'CONFLICT' ? { name: wire.message } : { form: wire.message });
      setRefusals((count) => count + 1);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form ref={formRef} className="card form add-user" onSubmit={(event) => void onSubmit(event)} noValidate aria-labelledby="add-user-title">
      <h3 id="add-user-title">Add a user</h3>
      <div className="grid-2">
        <Field label="Name" hint="What they sign in as and appear as in the audit log, e.g. alice." error={errors.name}>
          <input value={values.name} onChange={(event) => set('name', event.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
        <Field label="Email (optional)" error={errors.email}>
          <input type="email" value={values.email} onChange={(event) => set('email', event.target.value)} autoComplete="off" />
        </Field>
      </div>
      <RolePicker value={values.roles} onChange={(roles) => set('roles', roles)} error={errors.roles} />
      <Field label="Groups (optional)" hint={groupsHint} error={errors.groups}>
        <input value={values.groups} onChange={(event) => set('groups', event.target.value)} autoComplete="off" spellCheck={false} />
      </Field>
      {errors.form && (
        <p className="error-box" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add user'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
