import { Fragment } from 'react';
import type { User } from '../../../protocol/user.js';
import { useNow } from '../hooks/use-now.js';
import { formatTime, relativeTo } from '../lib/time.js';
import { setUserEnabled, userPending } from '../store/users-actions.js';
import { useStore } from '../store/store.js';
import { ConfirmButton } from './ConfirmButton.js';
import { UserEditor } from './UserEditor.js';

/** The hub records use at most once a minute, so anything closer than that is "just now". */
function lastSeenText(iso: string | null, now: number): string {
  if (!iso) return 'never';
  return now - Date.parse(iso) < 60_000 ? 'just now' : relativeTo(iso, now);
}

export function UsersTable({ users, me, editing, onEdit, groupsHint }: {
  users: User[];
  me: string;
  editing: string | null;
  onEdit: (name: string | null) => void;
  groupsHint: string;
}) {
  const now = useNow();
  const pending = useStore((state) => state.pending);
  return (
    <div className="table-scroll" role="region" aria-label="Users" tabIndex={0}>
      <table className="audit users-table">
        <caption className="visually-hidden">Users, by name</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Roles</th>
            <th scope="col">Groups</th>
            <th scope="col">Email</th>
            <th scope="col">Status</th>
            <th scope="col">Last seen</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => {
            const busy = Boolean(pending[userPending(user.name)]);
            const self = user.name === me;
            return (
              <Fragment key={user.id}>
                <tr data-user={user.name} data-status={user.status}>
                  <th scope="row">
                    {user.name}
                    {self && <span className="muted small"> (you)</span>}
                  </th>
                  <td>{user.roles.join(', ')}</td>
                  <td>{user.groups.join(', ') || <span className="muted">none</span>}</td>
                  <td>{user.email ?? <span className="muted">—</span>}</td>
                  <td>
                    <span className={`badge status-${user.status}`}>{user.status}</span>
                  </td>
                  <td className="nowrap small">
                    {user.lastSeenAt ? (
                      <time dateTime={user.lastSeenAt} title={formatTime(user.lastSeenAt)}>
                        {lastSeenText(user.lastSeenAt, now)}
                      </time>
                    ) : (
                      <span className="muted">never</span>
                    )}
                  </td>
                  <td className="user-actions">
                    <div>
                      <button type="button" aria-expanded={editing === user.name} aria-label={`Edit ${user.name}`} onClick={() => onEdit(editing === user.name ? null : user.name)}>
                        Edit
                      </button>
                      {user.status === 'disabled' ? (
                        <ConfirmButton
                          label={`Enable ${user.name}`}
                          question={`Let ${user.name} back in? Their existing token works again.`}
                          confirmLabel="Yes, enable"
                          disabled={busy}
                          onConfirm={() => void setUserEnabled(user.name, true)}
                        />
                      ) : (
                        // Nobody disables themselves here (the hub refuses it too): another admin does.
                        !self && (
                          <ConfirmButton
                            label={`Disable ${user.name}`}
                            question={`Disable ${user.name}? Their token stops working and their open sessions end.`}
                            confirmLabel="Yes, disable"
                            className="danger"
                            disabled={busy}
                            onConfirm={() => void setUserEnabled(user.name, false)}
                          />
                        )
                      )}
                    </div>
                  </td>
                </tr>
                {editing === user.name && (
                  <tr className="editing">
                    <td colSpan={7}>
                      <UserEditor user={user} groupsHint={groupsHint} onClose={() => onEdit(null)} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
