import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { Delegation } from '../../../protocol/delegation.js';
import { toWireError } from '../lib/errors.js';
import { getBridge } from '../store/actions.js';

/** The last day picked in the form means through that day, here: until the next local midnight. */
const endOfDay = (day: string): string => {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(year ?? 0, (month ?? 1) - 1, (date ?? 1) + 1).toISOString();
};

/** Settings, "While I'm away": hand my approvals to one person until a date, see and end my delegations. */
export function AwaySection({ me }: { me: string }) {
  const titleId = useId();
  const [delegations, setDelegations] = useState<Delegation[] | null>(null);
  const [to, setTo] = useState('');
  const [until, setUntil] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const reload = useCallback(async () => {
    try {
      setDelegations(await getBridge().listDelegations());
    } catch (failure) {
      setError(toWireError(failure).message);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);

  const act = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      await reload();
      return true;
    } catch (failure) {
      setError(toWireError(failure).message);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!to.trim() || !until || !reason.trim()) {
      setError('Name who decides for you, the last day you are away, and why.');
      return;
    }
    if (await act(() => getBridge().createDelegation({ to: to.trim(), endsAt: endOfDay(until), reason: reason.trim() }))) {
      setTo('');
      setReason('');
    }
  };

  const mine = (delegations ?? []).filter((d) => d.from === me && (d.active || (!d.endedAt && Date.parse(d.endsAt) > Date.now())));
  const forMe = (delegations ?? []).filter((d) => d.to === me && d.active);
  return (
    <section className="card away" aria-labelledby={titleId}>
      <h3 id={titleId}>While I’m away</h3>
      <p className="muted">Someone you name decides on your behalf until the day you pick (at most 30 days ahead). Both names go on record.</p>
      <ul className="delegations" aria-label="My delegations">
        {mine.map((d) => (
          <li key={d.id} data-testid="delegation">
            {d.to} decides for you until {new Date(d.endsAt).toLocaleString()} — {d.reason} {d.active ? '(now)' : '(not yet)'}{' '}
            <button type="button" onClick={() => void act(() => getBridge().endDelegation(d.id))} disabled={busy}>
              End now
            </button>
          </li>
        ))}
        {forMe.map((d) => (
          <li key={d.id} data-testid="delegation-to-me">
            You decide for {d.from} until {new Date(d.endsAt).toLocaleString()}.
          </li>
        ))}
      </ul>
      <form className="form" onSubmit={(event) => void onSubmit(event)} noValidate>
        <div className="grid-2">
          <label>
            Who decides for me
            <input value={to} onChange={(event) => setTo(event.target.value)} autoComplete="off" />
          </label>
          <label>
            Last day away
            <input type="date" value={until} onChange={(event) => setUntil(event.target.value)} />
          </label>
        </div>
        <label>
          Why
          <input value={reason} onChange={(event) => setReason(event.target.value)} placeholder="holiday" />
        </label>
        {error && (
          <p className="error-box" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Delegate my approvals
        </button>
      </form>
    </section>
  );
}
