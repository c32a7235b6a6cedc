import { useEffect, useId, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { CreatedUser } from '../../../protocol/user.js';
import { matchesFilter } from '../lib/user-form.js';
import { loadSetup, loadUsers } from '../store/users-actions.js';
import { useStore } from '../store/store.js';
import { AddUserForm } from '../components/AddUserForm.js';
import { NewUserToken } from '../components/NewUserToken.js';
import { UsersTable } from '../components/UsersTable.js';

/** Admins add people, change their roles, groups and email, and disable or re-enable them. */
export function UsersView() {
  const { users, setup, me } = useStore(useShallow((state) => ({ users: state.users, setup: state.setup, me: state.me?.name ?? '' })));
  const [filter, setFilter] = useState('');
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<CreatedUser | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const filterId = useId();
  useEffect(() => {
    void loadUsers();
    void loadSetup();
  }, []);

  const policyGroups = setup?.approverGroups.map((group) => group.group) ?? [];
  const groupsHint = `Separate with commas or spaces.${policyGroups.length ? ` The policy asks these groups to approve: ${policyGroups.join(', ')}.` : ''}`;
  const shown = (users ?? []).filter((user) => matchesFilter(user, filter));

  return (
    <div className="users">
      <div className="section-head">
        <h2>Users</h2>
        {!adding && !created && (
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            Add user
          </button>
        )}
      </div>
      {created ? (
        <NewUserToken
          user={created}
          onDone={() => setCreated(null)}
          onAnother={() => {
            setCreated(null);
            setAdding(true);
          }}
        />
      ) : (
        adding && (
          <AddUserForm
            groupsHint={groupsHint}
            onCancel={() => setAdding(false)}
            onCreated={(user) => {
              setAdding(false);
              setCreated(user);
            }}
          />
        )
      )}
      <div className="users-filter" role="search" aria-label="Filter users">
        <label htmlFor={filterId}>Filter</label>
        <input id={filterId} type="search" value={filter} onChange={(event) => setFilter(event.target.value)} placeholder="name, group or role" autoComplete="off" />
        <span className="muted small" aria-live="polite">
          {users ? `${shown.length} of ${users.length}` : ''}
        </span>
      </div>
      {users === null ? (
        <p className="muted" aria-busy="true">
          Loading users…
        </p>
      ) : shown.length === 0 ? (
        <p className="empty muted">No user matches “{filter.trim()}”.</p>
      ) : (
        <UsersTable users={shown} me={me} editing={editing} onEdit={setEditing} groupsHint={groupsHint} />
      )}
    </div>
  );
}
