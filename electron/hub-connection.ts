import { GreenlightError } from '../protocol/errors.js';
import type { DesktopEvent, DesktopSession } from '../protocol/desktop-api.js';
import type { SyncResult } from '../protocol/events.js';
import type { HubClient, HubClientOptions } from '../protocol/hub-client.js';
import type { GreenlightRequest } from '../protocol/request.js';
import { compareUrgency } from '../protocol/urgency.js';
import type { CredentialKind, Keychain } from './keychain.js';
import type { Me } from './me.js';
import { waitsOnMe } from '../protocol/waits-on-me.js';
import type { Settings } from './settings.js';
import { insecureHubProblem } from './hub-url.js';
import { whenCancelled } from './cancellation.js';
import { endReplacedSession, endSessionAtSignOut } from './revoke-session.js';
import { ssoSessionsReplaced, type HeldCredentials } from './replaced-sessions.js';
import { HubErrands } from './hub-errands.js';
import { SignInKeychainChanges } from './sign-in-keychain-changes.js';

export interface HubClientLike
  extends Pick<HubClient, 'close' | 'reconnectNow' | 'onState' | 'onSync' | 'on' | 'waitUntilReady' | 'state' | 'error' | 'submit' | 'decide' | 'cancel' | 'review' | 'claim' | 'release' | 'get' | 'sync'> {
  // Restated: the original returns the class itself.
  connect(): unknown;
}

export interface HubConnectionDeps {
  createClient: (options: HubClientOptions) => HubClientLike;
  keychain: Keychain;
  settings: Pick<Settings, 'get' | 'set'>;
  connectTimeoutMs?: number;
  /** The HTTP that ends a single sign-on session at sign-out; the global fetch unless given. */
  fetch?: typeof fetch;
  /** Where sessions are ended at the hub with nobody waiting on it; a new set unless given. */
  errands?: HubErrands;
}

export interface SignInOptions {
  /** Credentials handed over at launch may run for this session when no keychain can keep them. */
  keychain?: 'required' | 'if-available';
  /**
   * Ends the sign-in with `CANCELLED` at any step until it returns: the connection it opened is closed
   * and the token it stored is taken out of the keychain again, so nothing of it stays.
   */
  signal?: AbortSignal;
  /** How the token came: a single sign-on session is ended at the hub at sign-out, a pasted token never. `pasted` unless given. */
  kind?: CredentialKind;
}

const signInCancelled = () => new GreenlightError('CANCELLED', 'Sign-in was cancelled.');

/**
 * The main process's one connection to the hub. It owns the token and the HubClient, so
 * notifications and the tray keep working with the window closed; everything else subscribes.
 */
export class HubConnection {
  private client: HubClientLike | null = null;
  private credentials: HeldCredentials | null = null;
  private unsubscribe: (() => void)[] = [];
  private lastError: GreenlightError | null = null;
  private currentMe: Me | null = null;
  private readonly pending = new Map<string, GreenlightRequest>();
  /** The highest version seen per request, so a late, older event can't resurrect a decided request. */
  private readonly versions = new Map<string, number>();
  private readonly listeners = new Set<(event: DesktopEvent) => void>();
  /** Counts sign-outs and sign-ins that succeeded: a sign-out's note stays until the next of either. */
  private sessionTurns = 0;
  /** Why the last sign-out did not fully end the session (kept in the keychain still, or not ended at the hub). */
  private signOutNote: string | null = null;
  /** Sessions being ended at the hub after sign-out, or after a sign-in over them, with nobody waiting. */
  readonly errands: HubErrands;

  constructor(private readonly deps: HubConnectionDeps) {
    this.errands = deps.errands ?? new HubErrands();
  }

  get session(): DesktopSession {
    return {
      hubUrl: this.credentials?.hubUrl ?? this.deps.settings.get('hubUrl'),
      signedIn: this.client !== null,
      state: this.client ? this.client.state : 'signed-out',
      error: (this.lastError ?? this.client?.error)?.toWire() ?? null,
      ...(this.signOutNote ? { signOutNote: this.signOutNote } : {}),
    };
  }

