import { lazy, Suspense, useEffect, useId, useState } from 'react';
import type { DecisionReport } from '../../../protocol/report.js';
import { toWireError } from '../lib/errors.js';
import { formatSeconds, formatShare, REPORT_RANGES, reportQuery } from '../lib/report.js';
import { getBridge } from '../store/actions.js';
import { useStore } from '../store/store.js';

// The charting library loads with History, in its own file, so people who never open it don't download it.
const DecisionTimesChart = lazy(() => import('./DecisionTimesChart.js').then((module) => ({ default: module.DecisionTimesChart })));

type Load = { state: 'loading' } | { state: 'ready'; report: DecisionReport } | { state: 'error'; message: string };

/** History's "Time to decision": per rule, how long people take to decide, and how often requests escalate, expire or pass by policy. */
export function DecisionTimesPanel() {
  const [days, setDays] = useState(30);
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const offset = useStore((state) => state.clockOffsetMs);
  const titleId = useId();

  useEffect(() => {
    let current = true;
    setLoad({ state: 'loading' });
    getBridge()
      .decisionReport(reportQuery(days, Date.now() + offset))
      .then((report) => current && setLoad({ state: 'ready', report }))
      .catch((error: unknown) => current && setLoad({ state: 'error', message: toWireError(error).message }));
    return () => {
      current = false;
    };
  }, [days, offset]);

  const rules = load.state === 'ready' ? load.report.rules : [];
  const timed = rules.filter((rule) => rule.decided > 0);
  return (
    <section className="report card" aria-labelledby={titleId} aria-busy={load.state === 'loading'}>
      <div className="section-head">
        <h3 id={titleId}>Time to decision</h3>
        <label className="inline-field small">
          Submitted in{' '}
          <select value={days} onChange={(event) => setDays(Number(event.target.value))}>
            {REPORT_RANGES.map((range) => (
              <option key={range.days} value={range.days}>
                {range.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {load.state === 'error' && (
        <p className="error-box" role="alert">
          Could not load the report: {load.message}
        </p>
      )}
      {load.state === 'ready' && rules.length === 0 && <p className="muted">No requests were submitted in this range.</p>}
      {rules.length > 0 && (
        <div className="report-body">
          {timed.length > 0 ? (
            <Suspense fallback={<div className="report-chart" aria-busy="true" />}>
              <DecisionTimesChart rules={timed} />
            </Suspense>
          ) : (
            <p className="muted">No request in this range was decided by a person yet.</p>
          )}
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Time to decision per rule">
            <table className="audit report-table">
              <caption className="visually-hidden">Time to decision per rule, from submission to a person's approval or denial</caption>
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col">Submitted</th>
                  <th scope="col">Decided</th>
                  <th scope="col">Median</th>
                  <th scope="col">95th pct</th>
                  <th scope="col">Escalated</th>
                  <th scope="col">Expired</th>
                  <th scope="col">Auto-approved</th>
                </tr>
              </thead>
              <tbody>
                {rules.map((rule) => (
                  <tr key={rule.rule} data-rule={rule.rule}>
                    <th scope="row" className="mono">
                      {rule.rule}
                    </th>
                    <td>{rule.submitted}</td>
                    <td>{rule.decided}</td>
                    <td>{formatSeconds(rule.medianSeconds)}</td>
                    <td>{formatSeconds(rule.p95Seconds)}</td>
                    <td>{formatShare(rule.escalatedShare)}</td>
                    <td>{formatShare(rule.expiredShare)}</td>
                    <td>{formatShare(rule.autoApprovedShare)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
      <p className="small muted report-note">
        From submission to the approval or denial a person made. Shares are of every request submitted under the rule.
      </p>
    </section>
  );
}
