import { useEffect, useRef, useState } from 'react';
import type { CreatedUser } from '../../../protocol/user.js';
import { copyText } from '../lib/clipboard.js';
import { notify } from '../store/actions.js';

/** A new user's token, shown this once (the hub keeps only its hash), with a Copy button. */
export function NewUserToken({ user, onDone, onAnother }: { user: CreatedUser; onDone: () => void; onAnother: () => void }) {
  const [copied, setCopied] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const token = user.token ?? '';
  return (
    <section className="card new-user-token" aria-labelledby="new-user-title">
      <h3 id="new-user-title" ref={headingRef} tabIndex={-1}>
        {user.name} was added
      </h3>
      <p>
        Their token is shown only this once: the hub keeps just a fingerprint of it. Copy it now and give it to {user.name} privately; they paste it
        on the sign-in screen.
      </p>
      <div className="token-row">
        <input className="mono" readOnly value={token} aria-label={`Token for ${user.name}`} onFocus={(event) => event.target.select()} />
        <button
          type="button"
          onClick={() =>
            void copyText(token).then((ok) => {
              setCopied(ok);
              if (!ok) notify('error', 'Copy failed: select the token and copy it by hand.');
            })
          }
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <div className="actions">
        <button type="button" className="primary" onClick={onDone}>
          Done
        </button>
        <button type="button" onClick={onAnother}>
          Add another user
        </button>
      </div>
    </section>
  );
}
