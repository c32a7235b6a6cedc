import { useState, type Ref } from 'react';

/** Whom a decision or review goes in for: myself, or one of the people I stand in for as their delegate. */
export interface StandIn {
  /** The name the vote counts for; '' while a delegate of several has not chosen. */
  voter: string;
  /** What to send as `onBehalfOf`: the voter when it is not me. */
  onBehalfOf: string | undefined;
  candidates: string[];
  me: string | undefined;
  choose(name: string): void;
}

/**
 * `candidates` in the order decidesFor/reviewsFor give them (my own name first when I may act myself).
 * With one, it is the voter; with several, myself by default when I am one of them, else nobody yet.
 */
export function useStandIn(candidates: string[], me: string | undefined): StandIn {
  const [chosen, setChosen] = useState('');
  const asMyself = me !== undefined && candidates[0] === me;
  const voter = candidates.length > 1 ? chosen || (asMyself ? me : '') : (candidates[0] ?? '');
  return { voter, onBehalfOf: voter !== '' && voter !== me ? voter : undefined, candidates, me, choose: setChosen };
}

/** A choice of whom I act for when there are several; otherwise, as a delegate, a line saying for whom. */
export function StandInPicker(props: { standIn: StandIn; id: string; label: string; verb: string; testId: string; error?: string | null; selectRef?: Ref<HTMLSelectElement> }) {
  const { standIn, id, label, verb, testId, error, selectRef } = props;
  if (standIn.candidates.length <= 1) {
    return standIn.onBehalfOf ? (
      <p data-testid={testId}>
        You {verb} for <strong>{standIn.onBehalfOf}</strong>, as their delegate.
      </p>
    ) : null;
  }
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        ref={selectRef}
        value={standIn.voter}
        onChange={(event) => standIn.choose(event.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      >
        {standIn.candidates[0] !== standIn.me && (
          <option value="" disabled>
            Choose whom you stand in for
          </option>
        )}
        {standIn.candidates.map((name) => (
          <option key={name} value={name}>
            {name === standIn.me ? 'Myself' : `${name}, as their delegate`}
          </option>
        ))}
      </select>
      {error && (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}
