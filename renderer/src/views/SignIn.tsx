import { useState, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { cancelSignInWithBrowser, dismissSignOutNote, getBridge, signIn, signInWithBrowser } from '../store/actions.js';
import { signInMessage } from '../lib/errors.js';
import { useStore } from '../store/store.js';
import { SingleSignOnButton } from '../components/SingleSignOnButton.js';

/** The typed hub's origin when it is not this page's (null when it is, or when the address doesn't parse). */
function otherOrigin(hubUrl: string): string | null {
  try {
    const origin = new URL(hubUrl.trim()).origin;
    return origin === window.location.origin ? null : origin;
  } catch {
    return null;
  }
}

export function SignIn() {
  const { phase, error, sessionEnded, signOutNote, linkedId } = useStore(
    useShallow((state) => ({ phase: state.phase, error: state.signInError, sessionEnded: state.sessionEnded, signOutNote: state.signOutNote, linkedId: state.link?.id ?? null })),
  );
  const [hubUrl, setHubUrl] = useState(() => getBridge().defaultHubUrl());
  const [token, setToken] = useState('');
  const [attempted, setAttempted] = useState('');
  const busy = phase === 'signing-in';
  // Not busy: a token sign-in may start meanwhile, and ends the wait.
  const waitingForBrowser = phase === 'waiting-for-browser';

  const [foreign, setForeign] = useState<string | null>(null);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setAttempted(hubUrl);
    // The web console's security policy lets it talk only to the hub that serves it.
    const other = getBridge().host === 'web' ? otherOrigin(hubUrl) : null;
    setForeign(other);
    if (!other) void signIn(hubUrl, token);
  };
  const message = foreign
    ? {
        title: `This console signs in only to the hub that serves it, ${window.location.origin}.`,
        hint: `To use the hub at ${foreign}, open ${foreign} in your browser, or use the desktop app.`,
      }
    : error
      ? sessionEnded
        ? { title: 'The hub ended your session.', hint: `${error.message} If your access should continue, ask an admin for a new token.` }
        : signInMessage(error, attempted || hubUrl)
      : null;

  return (
    <main className="center">
      <form className="card sign-in" onSubmit={onSubmit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">
          <span className="brand-mark" aria-hidden="true" /> Sign in to Greenlight
        </h1>
        {linkedId && (
          <p className="muted" data-testid="link-waits">
            After you sign in, the request from your link ({linkedId}) opens.
          </p>
        )}
        {getBridge().host === 'web' && <SingleSignOnButton />}
        {getBridge().supportsBrowserSignIn && (
          <div className="single-sign-on">
            {waitingForBrowser ? (
              <div className="waiting-for-browser" role="status">
                <span>Waiting for the browser… Finish signing in there.</span>
                <button type="button" onClick={() => void cancelSignInWithBrowser()}>
                  Cancel
                </button>
              </div>
            ) : (
              <button type="button" className="primary" disabled={busy} onClick={() => void signInWithBrowser(hubUrl)}>
                Sign in through your browser (single sign-on)
              </button>
            )}
            <p className="muted">Or paste a token below (admins, break-glass).</p>
          </div>
        )}
        <label className="field">
          <span>Hub URL</span>
          <input
            type="url"
            required
            value={hubUrl}
            onChange={(e) => {
              setHubUrl(e.target.value);
              setForeign(null);
            }}
            autoComplete="url"
          />
        </label>
        <label className="field">
          <span>Token</span>
          <input
            type="password"
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
            placeholder="glt_…"
            autoComplete="current-password"
            aria-describedby="token-help"
          />
          <small id="token-help" className="muted">
            Your personal API token. An admin creates it for you; it is shown only once.
          </small>
        </label>
        {!message && signOutNote && (
          <p className="muted" role="status" data-testid="sign-out-note">
            {signOutNote}{' '}
            <button type="button" className="link-button" onClick={() => void dismissSignOutNote()}>
              Dismiss
            </button>
          </p>
        )}
        {message && (
          <div className="error-box" role="alert" data-code={foreign ? 'OTHER_HUB' : error?.code}>
            <strong>{message.title}</strong>
            <p>{message.hint}</p>
          </div>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
