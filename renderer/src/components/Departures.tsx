import { useStore } from '../store/store.js';

/** Requests someone else just decided, shown for a few seconds as they leave the inbox. */
export function Departures() {
  const departed = useStore((state) => state.requests.departed);
  const entries = Object.values(departed);
  return (
    <ul className="departures" aria-live="polite" aria-label="Just decided elsewhere">
      {entries.map(({ request, note }) => (
        <li key={request.id} className={`departure status-${request.status}`}>
          <span>
            {request.action} <span className="mono">{request.resource}</span>
          </span>{' '}
          <strong>{note}</strong>
        </li>
      ))}
    </ul>
  );
}
