import type { AuditPage } from '../../../protocol/audit.js';
import type { PolicyExplanation } from '../../../protocol/policy-explain.js';
import type { Delegation, NewDelegation } from '../../../protocol/delegation.js';
import { GreenlightError } from '../../../protocol/errors.js';
import type { SyncResult } from '../../../protocol/events.js';
import { HubClient } from '../../../protocol/hub-client.js';
import { HubHttp } from '../../../protocol/hub-http.js';
import type { ExtendInput, GreenlightRequest, ReviewRef } from '../../../protocol/request.js';
import type { DecisionReport } from '../../../protocol/report.js';
import type { SetupStatus } from '../../../protocol/setup.js';
import type { MyChannels } from '../../../protocol/notifications.js';
import type { CreatedToken, NewToken, TokenInfo } from '../../../protocol/token.js';
import type { CreatedUser, NewUser, User, UserUpdate } from '../../../protocol/user.js';
import type { Bridge, BridgeEvent, ExportResult, Resumed } from './bridge.js';
import { downloadBlob } from '../lib/download.js';
import { takeLinkToken } from './link-token.js';

const HUB_KEY = 'greenlight.hubUrl';
const TOKEN_KEY = 'greenlight.token';

/** The web console's bridge: HubClient for live state, fetch for the HTTP-only endpoints. */
export class WebBridge implements Bridge {
  readonly host = 'web' as const;
  private client: HubClient | null = null;
  private session: { hubUrl: string; token: string } | null = null;
  private readonly listeners = new Set<(event: BridgeEvent) => void>();
  private readonly http = new HubHttp({ fetch: (url, init) => fetch(url, init), session: () => this.signedIn() });
  private detach: (() => void)[] = [];

  /** `network` says when the browser's network comes back (`online`): the page's window (none outside a browser). */
  constructor(
    private readonly storage: Storage = window.sessionStorage,
    private readonly network: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | null = typeof window === 'undefined' ? null : window,
  ) {}

  defaultHubUrl(): string {
    return this.storage.getItem(HUB_KEY) ?? window.location.origin;
  }

  async resume(): Promise<Resumed> {
    // A sign-in link signs in to the hub that serves this page, whoever was signed in before.
    const linkToken = takeLinkToken(window.location, window.history);
    if (linkToken) return { signedIn: true, result: await this.signIn(window.location.origin, linkToken) };
    const hubUrl = this.storage.getItem(HUB_KEY);
    const token = this.storage.getItem(TOKEN_KEY);
    if (!hubUrl || !token) return { signedIn: false, signOutNote: null };
    try {
      return { signedIn: true, result: await this.signIn(hubUrl, token) };
    } catch (error) {
      if (error instanceof GreenlightError && error.code === 'UNAUTHENTICATED') this.storage.removeItem(TOKEN_KEY);
      throw error;
    }
  }

  async signIn(hubUrl: string, token: string): Promise<SyncResult> {
    this.disconnect();
    const url = new URL(hubUrl).origin;
    const client = new HubClient({ url, token, reconnectionDelayMs: 300, reconnectionDelayMaxMs: 3_000 });
    this.client = client;
    this.session = { hubUrl: url, token };
    this.detach = [
      client.onState((state) => this.emit({ type: 'state', state, error: client.error?.toWire() ?? null })),
      client.onSync((result) => this.emit({ type: 'sync', result })),
      client.on('request:created', (request) => this.emit({ type: 'request:created', request })),
      client.on('request:updated', (request) => this.emit({ type: 'request:updated', request })),
      client.on('request:escalated', (payload) => this.emit({ type: 'request:escalated', payload })),
      client.on('request:reminded', (payload) => this.emit({ type: 'request:reminded', payload })),
      client.on('grant:expiring', (payload) => this.emit({ type: 'grant:expiring', payload })),
      client.on('cluster:status', (cluster) => this.emit({ type: 'cluster:status', cluster })),
    ];
    // Back from offline (or a laptop's sleep), the old connection may be dead unnoticed, or the
    // client waiting out a retry delay: reconnect at once.
    const reconnectNow = () => client.reconnectNow();
    const network = this.network;
    network?.addEventListener('online', reconnectNow);
    this.detach.push(() => network?.removeEventListener('online', reconnectNow));
    client.connect();
    try {
      const result = await client.waitUntilReady(10_000);
      this.storage.setItem(HUB_KEY, url);
      this.storage.setItem(TOKEN_KEY, token);
      return result;
    } catch (error) {
      this.disconnect();
      throw error;
    }
  }

  readonly supportsBrowserSignIn = false;

