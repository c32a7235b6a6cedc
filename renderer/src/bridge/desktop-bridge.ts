import type { Ack, SyncResult } from '../../../protocol/events.js';
import type { ReviewRef } from '../../../protocol/request.js';
import type { DesktopApi, DesktopEvent } from '../../../protocol/desktop-api.js';
import { GreenlightError, type WireError } from '../../../protocol/errors.js';
import type { NewToken } from '../../../protocol/token.js';
import { STILL_SIGNED_IN } from '../lib/errors.js';
import type { Bridge, BridgeEvent, ExportResult, Resumed } from './bridge.js';

/** The main process's error as it sent it, whether anything answered (and whether anything left) included. */
const errorOf = (wire: WireError) => new GreenlightError(wire.code, wire.message, { noAnswer: wire.noAnswer === true, neverSent: wire.neverSent === true });

function unwrap<T>(ack: Ack<T>): T {
  if ('error' in ack) throw errorOf(ack.error);
  return ack.data;
}

const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

function toBridgeEvent(event: DesktopEvent): BridgeEvent {
  if (event.type === 'state') {
    const { state, error, signOutNote, signInNote } = event.session;
    return { type: 'state', state, error, signOutNote: signOutNote ?? null, ...(signInNote ? { signInNote } : {}) };
  }
  return event;
}

/**
 * The desktop app's bridge: the main process owns the hub connection and the token, so the
 * renderer only forwards calls through the preload's `window.greenlight`.
 */
export class DesktopBridge implements Bridge {
  readonly host = 'desktop' as const;
  private hubUrl = '';

  constructor(private readonly api: DesktopApi) {}

  defaultHubUrl(): string {
    return this.hubUrl;
  }

  async resume(): Promise<Resumed> {
    const session = unwrap(await this.api.getSession());
    this.hubUrl = session.hubUrl ?? '';
    if (!session.signedIn) {
      // Main keeps the note of the last sign-out until it is dismissed: a reloaded window shows it again.
      if (session.signOutNote) return { signedIn: false, signOutNote: session.signOutNote };
      // Signed out without one: the launch could not sign in with what it saved (a locked keychain), or a sign-in failed, as main says.
      if (session.error) throw errorOf(session.error);
      return { signedIn: false, signOutNote: null };
    }
    // The main process already knows the hub refused the saved token, or cannot be reached: say so at
    // once, in its words, rather than after a sync has waited out its timeout. Still signed in, the
    // app opens by itself once the hub answers (its sync arrives as an event).
    if (session.state === 'unauthorized') throw new GreenlightError(session.error?.code ?? 'UNAUTHENTICATED', session.error?.message ?? 'The hub refused the saved sign-in. Sign in again.');
    if (session.state === 'unreachable' || session.state === 'reconnecting') {
      // Nothing answered, unless the hub did and said why (its database is away): then that is the news.
      const noAnswer = !session.error || session.error.noAnswer === true;
      throw new GreenlightError('UNAVAILABLE', `${sentence(session.error?.message ?? 'Cannot reach the hub')} ${STILL_SIGNED_IN}`, { noAnswer });
    }
    return { signedIn: true, result: unwrap(await this.api.sync()) };
  }

  async signIn(hubUrl: string, token: string): Promise<SyncResult> {
    const session = unwrap(await this.api.signIn({ hubUrl, token }));
    this.hubUrl = session.hubUrl ?? hubUrl;
    if (session.error) throw errorOf(session.error);
    return unwrap(await this.api.sync());
  }

  readonly supportsBrowserSignIn = true;

  async signInWithBrowser(hubUrl: string): Promise<SyncResult> {
    const session = unwrap(await this.api.signInWithBrowser({ hubUrl }));
    this.hubUrl = session.hubUrl ?? hubUrl;
    if (session.error) throw errorOf(session.error);
    return unwrap(await this.api.sync());
  }

  async cancelSignInWithBrowser(): Promise<void> {
    unwrap(await this.api.cancelSignInWithBrowser());
  }

  async signOut(): Promise<string | null> {
    return unwrap(await this.api.signOut()).signOutNote ?? null;
  }

  async dismissSignOutNote(): Promise<void> {
    unwrap(await this.api.dismissSignOutNote());
  }

  subscribe(listener: (event: BridgeEvent) => void): () => void {
    return this.api.onEvent((event) => listener(toBridgeEvent(event)));
  }

  sync = async () => unwrap(await this.api.sync());
  submit: Bridge['submit'] = async (input) => unwrap(await this.api.submit(input));
  decide: Bridge['decide'] = async (input) => unwrap(await this.api.decide(input));
  review = async (input: ReviewRef) => unwrap(await this.api.review(input));
  cancel = async (requestId: string, reason?: string) => unwrap(await this.api.cancel({ requestId, ...(reason ? { reason } : {}) }));
  claim = async (requestId: string) => unwrap(await this.api.claim({ requestId }));
  release = async (requestId: string) => unwrap(await this.api.release({ requestId }));
  get = async (requestId: string) => unwrap(await this.api.get({ requestId }));
  revokeGrant = async (jti: string) => unwrap(await this.api.revokeGrant({ jti }));
  extendGrant: Bridge['extendGrant'] = async (jti, input) => unwrap(await this.api.extendGrant({ jti, ...input }));
  audit = async (query: string) => unwrap(await this.api.audit({ query }));
  decisionReport = async (query: string) => unwrap(await this.api.decisionReport({ query }));
  explainPolicy = async (query: string) => unwrap(await this.api.explainPolicy({ query }));

  /** Main asks where to save and writes the file itself; only where it went comes back. */
  exportAudit = async (query: string, format: 'csv' | 'jsonl'): Promise<ExportResult> => unwrap(await this.api.exportAudit({ query, format }));

  listUsers = async () => unwrap(await this.api.listUsers());
  listDelegations = async () => unwrap(await this.api.listDelegations());
  createDelegation: Bridge['createDelegation'] = async (input) => unwrap(await this.api.createDelegation(input));
  endDelegation = async (id: string) => unwrap(await this.api.endDelegation({ id }));
  createUser: Bridge['createUser'] = async (input) => unwrap(await this.api.createUser(input));
  updateUser: Bridge['updateUser'] = async (name, changes) => unwrap(await this.api.updateUser({ name, changes }));
  disableUser = async (name: string) => unwrap(await this.api.disableUser({ name }));
  enableUser = async (name: string) => unwrap(await this.api.enableUser({ name }));
  setupStatus = async () => unwrap(await this.api.setupStatus());
  listTokens = async () => unwrap(await this.api.listTokens());
  createToken = async (input: NewToken) => unwrap(await this.api.createToken(input));
  revokeToken = async (id: string) => unwrap(await this.api.revokeToken({ id }));
  myChannels = async () => unwrap(await this.api.myChannels());

  async openExternal(url: string): Promise<void> {
    unwrap(await this.api.openExternal({ url }));
  }

  readonly supportsDesktopSettings = true;
  getSettings = async () => unwrap(await this.api.getSettings());
  updateSettings: Bridge['updateSettings'] = async (input) => unwrap(await this.api.updateSettings(input));
}
