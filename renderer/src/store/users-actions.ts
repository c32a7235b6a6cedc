import type { CreatedUser, NewUser, User, UserUpdate } from '../../../protocol/user.js';
import { actionMessage, loadMessage, toWireError } from '../lib/errors.js';
import { getBridge, notify } from './actions.js';
import { readSetup } from './cluster-status.js';
import { useStore } from './store.js';

/** The Users view and the admin's setup guide: read and change people through the bridge. */

export const userPending = (name: string) => `user:${name}`;

function setBusy(key: string, busy: boolean): void {
  useStore.setState((state) => {
    const { [key]: _was, ...rest } = state.pending;
    return { pending: busy ? { ...rest, [key]: true } : rest };
  });
}

/** Replaces one user in the list (or adds them), keeping the list's order by name. */
function putUser(user: User): void {
  useStore.setState((state) => {
    const others = (state.users ?? []).filter((known) => known.id !== user.id);
    return { users: [...others, user].sort((a, b) => a.name.localeCompare(b.name)) };
  });
}

export async function loadUsers(): Promise<void> {
  try {
    const users = await getBridge().listUsers();
    useStore.setState({ users });
  } catch (error) {
    notify('error', `Could not load users: ${loadMessage(toWireError(error))}`);
  }
}

/** What the hub still needs; a failure leaves the guide out rather than showing a wrong one. */
export async function loadSetup(): Promise<void> {
  try {
    const setup = await readSetup(getBridge());
    useStore.setState({ setup });
  } catch {
    useStore.setState({ setup: null });
  }
}

/** Creates a user; resolves with their one-time token, or throws the hub's error for the form to show. */
export async function addUser(input: NewUser): Promise<CreatedUser> {
  const created = await getBridge().createUser(input);
  const { token: _token, ...user } = created;
  putUser(user);
  void loadSetup();
  return created;
}

/** Changes a user; resolves with them as they are now, or throws the hub's error for the editor to show. */
export async function changeUser(name: string, changes: UserUpdate): Promise<User> {
  setBusy(userPending(name), true);
  try {
    const user = await getBridge().updateUser(name, changes);
    putUser(user);
    void loadSetup();
    return user;
  } finally {
    setBusy(userPending(name), false);
  }
}

export async function setUserEnabled(name: string, enabled: boolean): Promise<void> {
  setBusy(userPending(name), true);
  try {
    const user = enabled ? await getBridge().enableUser(name) : await getBridge().disableUser(name);
    putUser(user);
    notify('info', enabled ? `${name} can sign in again.` : `${name} is disabled: their token stopped working.`);
    void loadSetup();
  } catch (error) {
    notify('error', actionMessage(toWireError(error)));
  } finally {
    setBusy(userPending(name), false);
  }
}