  signInWithBrowser(): Promise<SyncResult> {
    return Promise.reject(new GreenlightError('FORBIDDEN', 'The web console signs in with the identity provider through the "Sign in with …" link.'));
  }

  /** The console's single sign-on is a page of the hub's, so nothing here ever waits for a browser. */
  async cancelSignInWithBrowser(): Promise<void> {}

  async signOut(): Promise<null> {
    this.disconnect();
    this.storage.removeItem(TOKEN_KEY);
    this.emit({ type: 'state', state: 'signed-out', error: null });
    return null;
  }

  /** The console's sign-out has nothing to add, so it never has a note to forget. */
  async dismissSignOutNote(): Promise<void> {}

  subscribe(listener: (event: BridgeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  sync = () => this.hub().sync();
  submit: Bridge['submit'] = (input) => this.hub().submit(input);
  decide: Bridge['decide'] = (input) => this.hub().decide(input);
  cancel = (requestId: string, reason?: string) => this.hub().cancel(requestId, reason);
  review = (input: ReviewRef) => this.hub().review(input);
  claim = (requestId: string) => this.hub().claim(requestId);
  release = (requestId: string) => this.hub().release(requestId);
  get = (requestId: string) => this.hub().get(requestId);

  revokeGrant = (jti: string): Promise<GreenlightRequest> => this.http.revokeGrant(jti);
  audit = (query: string): Promise<AuditPage> => this.http.audit(query);
  decisionReport = (query: string): Promise<DecisionReport> => this.http.decisionReport(query);
  listUsers = (): Promise<User[]> => this.http.listUsers();
  createUser = (input: NewUser): Promise<CreatedUser> => this.http.createUser(input);
  updateUser = (name: string, changes: UserUpdate): Promise<User> => this.http.updateUser(name, changes);
  disableUser = (name: string): Promise<User> => this.http.disableUser(name);
  enableUser = (name: string): Promise<User> => this.http.enableUser(name);
  setupStatus = (): Promise<SetupStatus> => this.http.setupStatus();
  myChannels = (): Promise<MyChannels> => this.http.myChannels();
  explainPolicy = (query: string): Promise<PolicyExplanation> => this.http.explainPolicy(query);
  listDelegations = (): Promise<Delegation[]> => this.http.listDelegations();
  createDelegation = (input: NewDelegation): Promise<Delegation> => this.http.createDelegation(input);
  endDelegation = (id: string): Promise<Delegation> => this.http.endDelegation(id);
  listTokens = (): Promise<TokenInfo[]> => this.http.listTokens();
  createToken = (input: NewToken): Promise<CreatedToken> => this.http.createToken(input);
  revokeToken = (id: string): Promise<TokenInfo> => this.http.revokeToken(id);
  extendGrant = (jti: string, input: ExtendInput): Promise<GreenlightRequest> => this.http.extendGrant(jti, input);

  /**
   * The body is read as a Blob, which the browser keeps (on disk when large), never as one string, and
   * its bytes are saved as sent, the CSV's byte order mark included. A plain link would skip even that
   * copy, but the console signs its calls with a bearer token, which does not belong in a URL.
   */
  async exportAudit(query: string, format: 'csv' | 'jsonl'): Promise<ExportResult> {
    const { filename, response } = await this.http.exportAudit(query, format);
    downloadBlob(filename, await response.blob());
    return { outcome: 'downloading', filename };
  }

  async openExternal(url: string): Promise<void> {
    window.open(url, '_blank', 'noopener,noreferrer');
  }

  readonly supportsDesktopSettings = false;
  getSettings: Bridge['getSettings'] = () => Promise.reject(desktopOnly());
  updateSettings: Bridge['updateSettings'] = () => Promise.reject(desktopOnly());

  private emit(event: BridgeEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private hub(): HubClient {
    if (!this.client) throw new GreenlightError('UNAUTHENTICATED', 'Not signed in.');
    return this.client;
  }

  private signedIn(): { hubUrl: string; token: string } {
    if (!this.session) throw new GreenlightError('UNAUTHENTICATED', 'Not signed in.');
    return this.session;
  }

  private disconnect(): void {
    for (const off of this.detach) off();
    this.detach = [];
    this.client?.close();
    this.client = null;
    this.session = null;
  }
}

/** Notifications, their pause and launch at login belong to the desktop app, which the browser cannot reach. */
export function desktopOnly(): GreenlightError {
  return new GreenlightError('UNAVAILABLE', 'Desktop settings are not available in the web console: change them in the Greenlight desktop app.');
}
