import { useEffect, useState } from 'react';
import { z } from 'zod';

const infoSchema = z.union([z.object({ enabled: z.literal(true), name: z.string().min(1).max(64) }), z.object({ enabled: z.literal(false) })]);

/**
 * "Sign in with <provider>" when the hub serving this console has single sign-on. The hub runs the
 * whole flow and comes back to this page with a session token in the address's fragment.
 */
export function SingleSignOnButton() {
  const [provider, setProvider] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    fetch('/auth/oidc/info', { headers: { accept: 'application/json' } })
      .then(async (response) => (response.ok ? infoSchema.safeParse(await response.json()) : null))
      .then((parsed) => {
        if (live && parsed?.success && parsed.data.enabled) setProvider(parsed.data.name);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  if (!provider) return null;
  return (
    <div className="single-sign-on">
      <a className="button primary" href="/auth/oidc/login">
        Sign in with {provider}
      </a>
      <p className="muted">Or paste a token below (admins, break-glass).</p>
    </div>
  );
}
