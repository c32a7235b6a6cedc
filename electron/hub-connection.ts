import { GreenlightError } from '../protocol/errors.js';
import type { DesktopEvent, DesktopSession } from '../protocol/desktop-api.js';
import type { HubClientOptions } from '../protocol/hub-client.js';
import type { GreenlightRequest } from '../protocol/request.js';
import type { CredentialKind, Keychain } from './keychain.js';
import type { Me } from './me.js';
import type { Settings } from './settings.js';
import { whenCancelled } from './cancellation.js';
import { endReplacedSession, endSessionAtSignOut } from './revoke-session.js';
import type { HeldCredentials } from './replaced-sessions.js';
import { HubErrands } from './hub-errands.js';
import { ClientConnection, type HubClientLike } from './client-connection.js';
import { SerialQueue } from './serial-queue.js';
import { switchKeychain, type LeftBehindEntry } from './sign-in-switch.js';
import { readSavedSignIn } from './saved-sign-in.js';
import { endedByHubNote, keptInKeychainNote } from './sign-out-notes.js';

export type { HubClientLike } from './client-connection.js';

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
   * and the keychain put back as it found it, so nothing of it stays and main holds what it held.
   */
  signal?: AbortSignal;
  /** How the token came: a single sign-on session is ended at the hub at sign-out, a pasted token never. `pasted` unless given. */
  kind?: CredentialKind;
}

const signInCancelled = () => new GreenlightError('CANCELLED', 'Sign-in was cancelled.');

/** A sign-in under way: a newer sign-in, or a sign-out, overtakes it, closing the connection it opened. */
interface SignInTurn {
  overtaken: boolean;
  connection: ClientConnection | null;
}

const asGreenlightError = (error: unknown): GreenlightError => (error instanceof GreenlightError ? error : new GreenlightError('INTERNAL', String(error)));

/** Signed in all the same: what is left is an entry the person removes in their keychain app. */
function leftBehindNote({ hubUrl, error }: LeftBehindEntry): string {
  return (
    `Signed in. The saved sign-in for ${hubUrl} could not be removed from the keychain: remove it in your keychain app ` +
    `(the entry "Greenlight" for ${hubUrl}). (${asGreenlightError(error).message})`
  );
}

/**
 * The main process's one connection to the hub. It owns the token and the HubClient, so
 * notifications and the tray keep working with the window closed; everything else subscribes.
 * A sign-in connects beside the connection main holds and takes its place only once the hub accepted
 * it and the keychain kept it: one that fails or is cancelled leaves main as it was.
 */
export class HubConnection {
  private connection: ClientConnection | null = null;
  private signingIn: SignInTurn | null = null;
  /** Every keychain change of sign-ins and sign-outs, one at a time: see `switchKeychain`. */
  private readonly keychainTurns = new SerialQueue();
  private lastError: GreenlightError | null = null;
  private readonly listeners = new Set<(event: DesktopEvent) => void>();
  /** Counts sign-outs and sign-ins that succeeded: a sign-out's note stays until the next of either. */
  private sessionTurns = 0;
  /**
   * Why the last sign-out did not fully end the session (kept in the keychain still, or not ended at the
   * hub), or that the hub had ended it. Kept in the settings too: the person may quit before reading it,
   * and the next launch would otherwise show a bare sign-in page.
   */
  private signOutNote: string | null;
  /** What the last sign-in, which succeeded, left for the person to do by hand (an entry of the hub left behind). */
  private signInNote: string | null = null;
  /** Sessions being ended at the hub after sign-out, or after a sign-in over them, with nobody waiting. */
  readonly errands: HubErrands;

  constructor(private readonly deps: HubConnectionDeps) {
    this.errands = deps.errands ?? new HubErrands();
    this.signOutNote = deps.settings.get('signOutNote');
  }

  get session(): DesktopSession {
    const held = this.connection;
    return {
      hubUrl: held?.credentials.hubUrl ?? this.deps.settings.get('hubUrl'),
      signedIn: held !== null,
      state: held ? held.client.state : 'signed-out',
      error: (this.lastError ?? held?.client.error)?.toWire() ?? null,
      ...(this.signOutNote ? { signOutNote: this.signOutNote } : {}),
      ...(this.signInNote && held ? { signInNote: this.signInNote } : {}),
    };
  }

  get me(): Me | null {
    return this.connection?.me ?? null;
  }

  /** Pending requests that wait on me, most urgent first. */
  get inbox(): GreenlightRequest[] {
    return this.connection?.inbox ?? [];
  }

  get auth(): { hubUrl: string; token: string } {
    if (!this.connection) throw new GreenlightError('UNAUTHENTICATED', 'Sign in to a hub first.');
    return this.connection.credentials;
  }

  /** Whether main is signed in with `token` now: a sign-in that failed late may still have left it so. */
  holds(token: string): boolean {
    return this.connection?.credentials.token === token;
  }

