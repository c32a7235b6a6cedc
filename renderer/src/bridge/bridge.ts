import type { AuditPage } from '../../../protocol/audit.js';
import type { PolicyExplanation } from '../../../protocol/policy-explain.js';
import type { Delegation, NewDelegation } from '../../../protocol/delegation.js';
import type { DesktopSettings, DesktopSettingsUpdate } from '../../../protocol/desktop-api.js';
import type { WireError } from '../../../protocol/errors.js';
import type { EscalatedPayload, GrantExpiringPayload, RemindedPayload, SyncResult } from '../../../protocol/events.js';
import type { ConnectionState } from '../../../protocol/hub-client.js';
import type { DecideInput, ExtendInput, GreenlightRequest, NewRequest, ReviewRef } from '../../../protocol/request.js';
import type { DecisionReport } from '../../../protocol/report.js';
import type { ClusterStatus, SetupStatus } from '../../../protocol/setup.js';
import type { MyChannels } from '../../../protocol/notifications.js';
import type { CreatedUser, NewUser, User, UserUpdate } from '../../../protocol/user.js';
import type { CreatedToken, NewToken, TokenInfo } from '../../../protocol/token.js';

export type BridgeState = ConnectionState | 'signed-out';

export type BridgeEvent =
  /** `signOutNote`: the desktop's main process says, with every state, why the last sign-out did not fully end the session (null: nothing to say); the web never sends it. */
  /** `signInNote`: signed in, with what main says is left to do by hand (a keychain entry of the hub left behind). */
  | { type: 'state'; state: BridgeState; error: WireError | null; signOutNote?: string | null; signInNote?: string }
  | { type: 'sync'; result: SyncResult }
  | { type: 'request:created'; request: GreenlightRequest }
  | { type: 'request:updated'; request: GreenlightRequest }
  | { type: 'request:escalated'; payload: EscalatedPayload }
  | { type: 'request:reminded'; payload: RemindedPayload }
  | { type: 'grant:expiring'; payload: GrantExpiringPayload }
  | { type: 'cluster:status'; cluster: ClusterStatus }
  | { type: 'open-request'; requestId: string; view?: 'inbox' | 'mine' }
  | { type: 'settings'; settings: DesktopSettings };

/**
 * What a start finds: signed in with what the host remembered (synced), or not; then `signOutNote` is
 * what the desktop's main process still has to say about the last sign-out (the web never has one).
 */
export type Resumed = { signedIn: true; result: SyncResult } | { signedIn: false; signOutNote: string | null };

/**
 * How an export ended. The desktop app saved it where the person chose and counted its events; the
 * browser was handed the file to download (it tells of its own progress); or the person cancelled.
 */
export type ExportResult = { outcome: 'saved'; path: string; events: number } | { outcome: 'downloading'; filename: string } | { outcome: 'cancelled' };

/**
 * Everything the UI needs from its host. The web console implements it with HubClient and
 * fetch; the desktop app with the preload's `window.greenlight`. Calls reject with a
 * GreenlightError whose code says what went wrong.
 */
export interface Bridge {
  readonly host: 'web' | 'desktop';
  /** The hub URL to prefill on the sign-in form. */
  defaultHubUrl(): string;
  /** Signs in with what the host remembered, if anything; a window reloaded after a sign-out gets its note again. */
  resume(): Promise<Resumed>;
  signIn(hubUrl: string, token: string): Promise<SyncResult>;
  /** Single sign-on through the system browser: only the desktop app (the console's is a link to the hub). */
  readonly supportsBrowserSignIn: boolean;
  signInWithBrowser(hubUrl: string): Promise<SyncResult>;
  /** Ends a sign-in waiting for the browser: its call rejects with CANCELLED. Nothing to do where none can wait. */
  cancelSignInWithBrowser(): Promise<void>;
  /** Resolves what the person should know about the sign-out (the hub could not end its session), or null. */
  signOut(): Promise<string | null>;
  /** The person has read the sign-out note: the host forgets it too, so a reloaded window does not show it again. */
  dismissSignOutNote(): Promise<void>;
  subscribe(listener: (event: BridgeEvent) => void): () => void;
  sync(): Promise<SyncResult>;
  submit(input: NewRequest): Promise<GreenlightRequest>;
  decide(input: DecideInput): Promise<GreenlightRequest>;
  /** `reason` is required of an admin cancelling someone else's request. */
  cancel(requestId: string, reason?: string): Promise<GreenlightRequest>;
  review(input: ReviewRef): Promise<GreenlightRequest>;
  claim(requestId: string): Promise<GreenlightRequest>;
  release(requestId: string): Promise<GreenlightRequest>;
  get(requestId: string): Promise<GreenlightRequest>;
  revokeGrant(jti: string): Promise<GreenlightRequest | null>;
  /** More time after the grant ends: resolves the extension request (approved at once, or pending). */
  extendGrant(jti: string, input: ExtendInput): Promise<GreenlightRequest>;
  /** `query` is a URL query string without the leading `?`. */
  audit(query: string): Promise<AuditPage>;
  /** Saves the matching events as a file, streamed: however long the history, it is never one string in the page. */
  exportAudit(query: string, format: 'csv' | 'jsonl'): Promise<ExportResult>;
  /** Time to decision per rule; `query` carries `from` and `to`. */
  decisionReport(query: string): Promise<DecisionReport>;
  /** What the policy would do with a request before it is made; `query` carries action, resource, environment, risk. */
  explainPolicy(query: string): Promise<PolicyExplanation>;
  openExternal(url: string): Promise<void>;
  /** Admins: people, their roles and groups, and what a new hub still needs. */
  listUsers(): Promise<User[]>;
  /** "While I'm away": delegations from or to me, and making or ending one. */
  listDelegations(): Promise<Delegation[]>;
  createDelegation(input: NewDelegation): Promise<Delegation>;
  endDelegation(id: string): Promise<Delegation>;
  createUser(input: NewUser): Promise<CreatedUser>;
  updateUser(name: string, changes: UserUpdate): Promise<User>;
  disableUser(name: string): Promise<User>;
  enableUser(name: string): Promise<User>;
  setupStatus(): Promise<SetupStatus>;
  /** The signed-in person's named, scoped tokens (Settings → Tokens). */
  listTokens(): Promise<TokenInfo[]>;
  createToken(input: NewToken): Promise<CreatedToken>;
  revokeToken(id: string): Promise<TokenInfo>;
  /** Which channels bring the signed-in user the requests they may decide (the Settings view). */
  myChannels(): Promise<MyChannels>;
  /** Only the desktop app keeps settings of its own (notifications, pause, launch at login). */
  readonly supportsDesktopSettings: boolean;
  getSettings(): Promise<DesktopSettings>;
  updateSettings(input: DesktopSettingsUpdate): Promise<DesktopSettings>;
}
