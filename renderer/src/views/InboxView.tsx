import { useShallow } from 'zustand/react/shallow';
import { useInbox, useRequest } from '../hooks/use-requests.js';
import { useShortcuts } from '../hooks/use-shortcuts.js';
import { moveSelection, selectRequest } from '../store/actions.js';
import { useStore } from '../store/store.js';
import { InboxList } from '../components/InboxList.js';
import { Departures } from '../components/Departures.js';
import { RequestDetail } from '../components/RequestDetail.js';
import { EmptyDetail } from '../components/EmptyDetail.js';

export function InboxView() {
  const inbox = useInbox();
  const { selectedId, link } = useStore(useShallow((state) => ({ selectedId: state.selectedId, link: state.link })));
  const selected = useRequest(selectedId);
  useShortcuts({ j: () => moveSelection(1), k: () => moveSelection(-1), Escape: () => selectRequest(null) });

  return (
    <div className="inbox" data-has-selection={selected ? 'true' : 'false'}>
      <section className="inbox-list" aria-labelledby="inbox-title">
        <div className="section-head">
          <h2 id="inbox-title">Waiting on you</h2>
          <span className="muted" data-testid="inbox-count">
            {inbox.length}
          </span>
        </div>
        <Departures />
        {inbox.length === 0 ? (
          <p className="empty muted">Nothing waits on you. New requests appear here as they arrive.</p>
        ) : (
          <InboxList requests={inbox} selectedId={selectedId} />
        )}
        <p className="shortcuts muted">
          <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>a</kbd> approve · <kbd>d</kbd> deny · <kbd>c</kbd> claim
        </p>
      </section>
      <section className="inbox-detail" aria-label="Request detail">
        {selected ? (
          <RequestDetail request={selected} onBack={() => selectRequest(null)} />
        ) : link && !link.note && link.id === selectedId ? (
          <p className="muted" aria-busy="true">
            Opening the request from the link…
          </p>
        ) : (
          <>
            {link?.note && (
              <p className="error-box" role="alert" data-testid="link-note">
                {link.note}
              </p>
            )}
            <EmptyDetail inbox={inbox} />
          </>
        )}
      </section>
    </div>
  );
}
