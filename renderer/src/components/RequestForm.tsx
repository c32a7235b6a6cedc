import { useEffect, useRef, useState, type FormEvent } from 'react';
import { RISKS } from '../../../protocol/request.js';
import { buildNewRequest, emptyForm, offeredActions, offeredEnvironments, offeredResources, refusalErrors, type FormErrors, type RequestFormValues } from '../lib/request-form.js';
import { toWireError } from '../lib/errors.js';
import { submitRequest } from '../store/actions.js';
import { useStore } from '../store/store.js';
import { Field } from './Field.js';
import { offsetLabel } from '../lib/schedule.js';
import { PolicyPreview } from './PolicyPreview.js';

/** In the form's order, for the summary of what needs fixing. */
const FIELD_LABELS: Record<keyof RequestFormValues, string> = {
  action: 'Action',
  environment: 'Environment',
  resource: 'Resource',
  risk: 'Risk',
  reason: 'Reason',
  ttl: 'Access for',
  start: 'Start',
  summary: 'Summary',
  diff: 'Diff',
  logs: 'Log excerpt',
  links: 'Links',
};

/** A random key; `crypto.randomUUID` exists only on https and localhost, and the console may be served over http. */
function newAttemptKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** The new-request form: offers from the policy, validated with the contract's schema before sending. */
export function RequestForm() {
  const offers = useStore((state) => state.offers);
  const actions = offeredActions(offers);
  const [values, setValues] = useState<RequestFormValues>(() => ({ ...emptyForm, action: actions[0] ?? '' }));
  const [errors, setErrors] = useState<FormErrors>({});
  const [busy, setBusy] = useState(false);
  /** Break-glass: access now for an incident; asked a second time before it is sent. */
  const [glass, setGlass] = useState({ on: false, incident: '', confirming: false });
  const formRef = useRef<HTMLFormElement>(null);
  /**
   * The idempotency key of what is filled in now: a submission whose answer was lost is sent again
   * under it, and the hub hands back the request it made instead of making a second one. A new
   * key once it went through, or once anything is changed.
   */
  const attempt = useRef<string | null>(null);
  /** Bumped by each refused submit, so focus goes to the first field that needs attention. */
  const [refusals, setRefusals] = useState(0);
  useEffect(() => {
    if (refusals) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [refusals]);
  const environments = offeredEnvironments(offers, values.action);
  const resources = offeredResources(offers, values.action).filter((resource) => !/[*?[\]{}]/.test(resource));
  const set = (field: keyof RequestFormValues) => (event: { target: { value: string } }) => {
    attempt.current = null;
    setValues((current) => ({ ...current, [field]: event.target.value }));
    // An edited field's old message is stale; the next submit checks it again.
    setErrors((current) => (current[field] ? { ...current, [field]: undefined } : current));
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const { input, errors: found } = buildNewRequest(values);
    setErrors(found);
    if (!input) {
      setRefusals((count) => count + 1);
      return;
    }
    if (glass.on && !glass.incident.trim()) {
      setErrors({ form: 'Name the incident (e.g. INC-4412) to break the glass.' });
      return;
    }
    if (glass.on && !glass.confirming) {
      setGlass({ ...glass, confirming: true });
      return;
    }
    setBusy(true);
    const idempotencyKey = (attempt.current ??= newAttemptKey());
    try {
      await submitRequest({ ...input, idempotencyKey, ...(glass.on ? { breakGlass: { incident: glass.incident.trim() } } : {}) });
      attempt.current = null;
      setGlass({ on: false, incident: '', confirming: false });
      setValues({ ...emptyForm, action: values.action, environment: values.environment });
    } catch (error) {
      const refused = refusalErrors(toWireError(error));
      setErrors(refused);
      if (Object.keys(refused).some((field) => field !== 'form')) setRefusals((count) => count + 1);
    } finally {
      setBusy(false);
    }
  };

  const invalid = (Object.keys(FIELD_LABELS) as (keyof typeof FIELD_LABELS)[]).filter((field) => errors[field]).map((field) => FIELD_LABELS[field]);
  return (
    <form ref={formRef} className="card form" onSubmit={(event) => void onSubmit(event)} noValidate aria-labelledby="new-title">
      <h2 id="new-title">Ask for access</h2>
      <div className="grid-2">
        <Field label="Action" error={errors.action}>
          {actions.length > 0 ? (
            <select value={values.action} onChange={set('action')}>
              {actions.map((action) => (
                <option key={action}>{action}</option>
              ))}
            </select>
          ) : (
            <input value={values.action} onChange={set('action')} placeholder="deploy" />
          )}
        </Field>
        <Field label="Environment" error={errors.environment}>
          {environments.length > 0 ? (
            <select value={values.environment} onChange={set('environment')}>
              <option value="">Choose…</option>
              {environments.map((environment) => (
                <option key={environment}>{environment}</option>
              ))}
            </select>
          ) : (
            <input value={values.environment} onChange={set('environment')} placeholder="production" />
          )}
        </Field>
        <Field label="Resource" hint="What you act on, e.g. api-gateway or db/orders" error={errors.resource}>
          <input value={values.resource} onChange={set('resource')} list="offered-resources" autoComplete="off" />
        </Field>
        <Field label="Risk" error={errors.risk}>
          <select value={values.risk} onChange={set('risk')}>
            {RISKS.map((risk) => (
              <option key={risk}>{risk}</option>
            ))}
          </select>
        </Field>
      </div>
      <PolicyPreview action={values.action} resource={values.resource} environment={values.environment} risk={values.risk} />
      <datalist id="offered-resources">
        {resources.map((resource) => (
          <option key={resource} value={resource} />
        ))}
      </datalist>
      <Field label="Reason" hint="Approvers see this first." error={errors.reason}>
        <textarea rows={2} value={values.reason} onChange={set('reason')} />
      </Field>
      <div className="grid-2">
        <Field label="Start" hint={`Empty: when approved. Your local time (${offsetLabel(new Date())}).`} error={errors.start}>
          <input type="datetime-local" value={values.start} onChange={set('start')} />
        </Field>
        <Field label="Access for (optional)" hint="Counted from the start, e.g. 15m or 2h; the policy caps it." error={errors.ttl}>
          <input value={values.ttl} onChange={set('ttl')} inputMode="text" />
        </Field>
      </div>
      <Field label="Summary (optional)" error={errors.summary}>
        <textarea rows={2} value={values.summary} onChange={set('summary')} />
      </Field>
      <Field label="Diff (optional)" hint="A unified diff, as git diff prints it." error={errors.diff}>
        <textarea rows={5} className="mono" value={values.diff} onChange={set('diff')} spellCheck={false} />
      </Field>
      <Field label="Log excerpt (optional)" error={errors.logs}>
        <textarea rows={4} className="mono" value={values.logs} onChange={set('logs')} spellCheck={false} />
      </Field>
      <Field label="Links (optional)" hint="One a line: a title, a space, then the http(s) URL." error={errors.links}>
        <textarea rows={2} value={values.links} onChange={set('links')} spellCheck={false} />
      </Field>
      <label className="inline-field">
        <input type="checkbox" checked={glass.on} onChange={(event) => {
            attempt.current = null;
            setGlass({ on: event.target.checked, incident: glass.incident, confirming: false });
          }} /> Break-glass: I need
        access now for an incident
      </label>
      {glass.on && (
        <Field label="Incident" hint="Access is granted at once, for a short time; the rule's reviewers are told and review it afterwards.">
          <input
            value={glass.incident}
            onChange={(event) => {
              attempt.current = null;
              setGlass({ ...glass, incident: event.target.value, confirming: false });
            }}
            placeholder="INC-4412"
          />
        </Field>
      )}
      {glass.confirming && (
        <div role="alertdialog" aria-label="Confirm break-glass" className="error-box">
          <p>Break the glass for {glass.incident.trim()}? You get access now without an approval; every approver and reviewer is told at once, and your use is reviewed.</p>
          <button type="submit" className="danger" disabled={busy}>
            Yes, break the glass
          </button>{' '}
          <button type="button" onClick={() => setGlass({ ...glass, confirming: false })}>
            Not now
          </button>
        </div>
      )}
      {invalid.length > 0 && (
        <p className="error-box" role="alert">
          {invalid.length === 1 ? 'One field needs' : `${invalid.length} fields need`} attention: {invalid.join(', ')}.
        </p>
      )}
      {errors.form && (
        <p className="error-box" role="alert">
          {errors.form}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Submitting…' : glass.on ? 'Break the glass' : 'Submit request'}
      </button>
    </form>
  );
}
