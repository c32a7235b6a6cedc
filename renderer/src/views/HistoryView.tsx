import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { AuditEventRead } from '../../../protocol/audit.js';
import { auditQuery, emptyFilters, type AuditFilters } from '../lib/audit-query.js';
import { toWireError } from '../lib/errors.js';
import { getBridge, notify } from '../store/actions.js';
import { exportMessage } from '../lib/export-message.js';
import { AuditFiltersForm } from '../components/AuditFiltersForm.js';
import { AuditTable } from '../components/AuditTable.js';
import { DecisionTimesPanel } from '../components/DecisionTimesPanel.js';

const PAGE_SIZES = [25, 50, 100, 200];

function rangeProblem(filters: AuditFilters): string | null {
  const from = filters.from ? Date.parse(filters.from) : Number.NaN;
  const to = filters.to ? Date.parse(filters.to) : Number.NaN;
  return from > to ? '“From” is after “To”: nothing could match. Swap them, or clear one.' : null;
}

/** Admins browse, search and export the audit log. */
export function HistoryView() {
  const [draft, setDraft] = useState<AuditFilters>(emptyFilters);
  const [applied, setApplied] = useState<AuditFilters>(emptyFilters);
  /** Cursors of the pages before the current one; the last is the current page's own cursor. */
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [events, setEvents] = useState<AuditEventRead[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'ready' | 'error'>('loading');
  const [error, setError] = useState('');
  const [pageSize, setPageSize] = useState(50);
  const cursor = cursors[cursors.length - 1] ?? null;

  const load = useCallback(async () => {
    setState('loading');
    try {
      const page = await getBridge().audit(auditQuery(applied, { limit: pageSize, cursor }));
      setEvents(page.events);
      setNextCursor(page.nextCursor);
      setState('ready');
    } catch (err) {
      setError(toWireError(err).message);
      setState('error');
    }
  }, [applied, cursor, pageSize]);

  useEffect(() => {
    void load();
  }, [load]);

  const [rangeError, setRangeError] = useState<string | null>(null);
  /** Applies what the form says; refuses a time range that ends before it starts. */
  const applyDraft = (): AuditFilters | null => {
    const problem = rangeProblem(draft);
    setRangeError(problem);
    if (problem) return null;
    // A fresh object, so applying the same filters again reads the log again (new events show up).
    setApplied({ ...draft });
    setCursors([null]);
    return draft;
  };
  const onApply = (event: FormEvent) => {
    event.preventDefault();
    applyDraft();
  };
  // Exports what the form says, applying it first, so a filter typed but not yet applied is not silently left out.
  const onExport = async (format: 'csv' | 'jsonl') => {
    const filters = applyDraft();
    if (!filters) return;
    try {
      const result = await getBridge().exportAudit(auditQuery(filters, { limit: 1000 }), format);
      const said = exportMessage(result);
      if (said) notify('info', said);
    } catch (err) {
      notify('error', `Export failed: ${toWireError(err).message}`);
    }
  };

  return (
    <div className="history">
      <div className="section-head">
        <h2>History</h2>
        <div className="actions">
          <button type="button" onClick={() => void onExport('csv')}>
            Export CSV
          </button>
          <button type="button" onClick={() => void onExport('jsonl')}>
            Export JSONL
          </button>
        </div>
      </div>
      <DecisionTimesPanel />
      <h3>Audit log</h3>
      <AuditFiltersForm value={draft} onChange={setDraft} onSubmit={onApply} onReset={() => { setDraft(emptyFilters); setApplied(emptyFilters); setCursors([null]); setRangeError(null); }} />
      {rangeError && (
        <p className="error-box" role="alert">
          {rangeError}
        </p>
      )}
      <div aria-live="polite" aria-busy={state === 'loading'}>
        {state === 'error' && (
          <p className="error-box" role="alert">
            Could not load the audit log: {error}
          </p>
        )}
        {state !== 'error' && <AuditTable events={events} loading={state === 'loading'} />}
      </div>
      <nav className="pager" aria-label="Audit pages">
        <button type="button" disabled={cursors.length <= 1 || state === 'loading'} onClick={() => setCursors((list) => list.slice(0, -1))}>
          ← Newer
        </button>
        <span className="muted small">Page {cursors.length}</span>
        <label className="inline-field small">
          Rows per page{' '}
          <select
            value={pageSize}
            onChange={(event) => {
              setPageSize(Number(event.target.value));
              setCursors([null]);
            }}
          >
            {PAGE_SIZES.map((size) => (
              <option key={size}>{size}</option>
            ))}
          </select>
        </label>
        {/* Not while a page loads: a second click would push the same cursor again and number the pages wrong. */}
        <button type="button" disabled={!nextCursor || state === 'loading'} onClick={() => nextCursor && setCursors((list) => (list.includes(nextCursor) ? list : [...list, nextCursor]))}>
          Older →
        </button>
      </nav>
    </div>
  );
}