  hub(): HubClientLike {
    if (!this.connection) throw new GreenlightError('UNAUTHENTICATED', 'Sign in to a hub first.');
    return this.connection.client;
  }

  subscribe(listener: (event: DesktopEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * At launch: reconnect with the hub URL from settings and the token from the keychain. Signed out of
   * that hub, nothing is read; signed in there but with no entry to be had, the session says why.
   */
  async restore(): Promise<DesktopSession> {
    const hubUrl = this.deps.settings.get('hubUrl');
    if (!hubUrl || this.deps.settings.get('signedOut')) return this.session;
    try {
      const stored = await readSavedSignIn(this.deps.keychain, hubUrl);
      this.connection = this.open({ hubUrl, ...stored });
      this.connection.passOn();
    } catch (error) {
      // No entry in a keychain that answers: said once, not at every launch. An older version's
      // sign-out kept the hub's address and left no `signedOut` mark, and looks just like this.
      if (error instanceof GreenlightError && error.code === 'NOT_FOUND') this.rememberSignedOut(true);
      this.fail(error);
    }
    return this.session;
  }

  /**
   * Fails with the keychain's own error (`UNAVAILABLE` where there is none, or it is locked and stays so)
   * unless the keychain can keep a token now: a sign-in asks before anything of it starts, so it does not
   * get a session it could not keep.
   */
  async ensureKeychain(): Promise<void> {
    try {
      await this.deps.keychain.check();
    } catch (error) {
      const failure = this.failSignIn(error);
      this.emitState();
      throw failure;
    }
  }

  /**
   * Connects beside the session held and waits for the first sync, stores the token, and only then
   * switches main over. Starting it overtakes a sign-in under way, which ends `CANCELLED`.
   */
  async signIn(hubUrl: string, token: string, options: SignInOptions = {}): Promise<DesktopSession> {
    // Cancelled before it began: the session there is stays.
    if (options.signal?.aborted) throw signInCancelled();
    this.overtakeSignIn();
    const turn: SignInTurn = { overtaken: false, connection: null };
    this.signingIn = turn;
    try {
      return await this.switchTo(turn, { hubUrl, token, kind: options.kind ?? 'pasted' }, options);
    } catch (error) {
      // Subscribers hear how it ended, even when that is as they were.
      this.emitState();
      throw error;
    } finally {
      if (this.signingIn === turn) this.signingIn = null;
    }
  }

  private async switchTo(turn: SignInTurn, signingIn: HeldCredentials, options: SignInOptions): Promise<DesktopSession> {
    const { signal } = options;
    const required = options.keychain !== 'if-available';
    const stillWanted = () => !turn.overtaken && !signal?.aborted;
    // Fail before connecting: without a keychain the token could not be kept, and nothing should be shown meanwhile.
    if (required) await this.ensureKeychain();
    if (!stillWanted()) throw signInCancelled();
    let candidate: ClientConnection;
    try {
      candidate = this.open(signingIn);
    } catch (error) {
      throw this.failSignIn(error);
    }
    turn.connection = candidate;
    const { cancelled, stopListening } = whenCancelled(signal, signInCancelled);
    try {
      await Promise.race([candidate.client.waitUntilReady(this.deps.connectTimeoutMs ?? 10_000), cancelled]);
    } catch (error) {
      candidate.close();
      throw stillWanted() ? this.failSignIn(error) : signInCancelled();
    } finally {
      stopListening();
    }
    const switched = await this.keychainTurns.run(() => {
      const held = this.connection?.credentials ?? null;
      const previousHub = held?.hubUrl ?? this.deps.settings.get('hubUrl');
      return switchKeychain(this.deps.keychain, { signingIn, held, previousHub, required, stillWanted, switchOver: (problem, leftBehind) => this.switchOver(turn, candidate, problem, leftBehind) });
    });
    if (switched.outcome === 'refused') {
      candidate.close();
      throw stillWanted() ? this.failSignIn(switched.error) : signInCancelled();
    }
    if (switched.outcome === 'put back') {
      candidate.close();
      for (const error of switched.errors) this.fail(error);
      // Kept nowhere any more: ended at the hub, unless main goes on using it for this run.
      this.endReplaced(switched.lost.filter((session) => !this.holds(session.token)), 'a session the keychain could not keep again after a cancelled sign-in');
      throw signInCancelled();
    }
    // Signed in: a sign-in that failed or was cancelled would have left the session held working. The
    // sign-in stands whatever the hub says, so it answers without waiting for it.
    this.endReplaced(switched.replaced, 'the session signed in over');
    this.deps.settings.set('hubUrl', signingIn.hubUrl);
    this.rememberSignedOut(false);
    return this.session;
  }

  /** Main lets go of the session it held and takes the sign-in's; subscribers hear what the new connection held back (its first sync), then the state. */
  private switchOver(turn: SignInTurn, candidate: ClientConnection, keychainProblem: unknown, leftBehind: LeftBehindEntry | null): void {
    if (this.signingIn === turn) this.signingIn = null;
    this.connection?.close();
    this.connection = candidate;
    this.lastError = keychainProblem === null ? null : asGreenlightError(keychainProblem);
    this.sessionTurns += 1;
    this.noteSignOut(null);
    this.signInNote = leftBehind ? leftBehindNote(leftBehind) : null;
    candidate.passOn();
    this.emitState();
  }

  /** The sign-in under way, if any, ends `CANCELLED`: its connection closed, and its keychain changes put back. */
  private overtakeSignIn(): void {
    if (!this.signingIn) return;
    this.signingIn.overtaken = true;
    this.signingIn.connection?.close();
    this.signingIn = null;
  }

  private endReplaced(sessions: readonly { hubUrl: string; token: string }[], what: string): void {
    for (const session of sessions) {
      this.errands.start(`ending at ${session.hubUrl} ${what}`, () => endReplacedSession(session.hubUrl, session.token, this.deps.fetch ?? fetch));
    }
  }

  /**
   * Signs out here at once, whatever the hub says: disconnected (a sign-in under way too), the keychain
   * entry removed, subscribers told. Only then is a single sign-on session ended at the hub (a pasted
   * token, or one of unknown kind, never is), as an errand nobody waits on. A hub that cannot end it does
   * not keep anyone waiting: the session lapses at its expiry, and a later state says so in
   * `session.signOutNote`, which stays until a sign-in succeeds (one cancelled or refused meanwhile does
   * not take it away), the next sign-out, or the person dismisses it.
   */
  async signOut(): Promise<DesktopSession> {
    const held = this.connection?.credentials ?? null;
    const hubUrl = held?.hubUrl ?? this.deps.settings.get('hubUrl');
    const sessionTurn = ++this.sessionTurns;
    const endedByHub = this.connection?.client.state === 'unauthorized' ? this.connection.client.error : null;
    this.close();
    this.lastError = null;
    this.noteSignOut(held && endedByHub ? endedByHubNote(held.hubUrl, endedByHub.message) : null);
    this.signInNote = null;
    // Before the keychain is asked: an entry it cannot remove is then one no launch signs in with.
    this.rememberSignedOut(true);
    let keptStill = false;
    if (hubUrl) {
      try {
        // After a sign-in it overtook has put back what it changed.
        await this.keychainTurns.run(() => this.deps.keychain.remove(hubUrl));
      } catch (error) {
        keptStill = true;
        this.fail(error);
        this.noteSignOut(keptInKeychainNote(hubUrl, error));
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
      this.noteSignOut(null);
      this.emitState();
    }
    return this.session;
  }

  private async endSignedOutSession(held: HeldCredentials, sessionTurn: number, keptStill: boolean): Promise<void> {
    const notEnded = await endSessionAtSignOut(held.hubUrl, held.token, this.deps.fetch ?? fetch);
    // Signed in, or out again, meanwhile: the note would be about a session no longer the last. A keychain that kept the token says more than this.
    if (!notEnded || sessionTurn !== this.sessionTurns || keptStill) return;
    this.noteSignOut(notEnded.message);
    this.emitState();
  }

  close(): void {
    this.overtakeSignIn();
    this.connection?.close();
    this.connection = null;
  }

  /** After the machine wakes: a new connection now, not once the heartbeat or a retry delay runs out. */
  reconnectNow(): void {
    this.connection?.client.reconnectNow();
  }

  private open(credentials: HeldCredentials): ClientConnection {
    return ClientConnection.open(this.deps.createClient, credentials, { event: (event) => this.emit(event), stateChanged: () => this.emitState() });
  }

  /** Held here and in the settings; a settings file that cannot be written leaves it for this run only. */
  private noteSignOut(note: string | null): void {
    if (note === this.signOutNote) return;
    this.signOutNote = note;
    try {
      this.deps.settings.set('signOutNote', note);
    } catch (error) {
      console.warn(`could not keep the sign-out note in the settings: ${String(error)}`);
    }
  }

  /** Whether a launch signs in to the hub in the settings; a settings file that cannot be written is logged. */
  private rememberSignedOut(signedOut: boolean): void {
    try {
      this.deps.settings.set('signedOut', signedOut);
    } catch (error) {
      console.warn(`could not keep in the settings that Greenlight is signed ${signedOut ? 'out' : 'in'}: ${String(error)}`);
    }
  }

  private fail(error: unknown): GreenlightError {
    this.lastError = asGreenlightError(error);
    this.emitState();
    return this.lastError;
  }

  /** Signed out, the session says why a sign-in failed; signed in, it stays as it was, and the sign-in's answer says why. */
  private failSignIn(error: unknown): GreenlightError {
    const failure = asGreenlightError(error);
    if (!this.connection) this.lastError = failure;
    return failure;
  }

  private emitState(): void {
    this.emit({ type: 'state', session: this.session });
  }

  private emit(event: DesktopEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
