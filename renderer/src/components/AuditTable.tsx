import type { AuditEventRead } from '../../../protocol/audit.js';
import { describeData } from '../lib/audit-query.js';
import { formatTime } from '../lib/time.js';

export function AuditTable({ events, loading }: { events: AuditEventRead[]; loading: boolean }) {
  if (!loading && events.length === 0) return <p className="empty muted">No audit events match these filters.</p>;
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Audit events">
      <table className="audit">
        <caption className="visually-hidden">Audit events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Event</th>
            <th scope="col">Resource</th>
            <th scope="col">Outcome</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.seq} data-seq={event.seq}>
              <td className="nowrap small">
                <time dateTime={event.at}>{formatTime(event.at)}</time>
              </td>
              <td>{event.actor}</td>
              <td className="mono small">{event.type}</td>
              <td>
                {event.action && <span>{event.action} </span>}
                {event.resource && <span className="mono">{event.resource}</span>}
                {event.environment && <span className="muted"> · {event.environment}</span>}
              </td>
              <td>{event.outcome ?? ''}</td>
              <td className="small muted">{describeData(event.data)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
