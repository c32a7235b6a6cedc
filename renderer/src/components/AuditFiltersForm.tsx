import type { FormEvent } from 'react';
import type { AuditFilters } from '../lib/audit-query.js';

/** Outcomes the hub writes (a refused sign-in is `refused`; nothing is written as `failed`). */
const OUTCOMES = ['', 'pending', 'approved', 'denied', 'cancelled', 'expired', 'escalated', 'issued', 'redeemed', 'revoked', 'break_glass', 'ratified', 'unratified', 'refused'];

interface Props {
  value: AuditFilters;
  onChange: (value: AuditFilters) => void;
  onSubmit: (event: FormEvent) => void;
  onReset: () => void;
}

export function AuditFiltersForm({ value, onChange, onSubmit, onReset }: Props) {
  const bind = (key: keyof AuditFilters) => ({
    value: value[key],
    onChange: (event: { target: { value: string } }) => onChange({ ...value, [key]: event.target.value }),
  });
  return (
    <form className="filters" onSubmit={onSubmit} role="search" aria-label="Filter the audit log">
      <label className="field">
        <span>Search</span>
        <input type="search" placeholder="Any text" {...bind('q')} />
      </label>
      <label className="field">
        <span>From</span>
        <input type="datetime-local" {...bind('from')} />
      </label>
      <label className="field">
        <span>To</span>
        <input type="datetime-local" {...bind('to')} />
      </label>
      <label className="field">
        <span>Actor</span>
        <input {...bind('actor')} />
      </label>
      <label className="field">
        <span>Action</span>
        <input {...bind('action')} />
      </label>
      <label className="field">
        <span>Resource</span>
        <input {...bind('resource')} />
      </label>
      <label className="field">
        <span>Outcome</span>
        <select {...bind('outcome')}>
          {OUTCOMES.map((outcome) => (
            <option key={outcome} value={outcome}>
              {outcome || 'Any'}
            </option>
          ))}
        </select>
      </label>
      <div className="actions filter-actions">
        <button type="submit" className="primary">
          Apply filters
        </button>
        <button type="button" onClick={onReset}>
          Clear
        </button>
      </div>
    </form>
  );
}
