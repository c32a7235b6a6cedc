import { useShallow } from 'zustand/react/shallow';
import { onlyRequests, showView, signOut } from '../store/actions.js';
import { useStore, type View } from '../store/store.js';
import { ConnectionPill } from './ConnectionPill.js';
import { useOverflowEdges } from '../hooks/use-overflow-edges.js';

const TABS: { view: View; label: string; adminOnly?: boolean; approversOnly?: boolean }[] = [
  // Only someone who may decide has anything waiting on them: a requester gets no always-empty inbox.
  { view: 'inbox', label: 'Inbox', approversOnly: true },
  { view: 'new', label: 'New request' },
  { view: 'mine', label: 'My requests' },
  { view: 'history', label: 'History', adminOnly: true },
  { view: 'users', label: 'Users', adminOnly: true },
  // Both hosts show where requests reach the user and their tokens; only the desktop app has settings of its own besides.
  { view: 'settings', label: 'Settings' },
];

export function Header({ inboxCount }: { inboxCount: number }) {
  const { view, me } = useStore(useShallow((state) => ({ view: state.view, me: state.me })));
  const isAdmin = me?.roles.includes('admin') ?? false;
  const decides = me ? !onlyRequests(me) : false;
  const tabsRef = useOverflowEdges<HTMLElement>(view);
  return (
    <header className="header">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        Greenlight
      </div>
      <nav aria-label="Main" className="tabs" ref={tabsRef}>
        {TABS.filter((tab) => (!tab.adminOnly || isAdmin) && (!tab.approversOnly || decides)).map((tab) => (
          <button
            key={tab.view}
            type="button"
            className="tab"
            aria-current={view === tab.view ? 'page' : undefined}
            onClick={() => showView(tab.view)}
          >
            {tab.label}
            {tab.view === 'inbox' && inboxCount > 0 && (
              <span className="count" aria-label={`${inboxCount} waiting`}>
                {inboxCount}
              </span>
            )}
          </button>
        ))}
      </nav>
      <div className="who">
        <ConnectionPill />
        <span className="user" title={me ? `groups: ${me.groups.join(', ') || 'none'}` : undefined}>
          {me?.name}
        </span>
        <button type="button" className="link-button" onClick={() => void signOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}
