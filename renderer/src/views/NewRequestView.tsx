import { useRequest } from '../hooks/use-requests.js';
import { clearSubmitted, showView } from '../store/actions.js';
import { useStore } from '../store/store.js';
import { RequestForm } from '../components/RequestForm.js';
import { MyRequestCard } from '../components/MyRequestCard.js';

export function NewRequestView() {
  const submittedId = useStore((state) => state.submittedId);
  const submitted = useRequest(submittedId);
  if (submitted) {
    return (
      <div className="narrow">
        <h2>Request submitted</h2>
        <p className="muted">Its status updates here live.</p>
        <MyRequestCard request={submitted} />
        <div className="actions">
          <button type="button" onClick={clearSubmitted}>
            Ask for something else
          </button>
          <button type="button" className="link-button" onClick={() => showView('mine')}>
            All my requests
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className="narrow">
      <RequestForm />
    </div>
  );
}
