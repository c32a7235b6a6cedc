import { useEffect } from 'react';
import { useMine } from '../hooks/use-requests.js';
import { useStore } from '../store/store.js';
import { showView } from '../store/actions.js';
import { MyRequestCard } from '../components/MyRequestCard.js';

export function MyRequestsView() {
  const mine = useMine();
  // Opened on one request (a notification about its grant): bring its card into view.
  const selectedId = useStore((state) => state.selectedId);
  const shown = mine.some((request) => request.id === selectedId);
  useEffect(() => {
    if (selectedId && shown) document.querySelector(`[data-request-id="${CSS.escape(selectedId)}"]`)?.scrollIntoView({ block: 'center' });
  }, [selectedId, shown]);
  return (
    <div className="narrow">
      <div className="section-head">
        <h2>My requests</h2>
        <button type="button" className="primary" onClick={() => showView('new')}>
          New request
        </button>
      </div>
      {mine.length === 0 ? (
        <p className="empty muted">You have no open or recent requests.</p>
      ) : (
        <ul className="plain">
          {mine.map((request) => (
            <li key={request.id}>
              <MyRequestCard request={request} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