  get me(): Me | null {
    return this.currentMe;
  }

  /** Pending requests that wait on me, most urgent first. */
  get inbox(): GreenlightRequest[] {
    return [...this.pending.values()].sort(compareUrgency);
  }

  get auth(): { hubUrl: string; token: string } {
    if (!this.credentials) throw new GreenlightError('UNAUTHENTICATED', 'Sign in to a hub first.');
    return this.credentials;
  }

  /** Whether main is signed in with `token` now: a sign-in that failed late may still have left it so. */
  holds(token: string): boolean {
    return this.client !== null && this.credentials?.token === token;
  }

  hub(): HubClientLike {
    if (!this.client) throw new GreenlightError('UNAUTHENTICATED', 'Sign in to a hub first.');
    return this.client;
  }

  subscribe(listener: (event: DesktopEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** At launch: reconnect with the hub URL from settings and the token from the keychain, if both exist. */
  async restore(): Promise<DesktopSession> {
    const hubUrl = this.deps.settings.get('hubUrl');
    if (!hubUrl) return this.session;
    try {
      const stored = await this.deps.keychain.read(hubUrl);
      if (stored) this.open(hubUrl, stored.token, stored.kind);
    } catch (error) {
      this.fail(error);
    }
    return this.session;
  }

  /**
   * Fails with the keychain's own error (`UNAVAILABLE` where there is none) unless the keychain answers a
   * read: a sign-in asks before anything of it starts, so it does not get a session it could not keep.
   */
  async ensureKeychain(hubUrl: string): Promise<void> {
    try {
      await this.deps.keychain.read(hubUrl);
    } catch (error) {
      throw this.fail(error);
    }
  }

  /** Connects and waits for the first sync; stores the token only once the hub accepted it. */
  async signIn(hubUrl: string, token: string, options: SignInOptions = {}): Promise<DesktopSession> {
    const { signal } = options;
    const kind = options.kind ?? 'pasted';
    // Cancelled before it began: the session there is stays.
    if (signal?.aborted) throw signInCancelled();
    const held = this.credentials;
    const previousHub = held?.hubUrl ?? this.deps.settings.get('hubUrl');
    this.disconnect();
    // Fail before connecting: without a keychain the token could not be kept, and nothing should be shown meanwhile.
    if (options.keychain !== 'if-available') await this.ensureKeychain(hubUrl);
    // Read before this sign-in's save overwrites the entry (or the removal of the hub left behind takes it out).
    const replaced = await ssoSessionsReplaced(this.deps.keychain, token, held, previousHub);
    const changes = new SignInKeychainChanges(this.deps.keychain);
    const keptHere = await changes.readBefore(hubUrl);
    const leftBehind = previousHub && previousHub !== hubUrl ? previousHub : null;
    const keptLeftBehind = leftBehind ? await changes.readBefore(leftBehind) : null;
    if (signal?.aborted) return this.undoCancelled(changes);
    let client: HubClientLike;
    try {
      client = this.open(hubUrl, token, kind);
    } catch (error) {
      throw this.fail(error);
    }
    const { cancelled, stopListening } = whenCancelled(signal, signInCancelled);
    try {
      await Promise.race([client.waitUntilReady(this.deps.connectTimeoutMs ?? 10_000), cancelled]);
    } catch (error) {
      // Signed out, or another sign-in took over, while this one connected: what is there now is theirs.
      if (this.client !== client) throw error;
      if (signal?.aborted) return this.undoCancelled(changes);
      this.disconnect();
      throw this.fail(error);
    } finally {
      stopListening();
    }
    let stored = true;
    try {
      await this.deps.keychain.save(hubUrl, { token, kind });
    } catch (error) {
      if (this.client !== client) throw signInCancelled();
      if (options.keychain !== 'if-available') {
        this.disconnect();
        throw this.fail(error);
      }
      stored = false;
      this.fail(error);
    }
    if (stored) changes.changed(hubUrl, keptHere);
    if (this.client !== client) return this.undoTakenOver(hubUrl, token, stored, replaced);
    if (signal?.aborted) return this.undoCancelled(changes);
    // Signed in elsewhere: the token of the hub left behind is no longer kept.
    if (leftBehind) {
      await this.deps.keychain.remove(leftBehind).then(
        () => changes.changed(leftBehind, keptLeftBehind),
        (error: unknown) => this.fail(error),
      );
    }
    if (this.client !== client) return this.undoTakenOver(hubUrl, token, stored, replaced);
    if (signal?.aborted) return this.undoCancelled(changes);
    this.sessionTurns += 1;
    this.signOutNote = null;
    this.deps.settings.set('hubUrl', hubUrl);
    this.emitState();
    // Only now, signed in: a sign-in that failed or was cancelled leaves the session held working. The
    // sign-in stands whatever the hub says, so it answers without waiting for it.
    this.endReplaced(replaced, 'the session signed in over');
    return this.session;
  }

  /**
   * A sign-in cancelled midway leaves nothing of it: not connected, and the keychain as it found it (its
   * token out, the entry it saved over or removed back), subscribers told. An entry that cannot be put
   * back leaves its session kept nowhere: that one is ended at the hub.
   */
  private async undoCancelled(changes: SignInKeychainChanges): Promise<never> {
    this.disconnect();
    const lost = await changes.putBack((error) => this.fail(error));
    this.endReplaced(lost, 'a session the keychain could not keep again after a cancelled sign-in');
    this.emitState();
    throw signInCancelled();
  }

  /**
   * Signed out, or another sign-in began, while this one stored its token: what main holds now is
   * theirs, so nothing is changed but this sign-in's own. Its token comes out of the keychain again;
   * the sessions it signed in over are kept nowhere any more (its save or removal took their entries),
   * so they are ended at the hub, unless main is using one of them now.
   */
  private async undoTakenOver(hubUrl: string, token: string, stored: boolean, replaced: HeldCredentials[]): Promise<never> {
    if (stored) {
      await new SignInKeychainChanges(this.deps.keychain).removeIfStill(hubUrl, token).catch((error: unknown) => this.fail(error));
    }
    this.endReplaced(
      replaced.filter((session) => !this.holds(session.token)),
      'the session a sign-in overtaken by another step had signed in over',
    );
    throw signInCancelled();
  }

  private endReplaced(sessions: readonly { hubUrl: string; token: string }[], what: string): void {
    for (const session of sessions) {
      this.errands.start(`ending at ${session.hubUrl} ${what}`, () => endReplacedSession(session.hubUrl, session.token, this.deps.fetch ?? fetch));
    }
  }

  /**
   * Signs out here at once, whatever the hub says: disconnected, the keychain entry removed, subscribers
   * told. Only then is a single sign-on session ended at the hub (a pasted token, or one of unknown kind,
   * never is), as an errand nobody waits on. A hub that cannot end it does not keep anyone waiting: the
   * session lapses at its expiry, and a later state says so in `session.signOutNote`, which stays until
   * a sign-in succeeds (one cancelled or refused meanwhile does not take it away), the next sign-out, or
   * the person dismisses it.
   */
  async signOut(): Promise<DesktopSession> {
    const held = this.credentials;
    const hubUrl = held?.hubUrl ?? this.deps.settings.get('hubUrl');
    const sessionTurn = ++this.sessionTurns;
    this.disconnect();
    this.lastError = null;
    this.signOutNote = null;
    let keptStill = false;
    if (hubUrl) {
      try {
        await this.deps.keychain.remove(hubUrl);
      } catch (error) {
        keptStill = true;
        this.signOutNote = this.fail(error).message;
      }
    }
    this.emitState();
    if (held?.kind === 'sso') this.errands.start(`ending at ${held.hubUrl} the session signed out of`, () => this.endSignedOutSession(held, sessionTurn, keptStill));
    return this.session;
  }

  /**
   * The person has read the sign-out note: neither this window nor one opened or reloaded later shows it
   * again. Until then it is part of the session every window asks for, so a reload does not lose it.
   */
  dismissSignOutNote(): DesktopSession {
    if (this.signOutNote !== null) {
      this.signOutNote = null;
      this.emitState();
    }
    return this.session;
  }

  private async endSignedOutSession(held: HeldCredentials, sessionTurn: number, keptStill: boolean): Promise<void> {
    const notEnded = await endSessionAtSignOut(held.hubUrl, held.token, this.deps.fetch ?? fetch);
    // Signed in, or out again, meanwhile: the note would be about a session no longer the last. A keychain that kept the token says more than this.
    if (!notEnded || sessionTurn !== this.sessionTurns || keptStill) return;
    this.signOutNote = notEnded.message;
    this.emitState();
  }

  close(): void {
    this.disconnect();
  }

  /** After the machine wakes: a new connection now, not once the heartbeat or a retry delay runs out. */
  reconnectNow(): void {
    this.client?.reconnectNow();
  }

  private open(hubUrl: string, token: string, kind: CredentialKind): HubClientLike {
    // Every way in (sign-in, a saved hub at launch, the launch environment) comes through here.
    const insecure = insecureHubProblem(hubUrl);
    if (insecure) throw new GreenlightError('INVALID_INPUT', `Not connecting to ${hubUrl}: ${insecure}.`);
    const client = this.deps.createClient({ url: hubUrl, token });
    this.client = client;
    this.credentials = { hubUrl, token, kind };
    this.lastError = null;
    this.unsubscribe = [
      client.onState(() => this.emitState()),
      client.onSync((result) => this.applySync(result)),
      client.on('request:created', (request) => this.apply({ type: 'request:created', request }, request)),
      client.on('request:updated', (request) => this.apply({ type: 'request:updated', request }, request)),
      client.on('request:escalated', (payload) => this.apply({ type: 'request:escalated', payload }, payload.request)),
      client.on('request:reminded', (payload) => this.apply({ type: 'request:reminded', payload }, payload.request)),
      client.on('grant:expiring', (payload) => this.apply({ type: 'grant:expiring', payload }, payload.request)),
      client.on('cluster:status', (cluster) => this.emit({ type: 'cluster:status', cluster })),
    ];
    client.connect();
    return client;
  }

  private disconnect(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.client?.close();
    this.client = null;
    this.credentials = null;
    this.currentMe = null;
    this.pending.clear();
    this.versions.clear();
  }

  private applySync(result: SyncResult): void {
    this.currentMe = result.me;
    this.pending.clear();
    for (const request of result.inbox) {
      this.versions.set(request.id, Math.max(request.version, this.versions.get(request.id) ?? 0));
      if (waitsOnMe(request, result.me)) this.pending.set(request.id, request);
    }
    this.emit({ type: 'sync', result });
  }

  private apply(event: DesktopEvent, request: GreenlightRequest): void {
    if (request.version < (this.versions.get(request.id) ?? 0)) return;
    this.versions.set(request.id, request.version);
    if (this.currentMe && waitsOnMe(request, this.currentMe)) this.pending.set(request.id, request);
    else this.pending.delete(request.id);
    this.emit(event);
  }

  private fail(error: unknown): GreenlightError {
    this.lastError = error instanceof GreenlightError ? error : new GreenlightError('INTERNAL', String(error));
    this.emitState();
    return this.lastError;
  }

  private emitState(): void {
    this.emit({ type: 'state', session: this.session });
  }

  private emit(event: DesktopEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
