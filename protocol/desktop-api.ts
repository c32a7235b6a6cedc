import type { Ack, EscalatedPayload, GrantExpiringPayload, RemindedPayload, SyncResult } from './events.js';
import type { ConnectionState } from './hub-client.js';
import type { AuditPage } from './audit.js';
import type { PolicyExplanation } from './policy-explain.js';
import type { Delegation, NewDelegation } from './delegation.js';
import type { DecisionReport } from './report.js';
import type { DecideInput, ExtendInput, GreenlightRequest, NewRequest, ReviewRef } from './request.js';
import type { WireError } from './errors.js';
import type { CreatedUser, NewUser, User, UserUpdate } from './user.js';
import type { ClusterStatus, SetupStatus } from './setup.js';
import type { CreatedToken, NewToken, TokenInfo } from './token.js';
import type { MyChannels } from './notifications.js';

/**
 * What the desktop app's preload exposes to the renderer as `window.greenlight`.
 * The renderer's Electron bridge is written against this interface and the preload is checked
 * against it with `satisfies`, so the two cannot drift apart. Every call resolves to an Ack
 * (Electron's IPC loses an Error's code on the way).
 */
export interface DesktopApi {
  getSession(): Promise<Ack<DesktopSession>>;
  signIn(input: { hubUrl: string; token: string }): Promise<Ack<DesktopSession>>;
  /** Single sign-on through the system browser; the session token goes to the keychain like a pasted one. */
  signInWithBrowser(input: { hubUrl: string }): Promise<Ack<DesktopSession>>;
  /**
   * Ends the sign-in waiting for the browser: its listener closes and its call resolves `CANCELLED`.
   * Resolves once it has ended; true if one was waiting.
   */
  cancelSignInWithBrowser(): Promise<Ack<boolean>>;
  /**
   * Signs out here, at once. A single sign-on session is then also ended at the hub (a pasted token never
   * is: it may be in use elsewhere); when the hub cannot be reached for that, a later `state` event's
   * session carries a `signOutNote` saying so. The session resolved carries one only when this computer
   * could not forget the token (its keychain refused).
   */
  signOut(): Promise<Ack<DesktopSession>>;
  /** The person has read the session's `signOutNote`: main forgets it, so no window shows it again. Resolves the session without it. */
  dismissSignOutNote(): Promise<Ack<DesktopSession>>;
  sync(): Promise<Ack<SyncResult>>;
  submit(input: NewRequest): Promise<Ack<GreenlightRequest>>;
  decide(input: DecideInput): Promise<Ack<GreenlightRequest>>;
  cancel(input: { requestId: string; reason?: string }): Promise<Ack<GreenlightRequest>>;
  review(input: ReviewRef): Promise<Ack<GreenlightRequest>>;
  claim(input: { requestId: string }): Promise<Ack<GreenlightRequest>>;
  release(input: { requestId: string }): Promise<Ack<GreenlightRequest>>;
  get(input: { requestId: string }): Promise<Ack<GreenlightRequest>>;
  revokeGrant(input: { jti: string }): Promise<Ack<GreenlightRequest>>;
  /** Asks for more time after a grant ends; resolves the extension request. */
  extendGrant(input: { jti: string } & ExtendInput): Promise<Ack<GreenlightRequest>>;
  audit(input: { query: string }): Promise<Ack<AuditPage>>;
  /**
   * Main asks where to save (offering the hub's file name) and streams the export into that file; the
   * content never crosses to the renderer, which only learns where it went, or that the person cancelled.
   */
  exportAudit(input: { query: string; format: 'csv' | 'jsonl' }): Promise<Ack<AuditExportOutcome>>;
  /** `query` is the report endpoint's query string (from, to). */
  decisionReport(input: { query: string }): Promise<Ack<DecisionReport>>;
  /** `query` is the policy explain endpoint's query string (action, resource, environment, risk). */
  explainPolicy(input: { query: string }): Promise<Ack<PolicyExplanation>>;
  openExternal(input: { url: string }): Promise<Ack<boolean>>;
  /** Admins manage people; the created user's token comes back once, to be shown and copied. */
  listUsers(): Promise<Ack<User[]>>;
  /** "While I'm away": my delegations, and making or ending one. */
  listDelegations(): Promise<Ack<Delegation[]>>;
  createDelegation(input: NewDelegation): Promise<Ack<Delegation>>;
  endDelegation(input: { id: string }): Promise<Ack<Delegation>>;
  createUser(input: NewUser): Promise<Ack<CreatedUser>>;
  updateUser(input: { name: string; changes: UserUpdate }): Promise<Ack<User>>;
  disableUser(input: { name: string }): Promise<Ack<User>>;
  enableUser(input: { name: string }): Promise<Ack<User>>;
  setupStatus(): Promise<Ack<SetupStatus>>;
  /** The signed-in person's own tokens; a new one comes back once, to be shown and copied. */
  listTokens(): Promise<Ack<TokenInfo[]>>;
  createToken(input: NewToken): Promise<Ack<CreatedToken>>;
  revokeToken(input: { id: string }): Promise<Ack<TokenInfo>>;
  /** Which channels (the app, email, …) bring the signed-in user the requests they may decide. */
  myChannels(): Promise<Ack<MyChannels>>;
  getSettings(): Promise<Ack<DesktopSettings>>;
  /** Changes only the fields given; resolves the settings as they are afterwards. */
  updateSettings(input: DesktopSettingsUpdate): Promise<Ack<DesktopSettings>>;
  /** Subscribes to pushes from the main process; returns the unsubscribe function. */
  onEvent(listener: (event: DesktopEvent) => void): () => void;
}

