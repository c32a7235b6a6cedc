import { create } from 'zustand';
import type { DesktopSettings } from '../../../protocol/desktop-api.js';
import type { WireError } from '../../../protocol/errors.js';
import type { PolicyOffer } from '../../../protocol/policy.js';
import type { SetupStatus } from '../../../protocol/setup.js';
import type { User } from '../../../protocol/user.js';
import type { BridgeState } from '../bridge/bridge.js';
import { emptyRequests, type RequestsData } from './requests-model.js';

/** `waiting-for-browser`: the desktop app's single sign-on, which the person may cancel or replace by another sign-in. */
export type Phase = 'starting' | 'signed-out' | 'signing-in' | 'waiting-for-browser' | 'ready';
export type View = 'inbox' | 'new' | 'mine' | 'history' | 'users' | 'settings';

export interface ConnectionSlice {
  phase: Phase;
  state: BridgeState;
  /** Why the live connection is down, from the hub or the network. */
  error: WireError | null;
  signInError: WireError | null;
  /** The hub ended a live session (the account was disabled, or its token stopped working). */
  sessionEnded: boolean;
  /** What the person should know about the sign-out just done (the hub could not end its session), shown on the sign-in page. */
  signOutNote: string | null;
  /** Signed in, with something left to do by hand (a keychain entry of the hub left behind), shown in the app until dismissed. */
  signInNote: string | null;
  me: User | null;
  offers: PolicyOffer[];
  /** Hub clock minus ours, so countdowns match the hub's deadlines. */
  clockOffsetMs: number;
}

export interface RequestsSlice {
  requests: RequestsData;
}

export interface SettingsSlice {
  /** The desktop app's settings; null until read, and always in the web console, which has none. */
  settings: DesktopSettings | null;
}

/** Admins only: everyone who can sign in, and what the hub still needs; null until read. */
export interface AdminSlice {
  users: User[] | null;
  setup: SetupStatus | null;
}

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export interface UiSlice {
  view: View;
  selectedId: string | null;
  /** A request opened from a link ("Open in Greenlight"): `note` says why it can't be shown, null while it is fetched. */
  link: { id: string; note: string | null } | null;
  /** The request the new-request form just submitted, to follow its status. */
  submittedId: string | null;
  notice: Notice | null;
  pending: Record<string, boolean>;
}

export type StoreState = ConnectionSlice & RequestsSlice & SettingsSlice & AdminSlice & UiSlice;

export const initialState: StoreState = {
  phase: 'starting',
  state: 'signed-out',
  error: null,
  signInError: null,
  sessionEnded: false,
  signOutNote: null,
  signInNote: null,
  me: null,
  offers: [],
  clockOffsetMs: 0,
  requests: emptyRequests,
  settings: null,
  users: null,
  setup: null,
  view: 'inbox',
  selectedId: null,
  link: null,
  submittedId: null,
  notice: null,
  pending: {},
};

/** One store; the slices are plain fields and every change goes through actions.ts. */
export const useStore = create<StoreState>()(() => initialState);
