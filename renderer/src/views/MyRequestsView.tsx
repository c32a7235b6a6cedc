import { useMine } from '../hooks/use-requests.js';
import { showView } from '../store/actions.js';
import { MyRequestCard } from '../components/MyRequestCard.js';

export function MyRequestsView() {
  const mine = useMine();
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