/** How a desktop export ended: saved whole (the file, and how many events it holds), or cancelled in the save dialog. */
export type AuditExportOutcome = { outcome: 'saved'; path: string; events: number } | { outcome: 'cancelled' };

export interface DesktopSession {
  hubUrl: string | null;
  signedIn: boolean;
  state: ConnectionState | 'signed-out';
  /** Signed out: why the last sign-in failed, or why the launch could not sign in with the saved one (the keychain locked, the entry gone). */
  error: WireError | null;
  /**
   * Why the last sign-out did not fully end the session (the keychain kept its token still, or the hub
   * could not be reached to end it; then the app does not sign in with it at the next launch), or that it
   * followed the hub ending the session, in the hub's words.
   * Only a sign-out sets it; the next sign-in that succeeds, the next sign-out, or the person dismissing
   * it clears it. Main keeps it, in the settings too, so a window reloaded meanwhile, or the app started
   * again after a quit, shows it.
   */
  signOutNote?: string;
  /**
   * Signed in, with something left for the person to do by hand: the keychain kept the new sign-in but
   * could not remove the saved sign-in of the hub signed in to before. Not a failure: the sign-in stands.
   * Held until the next sign-in or sign-out.
   */
  signInNote?: string;
}

/** The desktop app's own settings, as the renderer sees and changes them. */
export interface DesktopSettings {
  /** The hub signed in to last; changed by signing in, not here. */
  hubUrl: string | null;
  notificationsEnabled: boolean;
  /** ISO time a pause of notifications ends, or null when not paused (an ended pause reads as null). */
  pausedUntil: string | null;
  launchAtLogin: boolean;
}

export type DesktopSettingsUpdate = Partial<Pick<DesktopSettings, 'notificationsEnabled' | 'pausedUntil' | 'launchAtLogin'>>;

export type DesktopEvent =
  | { type: 'state'; session: DesktopSession }
  | { type: 'sync'; result: SyncResult }
  | { type: 'request:created'; request: GreenlightRequest }
  | { type: 'request:updated'; request: GreenlightRequest }
  | { type: 'request:escalated'; payload: EscalatedPayload }
  /** The request still waits on me: the rule's `remind` came round. */
  | { type: 'request:reminded'; payload: RemindedPayload }
  /** My unused grant ends soon. */
  | { type: 'grant:expiring'; payload: GrantExpiringPayload }
  /** Admins: the hub's standing with the other hubs on its database changed (a policy or clock warning appeared or cleared). */
  | { type: 'cluster:status'; cluster: ClusterStatus }
  /** A notification or the tray asked to show this request. */
  /** Shows a request: in the inbox (to decide), or among My requests (its grant, its extension). */
  | { type: 'open-request'; requestId: string; view?: 'inbox' | 'mine' }
  /** The settings changed, here or from the tray menu (pause, resume). */
  | { type: 'settings'; settings: DesktopSettings };
