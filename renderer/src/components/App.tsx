import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useInbox } from '../hooks/use-requests.js';
import { useStore } from '../store/store.js';
import { Header } from './Header.js';
import { NoticeBar } from './NoticeBar.js';
import { SignInNote } from './SignInNote.js';
import { SignIn } from '../views/SignIn.js';
import { InboxView } from '../views/InboxView.js';
import { NewRequestView } from '../views/NewRequestView.js';
import { MyRequestsView } from '../views/MyRequestsView.js';
import { HistoryView } from '../views/HistoryView.js';
import { SettingsView } from '../views/SettingsView.js';
import { UsersView } from '../views/UsersView.js';

function useDocumentTitle(count: number): void {
  useEffect(() => {
    document.title = count > 0 ? `(${count}) Greenlight` : 'Greenlight';
  }, [count]);
}

export function App() {
  const { phase, view, isAdmin } = useStore(
    useShallow((state) => ({ phase: state.phase, view: state.view, isAdmin: state.me?.roles.includes('admin') ?? false })),
  );
  const inbox = useInbox();
  useDocumentTitle(phase === 'ready' ? inbox.length : 0);

  if (phase === 'starting') {
    return (
      <main className="center" aria-busy="true">
        <p className="muted">Connecting…</p>
      </main>
    );
  }
  if (phase !== 'ready') return <SignIn />;
  return (
    <div className="app">
      <Header inboxCount={inbox.length} />
      <SignInNote />
      <NoticeBar />
      <main className="content" id="main">
        {view === 'inbox' && <InboxView />}
        {view === 'new' && <NewRequestView />}
        {view === 'mine' && <MyRequestsView />}
        {view === 'history' && (isAdmin ? <HistoryView /> : <InboxView />)}
        {view === 'users' && (isAdmin ? <UsersView /> : <InboxView />)}
        {view === 'settings' && <SettingsView />}
      </main>
    </div>
  );
}
