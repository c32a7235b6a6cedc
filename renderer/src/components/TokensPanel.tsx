import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { SCOPES, type CreatedToken, type Scope, type TokenInfo } from '../../../protocol/token.js';
import { copyText } from '../lib/clipboard.js';
import { toWireError } from '../lib/errors.js';
import { getBridge } from '../store/actions.js';
import { ConfirmButton } from './ConfirmButton.js';

const LIFETIMES = [
  { value: '30d', label: '30 days' },
  { value: '90d', label: '90 days' },
  { value: '365d', label: '1 year' },
] as const;

/** The signed-in person's tokens: named, scoped, expiring; a new one is shown once. */
export function TokensPanel() {
  const [tokens, setTokens] = useState<TokenInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['requests:create', 'requests:read']);
  const [lifetime, setLifetime] = useState<string>('90d');
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    try {
      setTokens(await getBridge().listTokens());
    } catch (failure) {
      setError(toWireError(failure).message);
    }
  }, []);
  useEffect(() => void refresh(), [refresh]);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      await refresh();
    } catch (failure) {
      setError(toWireError(failure).message);
    } finally {
      setBusy(false);
    }
  };
  const onCreate = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      setCreated(await getBridge().createToken({ name: name.trim(), scopes, expiresIn: lifetime }));
      setName('');
    });
  };
  const toggle = (scope: Scope, on: boolean) => setScopes((current) => (on ? [...current, scope] : current.filter((item) => item !== scope)));

  return (
    <section className="card settings-section" aria-labelledby="settings-tokens">
      <h3 id="settings-tokens">Tokens</h3>
      <p className="muted">Tokens for pipelines and scripts: each with a name, only the scopes it needs, and an expiry.</p>
      {error && (
        <div className="error-box" role="alert">
          {error}
        </div>
      )}
      {created && (
        <div className="new-token" role="status">
          <p>
            <strong>{created.name}</strong> is shown only this once; copy it now.
          </p>
          <div className="token-row">
            <input className="mono" readOnly value={created.token} aria-label={`New token ${created.name}`} onFocus={(event) => event.target.select()} />
            <button type="button" onClick={() => void copyText(created.token)}>
              Copy
            </button>
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      {tokens === null ? (
        <p className="muted" aria-busy="true">
          Reading your tokens…
        </p>
      ) : (
        <table className="tokens">
          <caption className="visually-hidden">Your tokens</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Scopes</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id} data-current={token.current ? 'true' : undefined}>
                <td>
                  {token.name}
                  {token.current && (
                    <>
                      {' '}
                      <span className="badge">this session</span>
                      <br />
                      <small className="muted">The token this app is signed in with: revoking it signs you out.</small>
                    </>
                  )}
                </td>
                <td>{token.kind}</td>
                <td className="mono">{token.scopes.join(' ')}</td>
                <td>{token.expiresAt ? new Date(token.expiresAt).toLocaleString() : 'never'}</td>
                <td>{token.lastUsedAt ? new Date(token.lastUsedAt).toLocaleString() : 'never'}</td>
                <td>
                  <ConfirmButton
                    label="Revoke"
                    ariaLabel={`Revoke ${token.name}`}
                    question={token.current ? `Revoke ${token.name}, the token of this session? You are signed out at once.` : `Revoke ${token.name}? Whatever uses it stops working at once.`}
                    confirmLabel={token.current ? 'Yes, revoke and sign out' : 'Yes, revoke'}
                    className="danger"
                    disabled={busy}
                    onConfirm={() => void run(async () => void (await getBridge().revokeToken(token.id)))}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="form" onSubmit={onCreate} aria-label="New token">
        <label className="field">
          <span>Name</span>
          <input required value={name} onChange={(event) => setName(event.target.value)} placeholder="ci" maxLength={128} />
        </label>
        <fieldset className="field">
          <legend>Scopes</legend>
          {SCOPES.map((scope) => (
            <label key={scope} className="checkbox">
              <input type="checkbox" checked={scopes.includes(scope)} onChange={(event) => toggle(scope, event.target.checked)} /> <span className="mono">{scope}</span>
            </label>
          ))}
        </fieldset>
        <label className="field">
          <span>Expires after</span>
          <select value={lifetime} onChange={(event) => setLifetime(event.target.value)}>
            {LIFETIMES.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy || scopes.length === 0}>
          Create token
        </button>
      </form>
    </section>
  );
}
